"""Sentence-level extraction: pick verbatim sentences from retrieved chunks, cite them,
find the short span that answers typed questions, and decide when to abstain."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

import numpy as np

from .errors import ConfigError
from .followup import entities
from .index import IndexData
from .text import tokenize
from .types import Answer, Citation, Hit, Passage, ShortAnswer

NOT_FOUND = "I could not find the answer to this question in the articles."
CONTEXT_Z = 1.0  # confidence logit added for an answer from the article the conversation is about
NAME_EVIDENCE_CHARS = 3000  # below this length a document's silence about a name is weak evidence


class AnswerKind(str, Enum):
    """What a question asks for, which decides the short answer to look for."""

    DATE = "date"
    AMOUNT = "amount"
    PERCENT = "percent"
    PERSON = "person"
    PLACE = "place"
    OTHER = "other"


@dataclass(frozen=True)
class AnswerConfig:
    """Extraction and abstention settings, checked at construction."""

    top_chunks: int = 8
    max_sentences: int = 2
    max_chars: int = 450
    second_ratio: float = 0.85
    min_confidence: float = 0.4
    passages: int = 5
    context_bonus: float = 0.05

    def __post_init__(self) -> None:
        checks = {
            "top_chunks": 1 <= self.top_chunks <= 1000,
            "max_sentences": 1 <= self.max_sentences <= 5,
            "max_chars": 50 <= self.max_chars <= 5000,
            "second_ratio": 0.0 <= self.second_ratio <= 1.0,
            "min_confidence": 0.0 <= self.min_confidence <= 1.0,
            "passages": 0 <= self.passages <= 100,
            "context_bonus": 0.0 <= self.context_bonus <= 1.0,
        }
        for name, ok in checks.items():
            if not ok:
                raise ConfigError(f"{name}={getattr(self, name)!r} is out of range for AnswerConfig")


# --------------------------------------------------------------------------- question types


def _words(*alternatives: str) -> str:
    return "(?:" + "|".join(alternatives) + ")"


_KIND_PATTERNS = [
    (AnswerKind.PERCENT, r"\b(what|which) (percentage|percent|share|proportion)\b|\bby how much\b"),
    (AnswerKind.DATE, r"^\s*when\b|\b(what|which) (date|day|month|year|time)\b|\bhow long ago\b"),
    (
        AnswerKind.AMOUNT,
        r"\bhow (much|many|large|big)\b|\b(what|which)\b(\s+\w+){0,4}\s+"
        + _words("amount", "number", "sum", "budget", "figure", "cost", "price", "tariff", "rate")
        + r"s?\b",
    ),
    (
        AnswerKind.PERSON,
        r"^\s*(who|whom)\b|\b(which|what) "
        + _words("person", "official", "minister", "leader", "president", "secretary", "spokesman", "spokesperson")
        + r"\b",
    ),
    (
        AnswerKind.PLACE,
        r"^\s*where\b|\b(which|what) "
        + _words("country", "countries", "city", "cities", "place", "nations?", "region", "seas?", "islands?", "state")
        + r"\b",
    ),
]
_KIND_PATTERNS = [(kind, re.compile(pattern, re.I)) for kind, pattern in _KIND_PATTERNS]

_MONTH = _words(
    r"Jan(?:uary|\.)?",
    r"Feb(?:ruary|\.)?",
    r"Mar(?:ch|\.)?",
    r"Apr(?:il|\.)?",
    "May",
    "June?",
    "July?",
    r"Aug(?:ust|\.)?",
    r"Sep(?:tember|t?\.)?",
    r"Oct(?:ober|\.)?",
    r"Nov(?:ember|\.)?",
    r"Dec(?:ember|\.)?",
)
_SCALE = r"(?:\s(?:trillion|billion|million|thousand|hundred))"
_APPROX = r"(?:(?:about|around|nearly|almost|over|more than|some|roughly|at least|up to)\s)?"
_NUMBER_WORD = _words(
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "twenty",
    "thirty",
    "forty",
    "fifty",
    "hundreds",
    "thousands",
    "millions",
    "dozens?",
)
_YEAR = r"(?:1[0-9]|20)\d{2}"
# A counted noun after a number ("11 players"), but not a function word ("2017 and").
_COUNTED = r"\s(?!(?:and|or|the|to|of|in|on|at|by|for|with|from|has|have|had|is|was|were|as|than)\b)[a-z][a-z-]+"
_SPAN_PATTERNS = {
    AnswerKind.DATE: re.compile(
        rf"\b{_MONTH}\s+\d{{1,2}}(?:,\s*\d{{4}})?\b|\b{_MONTH}\s+\d{{4}}\b|\b(?:early|mid|late)?-?{_MONTH}\b(?:\s+\d{{4}})?"
        r"|\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b"
        rf"|\b(?:in|since|by|until|during) (?:the )?{_YEAR}s?\b|\b{_YEAR}s?\b|\b\d{{1,2}}(?:st|nd|rd|th) century\b"
        r"|\b(?:last|next|this) (?:week|month|year|summer|winter|spring|autumn|fall)\b"
        r"|\bin the coming (?:days|weeks|months|years)\b"
    ),
    AnswerKind.PERCENT: re.compile(rf"\b{_APPROX}\d+(?:\.\d+)?\s?(?:%|percent\b|per cent\b)"),
    AnswerKind.AMOUNT: re.compile(
        rf"{_APPROX}(?:[$€£¥]\s?\d[\d,.]*{_SCALE}?|\b\d[\d,.]*\s?%"
        rf"|\b\d[\d,.]*{_SCALE}(?:{_COUNTED})?|\b(?!{_YEAR}\b)\d[\d,.]*(?:{_COUNTED})?"
        rf"|\b{_NUMBER_WORD}\b(?:{_COUNTED})?)"
    ),
}
_INITIAL_END = re.compile(r"\b(?:[A-Z]\.){2,}$")
_CAPITALISED = re.compile(r"\b[A-Z][\w’'.-]*(?:\s+(?:of\s+|and\s+|de\s+)?[A-Z][\w’'.-]*)*")
_TITLES = re.compile(
    r"^(?:(?:The|A|U\.S\.|U\.K\.|American|British|Chinese|French|German|Japanese|Korean|Russian|Former|former|Vice|"
    r"Prime|Minister|Defense|Defence|Foreign|Finance|Secretary|President|Chief|Cabinet|Chairman|Governor|Mayor|"
    r"Senator|General|Director|Ambassador|Gen\.|Mr\.?|Ms\.?|Mrs\.?|Dr\.?|Sen\.?|Rep\.?|Gov\.?)\s+)+"
)


def question_kind(question: str) -> AnswerKind:
    for kind, pattern in _KIND_PATTERNS:
        if pattern.search(question):
            return kind
    return AnswerKind.OTHER


def _person_name(value: str) -> tuple[int, str]:
    """The name inside a capitalised run: after the last possessive, without leading titles
    ("Japan's Prime Minister Shigeru Ishiba" -> "Shigeru Ishiba")."""
    offset = 0
    possessive = list(re.finditer(r"['’]s\s+", value))
    if possessive:
        offset = possessive[-1].end()
    lead = _TITLES.match(value[offset:] + " ")
    if lead:
        offset += min(lead.end(), len(value) - offset)
    name = value[offset:]
    # A lone capitalised word counts as a name only after a title ("Minister Nakatani").
    if len(name.split()) < 2 and not lead:
        return offset, ""
    return offset, name


def _name_spans(text: str, question_words: set[str], person: bool) -> list[tuple[int, int]]:
    """Capitalised sequences that do not repeat the question (just the name, for people)."""
    spans = []
    for match in _CAPITALISED.finditer(text):
        start, value = match.start(), match.group().rstrip(",’'")
        if value.endswith(".") and not _INITIAL_END.search(value):
            value = value.rstrip(".")
        if person:
            offset, value = _person_name(value)
            start += offset
            if not value or value.split()[0].lower() in question_words:
                continue
        if not value or match.start() == 0 and value.split()[0].lower() in {"the", "a", "in", "on", "as", "it", "this"}:
            continue
        if {w.lower() for w in re.findall(r"\w+", value)} <= question_words:
            continue
        spans.append((start, start + len(value)))
    return spans


def short_spans(text: str, kind: AnswerKind, question: str) -> list[tuple[int, int]]:
    """Spans of ``text`` that could answer a question of this kind, excluding the question's own words."""
    if kind is AnswerKind.OTHER:
        return []
    q_words = {w.lower() for w in re.findall(r"\w+", question)}
    if kind in (AnswerKind.PERSON, AnswerKind.PLACE):
        return _name_spans(text, q_words, person=kind is AnswerKind.PERSON)
    pattern = _SPAN_PATTERNS[AnswerKind.AMOUNT if kind is AnswerKind.AMOUNT else kind]
    spans = [(m.start(), m.end()) for m in pattern.finditer(text)]
    if kind is AnswerKind.PERCENT:
        spans += [(m.start(), m.end()) for m in _SPAN_PATTERNS[AnswerKind.AMOUNT].finditer(text) if "%" in m.group()]
    return [(s, e) for s, e in spans if not set(re.findall(r"\w+", text[s:e].lower())) <= q_words]


# --------------------------------------------------------------------------- scoring


@dataclass(frozen=True)
class Candidate:
    """A sentence considered for the answer, with the evidence behind its score."""

    sentence: int
    chunk: int
    hit_rank: int
    dense: float
    coverage: float
    score: float
    has_kind: bool
    missing_entities: float = 0.0
    in_context: bool = False


@lru_cache(maxsize=1024)
def _terms(text: str) -> frozenset[str]:
    """Stemmed terms of a whole document (cached: the index keeps the same str objects)."""
    return frozenset(tokenize(text))


def idf(data: IndexData, term: str) -> float:
    """BM25-style idf over chunks; terms the corpus never uses weigh the most."""
    n, df = data.n_chunks_bm25, data.df.get(term, 0)
    return math.log(1.0 + (n - df + 0.5) / (df + 0.5))


def coverage(q_terms: list[str], weights: list[float], text_terms: set[str]) -> float:
    """Share of the question's idf weight found in a text."""
    total = sum(weights)
    if total <= 0:
        return 0.0
    return sum(w for t, w in zip(q_terms, weights) if t in text_terms) / total


def missing_names(names: list[set[str]], document: str) -> float:
    """Share of the question's names (as term sets) that the source document lacks, partly
    matched names counting in part ("Cam Newton" where the text says "Newton"). A short text
    often refers to a thing by another name ("the league" for "NFL"), so the share is
    discounted below ``NAME_EVIDENCE_CHARS``: only a long article that never names it is
    strong evidence that the question is about something else."""
    if not names:
        return 0.0
    terms = _terms(document)
    share = sum(len(n - terms) / len(n) for n in names) / len(names)
    return share * min(1.0, len(document) / NAME_EVIDENCE_CHARS)


def sentence_score(dense: float, cov: float, chunk_cov: float, has_kind: bool) -> float:
    """Dense similarity, the question's idf-weighted word coverage in the sentence and its
    chunk, and a bonus when the sentence holds a span of the type the question asks for."""
    return 0.45 * dense + 0.35 * cov + 0.1 * chunk_cov + (0.1 if has_kind else 0.0)


def candidates(
    data: IndexData,
    hits: list[Hit],
    query: np.ndarray,
    question: str,
    config: AnswerConfig,
    context: frozenset[int] = frozenset(),
) -> list[Candidate]:
    """Score every answerable sentence of the top chunks, best first. ``context`` holds the
    documents the previous turn of a follow-up was answered from: a follow-up usually stays
    with the article the conversation is about, so their sentences get a small bonus."""
    q_terms = list(dict.fromkeys(tokenize(question)))
    weights = [idf(data, t) for t in q_terms]
    kind = question_kind(question)
    names = [set(tokenize(e)) for e in entities(question)]
    names = [n for n in names if n]
    out = []
    reporting = [h for h in hits if data.section_of_chunk(h.chunk).is_reporting]
    for rank, hit in enumerate(reporting[: config.top_chunks]):
        row = data.chunks[hit.chunk]
        chunk_cov = coverage(q_terms, weights, set(tokenize(data.chunk_text(hit.chunk))))
        missing = missing_names(names, data.texts[row["doc"]])
        in_context = int(row["doc"]) in context
        ids = range(int(row["first"]), int(row["first"] + row["count"]))
        dense = data.sentence_vectors[ids.start : ids.stop] @ query[0]
        for i, d in zip(ids, dense):
            if not data.section_of_sentence(i).is_reporting:
                continue
            text = data.sentence_text(i)
            cov = coverage(q_terms, weights, set(tokenize(text)))
            has_kind = bool(short_spans(text, kind, question))
            score = sentence_score(float(d), cov, chunk_cov, has_kind) + config.context_bonus * in_context
            out.append(Candidate(i, hit.chunk, rank, float(d), cov, score, has_kind, missing, in_context))
    return sorted(out, key=lambda c: (-c.score, c.sentence))


def confidence(best: Candidate, typed: bool) -> float:
    """Probability-like score that the best sentence answers the question.

    Unanswerable questions show low dense similarity and leave their rarest words
    uncovered; they also name things the source article never mentions, or ask for a
    date/amount/person the sentence does not hold. A logistic keeps the value in [0, 1],
    increasing in the first two and decreasing in the last two. A follow-up answered from the
    article the conversation is about is more likely right: its words often differ from the
    answer's ("how did China react to it?" / "criticized ... expressed its displeasure").
    """
    z = 9.0 * (0.55 * best.dense + 0.45 * best.coverage - 0.42) + CONTEXT_Z * best.in_context
    z -= 3.0 * best.missing_entities
    if typed and not best.has_kind:
        z -= 1.5
    return 1.0 / (1.0 + math.exp(-z))


# --------------------------------------------------------------------------- composing


def _near_duplicate(a: str, b: str) -> bool:
    ta, tb = set(tokenize(a)), set(tokenize(b))
    return bool(ta and tb) and len(ta & tb) / min(len(ta), len(tb)) > 0.6


def choose(data: IndexData, ranked: list[Candidate], config: AnswerConfig) -> list[Candidate]:
    """The best sentence, plus a second one when it scores close and adds something new."""
    chosen = [ranked[0]]
    length = len(data.sentence_text(ranked[0].sentence))
    for cand in ranked[1 : config.top_chunks * 4]:
        if len(chosen) >= config.max_sentences or cand.score < config.second_ratio * ranked[0].score:
            break
        text = data.sentence_text(cand.sentence)
        if length + len(text) + 5 > config.max_chars:
            continue
        if any(_near_duplicate(text, data.sentence_text(c.sentence)) for c in chosen):
            continue
        chosen.append(cand)
        length += len(text) + 5
    if len(chosen) == 1 < config.max_sentences:
        follow = _continuation(data, ranked, ranked[0].sentence)
        if follow is not None and length + len(data.sentence_text(follow.sentence)) + 5 <= config.max_chars:
            chosen.append(follow)
    return chosen


_CONTINUES = re.compile(
    r"^[\"“‘']|^(He|She|They|It|This|These|That|Those|His|Her|Their)\b"
    r"|^The (conversation|talks?|call|meeting|statement|move)\b"
)


def _continuation(data: IndexData, ranked: list[Candidate], best: int) -> Candidate | None:
    """The next sentence of the same paragraph when it carries on the best one (a quote that
    follows, or a sentence opening with a reference back to it)."""
    nxt = best + 1
    if nxt >= len(data.sentences) or data.sentences[nxt]["doc"] != data.sentences[best]["doc"]:
        return None
    gap = data.texts[data.sentences[best]["doc"]][data.sentences[best]["end"] : data.sentences[nxt]["start"]]
    if "\n" in gap or not _CONTINUES.match(data.sentence_text(nxt)):
        return None
    return next((c for c in ranked if c.sentence == nxt), None)


def _span_rank(span: tuple[int, int], anchors: list[int]) -> tuple[int, int]:
    """Prefer spans right after a run of question words ("Defense Minister <name>"), then
    spans nearest to any question word."""
    before = sum(span[0] - 40 <= a < span[0] for a in anchors)
    distance = min((abs(span[0] - a) for a in anchors), default=span[0])
    return -before, distance


def _short_answer(data: IndexData, chosen: list[Candidate], question: str) -> ShortAnswer | None:
    """The typed span closest to the question's words in the best sentence that has one."""
    kind = question_kind(question)
    q_terms = set(tokenize(question))
    for cand in chosen:
        text = data.sentence_text(cand.sentence)
        spans = short_spans(text, kind, question)
        if not spans:
            continue
        anchors = [m.start() for m in re.finditer(r"\w+", text) if set(tokenize(m.group())) & q_terms]
        s, e = min(spans, key=lambda span: _span_rank(span, anchors))
        row = data.sentences[cand.sentence]
        start = int(row["start"]) + s
        return ShortAnswer(text[s:e], data.docs[row["doc"]].id, start, start + (e - s), kind.value)
    return None


def _citation(data: IndexData, n: int, cand: Candidate) -> Citation:
    row = data.sentences[cand.sentence]
    doc = data.docs[row["doc"]]
    return Citation(
        n,
        doc.id,
        doc.title,
        data.section_of_sentence(cand.sentence).value,
        int(row["start"]),
        int(row["end"]),
        data.sentence_text(cand.sentence),
        round(cand.score, 4),
    )


def passages(data: IndexData, hits: list[Hit], limit: int) -> list[Passage]:
    """The ranked retrieved chunks, as the "why this answer" trace."""
    out = []
    for hit in hits[:limit]:
        row = data.chunks[hit.chunk]
        doc = data.docs[row["doc"]]
        out.append(
            Passage(
                doc.id,
                doc.title,
                int(row["start"]),
                int(row["end"]),
                data.chunk_text(hit.chunk),
                data.section_of_chunk(hit.chunk).value,
                hit.dense_rank,
                hit.bm25_rank,
                hit.score,
            )
        )
    return out


def answer_text(citations: list[Citation]) -> str:
    """Verbatim sentences, each followed by its marker."""
    return " ".join(f"{c.quote} [{c.n}]" for c in citations)


def extract(
    data: IndexData,
    hits: list[Hit],
    query: np.ndarray,
    question: str,
    asked: str,
    config: AnswerConfig,
    context: frozenset[int] = frozenset(),
) -> Answer:
    """Build the answer for ``question`` (the resolved form of what was ``asked``); ``context``
    as for :func:`candidates`."""
    ranked = candidates(data, hits, query, question, config, context)
    found = passages(data, hits, config.passages)
    resolved = question if question != asked else None
    if not ranked:
        return Answer(asked, NOT_FOUND, False, 0.0, None, [], found, resolved)
    conf = confidence(ranked[0], question_kind(question) is not AnswerKind.OTHER)
    if conf < config.min_confidence:
        return Answer(asked, NOT_FOUND, False, conf, None, [], found, resolved)
    chosen = choose(data, ranked, config)
    citations = [_citation(data, n, c) for n, c in enumerate(chosen, 1)]
    return Answer(
        asked, answer_text(citations), True, conf, _short_answer(data, chosen, question), citations, found, resolved
    )

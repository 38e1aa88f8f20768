"""The reader strategy: the learned span reader reads passages around the best retrieved
chunks; a fitted combiner turns its span scores and the retrieval evidence into the
probability that a sentence answers the question.

News writing puts the context in the lead and the answer in a later sentence that refers
back to it, so the reader sees a passage (the chunk widened to its neighbouring sentences),
not one sentence at a time; the cited sentence is the one holding the span it finds.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, replace

import numpy as np

from ..index import IndexData
from ..reader import Combiner, Reader
from ..text import tokenize
from ..types import Hit, ShortAnswer
from .config import AnswerConfig
from .features import Candidate, Question, coverage, missing_names, reporting_hits, sentence_evidence
from .linear import continues, same_paragraph
from .question import short_spans

SEPARATOR = " "  # between sentences of a passage


@dataclass(frozen=True)
class Window:
    """A passage for the reader: consecutive reporting sentences of one document, joined."""

    hit: Hit
    rank: int
    sentences: list[int]
    starts: list[int]  # where each sentence begins in ``text``
    text: str

    def locate(self, start: int, end: int) -> tuple[int, int, int]:
        """The sentence holding character ``start`` of the passage, and the span clipped to it
        as offsets inside that sentence."""
        i = max(0, bisect.bisect_right(self.starts, start) - 1)
        lo = self.starts[i]
        length = len(self.text) - lo if i + 1 == len(self.starts) else self.starts[i + 1] - len(SEPARATOR) - lo
        return self.sentences[i], max(0, start - lo), min(length, end - lo)


def _reporting(data: IndexData, i: int, doc: int) -> bool:
    return (
        0 <= i < len(data.sentences)
        and int(data.sentences[i]["doc"]) == doc
        and (data.section_of_sentence(i).is_reporting)
    )


def widen(data: IndexData, hit: Hit, rank: int, budget: int) -> Window:
    """The chunk's reporting sentences plus neighbours of the same document, next and
    previous in turn, while the passage stays within ``budget`` characters."""
    row = data.chunks[hit.chunk]
    doc = int(row["doc"])
    ids = [i for i in range(int(row["first"]), int(row["first"] + row["count"])) if _reporting(data, i, doc)]
    size = sum(len(data.sentence_text(i)) + 1 for i in ids)
    before, after = (ids[0] - 1, ids[-1] + 1) if ids else (-1, -1)
    grew = True
    while grew:
        grew = False
        for side in ("after", "before"):
            i = after if side == "after" else before
            if not _reporting(data, i, doc) or size + len(data.sentence_text(i)) + 1 > budget:
                continue
            size += len(data.sentence_text(i)) + 1
            grew = True
            if side == "after":
                ids.append(i)
                after += 1
            else:
                ids.insert(0, i)
                before -= 1
    texts = [data.sentence_text(i) for i in ids]
    starts = [sum(len(t) + len(SEPARATOR) for t in texts[:k]) for k in range(len(texts))]
    return Window(hit, rank, ids, starts, SEPARATOR.join(texts))


def windows(data: IndexData, hits: list[Hit], config: AnswerConfig) -> list[Window]:
    """One passage per reporting hit, skipping hits whose sentences an earlier passage holds."""
    out: list[Window] = []
    seen: set[int] = set()
    for rank, hit in enumerate(reporting_hits(data, hits, config.reader_passages)):
        window = widen(data, hit, rank, config.window_chars)
        if window.sentences and not set(window.sentences) <= seen:
            out.append(window)
            seen.update(window.sentences)
    return out


@dataclass(frozen=True)
class Evidence:
    """One span the reader proposed, with what is known about its sentence and passage. The
    combiner's features are relative to the question's other spans (shares, gaps), so they
    are computed from all of a question's evidence at once (:func:`featurize`)."""

    sentence: int
    passage: int
    score: float  # the reader's start + end logit
    null: float  # the [CLS] "no answer" score of its token window
    retrieval: float  # fused retrieval score of the passage's chunk
    rank: int  # the passage's rank among the reporting hits
    dense: float
    coverage: float
    chunk_coverage: float
    missing_names: float
    typed_miss: bool


@dataclass(frozen=True)
class Features:
    """What the combiner sees for one (sentence, span) candidate; names match combiner.json."""

    span_score: float
    span_margin: float
    span_share: float
    span_gap: float
    sentence_share: float
    passage_margin: float
    retrieval: float
    hit_rank: float
    dense: float
    dense_gap: float
    coverage: float
    coverage_gap: float
    chunk_coverage: float
    missing_names: float
    typed_miss: float

    NAMES = (
        "span_score",
        "span_margin",
        "span_share",
        "span_gap",
        "sentence_share",
        "passage_margin",
        "retrieval",
        "hit_rank",
        "dense",
        "dense_gap",
        "coverage",
        "coverage_gap",
        "chunk_coverage",
        "missing_names",
        "typed_miss",
    )

    def vector(self) -> list[float]:
        return [getattr(self, n) for n in self.NAMES]


def featurize(evidence: list[Evidence]) -> list[Features]:
    """The combiner's features for every span of one question.

    Besides each span's own scores: its share of the reader's probability mass over all
    spans (a softmax over every passage, as in multi-passage readers: Clark & Gardner, 2018),
    the mass of all spans in its sentence (the answer is a sentence, and several spans of
    one sentence back each other), its passage's best answer-over-no-answer margin, and its
    sentence's dense similarity and word coverage relative to the question's best candidate
    (a restating lead scores high on both; what matters is how it compares)."""
    if not evidence:
        return []
    top = max(e.score for e in evidence)
    norm = math.log(sum(math.exp(e.score - top) for e in evidence))
    share = [math.exp(e.score - top - norm) for e in evidence]
    in_sentence: dict[int, float] = {}
    passage_margin: dict[int, float] = {}
    for e, p in zip(evidence, share):
        in_sentence[e.sentence] = in_sentence.get(e.sentence, 0.0) + p
        passage_margin[e.passage] = max(passage_margin.get(e.passage, -math.inf), e.score - e.null)
    best_dense = max(e.dense for e in evidence)
    best_coverage = max(e.coverage for e in evidence)
    return [
        Features(
            e.score,
            e.score - e.null,
            p,
            e.score - top,
            in_sentence[e.sentence],
            passage_margin[e.passage],
            e.retrieval,
            math.log1p(e.rank),
            e.dense,
            e.dense - best_dense,
            e.coverage,
            e.coverage - best_coverage,
            e.chunk_coverage,
            e.missing_names,
            float(e.typed_miss),
        )
        for e, p in zip(evidence, share)
    ]


@dataclass(frozen=True)
class Reading:
    """A candidate with its evidence and combiner features (kept for fitting and the trace)."""

    candidate: Candidate
    evidence: Evidence
    features: Features


def read(
    data: IndexData,
    hits: list[Hit],
    query: np.ndarray,
    q: Question,
    config: AnswerConfig,
    reader: Reader,
) -> list[Reading]:
    """Every span the reader proposes, as a sentence candidate with its features (unscored)."""
    passages = windows(data, hits, config)
    spans = reader.read(q.text, [w.text for w in passages])
    cache: dict[int, tuple[float, bool]] = {}
    chunk_coverage = [coverage(q.terms, q.weights, set(tokenize(data.chunk_text(w.hit.chunk)))) for w in passages]
    found, evidence = [], []
    for span in spans:
        window = passages[span.passage]
        sentence, a, b = window.locate(span.start, span.end)
        if b <= a:
            continue
        row = data.sentences[sentence]
        if sentence not in cache:
            cache[sentence] = sentence_evidence(data, q, sentence)
        cov, has_kind = cache[sentence]
        dense = float(data.sentence_vectors[sentence] @ query[0])
        missing = missing_names(q.names, data.texts[row["doc"]])
        text = data.sentence_text(sentence)
        span_typed = bool(short_spans(text[a:b], q.kind, q.text)) or has_kind
        evidence.append(
            Evidence(
                sentence,
                span.passage,
                span.score,
                span.null,
                window.hit.score,
                window.rank,
                dense,
                cov,
                chunk_coverage[span.passage],
                missing,
                q.typed and not span_typed,
            )
        )
        start = int(row["start"])
        found.append(
            Candidate(
                sentence, window.hit.chunk, window.rank, dense, cov, 0.0, has_kind, missing, span=(start + a, start + b)
            )
        )
    return [Reading(c, e, f) for c, e, f in zip(found, evidence, featurize(evidence))]


def candidates(
    data: IndexData,
    hits: list[Hit],
    query: np.ndarray,
    q: Question,
    config: AnswerConfig,
    reader: Reader,
    combiner: Combiner,
    context: frozenset[int] = frozenset(),
) -> list[Candidate]:
    """Reader candidates scored by the combiner (probability of answering), best first, one
    per sentence. A follow-up's candidates from the article the conversation is about get
    the combiner's context logit (see :class:`rag.reader.Combiner`)."""
    readings = read(data, hits, query, q, config, reader)
    if not readings:
        return []
    in_context = [int(data.sentences[r.candidate.sentence]["doc"]) in context for r in readings]
    probs = combiner.predict(np.array([r.features.vector() for r in readings]), np.array(in_context))
    spans = best_spans(readings)
    best: dict[int, Candidate] = {}
    for r, p, ctx in zip(readings, probs, in_context):
        c = r.candidate
        if c.sentence not in best or p > best[c.sentence].score:
            best[c.sentence] = replace(c, score=float(p), in_context=ctx, span=spans[c.sentence])
    return sorted(best.values(), key=lambda c: (-c.score, c.sentence))


def best_spans(readings: list[Reading]) -> dict[int, tuple[int, int] | None]:
    """The reader's highest-scoring span in each sentence: the short answer shown when that
    sentence is cited. The combiner ranks sentences; inside one, the reader's own score picks
    the span better (part-A validation, cross-validated: short-answer F1 0.629 this way,
    0.485 when the span of the combiner's best row is shown, since the sentence-level
    features score all spans of a sentence alike; models/fit_combiner.py)."""
    top: dict[int, Reading] = {}
    for r in readings:
        s = r.candidate.sentence
        if s not in top or r.evidence.score > top[s].evidence.score:
            top[s] = r
    return {s: r.candidate.span for s, r in top.items()}


def choose(data: IndexData, ranked: list[Candidate], config: AnswerConfig) -> list[Candidate]:
    """The best sentence, and a second only when it continues the first: the next sentence of
    the same paragraph when it carries on the first (a quote that follows, a reference back),
    or when the reader also found the answer there with a close score. Never a sentence from
    another article."""
    first = ranked[0]
    nxt = first.sentence + 1
    if config.max_sentences < 2 or not same_paragraph(data, first.sentence):
        return [first]
    follow = next((c for c in ranked if c.sentence == nxt), None)
    close = follow is not None and follow.score >= config.second_ratio * first.score
    length = len(data.sentence_text(first.sentence)) + len(data.sentence_text(nxt)) + 5
    if (close or continues(data, first.sentence)) and length <= config.max_chars:
        return [first, follow or Candidate(nxt, first.chunk, first.hit_rank, 0.0, 0.0, 0.0, False)]
    return [first]


def short_answer(data: IndexData, chosen: list[Candidate], q: Question) -> ShortAnswer | None:
    """The reader's span in the best sentence."""
    best = chosen[0]
    if best.span is None:
        return None
    doc = int(data.sentences[best.sentence]["doc"])
    start, end = best.span
    text = data.texts[doc][start:end]
    return ShortAnswer(text, data.docs[doc].id, start, end, q.kind)

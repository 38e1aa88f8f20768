"""The linear scorer (the strategy before the learned reader, kept for comparison and as the
fallback when the reader's files are absent).

Its weights were set by hand on the seed development questions; on articles it was never
tuned on it quotes the sentence that restates the question more often than the one that
answers it (issue 8). ``rag eval`` runs it beside the reader."""

from __future__ import annotations

import math
import re

import numpy as np

from ..index import IndexData
from ..text import tokenize
from ..types import Hit, ShortAnswer
from .config import AnswerConfig
from .features import Candidate, Question, coverage, dense_scores, missing_names, reporting_hits, sentence_evidence
from .question import short_spans

CONTEXT_Z = 1.0  # confidence logit added for an answer from the article the conversation is about


def sentence_score(dense: float, cov: float, chunk_cov: float, has_kind: bool) -> float:
    """Dense similarity, the question's idf-weighted word coverage in the sentence and its
    chunk, and a bonus when the sentence holds a span of the type the question asks for."""
    return 0.45 * dense + 0.35 * cov + 0.1 * chunk_cov + (0.1 if has_kind else 0.0)


def candidates(
    data: IndexData,
    hits: list[Hit],
    query: np.ndarray,
    q: Question,
    config: AnswerConfig,
    context: frozenset[int] = frozenset(),
) -> list[Candidate]:
    """Score every answerable sentence of the top chunks, best first. ``context`` holds the
    documents the previous turn of a follow-up was answered from: a follow-up usually stays
    with the article the conversation is about, so their sentences get a small bonus."""
    out = []
    for rank, hit in enumerate(reporting_hits(data, hits, config.top_chunks)):
        row = data.chunks[hit.chunk]
        chunk_cov = coverage(q.terms, q.weights, set(tokenize(data.chunk_text(hit.chunk))))
        missing = missing_names(q.names, data.texts[row["doc"]])
        in_context = int(row["doc"]) in context
        ids = range(int(row["first"]), int(row["first"] + row["count"]))
        for i, d in zip(ids, dense_scores(data, ids, query)):
            if not data.section_of_sentence(i).is_reporting:
                continue
            cov, has_kind = sentence_evidence(data, q, i)
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
        follow = continuation(data, ranked, ranked[0].sentence)
        if follow is not None and length + len(data.sentence_text(follow.sentence)) + 5 <= config.max_chars:
            chosen.append(follow)
    return chosen


_CONTINUES = re.compile(
    r"^[\"“‘']|^(He|She|They|It|This|These|That|Those|His|Her|Their)\b"
    r"|^The (conversation|talks?|call|meeting|statement|move)\b"
)


def same_paragraph(data: IndexData, i: int) -> bool:
    """Whether sentence ``i + 1`` follows sentence ``i`` in the same paragraph."""
    if i + 1 >= len(data.sentences) or data.sentences[i + 1]["doc"] != data.sentences[i]["doc"]:
        return False
    gap = data.texts[data.sentences[i]["doc"]][data.sentences[i]["end"] : data.sentences[i + 1]["start"]]
    return "\n" not in gap


def continues(data: IndexData, best: int) -> bool:
    """Whether the next sentence of the same paragraph carries on sentence ``best`` (a quote
    that follows, or a sentence opening with a reference back to it)."""
    return same_paragraph(data, best) and bool(_CONTINUES.match(data.sentence_text(best + 1)))


def continuation(data: IndexData, ranked: list[Candidate], best: int) -> Candidate | None:
    """The candidate for the next sentence when it carries on the best one."""
    if not continues(data, best):
        return None
    return next((c for c in ranked if c.sentence == best + 1), None)


def _span_rank(span: tuple[int, int], anchors: list[int]) -> tuple[int, int]:
    """Prefer spans right after a run of question words ("Defense Minister <name>"), then
    spans nearest to any question word."""
    before = sum(span[0] - 40 <= a < span[0] for a in anchors)
    distance = min((abs(span[0] - a) for a in anchors), default=span[0])
    return -before, distance


def short_answer(data: IndexData, chosen: list[Candidate], q: Question) -> ShortAnswer | None:
    """The typed span closest to the question's words in the best sentence that has one."""
    q_terms = set(tokenize(q.text))
    for cand in chosen:
        text = data.sentence_text(cand.sentence)
        spans = short_spans(text, q.kind, q.text)
        if not spans:
            continue
        anchors = [m.start() for m in re.finditer(r"\w+", text) if set(tokenize(m.group())) & q_terms]
        s, e = min(spans, key=lambda span: _span_rank(span, anchors))
        row = data.sentences[cand.sentence]
        start = int(row["start"]) + s
        return ShortAnswer(text[s:e], data.docs[row["doc"]].id, start, start + (e - s), q.kind)
    return None

"""Evidence about a sentence as an answer: dense similarity, the question's word coverage,
names the source never mentions, whether it holds the kind of span asked for. Both scorers
read these; the linear scorer weighs them by hand, the reader's combiner by a fitted model."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..followup import entities
from ..index import IndexData
from ..text import tokenize
from ..types import Hit
from .question import AnswerKind, question_kind, short_spans

NAME_EVIDENCE_CHARS = 3000  # below this length a document's silence about a name is weak evidence


@dataclass(frozen=True)
class Candidate:
    """A sentence considered for the answer, with the evidence behind its score.

    ``span`` holds the raw-text offsets of the reader's answer inside the sentence (None for
    the linear scorer, whose short answer comes from the question-type patterns)."""

    sentence: int
    chunk: int
    hit_rank: int
    dense: float
    coverage: float
    score: float
    has_kind: bool
    missing_entities: float = 0.0
    in_context: bool = False
    span: tuple[int, int] | None = None


@dataclass(frozen=True)
class Question:
    """What scoring needs to know about a question, worked out once."""

    text: str
    terms: list[str]
    weights: list[float]
    kind: AnswerKind
    names: list[set[str]]

    @property
    def typed(self) -> bool:
        return self.kind is not AnswerKind.OTHER


def analyse(data: IndexData, question: str) -> Question:
    terms = list(dict.fromkeys(tokenize(question)))
    names = [n for n in (set(tokenize(e)) for e in entities(question)) if n]
    return Question(question, terms, [data.idf(t) for t in terms], question_kind(question), names)


@lru_cache(maxsize=1024)
def _terms(text: str) -> frozenset[str]:
    """Stemmed terms of a whole document (cached: the index keeps the same str objects)."""
    return frozenset(tokenize(text))


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


def reporting_hits(data: IndexData, hits: list[Hit], limit: int) -> list[Hit]:
    """The best ``limit`` hits from reporting sections (comments are never quoted as answers)."""
    return [h for h in hits if data.section_of_chunk(h.chunk).is_reporting][:limit]


def sentence_evidence(data: IndexData, q: Question, sentence: int) -> tuple[float, bool]:
    """Coverage of the question's words in the sentence, and whether it holds a typed span."""
    text = data.sentence_text(sentence)
    return coverage(q.terms, q.weights, set(tokenize(text))), bool(short_spans(text, q.kind, q.text))


def dense_scores(data: IndexData, ids: range, query: np.ndarray) -> np.ndarray:
    return data.sentence_vectors[ids.start : ids.stop] @ query[0]

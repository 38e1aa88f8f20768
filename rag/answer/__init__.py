"""Sentence-level extraction: pick verbatim sentences from retrieved chunks, cite them,
find the short answer, and decide when to abstain.

Stages, one module each: ``question`` (what is asked), ``features`` (evidence about a
sentence), ``linear`` and ``reading`` (the two scoring strategies behind
``scoring.SentenceScorer``), ``compose`` (the answer and its citations)."""

from .compose import NOT_FOUND, extract
from .config import AnswerConfig, AnswerStrategy
from .features import NAME_EVIDENCE_CHARS, Candidate, Question, analyse, missing_names
from .linear import confidence
from .question import AnswerKind, question_kind, short_spans
from .reading import Evidence, Features, Reading, best_spans, featurize, read, windows
from .scoring import LinearScorer, ReaderScorer, SentenceScorer, make_scorer

__all__ = [
    "NAME_EVIDENCE_CHARS",
    "NOT_FOUND",
    "AnswerConfig",
    "AnswerKind",
    "AnswerStrategy",
    "Candidate",
    "Evidence",
    "Features",
    "LinearScorer",
    "Question",
    "ReaderScorer",
    "Reading",
    "SentenceScorer",
    "analyse",
    "best_spans",
    "confidence",
    "extract",
    "featurize",
    "make_scorer",
    "missing_names",
    "question_kind",
    "read",
    "short_spans",
    "windows",
]

"""Sentence scorers behind one protocol: the learned reader and the linear scorer."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

import numpy as np

from ..errors import ConfigError
from ..index import IndexData
from ..reader import Combiner, Reader, ReaderConfig, default_path
from ..types import Hit, ShortAnswer
from . import linear, reading
from .config import AnswerConfig, AnswerStrategy
from .features import Candidate, Question

logger = logging.getLogger(__name__)

LINEAR_MIN_CONFIDENCE = 0.4  # set on the seed development questions (before issue 8)


class SentenceScorer(Protocol):
    """Ranks candidate sentences, says how sure it is, and composes the cited sentences."""

    strategy: AnswerStrategy

    def rank(
        self,
        data: IndexData,
        hits: list[Hit],
        query: np.ndarray,
        q: Question,
        config: AnswerConfig,
        context: frozenset[int],
    ) -> list[Candidate]: ...

    def confidence(self, ranked: list[Candidate], q: Question) -> float: ...

    def threshold(self, config: AnswerConfig) -> float: ...

    def choose(self, data: IndexData, ranked: list[Candidate], config: AnswerConfig) -> list[Candidate]: ...

    def short_answer(self, data: IndexData, chosen: list[Candidate], q: Question) -> ShortAnswer | None: ...


class LinearScorer:
    strategy = AnswerStrategy.LINEAR

    def rank(self, data, hits, query, q, config, context):
        return linear.candidates(data, hits, query, q, config, context)

    def confidence(self, ranked, q):
        return linear.confidence(ranked[0], q.typed)

    def threshold(self, config):
        return LINEAR_MIN_CONFIDENCE if config.min_confidence is None else config.min_confidence

    def choose(self, data, ranked, config):
        return linear.choose(data, ranked, config)

    def short_answer(self, data, chosen, q):
        return linear.short_answer(data, chosen, q)


class ReaderScorer:
    """The span reader plus its fitted combiner; confidence is the combiner's probability."""

    strategy = AnswerStrategy.READER

    def __init__(self, reader: Reader, combiner: Combiner) -> None:
        self.reader = reader
        self.combiner = combiner

    def rank(self, data, hits, query, q, config, context):
        return reading.candidates(data, hits, query, q, config, self.reader, self.combiner, context)

    def confidence(self, ranked, q):
        return ranked[0].score

    def threshold(self, config):
        return self.combiner.threshold if config.min_confidence is None else config.min_confidence

    def choose(self, data, ranked, config):
        return reading.choose(data, ranked, config)

    def short_answer(self, data, chosen, q):
        return reading.short_answer(data, chosen, q)


def make_scorer(strategy: AnswerStrategy, reader_path: str | Path | None = None) -> SentenceScorer:
    """The scorer for ``strategy``. When the reader's files are absent or damaged the linear
    scorer stands in, with a warning naming what is wrong."""
    if strategy is AnswerStrategy.LINEAR:
        return LinearScorer()
    path = Path(reader_path) if reader_path is not None else default_path()
    try:
        reader = Reader(path, ReaderConfig())
        if not reader.available():
            raise ConfigError(f"no reader model in {str(path)!r}")
        combiner = Combiner.load(path, reading.Features.NAMES)
        reader.load()
    except ConfigError as exc:
        logger.warning("answering with the linear scorer: %s", exc)
        return LinearScorer()
    return ReaderScorer(reader, combiner)

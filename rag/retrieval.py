"""Hybrid retrieval: dense (FAISS) and BM25 over chunks, fused into one ranking."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

import numpy as np

from .config import FLAT_MAX_CHUNKS
from .errors import ConfigError
from .index import IndexData, chunk_vectors
from .sources import SourceFilter, active_filter, allowed_chunks
from .types import Hit


class FusionStrategy(str, Enum):
    """How the two rankings are combined."""

    RRF = "rrf"  # reciprocal rank fusion: robust, needs no score calibration
    WEIGHTED = "weighted"  # convex mix of max-normalised scores
    DENSE = "dense"  # dense only (baseline)
    BM25 = "bm25"  # BM25 only (baseline)


@dataclass(frozen=True)
class RetrievalConfig:
    """Retrieval settings, checked at construction."""

    candidates: int = 50
    # Measured with `rag eval --fusion-sweep`: the max-normalised mix ranks the answer-bearing
    # chunk higher than RRF does, because RRF lets a weak dense ranking outvote a sure BM25 hit.
    fusion: FusionStrategy = FusionStrategy.WEIGHTED
    rrf_k: int = 20
    dense_weight: float = 0.5

    def __post_init__(self) -> None:
        if not 1 <= self.candidates <= 10_000:
            raise ConfigError(f"candidates={self.candidates!r} is out of range; use 1..10000")
        try:
            object.__setattr__(self, "fusion", FusionStrategy(self.fusion))
        except ValueError:
            options = ", ".join(s.value for s in FusionStrategy)
            raise ConfigError(f"fusion={self.fusion!r} is not a fusion strategy; use one of: {options}") from None
        if self.rrf_k < 0:
            raise ConfigError(f"rrf_k={self.rrf_k!r} must be >= 0")
        if not 0.0 <= self.dense_weight <= 1.0:
            raise ConfigError(f"dense_weight={self.dense_weight!r} must be in [0, 1]")


@dataclass(frozen=True)
class Ranking:
    """One retriever's output: chunk ids best first, with their scores."""

    ids: list[int]
    scores: list[float]


def dense_search(data: IndexData, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> Ranking:
    """FAISS over all chunks; with ``allowed`` (a boolean per chunk), only those chunks."""
    k = min(k, data.faiss.ntotal)
    if k == 0:
        return Ranking([], [])
    if allowed is not None:
        return _dense_among(data, query, k, np.flatnonzero(allowed))
    scores, ids = data.faiss.search(query, k)
    keep = ids[0] >= 0
    return Ranking(ids[0][keep].tolist(), scores[0][keep].tolist())


def _dense_among(data: IndexData, query: np.ndarray, k: int, ids: np.ndarray) -> Ranking:
    """Top ``k`` of the allowed chunks: exact scores from their sentence vectors while that
    is cheap (as many chunks as exact FAISS search handles), else FAISS restricted to them
    (an IVF index may then return fewer than ``k``: it only scans ``nprobe`` lists)."""
    if len(ids) <= FLAT_MAX_CHUNKS:
        scores = chunk_vectors(data.sentence_vectors, data.chunks[ids]) @ np.asarray(query[0], dtype=np.float32)
        top = np.argsort(-scores, kind="stable")[:k]
        return Ranking(ids[top].tolist(), scores[top].astype(float).tolist())
    scores, found = data.faiss.search(query, k, among=ids)
    keep = found[0] >= 0
    return Ranking(found[0][keep].tolist(), scores[0][keep].tolist())


def bm25_search(data: IndexData, tokens: list[str], k: int, allowed: np.ndarray | None = None) -> Ranking:
    """BM25 over chunks; query terms the corpus never uses are dropped first. With
    ``allowed`` (a boolean per chunk) the others score zero before the top k is chosen."""
    known = data.bm25.known(tokens)
    k = min(k, data.n_chunks_bm25)
    if not known or k == 0:
        return Ranking([], [])
    # bm25s scores every chunk, then its top-k runs np.argpartition over all of them; with a
    # million chunks mostly at zero that selection degenerates (~170 ms for one rare term).
    # Selecting among the chunks that score at all gives the same chunks and scores in ~1-10 ms;
    # ties are broken by chunk number.
    scores = data.bm25.scores(known)
    if allowed is not None:
        scores = np.where(allowed, scores, 0.0)
    found = np.flatnonzero(scores > 0)
    if len(found) > k:
        found = found[np.argpartition(-scores[found], k - 1)[:k]]
    found = found[np.lexsort((found, -scores[found]))]
    return Ranking(found.tolist(), scores[found].astype(float).tolist())


def rrf(rankings: list[Ranking], k: int) -> dict[int, float]:
    """Reciprocal rank fusion, scaled so a chunk ranked first everywhere scores 1."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, chunk in enumerate(ranking.ids):
            scores[chunk] = scores.get(chunk, 0.0) + 1.0 / (k + rank + 1)
    top = len(rankings) / (k + 1)
    return {c: s / top for c, s in scores.items()}


def weighted(dense: Ranking, bm25: Ranking, dense_weight: float) -> dict[int, float]:
    """Convex mix of scores, each divided by its ranking's best score."""
    scores: dict[int, float] = {}
    for ranking, weight in ((dense, dense_weight), (bm25, 1.0 - dense_weight)):
        if ranking.ids:
            best = max(ranking.scores[0], 1e-9)
            for chunk, score in zip(ranking.ids, ranking.scores):
                scores[chunk] = scores.get(chunk, 0.0) + weight * max(score, 0.0) / best
    return scores


def fuse(dense: Ranking, bm25: Ranking, config: RetrievalConfig) -> list[Hit]:
    """Fused hits, best first, each remembering its rank (1-based) in both retrievers."""
    if config.fusion is FusionStrategy.RRF:
        fused = rrf([dense, bm25], config.rrf_k)
    elif config.fusion is FusionStrategy.WEIGHTED:
        fused = weighted(dense, bm25, config.dense_weight)
    elif config.fusion is FusionStrategy.DENSE:
        fused = rrf([dense], config.rrf_k)
    else:
        fused = rrf([bm25], config.rrf_k)
    d_rank = {c: r + 1 for r, c in enumerate(dense.ids)}
    b_rank = {c: r + 1 for r, c in enumerate(bm25.ids)}
    d_score = dict(zip(dense.ids, dense.scores))
    b_score = dict(zip(bm25.ids, bm25.scores))
    order = sorted(fused, key=lambda c: (-fused[c], c))
    return [
        Hit(c, round(fused[c], 6), d_rank.get(c), b_rank.get(c), d_score.get(c), b_score.get(c))
        for c in order
        if math.isfinite(fused[c])
    ]


def retrieve(
    data: IndexData, query: np.ndarray, tokens: list[str], config: RetrievalConfig, sources: SourceFilter | None = None
) -> list[Hit]:
    """Both retrievers, then fusion. ``sources`` (default: the filter set by
    :func:`rag.sources.only_sources` for this question) restricts both retrievers, so the
    candidates are the best of the allowed sources rather than what is left after removal."""
    allowed = allowed_chunks(data, sources if sources is not None else active_filter())
    k = config.candidates
    return fuse(dense_search(data, query, k, allowed), bm25_search(data, tokens, k, allowed), config)

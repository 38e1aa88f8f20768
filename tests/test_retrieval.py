"""Fusion units, and FAISS search checked against brute force."""

import numpy as np
import pytest

from rag.errors import ConfigError
from rag.retrieval import FusionStrategy, Ranking, RetrievalConfig, dense_search, fuse, rrf, weighted


def test_rrf_rewards_agreement():
    scores = rrf([Ranking([1, 2, 3], [0.9, 0.8, 0.7]), Ranking([2, 1, 4], [5.0, 4.0, 3.0])], k=20)
    assert scores[1] == scores[2] > scores[3] > 0
    assert scores[3] == pytest.approx(scores[4])
    top = rrf([Ranking([7], [1.0]), Ranking([7], [1.0])], k=20)
    assert top[7] == pytest.approx(1.0)


def test_weighted_uses_normalised_scores():
    dense = Ranking([1, 2], [0.8, 0.4])
    bm25 = Ranking([2, 3], [10.0, 5.0])
    scores = weighted(dense, bm25, dense_weight=0.5)
    assert scores == pytest.approx({1: 0.5, 2: 0.25 + 0.5, 3: 0.25})


@pytest.mark.parametrize(
    "fusion, order",
    [
        (FusionStrategy.RRF, [3, 1, 2, 4]),  # 3 is in both lists
        (FusionStrategy.WEIGHTED, [3, 1, 2, 4]),  # 3: 0.5 * 0.7 / 0.9 + 0.5 * 1; 1: 0.5; 2: 0.44; 4: 0.1
        (FusionStrategy.DENSE, [1, 2, 3]),
        (FusionStrategy.BM25, [3, 4]),
    ],
)
def test_fuse_keeps_ranks_from_both_retrievers(fusion, order):
    """Every strategy ranks its own chunks, and each hit keeps its rank and score in both
    retrievers (a dense-only hit still shows where BM25 put it)."""
    dense = Ranking([1, 2, 3], [0.9, 0.8, 0.7])
    bm25 = Ranking([3, 4], [5.0, 1.0])
    hits = fuse(dense, bm25, RetrievalConfig(fusion=fusion))
    assert [h.chunk for h in hits] == order
    expected = {1: (1, None, 0.9, None), 2: (2, None, 0.8, None), 3: (3, 1, 0.7, 5.0), 4: (None, 2, None, 1.0)}
    for h in hits:
        assert (h.dense_rank, h.bm25_rank) == expected[h.chunk][:2]
        assert (h.dense_score, h.bm25_score) == pytest.approx(expected[h.chunk][2:])
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)  # ties (2 and 4 under RRF) go by chunk number


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"fusion": "max"}, "fusion='max' is not a fusion strategy; use one of: rrf, weighted, dense, bm25"),
        ({"candidates": 0}, "candidates=0"),
        ({"dense_weight": 1.5}, "dense_weight=1.5"),
    ],
)
def test_config_errors_name_value_and_options(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        RetrievalConfig(**kwargs)


def test_faiss_matches_brute_force(hash_assistant):
    data = hash_assistant.data
    vectors = np.vstack([data.faiss.reconstruct(i) for i in range(data.faiss.ntotal)])
    rng = np.random.default_rng(0)
    for _ in range(5):
        q = rng.standard_normal((1, vectors.shape[1])).astype(np.float32)
        q /= np.linalg.norm(q)
        expected = np.argsort(-(vectors @ q[0]), kind="stable")[:10]
        got = dense_search(data, q, 10)
        assert got.ids == expected.tolist()
        assert np.allclose(got.scores, (vectors @ q[0])[expected], atol=1e-5)

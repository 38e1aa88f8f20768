"""Dense search over chunk vectors: the FAISS index choice, its ``nprobe`` calibration and
the :class:`VectorStore` boundary the rest of the engine searches through.

A chunk's vector is the normalised mean of its sentences' vectors; the store answers
inner-product top-k queries over them. :class:`FaissStore` is the one implementation: exact
(flat) search up to ``FLAT_MAX_CHUNKS`` chunks, an IVF index with float16 storage beyond.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .. import config
from .manifest import Calibration, FaissSpec


class VectorStore(Protocol):
    """Top-k inner-product search over the chunk vectors (row ``i`` is chunk ``i``).

    Another backend implements these methods and records what it is in ``spec`` (the
    manifest's ``faiss`` entry); retrieval only calls :meth:`search` and :attr:`ntotal`."""

    spec: FaissSpec

    @property
    def ntotal(self) -> int: ...

    def add(self, vectors: np.ndarray) -> None: ...

    def search(self, queries: np.ndarray, k: int, among: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Scores and chunk ids, best first, one row per query (id -1 pads missing results);
        ``among`` (chunk ids) restricts the search to those chunks."""
        ...

    def save(self, path: Path) -> None: ...


def faiss_module() -> Any:
    """The faiss module, imported on first use (it is slow to import), as ``Any``: the stubs it
    ships lack most of its SWIG interface (``nprobe``, ``hnsw``, search parameters' keywords)."""
    import faiss

    return faiss


@contextmanager
def faiss_threads(n: int | None) -> Iterator[None]:
    """Run FAISS with ``n`` OpenMP threads in this thread (all cores when None), then restore.

    OpenMP's thread count is per calling thread, so this only affects the code inside."""
    faiss = faiss_module()

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(n or os.cpu_count() or 1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


class FaissStore:
    """A FAISS index and its spec. ``index`` is the raw FAISS object (FAISS has no type stubs)."""

    def __init__(self, index: Any, spec: FaissSpec) -> None:
        self.index = index
        self.spec = spec

    @classmethod
    def load(cls, path: Path, spec: FaissSpec) -> FaissStore:
        """Read an index written by :meth:`save` and set its search parameters from the spec."""
        faiss = faiss_module()

        index = faiss.read_index(str(path))
        if spec.type == "ivf":
            index.nprobe = spec.nprobe
        elif spec.type == "hnsw":  # indexes built before IVF replaced HNSW
            index.hnsw.efSearch = spec.extra["efSearch"]
        return cls(index, spec)

    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    @property
    def nprobe(self) -> int | None:
        """Inverted lists scanned per query (None for an exact index)."""
        return int(self.index.nprobe) if hasattr(self.index, "nprobe") else None

    @nprobe.setter
    def nprobe(self, value: int) -> None:
        self.index.nprobe = value

    def add(self, vectors: np.ndarray) -> None:
        self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    def search(self, queries: np.ndarray, k: int, among: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """One query runs on one thread: waking FAISS's OpenMP team costs more than it saves
        (bench/run.py: flat search of 10k chunks 0.35 ms on one thread, 7.7 ms on two, on a
        busy 2-core machine). With ``among``, an IVF index may return fewer than ``k``: it
        only scans ``nprobe`` lists."""
        faiss = faiss_module()

        if among is None:
            with faiss_threads(1 if len(queries) == 1 else None):
                return self.index.search(queries, k)
        selector = faiss.IDSelectorBatch(np.asarray(among, dtype=np.int64))
        nprobe = self.nprobe
        params = faiss.SearchParametersIVF(sel=selector, nprobe=nprobe) if nprobe is not None \
            else faiss.SearchParameters(sel=selector)
        with faiss_threads(1):
            return self.index.search(queries, k, params=params)

    def reconstruct(self, i: int) -> np.ndarray:
        """The stored vector of chunk ``i`` (float16 in an IVF index, returned as float32)."""
        return self.index.reconstruct(i)

    def save(self, path: Path) -> None:
        faiss = faiss_module()

        faiss.write_index(self.index, str(path))


def chunk_vectors(sentence_vectors: np.ndarray, chunks: np.ndarray) -> np.ndarray:
    """A chunk's vector is the normalised mean of its sentences' vectors (mean pooling),
    so indexing encodes each sentence once and still gets chunk-level vectors.

    Summed by position within the chunk (first sentences, then second ones, ...): a few
    vectorised passes, several times faster than ``np.add.reduceat`` on 2-D arrays. Done
    in blocks of ``config.CHUNK_VECTOR_BLOCK`` chunks, so the passes' temporaries stay
    small (over all chunks at once they held two more copies of the output: 1.5 GB more
    peak memory measured at 1M chunks)."""
    dim = sentence_vectors.shape[1]
    out = np.empty((len(chunks), dim), dtype=np.float32)
    for start in range(0, len(chunks), config.CHUNK_VECTOR_BLOCK):
        block = chunks[start : start + config.CHUNK_VECTOR_BLOCK]
        out[start : start + len(block)] = _pooled(sentence_vectors, block)
    return out


def _pooled(sentence_vectors: np.ndarray, chunks: np.ndarray) -> np.ndarray:
    """The normalised mean vectors of ``chunks`` (one block)."""
    first = chunks["first"].astype(np.int64)
    count = chunks["count"].astype(np.int64)
    sums = np.array(sentence_vectors[first], dtype=np.float32)
    for j in range(1, int(count.max())):
        rows = np.flatnonzero(count > j)
        sums[rows] += sentence_vectors[first[rows] + j]
    sums /= np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
    return sums


def sample_queries(vectors: np.ndarray, n: int = config.IVF_CALIBRATION_QUERIES) -> np.ndarray:
    """A fixed random sample of sentence vectors: query-like probes for tuning the FAISS index."""
    if len(vectors) <= n:
        return np.ascontiguousarray(vectors, dtype=np.float32)
    rows = np.sort(np.random.default_rng(0).choice(len(vectors), n, replace=False))
    return np.ascontiguousarray(vectors[rows], dtype=np.float32)


def ivf_nlist(n: int) -> int:
    """Inverted lists for ``n`` vectors: the power of two nearest sqrt(n), with enough
    training points per list (1M chunks: 1024 lists of ~1000 vectors)."""
    if n < 2:
        return 1
    nearest = 2 ** round(math.log2(math.sqrt(n)))
    return max(1, min(nearest, n // config.IVF_TRAIN_PER_LIST))


def recall_at_k(vectors: np.ndarray, queries: np.ndarray, found: np.ndarray, exact_scores: np.ndarray) -> float:
    """Share of the exact top k that the approximate search found, tie-aware: a returned id
    counts when its true score reaches the exact k-th score (duplicates make ids ambiguous)."""
    k = exact_scores.shape[1]
    hits = 0
    for q, ids, exact in zip(queries, found, exact_scores):
        ids = ids[ids >= 0][:k]
        if len(ids):
            hits += int(np.count_nonzero(vectors[ids] @ q >= exact[-1] - 1e-5))
    return hits / max(1, k * len(queries))


def calibrate_nprobe(index: Any, vectors: np.ndarray, queries: np.ndarray, target: float) -> tuple[int, float]:
    """The smallest nprobe whose recall@10 against exact search reaches ``target``."""
    faiss = faiss_module()

    k = min(config.RECALL_K, len(vectors))
    exact, _ = faiss.knn(queries, vectors, k, metric=faiss.METRIC_INNER_PRODUCT)
    recall = 0.0
    for nprobe in [p for p in config.IVF_NPROBES if p < index.nlist] + [index.nlist]:
        index.nprobe = nprobe
        _, found = index.search(queries, k)
        recall = recall_at_k(vectors, queries, found, exact)
        if recall >= target:
            break
    return index.nprobe, recall


def build_faiss(vectors: np.ndarray, queries: np.ndarray | None = None, flat_max: int | None = None) -> FaissStore:
    """Exact inner-product search while it is fast enough (one query scans every vector:
    ~5 ms on one core at 50k chunks), an inverted-file index beyond.

    The IVF index keeps vectors as float16 (half the memory, scores within ~1e-3) in about
    sqrt(n) lists; ``nprobe`` (lists scanned per query) is the smallest that reaches
    ``IVF_RECALL_TARGET`` recall@10 against exact search, measured at build time with
    ``queries`` (a sample of sentence vectors). HNSW was not chosen: its build took 36 s
    per 100k chunks on 2 cores (~7 min at 1M) against ~20 s at 1M for this index.
    """
    faiss = faiss_module()

    flat_max = config.FLAT_MAX_CHUNKS if flat_max is None else flat_max
    if len(vectors) <= flat_max:
        index = faiss.IndexFlatIP(vectors.shape[1])
        index.add(vectors)
        return FaissStore(index, FaissSpec("flat"))
    return _build_ivf(vectors, queries)


def _build_ivf(vectors: np.ndarray, queries: np.ndarray | None) -> FaissStore:
    faiss = faiss_module()

    dim = vectors.shape[1]
    rng = np.random.default_rng(0)
    nlist = ivf_nlist(len(vectors))
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFScalarQuantizer(
        quantizer, dim, nlist, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
    )
    index.own_fields = True
    quantizer.this.disown()
    index.cp.niter = config.IVF_KMEANS_ITERATIONS
    index.cp.seed = 1234
    train = vectors
    if len(vectors) > config.IVF_TRAIN_PER_LIST * nlist:
        train = vectors[np.sort(rng.choice(len(vectors), config.IVF_TRAIN_PER_LIST * nlist, replace=False))]
    with faiss_threads(None):
        index.train(np.ascontiguousarray(train))
        index.add(vectors)
        if queries is None or len(queries) == 0:
            n = min(len(vectors), config.IVF_CALIBRATION_QUERIES)
            queries = vectors[rng.choice(len(vectors), n, replace=False)]
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        nprobe, recall = calibrate_nprobe(index, vectors, queries, config.IVF_RECALL_TARGET)
    calibration = Calibration(len(queries), round(recall, 4), config.IVF_RECALL_TARGET)
    spec = FaissSpec("ivf", storage="fp16", nlist=nlist, nprobe=nprobe, train_size=len(train), calibration=calibration)
    return FaissStore(index, spec)

"""A stand-in embedder for corpora too large to embed on 2 CPU cores in minutes.

Encoding 3 million sentences with all-MiniLM-L6-v2 here would take hours, so large
benchmark corpora get *synthetic* vectors: a sentence's vector is the centred mean of the
real model's vectors of its words, normalised. That keeps the structure that matters to
the FAISS benchmark (sentences about the same things are close, related chunks cluster),
costs microseconds per sentence, and is deterministic. Questions are still encoded with the
real model at query time. Recall of the approximate index is also measured on real
embeddings at the largest size the benchmark embeds for real.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from rag.embedding import DEFAULT_MODEL, Embedder

_WORD = re.compile(r"[a-z0-9]+")


class SyntheticEmbedder:
    """Duck-types :class:`rag.embedding.Embedder` for ``build_index`` (name, dimension, encode)."""

    synthetic = True

    def __init__(self, vocabulary: list[str], table: np.ndarray, name: str = DEFAULT_MODEL) -> None:
        self.name = name
        self.vocab = {w: i for i, w in enumerate(vocabulary)}
        centred = table - table.mean(axis=0, keepdims=True)
        self.table = np.ascontiguousarray(centred, dtype=np.float32)
        self.dimension = int(table.shape[1])
        self.encoded = 0

    @classmethod
    def from_texts(cls, texts: list[str], embedder: Embedder, cache: Path | None = None) -> SyntheticEmbedder:
        """Word table for the vocabulary of ``texts``, encoded with the real model (cached as .npy)."""
        vocabulary = sorted({w for t in texts for w in _WORD.findall(t.lower())})
        if cache is not None and cache.with_suffix(".npy").is_file() and cache.with_suffix(".txt").is_file():
            cached = cache.with_suffix(".txt").read_text(encoding="utf-8").split("\n")
            if cached == vocabulary:
                return cls(vocabulary, np.load(cache.with_suffix(".npy"), allow_pickle=False))
        table = embedder.encode(vocabulary)
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            np.save(cache.with_suffix(".npy"), table, allow_pickle=False)
            cache.with_suffix(".txt").write_text("\n".join(vocabulary), encoding="utf-8")
        return cls(vocabulary, table)

    def load(self) -> SyntheticEmbedder:
        return self

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        from scipy.sparse import csr_matrix  # installed with sentence-transformers (via scikit-learn)

        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        step = 65536
        vocab = self.vocab
        for lo in range(0, len(texts), step):
            ids: list[int] = []
            indptr = [0]
            for text in texts[lo : lo + step]:
                ids.extend([vocab[w] for w in _WORD.findall(text.lower()) if w in vocab])
                indptr.append(len(ids))
            counts = csr_matrix(
                (np.ones(len(ids), dtype=np.float32), np.asarray(ids, dtype=np.int32), np.asarray(indptr)),
                shape=(len(indptr) - 1, len(vocab)),
            )
            block = np.asarray(counts @ self.table, dtype=np.float32)
            block /= np.maximum(np.linalg.norm(block, axis=1, keepdims=True), 1e-12)
            out[lo : lo + len(block)] = block
        self.encoded += len(texts)
        return out

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])

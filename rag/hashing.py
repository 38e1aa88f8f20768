"""A deterministic embedder without a model: hashed words and character trigrams.

Texts that share words, or pieces of words, get close vectors, so an index built with it
retrieves by lexical overlap, a little more loosely than BM25 ("investor" is near "investment").
It needs numpy only (no torch, nothing to download), gives the same vectors on every machine
and encodes thousands of sentences a second. Two uses:

- tests: the unit tests build and query indexes with it in seconds (``tests/conftest.py``);
- trying the pipeline on a machine without the model: ``rag index --model hashing`` and
  ``rag ask --model hashing ...`` (or ``RAG_MODEL=hashing``). Its answers are poorer than the
  real model's and its confidences are not calibrated: nothing was tuned on it.

The manifest records its name like a model's, so an index built with it is only loaded with it
(any other embedder gets the usual "built with model ..., rebuild with --full" error).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from functools import lru_cache

import numpy as np

from .errors import ConfigError
from .text import STOPWORDS, tokenize, words

HASHING_NAME = "hashing"
DEFAULT_DIMENSION = 384  # the real model's, so FAISS and the arrays see the same shapes
_NAME = re.compile(rf"{HASHING_NAME}(?:-(\d+))?")
NGRAM = 3
# Weights of one occurrence. A content word counts fully, by its stem (word forms meet, as in
# BM25); its trigrams add a quarter of its squared norm (related words and misspellings come
# close); stopwords count little (they would otherwise dominate short sentences, as they do not
# in a trained model). Chosen by `rag eval` on the seed sets: with the linear scorer, answer hit
# 0.90 (dev) and 0.92 (extra) against 1.00 and 0.96 with the model; other weightings scored
# within 0.04 of these.
WORD_WEIGHT, NGRAMS_WEIGHT, STOPWORD_WEIGHT = 1.0, 0.5, 0.1


def hashing_dimension(name: str) -> int | None:
    """The dimension named by ``hashing`` or ``hashing-<dimension>``; None for any other name."""
    match = _NAME.fullmatch(name.strip())
    if match is None:
        return None
    return int(match.group(1)) if match.group(1) else DEFAULT_DIMENSION


class HashingEmbedder:
    """Satisfies :class:`rag.embedding.Embedder`: L2-normalised float32 vectors of hashed features.

    Each feature (the stem of a word of :func:`rag.text.words`, or a trigram of a content word
    padded with ``<`` and ``>``) adds its weight, with a sign, to one of ``dimension`` buckets
    chosen by its CRC-32 (signed feature hashing, Weinberger et al., 2009). A text without
    words gets the zero vector.
    """

    def __init__(self, dimension: int = DEFAULT_DIMENSION) -> None:
        if dimension < 8:
            raise ConfigError(f"dimension={dimension!r} must be at least 8")
        self.dimension = dimension
        self.name = HASHING_NAME if dimension == DEFAULT_DIMENSION else f"{HASHING_NAME}-{dimension}"

    def load(self) -> HashingEmbedder:
        """Nothing to load; here for the protocol."""
        return self

    def encode(
        self, texts: list[str], progress: bool = False, on_block: Callable[[int, int], None] | None = None
    ) -> np.ndarray:
        """One normalised row per text; ``on_block(done, total)`` once at the end (it is fast)."""
        rows: list[int] = []
        cells: list[int] = []
        values: list[float] = []
        for row, text in enumerate(texts):
            for word in words(text):
                buckets, weights = _features(word, self.dimension)
                rows.extend([row] * len(buckets))
                cells.extend(buckets)
                values.extend(weights)
        flat = np.asarray(rows, dtype=np.int64) * self.dimension + np.asarray(cells, dtype=np.int64)
        sums = np.bincount(flat, weights=values, minlength=len(texts) * self.dimension)
        out = sums.reshape(len(texts), self.dimension).astype(np.float32)
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        if on_block is not None:
            on_block(len(texts), len(texts))
        return out

    def encode_query(self, text: str) -> np.ndarray:
        """One question as a ``(1, dim)`` array."""
        return self.encode([text])


@lru_cache(maxsize=1 << 16)
def _features(word: str, dimension: int) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """A word's buckets and signed weights: its stem and its trigrams, or (for a stopword)
    the word alone, lightly."""
    stems = tokenize(word)
    if word in STOPWORDS or not stems:
        features, weights = [word], [STOPWORD_WEIGHT]
    else:
        padded = f"<{word}>"
        grams = [f"#{padded[i : i + NGRAM]}" for i in range(len(padded) - NGRAM + 1)]
        features = [*stems, *grams]
        weights = [WORD_WEIGHT] * len(stems) + [NGRAMS_WEIGHT / len(grams) ** 0.5] * len(grams)
    buckets, signed = [], []
    for feature, weight in zip(features, weights):
        h = zlib.crc32(feature.encode("utf-8"))  # stable across runs and machines, unlike hash()
        buckets.append((h >> 1) % dimension)
        signed.append(weight if h & 1 else -weight)
    return tuple(buckets), tuple(signed)

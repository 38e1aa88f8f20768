"""Lexical search: BM25 over chunks (bm25s, stemmed words) and the corpus's document
frequencies, kept next to it so that scoring needs no second pass over the texts."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import config
from ..text import tokenize
from .manifest import Bm25Spec


def bm25_idf(n: int, df: int) -> float:
    """BM25's idf of a term found in ``df`` of ``n`` chunks, as bm25s (Lucene's variant)
    computes it: never negative, and highest for terms the corpus never uses."""
    return math.log(1.0 + (n - df + 0.5) / (df + 0.5))


def bm25_spec() -> Bm25Spec:
    """The BM25 parameters every index is built with (recorded in its manifest)."""
    return Bm25Spec(k1=config.BM25_K1, b=config.BM25_B)


@dataclass(frozen=True)
class TermStats:
    """Chunks in the BM25 index (``n``) and the chunks containing each term (``df``),
    stored as ``terms.json``."""

    n: int
    df: dict[str, int]

    def idf(self, term: str) -> float:
        return bm25_idf(self.n, self.df.get(term, 0))

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({"n": self.n, "df": self.df}), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> TermStats:
        terms = json.loads(path.read_text(encoding="utf-8"))
        return cls(terms["n"], terms["df"])


class Bm25Store:
    """A bm25s index over chunks. ``retriever`` is the raw ``bm25s.BM25`` (no type stubs);
    its score matrix is memory-mapped when loaded."""

    def __init__(self, retriever: Any) -> None:
        self.retriever = retriever

    @classmethod
    def load(cls, path: Path) -> Bm25Store:
        import bm25s

        return cls(bm25s.BM25.load(str(path), mmap=True))

    def save(self, path: Path) -> None:
        self.retriever.save(str(path), show_progress=False)

    def known(self, terms: Iterable[str]) -> list[str]:
        """The terms the corpus uses, in order (bm25s refuses others)."""
        vocab = self.retriever.vocab_dict
        return [t for t in terms if t in vocab]

    def scores(self, terms: list[str]) -> np.ndarray:
        """The BM25 score of every chunk for ``terms`` (all known: see :meth:`known`)."""
        return self.retriever.get_scores(terms)

    def document_frequencies(self) -> dict[str, int]:
        """Chunks containing each term, read off BM25's term-major score matrix (one stored
        score per chunk that has the term): the same as counting, without another pass."""
        indptr = np.asarray(self.retriever.scores["indptr"])
        counts = np.diff(indptr).tolist()
        return {term: counts[i] for term, i in self.retriever.vocab_dict.items() if term}


def build_bm25(token_ids: list[list[int]], vocab: dict[str, int], spec: Bm25Spec) -> Bm25Store:
    """BM25 over chunks given as vocabulary ids (see :func:`chunk_token_ids`)."""
    import bm25s

    retriever = bm25s.BM25(k1=spec.k1, b=spec.b)
    retriever.index((token_ids, vocab), show_progress=False)
    return Bm25Store(retriever)


def chunk_token_ids(texts: Iterable[str]) -> tuple[list[list[int]], dict[str, int]]:
    """Every chunk's stemmed words as vocabulary ids (a chunk without words gets the empty
    token). Ids, not strings: a million chunks' token strings took ~2.5 GB during a build."""
    vocab: dict[str, int] = {}
    ids: list[list[int]] = []
    for text in texts:
        ids.append([vocab.setdefault(t, len(vocab)) for t in tokenize(text) or [""]])
    return ids, vocab

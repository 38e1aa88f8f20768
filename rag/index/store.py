"""A loaded index version (:class:`IndexData`), the lazily read texts, and loading itself.

Large parts stay on disk: texts, sentence and chunk tables and sentence vectors are
memory-mapped, and so is BM25's score matrix; FAISS's index is held in memory. Callers ask
:class:`IndexData` for texts, chunks and sections by document and offset rather than
reading its arrays.
"""

from __future__ import annotations

import json
import logging
import mmap
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import overload

import numpy as np

from ..errors import IndexStaleError
from ..types import Chunk, Section
from .dense import FaissStore, VectorStore
from .freshness import Freshness, check_freshness, model_mismatch
from .integrity import check_integrity
from .layout import (
    BM25,
    CHUNKS,
    DOCUMENTS,
    FAISS,
    FORMAT_VERSION,
    SENTENCE_VECTORS,
    SENTENCES,
    TERMS,
    TEXT_OFFSETS,
    TEXTS,
    corrupt,
    current_version,
    index_dir,
    one_line,
)
from .lexical import Bm25Store, TermStats
from .manifest import DocRecord, Manifest, index_command, read_manifest
from .tables import SECTIONS

logger = logging.getLogger(__name__)


class Texts(Sequence[str]):
    """The documents' raw texts, read on demand: ``texts.jsonl`` holds one JSON string per
    document; it is memory-mapped and a line is decoded when asked for (the most recently
    used are kept decoded). A million-chunk corpus is ~400 MB of text that would otherwise
    live in Python strings (twice that once any character is outside Latin-1)."""

    def __init__(self, path: Path, offsets: np.ndarray | None = None, cache: int = 512) -> None:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            buffer: mmap.mmap | bytes = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        if offsets is None:  # indexes written before texts.offsets.npy existed
            ends = np.flatnonzero(np.frombuffer(buffer, dtype=np.uint8) == 10) + 1 if size else np.zeros(0, np.int64)
            offsets = np.concatenate([[0], ends]).astype(np.int64)
        bounds = [int(x) for x in offsets]
        self._n = len(bounds) - 1
        if bounds[-1] != size or bounds[0] != 0 or any(b - a < 3 for a, b in zip(bounds, bounds[1:])):
            raise ValueError("texts.jsonl does not match texts.offsets.npy (truncated or overwritten)")

        def read(i: int) -> str:
            text: str = json.loads(buffer[bounds[i] : bounds[i + 1]])
            return text

        self._read: Callable[[int], str] = lru_cache(maxsize=cache)(read)
        if self._n:  # decode the first and the last document now, so damage shows at load (reading
            # every line would page the whole file in: ~370 MB at a million chunks)
            read(0), read(self._n - 1)

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, i: int) -> str: ...

    @overload
    def __getitem__(self, i: slice) -> list[str]: ...

    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return [self._read(j) for j in range(*i.indices(self._n))]
        i = int(i)
        if i < 0:
            i += self._n
        if not 0 <= i < self._n:
            raise IndexError(f"document {i} is out of range (0..{self._n - 1})")
        return self._read(i)


@dataclass
class IndexData:
    """A loaded, read-only index version. Replaced as a whole on reload, never mutated.

    ``sentences`` and ``chunks`` are offset tables (``rag.index.tables``): row ``i`` of
    ``chunks`` is the chunk FAISS and BM25 return as id ``i``."""

    root: Path
    version: Path
    manifest: Manifest
    docs: list[DocRecord]
    texts: Sequence[str]
    sentences: np.ndarray
    chunks: np.ndarray
    sentence_vectors: np.ndarray
    faiss: VectorStore
    bm25: Bm25Store
    terms: TermStats
    _doc_ids: dict[str, int] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def df(self) -> dict[str, int]:
        """Chunks containing each term."""
        return self.terms.df

    @property
    def n_chunks_bm25(self) -> int:
        return self.terms.n

    def idf(self, term: str) -> float:
        """BM25's idf of a stemmed term over the chunks (see :func:`rag.index.lexical.bm25_idf`)."""
        return self.terms.idf(term)

    def doc_ids(self) -> dict[str, int]:
        """Document id to position (built once; do not modify the returned dict)."""
        if self._doc_ids is None:
            self._doc_ids = {d.id: i for i, d in enumerate(self.docs)}
        return self._doc_ids

    def document(self, doc_id: str) -> DocRecord | None:
        """The record of document ``doc_id`` (a source file's id), None when it is not indexed."""
        doc = self.doc_ids().get(doc_id)
        return self.docs[doc] if doc is not None else None

    def text(self, doc_id: str) -> str | None:
        """The canonical text of document ``doc_id`` (what every offset points into)."""
        doc = self.doc_ids().get(doc_id)
        return self.texts[doc] if doc is not None else None

    def sentence_text(self, i: int) -> str:
        row = self.sentences[i]
        return self.texts[row["doc"]][row["start"] : row["end"]]

    def chunk_text(self, i: int) -> str:
        row = self.chunks[i]
        return self.texts[row["doc"]][row["start"] : row["end"]]

    def section_of_sentence(self, i: int) -> Section:
        return SECTIONS[self.sentences[i]["section"]]

    def section_of_chunk(self, i: int) -> Section:
        return SECTIONS[self.chunks[i]["section"]]

    def chunk(self, i: int) -> Chunk:
        """Chunk ``i`` as a record (``first_sentence`` numbers sentences corpus-wide)."""
        row = self.chunks[i]
        return Chunk(
            self.docs[int(row["doc"])].id, int(row["start"]), int(row["end"]), self.chunk_text(i),
            self.section_of_chunk(i), int(row["first"]), int(row["count"]),
        )

    def chunk_at(self, doc_id: str, start: int, end: int | None = None) -> Chunk | None:
        """The first chunk of document ``doc_id`` that holds all of ``[start, end)`` (the
        character at ``start`` when ``end`` is None); None for an unknown document or span."""
        record = self.document(doc_id)
        if record is None:
            return None
        end = start + 1 if end is None else end
        first = record.chunk_offset
        rows = self.chunks[first : first + record.n_chunks]
        hits = np.flatnonzero((rows["start"] <= start) & (rows["end"] >= end))
        return self.chunk(first + int(hits[0])) if len(hits) else None

    def section_at(self, doc_id: str, offset: int) -> Section | None:
        """The section of the sentence of document ``doc_id`` that holds character ``offset``
        (None for an unknown document, or an offset between sentences)."""
        record = self.document(doc_id)
        if record is None:
            return None
        first = record.sentence_offset
        rows = self.sentences[first : first + record.n_sentences]
        hits = np.flatnonzero((rows["start"] <= offset) & (rows["end"] > offset))
        return self.section_of_sentence(first + int(hits[0])) if len(hits) else None


def load_index(
    root: str | Path | None = None, model: str | None = None, check_files: bool = True, verify: bool = False
) -> IndexData:
    """Load the live index; a missing, stale or corrupt one raises an error naming the fix.

    Every index file's size is checked against the manifest, and the SHA-256 of the small
    ones (of all of them with ``verify``). With its source folder gone the index is still
    served (read-only: nothing to compare it with, and a rebuild would have nothing to read).
    """
    root = index_dir(root)
    manifest = read_manifest(root)
    version = current_version(root)
    if manifest.format_version != FORMAT_VERSION:
        raise IndexStaleError(
            f"index format {manifest.format_version!r} is not {FORMAT_VERSION}; "
            f"run `{index_command(root, manifest, full=True)}`"
        )
    check_integrity(version, manifest, root, full=verify)
    freshness = check_freshness(manifest, model) if check_files else Freshness()
    if model is not None:
        freshness.model_mismatch = model_mismatch(manifest, model)
    if not freshness.fresh:
        fix = index_command(root, manifest, full=bool(freshness.model_mismatch))
        raise IndexStaleError(f"index is stale: {freshness.describe()}; run `{fix}`")
    if freshness.source_missing:
        logger.warning("%s", freshness.describe())
    try:
        data = _open_parts(root, version, manifest)
    except Exception as exc:  # noqa: BLE001 - any failure to read a part is a damaged index; say so in one line
        raise corrupt(root, f"cannot read it: {one_line(exc)}") from exc
    _validate(data, root)
    return data


def _open_parts(root: Path, version: Path, manifest: Manifest) -> IndexData:
    docs = [DocRecord(**d) for d in json.loads((version / DOCUMENTS).read_text(encoding="utf-8"))]
    offsets_path = version / TEXT_OFFSETS
    offsets = np.load(offsets_path, allow_pickle=False) if offsets_path.is_file() else None
    return IndexData(
        root=root,
        version=version,
        manifest=manifest,
        docs=docs,
        texts=Texts(version / TEXTS, offsets),
        sentences=np.load(version / SENTENCES, mmap_mode="r", allow_pickle=False),
        chunks=np.load(version / CHUNKS, mmap_mode="r", allow_pickle=False),
        sentence_vectors=np.load(version / SENTENCE_VECTORS, mmap_mode="r", allow_pickle=False),
        faiss=FaissStore.load(version / FAISS, manifest.faiss),
        bm25=Bm25Store.load(version / BM25),
        terms=TermStats.load(version / TERMS),
    )


def _validate(data: IndexData, root: Path) -> None:
    """Cheap consistency checks that catch truncated or mismatched files."""
    n_chunks = data.manifest.counts.chunks
    problems = []
    if len(data.chunks) != n_chunks or data.faiss.ntotal != n_chunks or data.n_chunks_bm25 != n_chunks:
        problems.append("chunk counts disagree")
    if len(data.sentence_vectors) != len(data.sentences) or len(data.texts) != len(data.docs):
        problems.append("sentence or document counts disagree")
    if data.sentence_vectors.ndim != 2 or data.sentence_vectors.shape[1] != data.manifest.model.dimension:
        problems.append("vector dimension disagrees with the manifest")
    if problems:
        raise corrupt(root, "; ".join(problems))

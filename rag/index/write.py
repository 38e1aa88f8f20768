"""Writing an index version: every part written as soon as it is built, then the atomic swap.

A build writes a new version folder and then swaps ``CURRENT``, so a reader never sees a
half-written index. Nothing is pickled: JSON, ``.npy`` without objects, FAISS's own format.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np

from .. import config
from ..chunking import ChunkingConfig
from .dense import build_faiss, chunk_vectors, sample_queries
from .integrity import file_digests
from .layout import (
    BM25,
    CHUNKS,
    CURRENT,
    DOCUMENTS,
    FAISS,
    FORMAT_VERSION,
    POINTER_TMP_PREFIX,
    SENTENCE_VECTORS,
    SENTENCES,
    TERMS,
    TEXT_OFFSETS,
    TEXTS,
    TMP_PREFIX,
    new_version_name,
    now,
)
from .lexical import TermStats, bm25_spec, build_bm25, chunk_token_ids
from .manifest import Counts, FaissSpec, FolderStamps, Manifest, ModelInfo
from .tables import Parsed, Tables, tables


def write_version(
    root: Path,
    source: Path,
    parsed: list[Parsed],
    vectors: np.ndarray,
    model: str,
    chunking: ChunkingConfig,
    skipped: list[str],
    flat_max: int | None = None,
    stamps: FolderStamps | None = None,
) -> Manifest:
    """Write a new version folder and swap it in. Each part is written as soon as it is built
    and then dropped (the sentence vectors are read back memory-mapped), so a build's peak
    memory is its largest step rather than the sum of all: pass ``vectors`` without keeping
    another reference to it."""
    table = tables(parsed)
    dim = int(vectors.shape[1])
    root.mkdir(parents=True, exist_ok=True)
    name = new_version_name()
    tmp = root / f"{TMP_PREFIX}{name.removeprefix('v-')}"
    tmp.mkdir()
    try:
        np.save(tmp / SENTENCES, table.sentences, allow_pickle=False)
        np.save(tmp / CHUNKS, table.chunks, allow_pickle=False)
        np.save(tmp / SENTENCE_VECTORS, vectors, allow_pickle=False)
        vectors = np.load(tmp / SENTENCE_VECTORS, mmap_mode="r", allow_pickle=False)
        spec = _write_faiss(tmp, vectors, table, flat_max)
        del vectors
        _write_bm25(tmp, parsed)
        _write_texts(tmp, parsed)
        (tmp / DOCUMENTS).write_text(json.dumps([r.to_json() for r in table.records], indent=1), encoding="utf-8")
        manifest = Manifest(
            format_version=FORMAT_VERSION,
            built_at=now(),
            source=str(source),
            source_from_index=os.path.relpath(source, root.resolve()),
            model=ModelInfo(model, dim, True),
            chunking=chunking.to_json(),
            faiss=spec,
            bm25=bm25_spec(),
            counts=Counts(len(table.records), len(table.sentences), len(table.chunks)),
            files=table.records,
            skipped=skipped,
            folders=stamps,
            integrity=file_digests(tmp),
        )
        manifest.write(tmp)
        tmp.rename(root / name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    swap(root, name)
    return manifest


def _write_faiss(tmp: Path, vectors: np.ndarray, table: Tables, flat_max: int | None) -> FaissSpec:
    store = build_faiss(chunk_vectors(vectors, table.chunks), sample_queries(vectors), flat_max)
    store.save(tmp / FAISS)
    return store.spec


def _write_bm25(tmp: Path, parsed: list[Parsed]) -> None:
    """BM25 over the chunks' words, and the terms' document frequencies read off it."""
    token_ids, vocab = chunk_token_ids(text for p in parsed for text in p.chunk_texts())
    n_chunks = len(token_ids)
    bm25 = build_bm25(token_ids, vocab, bm25_spec())
    del token_ids, vocab
    bm25.save(tmp / BM25)
    TermStats(n_chunks, bm25.document_frequencies()).save(tmp / TERMS)


def _write_texts(tmp: Path, parsed: list[Parsed]) -> None:
    """One JSON string per document (ASCII: ``json.dumps`` escapes the rest) and the byte
    offset of each line, so a text is read without scanning the file."""
    offsets = np.zeros(len(parsed) + 1, dtype=np.int64)
    with open(tmp / TEXTS, "wb") as fh:
        for i, p in enumerate(parsed):
            line = (json.dumps(p.doc.raw) + "\n").encode("ascii")
            fh.write(line)
            offsets[i + 1] = offsets[i] + len(line)
    np.save(tmp / TEXT_OFFSETS, offsets, allow_pickle=False)


def swap(root: Path, name: str) -> None:
    """Point CURRENT at the new version atomically, then drop versions beyond the last few."""
    pointer_tmp = root / f"{POINTER_TMP_PREFIX}{os.getpid()}"
    pointer_tmp.write_text(name + "\n", encoding="utf-8")
    os.replace(pointer_tmp, root / CURRENT)
    versions = sorted(p for p in root.glob("v-*") if p.is_dir())
    for old in versions[: -config.KEEP_VERSIONS]:
        shutil.rmtree(old, ignore_errors=True)

"""The sentence and chunk tables: offset rows into the documents' texts, built from the
parsed source files (no copies of the text are kept)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import corpus
from ..chunking import ChunkingConfig, chunk_sentences, document_sentences
from ..types import Chunk, Document, Section, Sentence
from .manifest import DocRecord

# A row's "section" is the position of its Section here: stored in the index files, so the
# order never changes (new sections go last; METADATA is never indexed).
SECTIONS = [Section.TITLE, Section.ARTICLE, Section.CAPTION, Section.REFERENCE, Section.COMMENT]
SENTENCE_DTYPE = np.dtype([("doc", "<i4"), ("start", "<i8"), ("end", "<i8"), ("section", "i1"), ("chunk", "<i4")])
CHUNK_DTYPE = np.dtype(
    [("doc", "<i4"), ("start", "<i8"), ("end", "<i8"), ("section", "i1"), ("first", "<i4"), ("count", "<i4")]
)


@dataclass
class Parsed:
    """One parsed file, kept compact: its sentences and chunks as offset rows (SENTENCE_DTYPE /
    CHUNK_DTYPE, numbered within the document); their texts are slices of ``doc.raw``."""

    doc: Document
    sentences: np.ndarray
    chunks: np.ndarray
    size: int
    mtime_ns: int

    def sentence_texts(self) -> list[str]:
        raw = self.doc.raw
        return [raw[a:b] for a, b in zip(self.sentences["start"].tolist(), self.sentences["end"].tolist())]

    def chunk_texts(self) -> Iterator[str]:
        raw = self.doc.raw
        for a, b in zip(self.chunks["start"].tolist(), self.chunks["end"].tolist()):
            yield raw[a:b]


@dataclass
class Tables:
    """The corpus-wide sentence and chunk tables (global numbering) and the document records."""

    sentences: np.ndarray
    chunks: np.ndarray
    records: list[DocRecord]


def compact(sentences: list[Sentence], chunks: list[Chunk]) -> tuple[np.ndarray, np.ndarray]:
    """Offset rows for a document's sentences and chunks (the objects, with their copies of
    the text, are dropped: at a million chunks they held several GB during a build)."""
    sections = {section: i for i, section in enumerate(SECTIONS)}
    rows = np.zeros(len(sentences), dtype=SENTENCE_DTYPE)
    if sentences:
        rows["start"] = [x.start for x in sentences]
        rows["end"] = [x.end for x in sentences]
        rows["section"] = [sections[x.section] for x in sentences]
    table = np.zeros(len(chunks), dtype=CHUNK_DTYPE)
    if chunks:
        table["start"] = [c.start for c in chunks]
        table["end"] = [c.end for c in chunks]
        table["section"] = [sections[c.section] for c in chunks]
        table["first"] = [c.first_sentence for c in chunks]
        table["count"] = [c.n_sentences for c in chunks]
        rows["chunk"] = np.repeat(np.arange(len(chunks), dtype=np.int32), table["count"])
    return rows, table


def parse_source(source: Path, config: ChunkingConfig, skipped: list[str]) -> list[Parsed]:
    """Read, split and chunk every file of ``source``; unreadable ones are added to ``skipped``."""
    parsed = []
    corpus.warn_unsupported(source)
    for path in corpus.corpus_files(source, skipped):
        doc = corpus.read_document(source, path)
        if doc is None:
            skipped.append(corpus.printable_name(corpus.doc_id(source, path)))
            continue
        sentences = document_sentences(doc, config)
        rows, table = compact(sentences, chunk_sentences(doc, sentences, 0, config))
        parsed.append(Parsed(doc, rows, table, doc.size, doc.mtime_ns))  # stat taken before the read
    return parsed


def tables(parsed: list[Parsed]) -> Tables:
    """Concatenate the documents' rows, renumbered corpus-wide, and describe each document."""
    sentences = np.concatenate([p.sentences for p in parsed]) if parsed else np.zeros(0, SENTENCE_DTYPE)
    chunks = np.concatenate([p.chunks for p in parsed]) if parsed else np.zeros(0, CHUNK_DTYPE)
    n_sent = np.array([len(p.sentences) for p in parsed], dtype=np.int64)
    n_chunk = np.array([len(p.chunks) for p in parsed], dtype=np.int64)
    s_off = np.concatenate([[0], np.cumsum(n_sent)[:-1]]).astype(np.int64)
    c_off = np.concatenate([[0], np.cumsum(n_chunk)[:-1]]).astype(np.int64)
    sentences["doc"] = np.repeat(np.arange(len(parsed), dtype=np.int32), n_sent)
    sentences["chunk"] += np.repeat(c_off, n_sent).astype(np.int32)
    chunks["doc"] = np.repeat(np.arange(len(parsed), dtype=np.int32), n_chunk)
    chunks["first"] += np.repeat(s_off, n_chunk).astype(np.int32)
    records = [
        DocRecord(
            p.doc.id, p.doc.title, p.doc.outlet, p.doc.date, p.doc.sha256, p.size, p.mtime_ns,
            int(s_off[d]), int(n_sent[d]), int(c_off[d]), int(n_chunk[d]), p.doc.meta_json(),
        )
        for d, p in enumerate(parsed)
    ]
    return Tables(sentences, chunks, records)

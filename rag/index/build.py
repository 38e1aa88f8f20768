"""Building an index: only what changed is read and embedded again.

With the same files (by folder stamps or a listing, then sizes and mtimes), the same model
and the same settings, the live index is left as it is. Otherwise every file is parsed, and
the stored sentence vectors of files whose SHA-256 is unchanged are reused (only when the
stored vectors still match their hash); the rest is embedded, and a new version is written
and swapped in (:mod:`rag.index.write`). One build at a time per index folder.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import corpus
from ..chunking import ChunkingConfig
from ..embedding import Embedder, make_embedder
from ..errors import CorpusError
from ..text import printable
from .freshness import folder_stamps, trusted, unchanged_by_stamps
from .integrity import check_file
from .layout import FORMAT_VERSION, SENTENCE_VECTORS, index_dir
from .lock import build_lock, remove_leftovers
from .manifest import FolderStamps, Manifest, previous
from .tables import Parsed, parse_source
from .write import write_version

logger = logging.getLogger(__name__)

EMBED_START, EMBED_END = 0.05, 0.85  # share of a build's progress before / after embedding
Progress = Callable[[float, str], None]  # build progress: (fraction done, what is happening)
Reuse = dict[str, tuple[np.ndarray, int, int]]  # document SHA-256 -> (stored vectors, first row, rows)


@dataclass
class BuildReport:
    """What an ``index`` run did."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    documents: int = 0
    chunks: int = 0
    sentences: int = 0
    embedded_sentences: int = 0
    seconds: float = 0.0
    rebuilt: bool = True
    full: bool = False

    def summary(self) -> str:
        verb = "rebuilt" if self.rebuilt else "up to date"
        return (
            f"index {verb}: {len(self.added)} added, {len(self.changed)} changed, {len(self.removed)} removed, "
            f"{len(self.unchanged)} unchanged, {len(self.skipped)} skipped; {self.documents} documents, "
            f"{self.chunks} chunks, {self.embedded_sentences} sentences embedded in {self.seconds:.2f}s"
        )


@dataclass
class _Job:
    """One build's inputs."""

    source: Path
    root: Path
    embedder: Embedder
    chunking: ChunkingConfig
    report: BuildReport
    flat_max: int | None
    progress: Progress | None


def build_index(
    source: str | Path,
    root: str | Path | None = None,
    embedder: Embedder | None = None,
    chunking: ChunkingConfig | None = None,
    full: bool = False,
    faiss_flat_max: int | None = None,
    progress: Progress | None = None,
) -> BuildReport:
    """Index ``source`` into ``root``, re-embedding only added or changed files.

    ``faiss_flat_max`` overrides ``FLAT_MAX_CHUNKS`` (the largest corpus searched exactly).
    ``progress(fraction, description)`` is told how far the build got (for a progress bar).

    With nothing changed (same files, model and settings) the live index is left as is.
    One build per index folder at a time: a second one waits (see :func:`build_lock`).
    """
    started = time.perf_counter()
    source, root = Path(source).resolve(), index_dir(root)
    if not source.is_dir():
        raise CorpusError(
            f"source folder {printable(str(source))!r} does not exist or is not a folder; pass the articles' folder "
            f"with --source"
        )
    report = BuildReport(full=full)
    embedder = embedder or make_embedder()
    job = _Job(source, root, embedder, chunking or ChunkingConfig(), report, faiss_flat_max, progress)
    with build_lock(root):
        remove_leftovers(root)
        _build(job)
    report.seconds = time.perf_counter() - started
    logger.info(report.summary())
    return report


def _build(job: _Job) -> None:
    report, model = job.report, job.embedder.name
    stamps = folder_stamps(job.source)  # before anything is listed or read
    if not report.full and _untouched(job, stamps):
        return
    parsed = parse_source(job.source, job.chunking, report.skipped)
    if not parsed:
        raise CorpusError(f"no readable articles ({', '.join(corpus.SUFFIXES)}) in {printable(str(job.source))!r}")
    if job.progress is not None:
        job.progress(EMBED_START, f"read {len(parsed):,} files")
    manifest, version = (None, None) if report.full else previous(job.root)
    _classify_changes(parsed, manifest, report)
    if manifest is not None and version is not None and _same_settings(manifest, job.source, model, job.chunking) \
            and not (report.added or report.changed or report.removed):
        report.rebuilt = False
        report.documents = len(parsed)
        report.chunks = manifest.counts.chunks
        if [(d.size, d.mtime_ns) for d in manifest.files] != [(p.size, p.mtime_ns) for p in parsed]:
            _refresh_stats(version, manifest, parsed, stamps)
        return
    reuse = _reusable_vectors(manifest, version, model, job.chunking)
    # no local reference to the sentence vectors may outlive the call: write_version drops them midway
    vectors = _sentence_vectors(parsed, reuse, job.embedder, report, job.progress)
    if job.progress is not None:
        job.progress(EMBED_END, "writing the index (FAISS, BM25, tables)")
    written = write_version(
        job.root, job.source, parsed, vectors, model, job.chunking, report.skipped, job.flat_max, stamps
    )
    report.documents, report.chunks, report.sentences = (
        written.counts.documents, written.counts.chunks, written.counts.sentences,
    )


def _untouched(job: _Job, stamps: FolderStamps | None) -> bool:
    """Whether the live index already covers the source exactly, judged without reading any
    file: the same settings, the same file names, and every file's size and mtime as recorded
    (by the folder stamps when they can be trusted, else by listing the folder). Anything else
    (including a file skipped last time) goes through the full check."""
    manifest, version = previous(job.root)
    if manifest is None or version is None or not _same_settings(
        manifest, job.source, job.embedder.name, job.chunking
    ):
        return False
    if unchanged_by_stamps(manifest):
        _mark_untouched(manifest, job.report)
        return True
    if not _same_stats(job.source, manifest):
        return False
    if trusted(stamps) and not trusted(manifest.folders):  # so the next check needs no listing
        manifest.folders = stamps
        manifest.write(version)
    _mark_untouched(manifest, job.report)
    return True


def _same_stats(source: Path, manifest: Manifest) -> bool:
    """Whether listing ``source`` finds exactly the recorded files, with their sizes and mtimes."""
    try:
        paths = corpus.corpus_files(source)
    except CorpusError:
        return False
    recorded = {d.id: d for d in manifest.files}
    if len(paths) != len(recorded):
        return False
    for path in paths:
        record = recorded.get(corpus.doc_id(source, path))
        if record is None:
            return False
        try:
            stat = path.stat()
        except OSError:
            return False
        if stat.st_size != record.size or stat.st_mtime_ns != record.mtime_ns:
            return False
    return True


def _mark_untouched(manifest: Manifest, report: BuildReport) -> None:
    report.rebuilt = False
    report.unchanged = [d.id for d in manifest.files]
    report.documents = len(manifest.files)
    report.chunks = manifest.counts.chunks


def _same_settings(manifest: Manifest, source: Path, model: str, chunking: ChunkingConfig) -> bool:
    return (
        manifest.format_version == FORMAT_VERSION
        and manifest.model.name == model
        and manifest.chunking == chunking.to_json()
        and manifest.source == str(source)
    )


def _refresh_stats(version: Path, manifest: Manifest, parsed: list[Parsed], stamps: FolderStamps | None) -> None:
    """Record new mtimes of files whose content did not change, so later checks stay fast."""
    for record, p in zip(manifest.files, parsed):
        record.size, record.mtime_ns = p.size, p.mtime_ns
    manifest.folders = stamps
    manifest.write(version)


def _classify_changes(parsed: list[Parsed], manifest: Manifest | None, report: BuildReport) -> None:
    old = {d.id: d.sha256 for d in manifest.files} if manifest is not None else {}
    for p in parsed:
        if p.doc.id not in old:
            report.added.append(p.doc.id)
        elif old[p.doc.id] != p.doc.sha256:
            report.changed.append(p.doc.id)
        else:
            report.unchanged.append(p.doc.id)
    report.removed = sorted(set(old) - {p.doc.id for p in parsed})


def _reusable_vectors(manifest: Manifest | None, version: Path | None, model: str, chunking: ChunkingConfig) -> Reuse:
    """Vectors of the previous build per document hash, when the build settings are the same."""
    if manifest is None or version is None or manifest.format_version != FORMAT_VERSION:
        return {}
    if manifest.model.name != model or manifest.chunking != chunking.to_json():
        return {}
    want = manifest.integrity.files.get(SENTENCE_VECTORS) if manifest.integrity is not None else None
    try:
        check_file(version, SENTENCE_VECTORS, want, full=True)
        vectors = np.load(version / SENTENCE_VECTORS, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        logger.warning("not reusing the stored vectors (%s): every sentence is embedded again", exc)
        return {}
    return {d.sha256: (vectors, d.sentence_offset, d.n_sentences) for d in manifest.files}


def _sentence_vectors(
    parsed: list[Parsed], reuse: Reuse, embedder: Embedder, report: BuildReport, progress: Progress | None = None
) -> np.ndarray:
    """Reuse stored vectors of unchanged files; encode the sentences of the others in one batch."""
    parts: list[np.ndarray | None] = []
    pending: list[str] = []
    for item in parsed:
        old = reuse.get(item.doc.sha256)
        if old is not None and old[2] == len(item.sentences):
            vectors, offset, count = old
            parts.append(vectors[offset : offset + count])
        else:
            parts.append(None)
            pending.extend(item.sentence_texts())
    encoded = _encode(pending, embedder, progress)
    report.embedded_sentences = len(pending)
    total = sum(len(item.sentences) for item in parsed)
    if encoded is not None and len(encoded) == total:
        return np.ascontiguousarray(encoded, dtype=np.float32)  # all new: no second copy
    dim = encoded.shape[1] if encoded is not None else next((p.shape[1] for p in parts if p is not None), None)
    out = np.empty((total, dim if dim is not None else embedder.dimension), dtype=np.float32)
    row = cursor = 0
    for item, part in zip(parsed, parts):
        n = len(item.sentences)
        if part is None:
            assert encoded is not None  # every file without stored vectors was encoded
            part = encoded[cursor : cursor + n]
            cursor += n
        out[row : row + n] = part
        row += n
    return out


def _encode(texts: list[str], embedder: Embedder, progress: Progress | None) -> np.ndarray | None:
    """The sentences' vectors (None when there are none), telling ``progress`` how far it got."""
    if not texts:
        return None
    if progress is None:
        return embedder.encode(texts, progress=True)

    def on_block(done: int, total: int) -> None:
        share = EMBED_START + (EMBED_END - EMBED_START) * done / total
        progress(share, f"embedded {done:,} of {total:,} sentences")

    # on_block only with a progress callback: an embedder need not support it otherwise
    return embedder.encode(texts, progress=True, on_block=on_block)

"""Build, store and load the index: sentences, chunks, vectors, FAISS and BM25.

Layout of an index folder::

    index/CURRENT            name of the live version folder (replaced atomically)
    index/v-<time>-<pid>/    manifest.json, documents.json, texts.jsonl (+ texts.offsets.npy:
                             byte offset of each line), sentences.npy, chunks.npy,
                             sentence_vectors.npy, chunks.faiss, bm25/, terms.json

A build writes a new version folder and then swaps ``CURRENT``, so a reader never sees a
half-written index. Nothing is pickled: JSON, ``.npy`` without objects, FAISS's own format.
The manifest records the size and SHA-256 of every other file of its version; loading
checks every size and the hashes of the small files, ``verify_index`` hashes them all.
One build at a time per index folder (``index/.lock``); a build removes the temporary
folders of builds that were killed.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import logging
import math
import mmap
import os
import shlex
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import numpy as np

from .chunking import ChunkingConfig, chunk_sentences, document_sentences
from .corpus import SUFFIXES, corpus_files, doc_id, printable_name, read_document, warn_unsupported
from .embedding import Embedder
from .errors import CorpusError, IndexBusyError, IndexCorruptError, IndexMissingError, IndexStaleError
from .text import printable, tokenize
from .types import Chunk, Document, Section, Sentence

logger = logging.getLogger(__name__)

FORMAT_VERSION = 2  # 2: per-file SHA-256 in the manifest, capped sentence length
INDEX_ENV = "RAG_INDEX"
DEFAULT_INDEX = "index"
EMBED_START, EMBED_END = 0.05, 0.85  # share of a build's progress before / after embedding
Progress = Callable[[float, str], None]  # build progress: (fraction done, what is happening)
FLAT_MAX_CHUNKS = 50_000  # exact FAISS search up to here, IVF beyond (see _faiss_index)
IVF_RECALL_TARGET = 0.97  # build-time recall@10 vs exact on sampled sentence vectors (bar: 0.95 on questions)
IVF_NPROBES = (8, 16, 32, 64, 128, 256)
IVF_TRAIN_PER_LIST = 40
IVF_KMEANS_ITERATIONS = 10
IVF_CALIBRATION_QUERIES = 256
RECALL_K = 10
KEEP_VERSIONS = 2
RACY_NS = 2_000_000_000  # folder mtimes this close to their stamping are not trusted (timestamp granularity)
# Loading hashes index files up to this size every time (the seed index: all of them, ~1 ms);
# larger ones (vectors, FAISS, BM25 matrix at scale) get a size check, and a full hash from
# `rag info --verify` and before the app serves. SHA-256 runs at ~1 GB/s here.
FAST_HASH_MAX_BYTES = 8 * 2**20
HASH_BLOCK = 2**20
LOCK_FILE = ".lock"
BUILD_LOCK_WAIT_S = 600.0  # a second build waits this long for the first, then stops with a message
LOCK_POLL_S = 0.25
TMP_PREFIX = ".tmp-v-"

SECTIONS = list(Section)
SENTENCE_DTYPE = np.dtype([("doc", "<i4"), ("start", "<i8"), ("end", "<i8"), ("section", "i1"), ("chunk", "<i4")])
CHUNK_DTYPE = np.dtype(
    [("doc", "<i4"), ("start", "<i8"), ("end", "<i8"), ("section", "i1"), ("first", "<i4"), ("count", "<i4")]
)


def index_dir(path: str | Path | None = None) -> Path:
    """The index folder: the argument, else ``$RAG_INDEX``, else ``index/``."""
    return Path(path or os.environ.get(INDEX_ENV) or DEFAULT_INDEX)


@dataclass
class DocRecord:
    """What the index keeps about one source file."""

    id: str
    title: str
    outlet: str | None
    date: str | None
    sha256: str
    size: int
    mtime_ns: int
    sentence_offset: int
    n_sentences: int
    chunk_offset: int
    n_chunks: int
    meta: dict = field(default_factory=dict)  # Document.meta_json(): format, author, published, evidence, pages


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
class Freshness:
    """How the index differs from the source folder and the configured model."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    model_mismatch: str | None = None
    source_missing: str | None = None  # the source folder is gone: nothing to compare, serve read-only

    @property
    def fresh(self) -> bool:
        return not (self.added or self.changed or self.removed or self.model_mismatch)

    def describe(self) -> str:
        if self.model_mismatch:
            return self.model_mismatch
        if self.source_missing and self.fresh:
            return f"source folder {printable(self.source_missing)!r} is gone; the index is served read-only"
        parts = [
            f"{len(v)} {k}"
            for k, v in (("added", self.added), ("changed", self.changed), ("removed", self.removed))
            if v
        ]
        return "files changed since the index was built (" + ", ".join(parts) + ")"


def index_command(root: str | Path, manifest: dict | None = None, full: bool = False) -> str:
    """The exact command that brings the index in ``root`` up to date (names its source folder)."""
    parts = ["rag", "index"] + (["--full"] if full else [])
    if manifest is not None and manifest.get("source"):
        parts += ["--source", manifest["source"]]
    return printable(shlex.join(parts + ["--index", str(root)]))


def recorded_source(root: str | Path) -> str | None:
    """The source folder the index in ``root`` was built from, or None without a readable manifest."""
    try:
        return read_manifest(root)["source"]
    except (IndexMissingError, IndexCorruptError, KeyError, TypeError):
        return None


def _one_line(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())


def _corrupt(root: Path, problem: str) -> IndexCorruptError:
    return IndexCorruptError(
        f"index in {printable(str(root))!r} is damaged ({problem}); rebuild it with `rag index --full --index {root}`"
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _current_version(root: Path) -> Path:
    pointer = root / "CURRENT"
    if not pointer.is_file():
        raise IndexMissingError(f"no index in {str(root)!r}; build it with `rag index --index {root}`")
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise _corrupt(root, f"cannot read CURRENT: {_one_line(exc)}") from exc
    if not name.startswith("v-") or "/" in name or os.sep in name:
        raise _corrupt(root, f"CURRENT names {printable(name[:80])!r}, not a version folder")
    version = root / name
    if not (version / "manifest.json").is_file():
        raise _corrupt(root, f"{name}/manifest.json is missing")
    return version


def read_manifest(root: str | Path | None = None) -> dict:
    """The manifest of the live index, without loading anything heavy (used by ``rag info``)."""
    root = index_dir(root)
    try:
        return _load_manifest(_current_version(root), root)
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        raise _corrupt(root, f"cannot read the manifest: {_one_line(exc)}") from exc


def _load_manifest(version: Path, root: Path) -> dict:
    """Read a version's manifest. When the repository was moved or cloned elsewhere, the recorded
    absolute source folder no longer exists; it is then found again by its path relative to the
    index folder, so a moved checkout keeps working without a rebuild."""
    manifest = json.loads((version / "manifest.json").read_text(encoding="utf-8"))
    relative = manifest.get("source_from_index")
    if relative is not None and not os.path.isdir(manifest["source"]):
        moved = (root / relative).resolve()
        if moved.is_dir():
            manifest["source"] = str(moved)
    return manifest


def folder_stamps(source: Path) -> dict | None:
    """Modification times of ``source`` and every non-hidden folder below it, taken before the
    files are listed. Adding, removing or renaming a file changes its folder's mtime, so while
    these and the files' own sizes and mtimes are unchanged, so is the corpus, and no listing
    is needed (at 50k files listing took ~1.5 s). None when a folder cannot be stamped or is a
    symbolic link (whose contents' changes would not show here)."""
    taken = time.time_ns()
    mtimes = {}
    for top, dirs, _files in os.walk(source):
        rel = os.path.relpath(top, source)
        try:
            mtimes["" if rel == "." else rel.replace(os.sep, "/")] = os.stat(top).st_mtime_ns
        except OSError:
            return None
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        if any(os.path.islink(os.path.join(top, d)) for d in dirs):
            return None
    return {"taken_ns": taken, "mtimes": mtimes} if mtimes else None


def _trusted(stamps: dict | None) -> bool:
    """A folder changed just before it was stamped could change again within the same
    timestamp tick, unseen: such stamps are not used."""
    return bool(stamps) and all(m <= stamps["taken_ns"] - RACY_NS for m in stamps["mtimes"].values())


def unchanged_by_stamps(manifest: dict) -> bool:
    """Whether the manifest's folder stamps and file stats show that nothing in its source
    folder changed, without listing it. False means "not known": list and compare."""
    stamps = manifest.get("folders")
    if not _trusted(stamps) or manifest.get("skipped"):
        return False
    source = manifest["source"]
    for rel, mtime in stamps["mtimes"].items():
        try:
            if os.stat(os.path.join(source, rel) if rel else source).st_mtime_ns != mtime:
                return False
        except OSError:
            return False
    for record in manifest["files"]:
        try:
            stat = os.stat(os.path.join(source, record["id"]))
        except OSError:
            return False
        if stat.st_size != record["size"] or stat.st_mtime_ns != record["mtime_ns"]:
            return False
    return True


def check_freshness(manifest: dict, model: str | None = None) -> Freshness:
    """Compare the manifest with the files in its source folder (and the model, if given)."""
    report = Freshness()
    if model is not None and model != manifest["model"]["name"]:
        report.model_mismatch = f"index was built with model {manifest['model']['name']!r}, not {model!r}"
    source = Path(manifest["source"])
    if not source.is_dir():
        report.source_missing = str(source)
        return report
    if unchanged_by_stamps(manifest):
        return report
    known = {d["id"]: d for d in manifest["files"]}
    try:
        paths = {doc_id(source, p): p for p in corpus_files(source)}
    except CorpusError:
        paths = {}
    skipped = set(manifest.get("skipped", []))
    for name, path in paths.items():
        record = known.get(name)
        if record is None:
            if name not in skipped:
                report.added.append(name)
            continue
        try:
            stat = path.stat()
            if stat.st_size == record["size"] and stat.st_mtime_ns == record["mtime_ns"]:
                continue
            if hashlib.sha256(path.read_bytes()).hexdigest() != record["sha256"]:
                report.changed.append(name)
        except OSError:  # removed or unreadable since it was listed
            report.changed.append(name)
    report.removed = sorted(set(known) - set(paths))
    return report


# --------------------------------------------------------------------------- integrity


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _file_digests(folder: Path) -> dict[str, dict]:
    """Size and SHA-256 of every file of a version folder but its manifest."""
    return {
        p.relative_to(folder).as_posix(): {"size": p.stat().st_size, "sha256": sha256_file(p)}
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    }


@dataclass
class Integrity:
    """What a check of the index files covered."""

    files: int
    hashed: int
    bytes_hashed: int


def _check_file(version: Path, name: str, want: dict, full: bool) -> int:
    """Raise ValueError naming the problem when ``name`` does not match ``want``; bytes hashed."""
    try:
        size = (version / name).stat().st_size
    except OSError as exc:
        raise ValueError(f"{name} is missing") from exc
    if size != want["size"]:
        raise ValueError(f"{name} is {size:,} bytes, not {want['size']:,}")
    if not full and size > FAST_HASH_MAX_BYTES:
        return 0
    if sha256_file(version / name) != want["sha256"]:
        raise ValueError(f"{name} does not match its SHA-256 in the manifest")
    return size


def check_integrity(version: Path, manifest: dict, root: Path, full: bool = False) -> Integrity:
    """Sizes of all index files, hashes of the small ones (of all of them with ``full``)."""
    files = (manifest.get("integrity") or {}).get("files")
    if not isinstance(files, dict) or not files:
        raise _corrupt(root, "the manifest lists no file hashes")
    hashed = total = 0
    for name, want in files.items():
        try:
            done = _check_file(version, name, want, full)
        except (ValueError, TypeError, KeyError) as exc:
            raise _corrupt(root, str(exc)) from exc
        hashed, total = hashed + (full or done > 0 or want["size"] == 0), total + done
    return Integrity(len(files), hashed, total)


def verify_index(root: str | Path | None = None) -> Integrity:
    """Hash every file of the live index against its manifest (``rag info --verify``)."""
    root = index_dir(root)
    return check_integrity(_current_version(root), read_manifest(root), root, full=True)


# --------------------------------------------------------------------------- building


@contextmanager
def build_lock(root: Path, wait_s: float | None = None) -> Iterator[None]:
    """Hold the build lock of an index folder. A second build waits up to ``wait_s`` (default
    ``BUILD_LOCK_WAIT_S``) for the first to finish, then stops with a message."""
    root.mkdir(parents=True, exist_ok=True)
    wait_s = BUILD_LOCK_WAIT_S if wait_s is None else wait_s
    with open(root / LOCK_FILE, "a+", encoding="utf-8") as fh:
        _acquire(fh, root, time.monotonic() + wait_s)
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}\n")
        fh.flush()
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _acquire(fh, root: Path, deadline: float) -> None:
    waiting = False
    while True:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
        fh.seek(0)
        holder = fh.read().strip() or "unknown process"
        if time.monotonic() >= deadline:
            raise IndexBusyError(
                f"another build of the index in {str(root)!r} is running ({holder}); "
                f"wait for it to finish, then run the command again"
            )
        if not waiting:
            logger.warning("waiting for another build of %s to finish (%s)", root, holder)
            waiting = True
        time.sleep(LOCK_POLL_S)


def _remove_leftovers(root: Path) -> None:
    """Temporary folders and pointer files of builds that were killed (called under the lock)."""
    for path in root.glob(f"{TMP_PREFIX}*"):
        logger.info("removing %s, left by an interrupted build", path.name)
        shutil.rmtree(path, ignore_errors=True)
    for path in root.glob(".CURRENT-*"):
        path.unlink(missing_ok=True)



@contextmanager
def faiss_threads(n: int | None):
    """Run FAISS with ``n`` OpenMP threads in this thread (all cores when None), then restore.

    OpenMP's thread count is per calling thread, so this only affects the code inside."""
    import faiss

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(n or os.cpu_count() or 1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def ivf_nlist(n: int) -> int:
    """Inverted lists for ``n`` vectors: the power of two nearest sqrt(n), with enough
    training points per list (1M chunks: 1024 lists of ~1000 vectors)."""
    if n < 2:
        return 1
    nearest = 2 ** round(math.log2(math.sqrt(n)))
    return max(1, min(nearest, n // IVF_TRAIN_PER_LIST))


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


def _calibrate_nprobe(index, vectors: np.ndarray, queries: np.ndarray, target: float) -> tuple[int, float]:
    """The smallest nprobe whose recall@10 against exact search reaches ``target``."""
    import faiss

    k = min(RECALL_K, len(vectors))
    exact, _ = faiss.knn(queries, vectors, k, metric=faiss.METRIC_INNER_PRODUCT)
    recall = 0.0
    for nprobe in [p for p in IVF_NPROBES if p < index.nlist] + [index.nlist]:
        index.nprobe = nprobe
        _, found = index.search(queries, k)
        recall = recall_at_k(vectors, queries, found, exact)
        if recall >= target:
            break
    return index.nprobe, recall


def _faiss_index(vectors: np.ndarray, queries: np.ndarray | None = None, flat_max: int | None = None):
    """Exact inner-product search while it is fast enough (one query scans every vector:
    ~5 ms on one core at 50k chunks), an inverted-file index beyond.

    The IVF index keeps vectors as float16 (half the memory, scores within ~1e-3) in about
    sqrt(n) lists; ``nprobe`` (lists scanned per query) is the smallest that reaches
    ``IVF_RECALL_TARGET`` recall@10 against exact search, measured at build time with
    ``queries`` (a sample of sentence vectors). HNSW was not chosen: its build took 36 s
    per 100k chunks on 2 cores (~7 min at 1M) against ~20 s at 1M for this index.
    """
    import faiss

    dim = vectors.shape[1]
    flat_max = FLAT_MAX_CHUNKS if flat_max is None else flat_max
    if len(vectors) <= flat_max:
        index = faiss.IndexFlatIP(dim)
        index.add(vectors)
        return index, {"type": "flat", "metric": "inner_product"}
    rng = np.random.default_rng(0)
    nlist = ivf_nlist(len(vectors))
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFScalarQuantizer(
        quantizer, dim, nlist, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
    )
    index.own_fields = True
    quantizer.this.disown()
    index.cp.niter = IVF_KMEANS_ITERATIONS
    index.cp.seed = 1234
    train = vectors
    if len(vectors) > IVF_TRAIN_PER_LIST * nlist:
        train = vectors[np.sort(rng.choice(len(vectors), IVF_TRAIN_PER_LIST * nlist, replace=False))]
    with faiss_threads(None):
        index.train(np.ascontiguousarray(train))
        index.add(vectors)
        if queries is None or len(queries) == 0:
            queries = vectors[rng.choice(len(vectors), min(len(vectors), IVF_CALIBRATION_QUERIES), replace=False)]
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        nprobe, recall = _calibrate_nprobe(index, vectors, queries, IVF_RECALL_TARGET)
    spec = {
        "type": "ivf",
        "metric": "inner_product",
        "storage": "fp16",
        "nlist": nlist,
        "nprobe": nprobe,
        "train_size": len(train),
        "calibration": {"queries": len(queries), "recall_at_10": round(recall, 4), "target": IVF_RECALL_TARGET},
    }
    return index, spec


def chunk_vectors(sentence_vectors: np.ndarray, chunks: np.ndarray) -> np.ndarray:
    """A chunk's vector is the normalised mean of its sentences' vectors (mean pooling),
    so indexing encodes each sentence once and still gets chunk-level vectors.

    Summed by position within the chunk (first sentences, then second ones, ...): a few
    vectorised passes, several times faster than ``np.add.reduceat`` on 2-D arrays."""
    dim = sentence_vectors.shape[1]
    if len(chunks) == 0:
        return np.zeros((0, dim), dtype=np.float32)
    first = chunks["first"].astype(np.int64)
    count = chunks["count"].astype(np.int64)
    sums = np.array(sentence_vectors[first], dtype=np.float32)
    for j in range(1, int(count.max())):
        rows = np.flatnonzero(count > j)
        sums[rows] += sentence_vectors[first[rows] + j]
    sums /= np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
    return sums


def _chunk_token_ids(parsed: list[_Parsed]) -> tuple[list[list[int]], dict[str, int]]:
    """Every chunk's stemmed words as vocabulary ids (a chunk without words gets the empty
    token). Ids, not strings: a million chunks' token strings took ~2.5 GB during a build."""
    vocab: dict[str, int] = {}
    ids: list[list[int]] = []
    for p in parsed:
        raw = p.doc.raw
        for a, b in zip(p.chunks["start"].tolist(), p.chunks["end"].tolist()):
            ids.append([vocab.setdefault(t, len(vocab)) for t in tokenize(raw[a:b]) or [""]])
    return ids, vocab


def _bm25(token_ids: list[list[int]], vocab: dict[str, int]):
    import bm25s

    retriever = bm25s.BM25(k1=1.2, b=0.75)
    retriever.index((token_ids, vocab), show_progress=False)
    return retriever


def _document_frequencies(bm25) -> dict[str, int]:
    """Chunks containing each term, read off BM25's term-major score matrix (one stored
    score per chunk that has the term): the same as counting, without another pass."""
    indptr = np.asarray(bm25.scores["indptr"])
    counts = np.diff(indptr).tolist()
    return {term: counts[i] for term, i in bm25.vocab_dict.items() if term}


@dataclass
class _Parsed:
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


def _compact(sentences: list[Sentence], chunks: list[Chunk]) -> tuple[np.ndarray, np.ndarray]:
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


def _parse_source(source: Path, config: ChunkingConfig, report: BuildReport) -> list[_Parsed]:
    parsed = []
    warn_unsupported(source)
    for path in corpus_files(source, report.skipped):
        doc = read_document(source, path)
        if doc is None:
            report.skipped.append(printable_name(doc_id(source, path)))
            continue
        sentences = document_sentences(doc, config)
        rows, table = _compact(sentences, chunk_sentences(doc, sentences, 0, config))
        parsed.append(_Parsed(doc, rows, table, doc.size, doc.mtime_ns))  # stat taken before the read
    return parsed


def _previous(root: Path) -> tuple[dict | None, Path | None]:
    try:
        version = _current_version(root)
        return _load_manifest(version, root), version
    except (IndexMissingError, IndexCorruptError, OSError, ValueError):
        return None, None


def _reusable_vectors(manifest: dict | None, version: Path | None, model: str, config: ChunkingConfig) -> dict:
    """Vectors of the previous build per document hash, when the build settings are the same."""
    if manifest is None or manifest.get("format_version") != FORMAT_VERSION:
        return {}
    if manifest["model"]["name"] != model or manifest["chunking"] != config.to_json():
        return {}
    want = (manifest.get("integrity") or {}).get("files", {}).get("sentence_vectors.npy")
    try:
        _check_file(version, "sentence_vectors.npy", want, full=True)
        vectors = np.load(version / "sentence_vectors.npy", mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, TypeError, EOFError) as exc:
        logger.warning("not reusing the stored vectors (%s): every sentence is embedded again", exc)
        return {}
    return {d["sha256"]: (vectors, d["sentence_offset"], d["n_sentences"]) for d in manifest["files"]}


def _sentence_vectors(parsed, reuse, embedder, report, progress: Progress | None = None) -> np.ndarray:
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
    extra = {}
    if progress is not None:
        def on_block(done: int, total: int) -> None:
            share = EMBED_START + (EMBED_END - EMBED_START) * done / total
            progress(share, f"embedded {done:,} of {total:,} sentences")
        extra["on_block"] = on_block  # only then: an embedder need not support it otherwise
    encoded = embedder.encode(pending, progress=True, **extra) if pending else None
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
            part = encoded[cursor : cursor + n]
            cursor += n
        out[row : row + n] = part
        row += n
    return out


def _arrays(parsed: list[_Parsed]) -> tuple[np.ndarray, np.ndarray, list[DocRecord]]:
    """The corpus-wide sentence and chunk tables (global numbering) and the document records."""
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
            p.doc.id,
            p.doc.title,
            p.doc.outlet,
            p.doc.date,
            p.doc.sha256,
            p.size,
            p.mtime_ns,
            int(s_off[d]),
            int(n_sent[d]),
            int(c_off[d]),
            int(n_chunk[d]),
            p.doc.meta_json(),
        )
        for d, p in enumerate(parsed)
    ]
    return sentences, chunks, records


def _classify_changes(parsed, manifest, report: BuildReport) -> None:
    old = {d["id"]: d["sha256"] for d in (manifest or {}).get("files", [])}
    for p in parsed:
        if p.doc.id not in old:
            report.added.append(p.doc.id)
        elif old[p.doc.id] != p.doc.sha256:
            report.changed.append(p.doc.id)
        else:
            report.unchanged.append(p.doc.id)
    report.removed = sorted(set(old) - {p.doc.id for p in parsed})


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
    embedder = embedder or Embedder()
    config = chunking or ChunkingConfig()
    report = BuildReport(full=full)
    with build_lock(root):
        _remove_leftovers(root)
        _build(source, root, embedder, config, report, faiss_flat_max, progress)
    report.seconds = time.perf_counter() - started
    logger.info(report.summary())
    return report


def _build(source, root, embedder, config, report: BuildReport, faiss_flat_max, progress) -> None:
    stamps = folder_stamps(source)  # before anything is listed or read
    if not report.full and _untouched(root, source, embedder.name, config, report, stamps):
        return
    parsed = _parse_source(source, config, report)
    if not parsed:
        raise CorpusError(f"no readable articles ({', '.join(SUFFIXES)}) in {printable(str(source))!r}")
    if progress is not None:
        progress(EMBED_START, f"read {len(parsed):,} files")
    manifest, version = (None, None) if report.full else _previous(root)
    _classify_changes(parsed, manifest, report)
    same_settings = manifest is not None and _same_settings(manifest, source, embedder.name, config)
    if same_settings and not (report.added or report.changed or report.removed):
        report.rebuilt = False
        report.documents = len(parsed)
        report.chunks = manifest["counts"]["chunks"]
        if [(d["size"], d["mtime_ns"]) for d in manifest["files"]] != [(p.size, p.mtime_ns) for p in parsed]:
            _refresh_stats(root, version, manifest, parsed, stamps)
        return
    reuse = _reusable_vectors(manifest, version, embedder.name, config)
    # no local reference to the sentence vectors may outlive the call: _write drops them midway
    _write(root, source, parsed, _sentence_vectors(parsed, reuse, embedder, report, progress), embedder, config,
           report, faiss_flat_max, stamps, progress)


def _untouched(
    root: Path, source: Path, model: str, config: ChunkingConfig, report: BuildReport, stamps: dict | None
) -> bool:
    """Whether the live index already covers ``source`` exactly, judged without reading any
    file: the same settings, the same file names, and every file's size and mtime as recorded
    (by the folder stamps when they can be trusted, else by listing the folder). Anything else
    (including a file skipped last time) goes through the full check."""
    manifest, version = _previous(root)
    if manifest is None or not _same_settings(manifest, source, model, config):
        return False
    if unchanged_by_stamps(manifest):
        _mark_untouched(manifest, report)
        return True
    try:
        paths = corpus_files(source)
    except CorpusError:
        return False
    recorded = {d["id"]: d for d in manifest["files"]}
    if len(paths) != len(recorded):
        return False
    for path in paths:
        record = recorded.get(doc_id(source, path))
        if record is None:
            return False
        try:
            stat = path.stat()
        except OSError:
            return False
        if stat.st_size != record["size"] or stat.st_mtime_ns != record["mtime_ns"]:
            return False
    if _trusted(stamps) and not _trusted(manifest.get("folders")):  # so the next check needs no listing
        manifest["folders"] = stamps
        _rewrite_manifest(version, manifest)
    _mark_untouched(manifest, report)
    return True


def _mark_untouched(manifest: dict, report: BuildReport) -> None:
    report.rebuilt = False
    report.unchanged = [d["id"] for d in manifest["files"]]
    report.documents = len(manifest["files"])
    report.chunks = manifest["counts"]["chunks"]


def _same_settings(manifest: dict, source: Path, model: str, config: ChunkingConfig) -> bool:
    return (
        manifest.get("format_version") == FORMAT_VERSION
        and manifest["model"]["name"] == model
        and manifest["chunking"] == config.to_json()
        and manifest["source"] == str(source)
    )


def _refresh_stats(root: Path, version: Path, manifest: dict, parsed: list[_Parsed], stamps: dict | None) -> None:
    """Record new mtimes of files whose content did not change, so later checks stay fast."""
    for record, p in zip(manifest["files"], parsed):
        record["size"], record["mtime_ns"] = p.size, p.mtime_ns
    manifest["folders"] = stamps
    _rewrite_manifest(version, manifest)


def _rewrite_manifest(version: Path, manifest: dict) -> None:
    tmp = version / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    os.replace(tmp, version / "manifest.json")


def _sample(vectors: np.ndarray, n: int = IVF_CALIBRATION_QUERIES) -> np.ndarray:
    """A fixed random sample of sentence vectors: query-like probes for tuning the FAISS index."""
    if len(vectors) <= n:
        return np.ascontiguousarray(vectors, dtype=np.float32)
    rows = np.sort(np.random.default_rng(0).choice(len(vectors), n, replace=False))
    return np.ascontiguousarray(vectors[rows], dtype=np.float32)


def _write(root, source, parsed, vectors, embedder, config, report, flat_max=None, stamps=None, progress=None) -> None:
    """Write a new version folder and swap it in. Each part is written as soon as it is built
    and then dropped (the sentence vectors are read back memory-mapped), so a build's peak
    memory is its largest step rather than the sum of all: pass ``vectors`` without keeping
    another reference to it."""
    import faiss

    if progress is not None:
        progress(EMBED_END, "writing the index (FAISS, BM25, tables)")
    sentences, chunks, records = _arrays(parsed)
    dim = int(vectors.shape[1])
    root.mkdir(parents=True, exist_ok=True)
    name = f"v-{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{os.getpid()}"
    tmp = root / f"{TMP_PREFIX}{name.removeprefix('v-')}"
    tmp.mkdir()
    try:
        np.save(tmp / "sentences.npy", sentences, allow_pickle=False)
        np.save(tmp / "chunks.npy", chunks, allow_pickle=False)
        np.save(tmp / "sentence_vectors.npy", vectors, allow_pickle=False)
        vectors = np.load(tmp / "sentence_vectors.npy", mmap_mode="r", allow_pickle=False)
        faiss_index, faiss_spec = _faiss_index(chunk_vectors(vectors, chunks), _sample(vectors), flat_max)
        faiss.write_index(faiss_index, str(tmp / "chunks.faiss"))
        del faiss_index, vectors
        token_ids, vocab = _chunk_token_ids(parsed)
        n_bm25 = len(token_ids)
        bm25 = _bm25(token_ids, vocab)
        del token_ids, vocab
        bm25.save(str(tmp / "bm25"), show_progress=False)
        df = _document_frequencies(bm25)
        del bm25
        (tmp / "terms.json").write_text(json.dumps({"n": n_bm25, "df": df}), encoding="utf-8")
        offsets = np.zeros(len(parsed) + 1, dtype=np.int64)
        with open(tmp / "texts.jsonl", "wb") as fh:
            for i, p in enumerate(parsed):
                line = (json.dumps(p.doc.raw) + "\n").encode("ascii")  # json.dumps escapes non-ASCII
                fh.write(line)
                offsets[i + 1] = offsets[i] + len(line)
        np.save(tmp / "texts.offsets.npy", offsets, allow_pickle=False)
        (tmp / "documents.json").write_text(json.dumps([r.__dict__ for r in records], indent=1), encoding="utf-8")
        manifest = {
            "format_version": FORMAT_VERSION,
            "built_at": _now(),
            "source": str(source),
            "source_from_index": os.path.relpath(source, root.resolve()),
            "model": {"name": embedder.name, "dimension": dim, "normalized": True},
            "chunking": config.to_json(),
            "faiss": faiss_spec,
            "bm25": {"library": "bm25s", "k1": 1.2, "b": 0.75, "unit": "chunk"},
            "counts": {"documents": len(records), "sentences": len(sentences), "chunks": len(chunks)},
            "files": [r.__dict__ for r in records],
            "skipped": report.skipped,
            "folders": stamps,
            "integrity": {"algorithm": "sha256", "files": _file_digests(tmp)},
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        tmp.rename(root / name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _swap(root, name)
    report.documents, report.chunks, report.sentences = len(records), len(chunks), len(sentences)


def _swap(root: Path, name: str) -> None:
    """Point CURRENT at the new version atomically, then drop versions beyond the last few."""
    pointer_tmp = root / f".CURRENT-{os.getpid()}"
    pointer_tmp.write_text(name + "\n", encoding="utf-8")
    os.replace(pointer_tmp, root / "CURRENT")
    versions = sorted(p for p in root.glob("v-*") if p.is_dir())
    for old in versions[:-KEEP_VERSIONS]:
        shutil.rmtree(old, ignore_errors=True)


# --------------------------------------------------------------------------- loading


class Texts(Sequence):
    """The documents' raw texts, read on demand: ``texts.jsonl`` holds one JSON string per
    document; it is memory-mapped and a line is decoded when asked for (the most recently
    used are kept decoded). A million-chunk corpus is ~400 MB of text that would otherwise
    live in Python strings (twice that once any character is outside Latin-1)."""

    def __init__(self, path: Path, offsets: np.ndarray | None = None, cache: int = 512) -> None:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            buffer = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        if offsets is None:  # indexes written before texts.offsets.npy existed
            ends = np.flatnonzero(np.frombuffer(buffer, dtype=np.uint8) == 10) + 1 if size else np.zeros(0, np.int64)
            offsets = np.concatenate([[0], ends]).astype(np.int64)
        bounds = [int(x) for x in offsets]
        self._n = len(bounds) - 1
        if bounds[-1] != size or bounds[0] != 0 or any(b - a < 3 for a, b in zip(bounds, bounds[1:])):
            raise ValueError("texts.jsonl does not match texts.offsets.npy (truncated or overwritten)")

        def read(i: int) -> str:
            return json.loads(buffer[bounds[i] : bounds[i + 1]])

        self._read = lru_cache(maxsize=cache)(read)
        if self._n:  # decode the first and the last document now, so damage shows at load (reading
            # every line would page the whole file in: ~370 MB at a million chunks)
            read(0), read(self._n - 1)

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i):
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

    Large parts stay on disk: texts, sentence and chunk tables and sentence vectors are
    memory-mapped, and so is BM25's score matrix; FAISS's index is held in memory."""

    root: Path
    version: Path
    manifest: dict
    docs: list[DocRecord]
    texts: Sequence[str]
    sentences: np.ndarray
    chunks: np.ndarray
    sentence_vectors: np.ndarray
    faiss: object
    bm25: object
    df: dict[str, int]
    n_chunks_bm25: int
    _doc_ids: dict[str, int] | None = field(default=None, init=False, repr=False, compare=False)

    def doc_ids(self) -> dict[str, int]:
        """Document id to position (built once; do not modify the returned dict)."""
        if self._doc_ids is None:
            self._doc_ids = {d.id: i for i, d in enumerate(self.docs)}
        return self._doc_ids

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

    # Queries by document offset, so that callers (the app) never scan the arrays themselves.

    def chunk_at(self, doc_id: str, start: int, end: int | None = None) -> Chunk | None:
        """The first chunk of document ``doc_id`` that holds all of ``[start, end)`` (the
        character at ``start`` when ``end`` is None); None for an unknown document or span."""
        doc = self.doc_ids().get(doc_id)
        if doc is None:
            return None
        end = start + 1 if end is None else end
        rows = self.chunks
        hits = ((rows["doc"] == doc) & (rows["start"] <= start) & (rows["end"] >= end)).nonzero()[0]
        if not len(hits):
            return None
        i = int(hits[0])
        row = rows[i]
        return Chunk(doc_id, int(row["start"]), int(row["end"]), self.chunk_text(i), self.section_of_chunk(i),
                     int(row["first"]), int(row["count"]))

    def section_at(self, doc_id: str, offset: int) -> Section | None:
        """The section of the sentence of document ``doc_id`` that holds character ``offset``
        (None for an unknown document, or an offset between sentences)."""
        doc = self.doc_ids().get(doc_id)
        if doc is None:
            return None
        rows = self.sentences
        hits = ((rows["doc"] == doc) & (rows["start"] <= offset) & (rows["end"] > offset)).nonzero()[0]
        return self.section_of_sentence(int(hits[0])) if len(hits) else None


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
    version = _current_version(root)
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexStaleError(
            f"index format {manifest.get('format_version')!r} is not {FORMAT_VERSION}; "
            f"run `{index_command(root, manifest, full=True)}`"
        )
    check_integrity(version, manifest, root, full=verify)
    freshness = check_freshness(manifest, model) if check_files else Freshness()
    if model is not None and model != manifest["model"]["name"]:
        freshness.model_mismatch = f"index was built with model {manifest['model']['name']!r}, not {model!r}"
    if not freshness.fresh:
        fix = index_command(root, manifest, full=bool(freshness.model_mismatch))
        raise IndexStaleError(f"index is stale: {freshness.describe()}; run `{fix}`")
    if freshness.source_missing:
        logger.warning("%s", freshness.describe())
    try:
        data = _open_parts(root, version, manifest)
    except Exception as exc:  # noqa: BLE001 - any failure to read a part is a damaged index; say so in one line
        raise _corrupt(root, f"cannot read it: {_one_line(exc)}") from exc
    _validate(data, root)
    spec = data.manifest["faiss"]
    if spec.get("type") == "ivf":
        data.faiss.nprobe = spec["nprobe"]
    elif spec.get("type") == "hnsw":  # indexes built before IVF replaced HNSW
        data.faiss.hnsw.efSearch = spec["efSearch"]
    return data


def _open_parts(root: Path, version: Path, manifest: dict) -> IndexData:
    import bm25s
    import faiss

    docs = [DocRecord(**d) for d in json.loads((version / "documents.json").read_text(encoding="utf-8"))]
    offsets_path = version / "texts.offsets.npy"
    offsets = np.load(offsets_path, allow_pickle=False) if offsets_path.is_file() else None
    terms = json.loads((version / "terms.json").read_text(encoding="utf-8"))
    return IndexData(
        root=root,
        version=version,
        manifest=manifest,
        docs=docs,
        texts=Texts(version / "texts.jsonl", offsets),
        sentences=np.load(version / "sentences.npy", mmap_mode="r", allow_pickle=False),
        chunks=np.load(version / "chunks.npy", mmap_mode="r", allow_pickle=False),
        sentence_vectors=np.load(version / "sentence_vectors.npy", mmap_mode="r", allow_pickle=False),
        faiss=faiss.read_index(str(version / "chunks.faiss")),
        bm25=bm25s.BM25.load(str(version / "bm25"), mmap=True),
        df=terms["df"],
        n_chunks_bm25=terms["n"],
    )


def _validate(data: IndexData, root: Path) -> None:
    """Cheap consistency checks that catch truncated or mismatched files."""
    n_chunks = data.manifest["counts"]["chunks"]
    problems = []
    if len(data.chunks) != n_chunks or data.faiss.ntotal != n_chunks or data.n_chunks_bm25 != n_chunks:
        problems.append("chunk counts disagree")
    if len(data.sentence_vectors) != len(data.sentences) or len(data.texts) != len(data.docs):
        problems.append("sentence or document counts disagree")
    if data.sentence_vectors.ndim != 2 or data.sentence_vectors.shape[1] != data.manifest["model"]["dimension"]:
        problems.append("vector dimension disagrees with the manifest")
    if problems:
        raise _corrupt(root, "; ".join(problems))

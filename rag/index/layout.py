"""Where an index lives: the folder layout, the live version and the format version.

Layout of an index folder::

    index/CURRENT            name of the live version folder (replaced atomically)
    index/.lock              held by the one build running on this folder
    index/v-<time>-<pid>/    manifest.json, documents.json, texts.jsonl (+ texts.offsets.npy:
                             byte offset of each line), sentences.npy, chunks.npy,
                             sentence_vectors.npy, chunks.faiss, bm25/, terms.json
    index/.tmp-v-<...>/      a version being written (removed when its build was killed)
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from ..config import DEFAULT_INDEX, INDEX_ENV
from ..errors import IndexCorruptError, IndexMissingError
from ..text import printable

FORMAT_VERSION = 2  # 2: per-file SHA-256 in the manifest, capped sentence length

CURRENT = "CURRENT"
MANIFEST = "manifest.json"
DOCUMENTS = "documents.json"
TEXTS = "texts.jsonl"
TEXT_OFFSETS = "texts.offsets.npy"
SENTENCES = "sentences.npy"
CHUNKS = "chunks.npy"
SENTENCE_VECTORS = "sentence_vectors.npy"
FAISS = "chunks.faiss"
BM25 = "bm25"
TERMS = "terms.json"
LOCK_FILE = ".lock"
TMP_PREFIX = ".tmp-v-"
POINTER_TMP_PREFIX = ".CURRENT-"


def index_dir(path: str | Path | None = None) -> Path:
    """The index folder: the argument, else ``$RAG_INDEX``, else ``index/``."""
    return Path(path or os.environ.get(INDEX_ENV) or DEFAULT_INDEX)


def one_line(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())


def corrupt(root: Path, problem: str) -> IndexCorruptError:
    """The error for a damaged index: what is wrong and the command that rebuilds it."""
    return IndexCorruptError(
        f"index in {printable(str(root))!r} is damaged ({problem}); rebuild it with `rag index --full --index {root}`"
    )


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def new_version_name() -> str:
    """A version folder name that sorts by build time (and is unique per process)."""
    return f"v-{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{os.getpid()}"


def current_version(root: Path) -> Path:
    """The live version folder named by ``CURRENT``; errors name the fix."""
    pointer = root / CURRENT
    if not pointer.is_file():
        raise IndexMissingError(f"no index in {str(root)!r}; build it with `rag index --index {root}`")
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise corrupt(root, f"cannot read CURRENT: {one_line(exc)}") from exc
    if not name.startswith("v-") or "/" in name or os.sep in name:
        raise corrupt(root, f"CURRENT names {printable(name[:80])!r}, not a version folder")
    version = root / name
    if not (version / MANIFEST).is_file():
        raise corrupt(root, f"{name}/{MANIFEST} is missing")
    return version

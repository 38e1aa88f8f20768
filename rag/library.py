"""Adding and removing source files from the app: safe names, type and size checks, a trash.

Nothing the browser sends is trusted as a path: an upload keeps only a cleaned-up file name
(letters, digits, ``._-``), always lands directly in the source folder, never replaces an
existing file, and must be readable by its format's reader before it is saved. Removing a
source moves its file into ``.trash/`` inside the source folder (hidden folders are never
read by the corpus), so a removal can be undone by moving the file back.
"""

from __future__ import annotations

import os
import re
import shutil
import time
import unicodedata
from pathlib import Path

from . import formats
from .errors import FormatError, UploadError

# 25 MB: a long article as a PDF with images stays well below; larger is unlikely to be one article.
MAX_UPLOAD_BYTES = 25 * 1024 * 1024
MAX_NAME_CHARS = 100
TRASH = ".trash"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(client_name: object) -> str:
    """A file name for the source folder from what the client called the file: its last path
    component only, ASCII letters, digits, ``.``, ``_`` and ``-``, not hidden, bounded length."""
    if not isinstance(client_name, str) or not client_name.strip():
        raise UploadError("the uploaded file has no name; give it a name ending in " + ", ".join(formats.SUFFIXES))
    base = re.split(r"[\\/]", client_name.strip())[-1]
    ascii_name = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
    stem, dot, suffix = ascii_name.rpartition(".")
    if not dot:
        stem, suffix = ascii_name, ""
    stem = _UNSAFE.sub("-", stem).strip(".-_") or "article"
    suffix = "." + suffix.lower() if suffix else ""
    if suffix not in formats.SUFFIXES:
        raise UploadError(
            f"{base!r}: {suffix or 'no file type'} is not supported; upload one of: {', '.join(formats.SUFFIXES)}"
        )
    return stem[: MAX_NAME_CHARS - len(suffix)] + suffix


def save_upload(source: Path, uploaded: Path, client_name: object) -> Path:
    """Check an uploaded file (type, size, readable) and save it into ``source`` under a safe,
    unused name; returns the saved path. UploadError names the file and the problem."""
    name = safe_name(client_name)
    size = Path(uploaded).stat().st_size
    if size > MAX_UPLOAD_BYTES:
        raise UploadError(f"{name!r} is {size / 1e6:.1f} MB; the limit is {MAX_UPLOAD_BYTES / 1e6:.0f} MB per file")
    data = Path(uploaded).read_bytes()
    try:
        formats.render(Path(name).suffix, data)
    except FormatError as exc:
        raise UploadError(f"{name!r} cannot be read: {exc}") from None
    return _write_new(Path(source), name, data)


def _write_new(folder: Path, name: str, data: bytes) -> Path:
    """Write ``data`` under ``name`` or ``name-2``, ``name-3``...: never over an existing file
    (``O_EXCL`` makes concurrent uploads of the same name pick different names)."""
    stem, suffix = Path(name).stem, Path(name).suffix
    for n in range(1, 1000):
        target = folder / (name if n == 1 else f"{stem}-{n}{suffix}")
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        return target
    raise UploadError(f"too many files named like {name!r} in the source folder; rename the file")


def source_path(source: Path, doc_id: object) -> Path:
    """The file of an indexed document, checked to lie inside the source folder."""
    root = Path(source).resolve()
    if not isinstance(doc_id, str) or not doc_id:
        raise UploadError("no source selected; pick the source to remove")
    path = (root / doc_id).resolve()
    if root not in path.parents or any(part.startswith(".") for part in path.relative_to(root).parts):
        raise UploadError(f"{doc_id!r} is not a file of the source folder")
    if not path.is_file():
        raise UploadError(f"{doc_id!r} is no longer in the source folder (already removed?)")
    return path


def move_to_trash(source: Path, doc_id: object) -> Path:
    """Move a document's file to ``<source>/.trash/`` (timestamped, never overwriting)."""
    path = source_path(source, doc_id)
    trash = Path(source).resolve() / TRASH
    trash.mkdir(exist_ok=True)
    target = trash / f"{time.strftime('%Y%m%dT%H%M%S')}-{path.name}"
    n = 1
    while target.exists():
        n += 1
        target = trash / f"{time.strftime('%Y%m%dT%H%M%S')}-{n}-{path.name}"
    shutil.move(path, target)
    return target

"""Integrity of an index version: every file's size and SHA-256, recorded in the manifest.

Loading checks every size and hashes the small files (``FAST_HASH_MAX_BYTES``);
:func:`verify_index` (``rag info --verify``, the app before it serves) hashes them all.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from .. import config
from .layout import MANIFEST, corrupt, current_version, index_dir
from .manifest import FileDigest, FileHashes, Manifest, read_manifest

HASH_BLOCK = 2**20


@dataclass
class Integrity:
    """What a check of the index files covered."""

    files: int
    hashed: int
    bytes_hashed: int


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def file_digests(folder: Path) -> FileHashes:
    """Size and SHA-256 of every file of a version folder but its manifest."""
    return FileHashes({
        p.relative_to(folder).as_posix(): FileDigest(p.stat().st_size, sha256_file(p))
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    })


def check_file(version: Path, name: str, want: FileDigest | None, full: bool) -> int:
    """Raise ValueError naming the problem when ``name`` does not match ``want``; bytes hashed."""
    if want is None:
        raise ValueError(f"{name} is not listed in the manifest")
    try:
        size = (version / name).stat().st_size
    except OSError as exc:
        raise ValueError(f"{name} is missing") from exc
    if size != want.size:
        raise ValueError(f"{name} is {size:,} bytes, not {want.size:,}")
    if not full and size > config.FAST_HASH_MAX_BYTES:
        return 0
    if sha256_file(version / name) != want.sha256:
        raise ValueError(f"{name} does not match its SHA-256 in the manifest")
    return size


def check_integrity(version: Path, manifest: Manifest, root: Path, full: bool = False) -> Integrity:
    """Sizes of all index files, hashes of the small ones (of all of them with ``full``)."""
    if manifest.integrity is None:
        raise corrupt(root, "the manifest lists no file hashes")
    files = manifest.integrity.files
    hashed = total = 0
    for name, want in files.items():
        try:
            done = check_file(version, name, want, full)
        except ValueError as exc:
            raise corrupt(root, str(exc)) from exc
        hashed, total = hashed + (full or done > 0 or want.size == 0), total + done
    return Integrity(len(files), hashed, total)


def verify_index(root: str | Path | None = None) -> Integrity:
    """Hash every file of the live index against its manifest (``rag info --verify``)."""
    root = index_dir(root)
    return check_integrity(current_version(root), read_manifest(root), root, full=True)

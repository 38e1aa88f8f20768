"""The reader's files are checked against the SHA-256 recorded when they were written, so a
damaged or swapped file is refused with the command that restores it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..errors import ConfigError

CHECKSUMS = "checksums.json"


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify(path: Path) -> dict[str, str]:
    """Every file listed in ``checksums.json`` exists and has its recorded SHA-256; returns
    those digests (file name to SHA-256)."""
    try:
        expected = json.loads((path / CHECKSUMS).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"reader in {str(path)!r} has no readable {CHECKSUMS} ({exc})") from exc
    for name, digest in expected.items():
        file = path / name
        if not file.is_file() or file_digest(file) != digest:
            raise ConfigError(
                f"reader file {str(file)!r} is missing or does not match its SHA-256; "
                "restore it from git (git checkout -- models/reader) or retrain with `make train-reader`"
            )
    return expected


def write_checksums(path: Path) -> None:
    """Record the SHA-256 of every file the reader loads (run after training or refitting)."""
    names = sorted(p.name for p in path.iterdir() if p.is_file() and p.name not in (CHECKSUMS, "README.md"))
    digests = {name: file_digest(path / name) for name in names}
    (path / CHECKSUMS).write_text(json.dumps(digests, indent=2) + "\n", encoding="utf-8")

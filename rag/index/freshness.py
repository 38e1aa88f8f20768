"""Whether an index still matches its source folder and model, as cheaply as can be known.

Folder stamps (the mtimes of the source folder and its subfolders) and each file's size and
mtime show that nothing changed without listing the folder; otherwise the folder is listed
and files whose stats changed are hashed.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from .. import config, corpus
from ..errors import CorpusError
from ..text import printable
from .manifest import FolderStamps, Manifest


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


def model_mismatch(manifest: Manifest, model: str) -> str | None:
    """Why an index built with another model cannot serve ``model`` (None when it can)."""
    if model == manifest.model.name:
        return None
    return f"index was built with model {manifest.model.name!r}, not {model!r}"


def folder_stamps(source: Path) -> FolderStamps | None:
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
    return FolderStamps(taken, mtimes) if mtimes else None


def trusted(stamps: FolderStamps | None) -> bool:
    """A folder changed just before it was stamped could change again within the same
    timestamp tick, unseen: such stamps are not used."""
    return stamps is not None and all(m <= stamps.taken_ns - config.RACY_NS for m in stamps.mtimes.values())


def unchanged_by_stamps(manifest: Manifest) -> bool:
    """Whether the manifest's folder stamps and file stats show that nothing in its source
    folder changed, without listing it. False means "not known": list and compare."""
    stamps = manifest.folders
    if stamps is None or not trusted(stamps) or manifest.skipped:
        return False
    source = manifest.source
    for rel, mtime in stamps.mtimes.items():
        try:
            if os.stat(os.path.join(source, rel) if rel else source).st_mtime_ns != mtime:
                return False
        except OSError:
            return False
    for record in manifest.files:
        try:
            stat = os.stat(os.path.join(source, record.id))
        except OSError:
            return False
        if stat.st_size != record.size or stat.st_mtime_ns != record.mtime_ns:
            return False
    return True


def check_freshness(manifest: Manifest, model: str | None = None) -> Freshness:
    """Compare the manifest with the files in its source folder (and the model, if given)."""
    report = Freshness(model_mismatch=model_mismatch(manifest, model) if model is not None else None)
    source = Path(manifest.source)
    if not source.is_dir():
        report.source_missing = str(source)
        return report
    if unchanged_by_stamps(manifest):
        return report
    known = {d.id: d for d in manifest.files}
    try:
        paths = {corpus.doc_id(source, p): p for p in corpus.corpus_files(source)}
    except CorpusError:
        paths = {}
    skipped = set(manifest.skipped)
    for name, path in paths.items():
        record = known.get(name)
        if record is None:
            if name not in skipped:
                report.added.append(name)
            continue
        try:
            stat = path.stat()
            if stat.st_size == record.size and stat.st_mtime_ns == record.mtime_ns:
                continue
            if hashlib.sha256(path.read_bytes()).hexdigest() != record.sha256:
                report.changed.append(name)
        except OSError:  # removed or unreadable since it was listed
            report.changed.append(name)
    report.removed = sorted(set(known) - set(paths))
    return report

"""The manifest: what an index version holds and how it was built, as a typed record.

``manifest.json`` is read into :class:`Manifest` and written back from it as the same JSON
(keys, order and values; keys this version does not know are kept as they were). It records
everything that shapes the index (model, chunking, FAISS spec, BM25 parameters), the source
files with their hashes, the folder stamps that spare a listing, and the size and SHA-256 of
every other file of its version.
"""

from __future__ import annotations

import json
import os
import shlex
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import IndexCorruptError, IndexMissingError
from ..text import printable
from .layout import MANIFEST, corrupt, current_version, index_dir, one_line


class ManifestError(ValueError):
    """``manifest.json`` lacks a field or holds a value of the wrong type."""


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
    meta: dict[str, Any] = field(default_factory=dict)  # Document.meta_json(): format, author, published, ...

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ModelInfo:
    name: str
    dimension: int
    normalized: bool = True


@dataclass
class Counts:
    documents: int
    sentences: int
    chunks: int


@dataclass
class Bm25Spec:
    """BM25 as built: the library, its parameters and the unit scored (a chunk)."""

    k1: float
    b: float
    library: str = "bm25s"
    unit: str = "chunk"

    def to_json(self) -> dict[str, Any]:
        return {"library": self.library, "k1": self.k1, "b": self.b, "unit": self.unit}


@dataclass
class Calibration:
    """How ``nprobe`` was chosen: recall@10 against exact search on sampled queries."""

    queries: int
    recall_at_10: float
    target: float


@dataclass
class FaissSpec:
    """The FAISS index as built: ``flat`` (exact) or ``ivf`` (float16 lists, ``nprobe``
    calibrated). Indexes built before IVF replaced HNSW keep their ``hnsw`` spec (``M``,
    ``efSearch``, ...) in ``extra``, as read."""

    type: str
    metric: str = "inner_product"
    storage: str | None = None
    nlist: int | None = None
    nprobe: int | None = None
    train_size: int | None = None
    calibration: Calibration | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> FaissSpec:
        calibration = raw.get("calibration")
        return cls(
            raw["type"], raw.get("metric", "inner_product"), raw.get("storage"), raw.get("nlist"), raw.get("nprobe"),
            raw.get("train_size"), Calibration(**calibration) if calibration is not None else None,
            {k: v for k, v in raw.items() if k not in FAISS_KEYS},
        )

    def to_json(self) -> dict[str, Any]:
        data = {
            "type": self.type, "metric": self.metric, "storage": self.storage, "nlist": self.nlist,
            "nprobe": self.nprobe, "train_size": self.train_size,
            "calibration": asdict(self.calibration) if self.calibration is not None else None,
        }
        return {k: v for k, v in data.items() if v is not None} | self.extra


FAISS_KEYS = ("type", "metric", "storage", "nlist", "nprobe", "train_size", "calibration")


@dataclass
class FolderStamps:
    """Modification times of the source folder and its subfolders (``""`` is the folder
    itself), and when they were taken (see :func:`rag.index.freshness.folder_stamps`)."""

    taken_ns: int
    mtimes: dict[str, int]


@dataclass
class FileDigest:
    size: int
    sha256: str


@dataclass
class FileHashes:
    """Size and hash of every file of a version but the manifest."""

    files: dict[str, FileDigest]
    algorithm: str = "sha256"

    def to_json(self) -> dict[str, Any]:
        return {"algorithm": self.algorithm, "files": {k: asdict(v) for k, v in self.files.items()}}


# The manifest's keys in the order they are written.
KEYS = ("format_version", "built_at", "source", "source_from_index", "model", "chunking", "faiss", "bm25", "counts",
        "files", "skipped", "folders", "integrity")


@dataclass
class Manifest:
    """``manifest.json`` of one index version."""

    format_version: int | None
    built_at: str
    source: str  # absolute source folder (found again through source_from_index after a move)
    model: ModelInfo
    chunking: dict[str, Any]  # ChunkingConfig.to_json()
    faiss: FaissSpec
    bm25: Bm25Spec
    counts: Counts
    files: list[DocRecord]
    source_from_index: str | None = None  # the source folder relative to the index folder
    skipped: list[str] = field(default_factory=list)
    folders: FolderStamps | None = None
    integrity: FileHashes | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # keys this version does not know, kept as read

    @classmethod
    def from_json(cls, raw: Any) -> Manifest:
        """Parse the manifest's JSON; ManifestError names a missing or malformed field."""
        if not isinstance(raw, dict):
            raise ManifestError(f"the manifest is a JSON {type(raw).__name__}, not an object")
        try:
            return cls._parse(raw)
        except KeyError as exc:
            raise ManifestError(f"the manifest has no {exc.args[0]!r}") from exc
        except (TypeError, AttributeError) as exc:
            raise ManifestError(f"the manifest has a malformed field ({one_line(exc)})") from exc

    @classmethod
    def _parse(cls, raw: dict[str, Any]) -> Manifest:
        folders, integrity = raw.get("folders"), raw.get("integrity") or {}
        hashes = integrity.get("files")
        return cls(
            format_version=raw.get("format_version"),
            built_at=raw["built_at"],
            source=raw["source"],
            model=ModelInfo(**raw["model"]),
            chunking=dict(raw["chunking"]),
            faiss=FaissSpec.from_json(raw["faiss"]),
            bm25=Bm25Spec(**raw["bm25"]),
            counts=Counts(**raw["counts"]),
            files=[DocRecord(**d) for d in raw["files"]],
            source_from_index=raw.get("source_from_index"),
            skipped=list(raw.get("skipped", [])),
            folders=FolderStamps(**folders) if folders else None,
            integrity=FileHashes({k: FileDigest(**v) for k, v in hashes.items()}, integrity.get("algorithm", "sha256"))
            if isinstance(hashes, dict) and hashes else None,
            extra={k: v for k, v in raw.items() if k not in KEYS},
        )

    def to_json(self) -> dict[str, Any]:
        """The manifest's JSON: the keys in their usual order (``source_from_index`` and
        ``integrity`` only when known), then the unknown ones as read."""
        data = {key: self._value(key) for key in KEYS}
        for optional in ("source_from_index", "integrity"):
            if data[optional] is None:
                del data[optional]
        return data | self.extra

    def _value(self, key: str) -> Any:
        value = getattr(self, key)
        if key in ("model", "counts", "folders"):
            return asdict(value) if value is not None else None
        if key in ("faiss", "bm25", "integrity"):
            return value.to_json() if value is not None else None
        if key == "files":
            return [r.to_json() for r in value]
        return dict(value) if key == "chunking" else list(value) if key == "skipped" else value

    def __getitem__(self, key: str) -> Any:
        """The JSON value of a top-level key, as when the manifest was a plain dict (callers
        that read it so keep working; new code reads the typed fields)."""
        if key in self.extra:
            return self.extra[key]
        if key not in KEYS or (key in ("source_from_index", "integrity") and getattr(self, key) is None):
            raise KeyError(key)
        return self._value(key)

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def write(self, version: Path) -> None:
        """Write (or replace atomically) ``manifest.json`` of a version folder."""
        tmp = version / (MANIFEST + ".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=2), encoding="utf-8")
        os.replace(tmp, version / MANIFEST)


def load_manifest(version: Path, root: Path) -> Manifest:
    """Read a version's manifest. When the repository was moved or cloned elsewhere, the recorded
    absolute source folder no longer exists; it is then found again by its path relative to the
    index folder, so a moved checkout keeps working without a rebuild."""
    manifest = Manifest.from_json(json.loads((version / MANIFEST).read_text(encoding="utf-8")))
    relative = manifest.source_from_index
    if relative is not None and not os.path.isdir(manifest.source):
        moved = (root / relative).resolve()
        if moved.is_dir():
            manifest.source = str(moved)
    return manifest


def read_manifest(root: str | Path | None = None) -> Manifest:
    """The manifest of the live index, without loading anything heavy (used by ``rag info``)."""
    root = index_dir(root)
    try:
        return load_manifest(current_version(root), root)
    except (OSError, ValueError) as exc:
        raise corrupt(root, f"cannot read the manifest: {one_line(exc)}") from exc


def previous(root: Path) -> tuple[Manifest | None, Path | None]:
    """The live manifest and version of ``root``, or (None, None) when there is none to use."""
    try:
        version = current_version(root)
        return load_manifest(version, root), version
    except (IndexMissingError, IndexCorruptError, OSError, ValueError):
        return None, None


def index_command(root: str | Path, manifest: Manifest | None = None, full: bool = False) -> str:
    """The exact command that brings the index in ``root`` up to date (names its source folder)."""
    parts = ["rag", "index"] + (["--full"] if full else [])
    if manifest is not None and manifest.source:
        parts += ["--source", manifest.source]
    return printable(shlex.join(parts + ["--index", str(root)]))


def recorded_source(root: str | Path) -> str | None:
    """The source folder the index in ``root`` was built from, or None without a readable manifest."""
    try:
        return read_manifest(root).source
    except (IndexMissingError, IndexCorruptError):
        return None

"""The sources behind the index: their metadata, labels for citations, and source filters.

A :class:`SourceFilter` (``rag ask --source/--since/--until``, the batch's fields, the app's
ticked sources) is applied inside retrieval (:func:`rag.retrieval.retrieve`), so a filtered
question still gets its full number of candidates, all from allowed sources. The filter
reaches retrieval through :func:`only_sources`, a context variable set around one question:
the pipeline's signatures stay as they are, and concurrent questions (threads) each see
their own filter.
"""

from __future__ import annotations

import contextvars
import fnmatch
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING

import numpy as np

from .errors import FilterError
from .formats import dates
from .types import Answer, MetaField, Page

if TYPE_CHECKING:
    from .index import IndexData, Manifest

GLOB_CHARS = frozenset("*?[")
LABEL_SEPARATOR = " · "


@dataclass(frozen=True)
class SourceInfo:
    """One indexed document as a user sees it in a source list or under a citation."""

    id: str
    title: str
    outlet: str | None
    author: str | None
    published: str | None  # ISO date
    format: str
    size: int
    chars: int
    pages: tuple[Page, ...] = ()
    fields: dict[str, MetaField] = field(default_factory=dict, compare=False, hash=False)
    warnings: tuple[str, ...] = ()

    @classmethod
    def from_record(cls, record: dict) -> SourceInfo:
        """From a DocRecord's JSON (``documents.json`` / manifest ``files``); older indexes lack ``meta``."""
        meta = record.get("meta") or {}
        return cls(
            id=record["id"],
            title=record.get("title") or record["id"],
            outlet=record.get("outlet"),
            author=meta.get("author"),
            published=meta.get("published"),
            format=meta.get("format", "text"),
            size=int(record.get("size", 0)),
            chars=int(meta.get("chars", 0)),
            pages=tuple(Page(*p) for p in meta.get("pages", [])),
            fields={k: MetaField(**v) for k, v in (meta.get("fields") or {}).items()},
            warnings=tuple(meta.get("warnings", [])),
        )

    def label(self) -> str:
        """"Kyodo · 21 Jan 2025": outlet and date, whichever are known."""
        return LABEL_SEPARATOR.join(x for x in (self.outlet, dates.display(self.published)) if x)

    def page_at(self, offset: int) -> int | None:
        """The PDF page holding ``offset`` of the canonical text."""
        for page in self.pages:
            if page.start <= offset < page.end:
                return page.number
        return None

    def to_json(self) -> dict:
        return {
            "id": self.id, "title": self.title, "outlet": self.outlet, "author": self.author,
            "published": self.published, "format": self.format, "size": self.size, "chars": self.chars,
            "pages": len(self.pages) or None, "label": self.label(),
            "found": {k: {"origin": v.origin, "start": v.start, "end": v.end} for k, v in self.fields.items()},
            "warnings": list(self.warnings),
        }


def sources(data: IndexData) -> list[SourceInfo]:
    """The loaded index's documents, in index order."""
    return [SourceInfo.from_record(d.__dict__) for d in data.docs]


def manifest_sources(manifest: Manifest) -> list[SourceInfo]:
    """The documents a manifest lists (``rag info`` reads no other file)."""
    return [SourceInfo.from_record(d.to_json()) for d in manifest.files]


def attach_metadata(answer: Answer, data: IndexData) -> Answer:
    """Give every citation and passage its source's outlet, date, author and PDF page."""
    ids = data.doc_ids()

    def info(source: str) -> SourceInfo | None:
        return SourceInfo.from_record(data.docs[ids[source]].__dict__) if source in ids else None

    citations = []
    for c in answer.citations:
        s = info(c.source)
        citations.append(c if s is None else replace(
            c, outlet=s.outlet, author=s.author, published=s.published, page=s.page_at(c.start), label=s.label()
        ))
    passages = []
    for p in answer.passages:
        s = info(p.source)
        passages.append(p if s is None else replace(
            p, outlet=s.outlet, published=s.published, page=s.page_at(p.start), label=s.label()
        ))
    answer.citations, answer.passages = citations, passages
    return answer


# --------------------------------------------------------------------------- filters


def parse_day(value: object, name: str) -> date | None:
    """A --since/--until value: an ISO date or a written one ("21 Jan 2025")."""
    if value in (None, ""):
        return None
    found = dates.parse_date(value)
    if found is None:
        raise FilterError(f"{name}={value!r} is not a date; write it as YYYY-MM-DD (e.g. 2025-01-21)")
    return found


@dataclass(frozen=True)
class SourceFilter:
    """Which sources a question may use. ``patterns`` match a document's id, file name, title
    or outlet (shell wildcards, case-insensitive; a pattern without wildcards matches as a
    substring); ``ids`` are exact document ids (the app's ticked sources); ``since``/``until``
    bound the published date, inclusive (a source without a known date is then left out)."""

    patterns: tuple[str, ...] = ()
    ids: frozenset[str] | None = None
    since: date | None = None
    until: date | None = None

    @classmethod
    def build(
        cls, patterns: Iterable[str] | str | None = None, since: object = None, until: object = None,
        ids: Iterable[str] | None = None,
    ) -> SourceFilter | None:
        """A checked filter from user input, or None when it restricts nothing."""
        if isinstance(patterns, str):
            patterns = [patterns]
        if patterns is not None and not all(isinstance(p, str) for p in patterns):
            raise FilterError("source patterns must be strings, e.g. --source '*.pdf' or --source Kyodo")
        clean = tuple(p.strip() for p in patterns or () if p.strip())
        flt = cls(clean, frozenset(ids) if ids is not None else None,
                  parse_day(since, "since"), parse_day(until, "until"))
        if flt.since and flt.until and flt.since > flt.until:
            raise FilterError(f"since={flt.since} is after until={flt.until}; swap them")
        return None if flt == cls() else flt

    def matches(self, info: SourceInfo) -> bool:
        if self.ids is not None and info.id not in self.ids:
            return False
        if self.patterns and not any(_pattern_matches(p, info) for p in self.patterns):
            return False
        if self.since or self.until:
            day = dates.parse_date(info.published) if info.published else None
            if day is None or (self.since and day < self.since) or (self.until and day > self.until):
                return False
        return True

    def describe(self) -> str:
        parts = [f"source {' or '.join(repr(p) for p in self.patterns)}"] if self.patterns else []
        if self.ids is not None:
            parts.append(f"{len(self.ids)} selected source(s)")
        if self.since:
            parts.append(f"published since {self.since}")
        if self.until:
            parts.append(f"published until {self.until}")
        return ", ".join(parts)


def _pattern_matches(pattern: str, info: SourceInfo) -> bool:
    pattern = pattern.lower()
    names = [info.id, info.id.rsplit("/", 1)[-1], info.title, info.outlet or ""]
    names = [n.lower() for n in names if n]
    if GLOB_CHARS & set(pattern):
        return any(fnmatch.fnmatchcase(n, pattern) for n in names)
    return any(pattern in n for n in names)


_MASKS: dict[tuple[str, SourceFilter], np.ndarray] = {}
_MASKS_LOCK = threading.Lock()
MASK_CACHE_SIZE = 64  # filters remembered per index version (a conversation asks with the same one)


def allowed_documents(data: IndexData, flt: SourceFilter) -> np.ndarray:
    """A boolean per document; FilterError when the filter leaves none. Remembered per index
    version and filter: matching reads every document's metadata."""
    key = (str(data.version), flt)
    with _MASKS_LOCK:
        mask = _MASKS.get(key)
    if mask is None:
        mask = np.array([flt.matches(info) for info in sources(data)], dtype=bool)
        with _MASKS_LOCK:
            if len(_MASKS) >= MASK_CACHE_SIZE:
                _MASKS.pop(next(iter(_MASKS)))
            _MASKS[key] = mask
    if not mask.any():
        raise FilterError(f"no source matches the filter ({flt.describe()}); `rag info` lists the sources")
    return mask


def allowed_chunks(data: IndexData, flt: SourceFilter | None) -> np.ndarray | None:
    """A boolean per chunk (None: every chunk is allowed)."""
    if flt is None:
        return None
    return allowed_documents(data, flt)[np.asarray(data.chunks["doc"])]


_ACTIVE: contextvars.ContextVar[SourceFilter | None] = contextvars.ContextVar("rag_source_filter", default=None)


def active_filter() -> SourceFilter | None:
    """The filter of the question being answered in this thread/context, if any."""
    return _ACTIVE.get()


@contextmanager
def only_sources(flt: SourceFilter | None) -> Iterator[None]:
    """Answer what runs inside from the sources ``flt`` allows (all when None)."""
    token = _ACTIVE.set(flt)
    try:
        yield
    finally:
        _ACTIVE.reset(token)

"""What every format reader returns: one canonical text plus where its metadata was found.

The canonical text is what the index stores and what every offset points into. A reader
writes the metadata it found outside the running text (HTML ``<meta>``, PDF document info,
DOCX core properties) as a short header of labelled lines ("By Jane Doe", "Published 21 Jan
2025"), so that a metadata answer can be cited like any other: ``text[start:end]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..types import MetaField, Page
from . import dates

# Labels of the header lines a reader writes; the corpus reader never indexes header lines.
AUTHOR_LABEL = "By "
OUTLET_LABEL = "Published by "
DATE_LABEL = "Published "


@dataclass
class Rendition:
    """A file as text: the canonical rendition, the metadata found (with evidence spans in
    ``text``), PDF pages, where reader comments begin, and what the reader had to warn about."""

    text: str
    format: str
    meta: dict[str, MetaField] = field(default_factory=dict)
    header_end: int = 0
    pages: list[Page] = field(default_factory=list)
    comments_start: int | None = None
    warnings: list[str] = field(default_factory=list)


class TextBuilder:
    """Appends lines and remembers their offsets, so offsets are never recomputed by search."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0

    def line(self, text: str) -> tuple[int, int]:
        """Append ``text`` and a newline; return the span of ``text``."""
        start = self.length
        self.parts.append(text + "\n")
        self.length += len(text) + 1
        return start, start + len(text)

    def blank(self) -> None:
        if self.parts and not self.parts[-1].endswith("\n\n"):
            self.parts.append("\n")
            self.length += 1

    def text(self) -> str:
        return "".join(self.parts)


def write_header(
    out: TextBuilder, found: dict[str, object], origin: str, origins: dict[str, str] | None = None
) -> dict[str, MetaField]:
    """Write the metadata a format stores outside its text as header lines; return the
    fields with the header line as evidence. ``found`` maps title/author/outlet/published;
    ``origins`` names a different origin for some fields."""
    meta: dict[str, MetaField] = {}
    origins = origins or {}
    title = str(found.get("title") or "").strip()
    if title:
        start, end = out.line(" ".join(title.split()))
        meta["title"] = MetaField(" ".join(title.split()), start, end, origins.get("title", origin))
    for key, label in (("author", AUTHOR_LABEL), ("outlet", OUTLET_LABEL)):
        value = " ".join(str(found.get(key) or "").split())
        if value:
            start, end = out.line(label + value)
            meta[key] = MetaField(value, start, end, origins.get(key, origin))
    published = dates.parse_date(found.get("published"))
    if published:
        start, end = out.line(DATE_LABEL + dates.display_date(published))
        meta["published"] = MetaField(published.isoformat(), start, end, origins.get("published", origin))
    if meta:
        out.blank()
    return meta

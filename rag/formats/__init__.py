"""File formats: one reader per format, chosen by file suffix (the single dispatch point).

Each reader turns a file's bytes into a :class:`Rendition`: the canonical text the index
stores and cites into, the metadata found (with where), PDF pages and warnings. A file a
reader cannot read raises :class:`~rag.errors.FormatError` naming the reason; the corpus
reader skips it with a warning and keeps everything else.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import FormatError
from .base import Rendition
from .docx import read_docx
from .html import read_html
from .pdf import read_pdf
from .plain import read_plain

Reader = Callable[[bytes], Rendition]

READERS: dict[str, Reader] = {
    ".txt": read_plain,
    ".md": read_plain,
    ".html": read_html,
    ".htm": read_html,
    ".pdf": read_pdf,
    ".docx": read_docx,
}
SUFFIXES = tuple(READERS)


def render(suffix: str, data: bytes) -> Rendition:
    """The rendition of a file with this suffix; FormatError when it cannot be read."""
    reader = READERS.get(suffix.lower())
    if reader is None:
        raise FormatError(f"unsupported file type {suffix!r}; use one of: {', '.join(SUFFIXES)}")
    return reader(data)


__all__ = ["READERS", "SUFFIXES", "FormatError", "Rendition", "render"]

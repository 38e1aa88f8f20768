"""Plain text and Markdown: the file's own text is the canonical text (offsets = raw file)."""

from __future__ import annotations

from ..errors import FormatError
from .base import Rendition

TRIM = " \t\r\n\ufeff\u00a0"


def read_plain(data: bytes) -> Rendition:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(f"not valid UTF-8 ({exc.reason}); save it as UTF-8 text") from None
    if not text.strip(TRIM):
        raise FormatError("file is empty")
    return Rendition(text, "text")

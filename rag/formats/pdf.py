"""PDF: the text layer by pypdf, one section per page; document info as metadata.

Text layers break lines where the page did, so lines are joined back into paragraphs
(a line that ends without sentence punctuation continues on the next; a hyphen before a
lower-case continuation is a broken word). A PDF with no text (a scan) is refused with a
warning that says so: indexing it would give an empty document.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from typing import Any

from ..errors import FormatError
from ..types import Page
from .base import Rendition, TextBuilder, write_header

ORIGIN = "PDF document info"
_ENDS_SENTENCE = re.compile(r"[.!?:;][\"'”’)\]]*$")


def reflow(text: str) -> list[str]:
    """Paragraphs of a page's text layer: wrapped lines joined, blank lines kept as breaks."""
    paragraphs: list[str] = []
    current = ""
    for raw in text.splitlines():
        line = " ".join(raw.split())
        if not line:
            if current:
                paragraphs.append(current)
            current = ""
        elif not current:
            current = line
        elif current.endswith("-") and line[:1].islower():
            current = current[:-1] + line
        elif _ENDS_SENTENCE.search(current) or len(current.split()) <= 3:
            paragraphs.append(current)
            current = line
        else:
            current += " " + line
    if current:
        paragraphs.append(current)
    return paragraphs


def read_pdf(data: bytes) -> Rendition:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise FormatError("the PDF is password-protected; save an unprotected copy")
        texts = [page.extract_text() or "" for page in reader.pages]
        info: Mapping[str, Any] = reader.metadata or {}
    except FormatError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, AttributeError) as exc:
        raise FormatError(f"damaged or truncated PDF ({type(exc).__name__}: {exc})") from None
    if not any(t.strip() for t in texts):
        raise FormatError(
            f"the PDF has {len(texts)} page(s) but no text layer (a scan?); "
            "run OCR on it (e.g. ocrmypdf) and add it again"
        )
    out = TextBuilder()
    found = {
        "title": info.get("/Title"),
        "author": info.get("/Author"),
        "published": info.get("/CreationDate"),
    }
    meta = write_header(out, {k: str(v) if v else None for k, v in found.items()}, ORIGIN)
    header_end = out.length
    pages, warnings = [], []
    for number, text in enumerate(texts, 1):
        start = out.length
        paragraphs = reflow(text)
        if not paragraphs:
            warnings.append(f"page {number} has no text layer (a scanned page?); it is left out")
        for paragraph in paragraphs:
            out.line(paragraph)
        pages.append(Page(number, start, out.length))
        out.blank()
    return Rendition(out.text(), "pdf", meta, header_end, pages, warnings=warnings)

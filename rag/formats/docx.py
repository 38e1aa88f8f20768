"""Word (.docx) files by python-docx: body paragraphs in order; core properties as metadata.

Core properties hold a title and an author; their "created" time is when the file was
made, not when the article was published, so a date written in the text is preferred and
"created" is only a fallback (its origin says so).
"""

from __future__ import annotations

import io
import zipfile

from ..errors import FormatError
from . import dates
from .base import Rendition, TextBuilder, write_header

ORIGIN = "DOCX core properties"


def read_docx(data: bytes) -> Rendition:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
        props = document.core_properties
        paragraphs = [" ".join(p.text.split()) for p in document.paragraphs]
    except (zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError, OSError) as exc:
        raise FormatError(f"damaged or truncated Word file ({type(exc).__name__}: {exc})") from None
    paragraphs = [p for p in paragraphs if p]
    if not paragraphs:
        raise FormatError("the Word file holds no text")
    out = TextBuilder()
    found = {"title": props.title, "author": props.author}
    if not any(dates.find_in_text(p) for p in paragraphs[:20]):
        found["published"] = props.created
    meta = write_header(out, found, ORIGIN, {"published": f"{ORIGIN} (when the file was created)"})
    header_end = out.length
    if paragraphs and "title" in meta and paragraphs[0] == meta["title"].value:
        paragraphs = paragraphs[1:]
    for paragraph in paragraphs:
        out.line(paragraph)
    return Rendition(out.text(), "docx", meta, header_end)

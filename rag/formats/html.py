"""HTML news pages: main text, metadata and reader comments by trafilatura.

trafilatura is built for news pages: it drops navigation, headers and footers, reads title,
author, date (htmldate: meta tags, JSON-LD, then the page text) and site name, and returns
reader comments apart from the article. The canonical text is its output, comments last
under a "Comments" line, so they stay labelled as comments.
"""

from __future__ import annotations

from ..errors import FormatError
from .base import Rendition, TextBuilder, write_header

ORIGIN = "HTML page (meta tags or page text, read by trafilatura)"
COMMENTS_LINE = "Comments"


def read_html(data: bytes) -> Rendition:
    import trafilatura

    markup = data.decode("utf-8", errors="replace")
    if not markup.strip():
        raise FormatError("file is empty")
    try:
        found = trafilatura.bare_extraction(
            markup, include_comments=True, with_metadata=True, favor_precision=False, deduplicate=False
        )
    except (ValueError, TypeError, RecursionError) as exc:  # lxml refuses some damaged markup
        raise FormatError(f"the page cannot be parsed ({type(exc).__name__}: {exc})") from None
    if found is None or not (found.text or "").strip():
        raise FormatError("no article text found in the page (is it a news article, or only navigation?)")
    out = TextBuilder()
    meta = write_header(
        out,
        {"title": found.title, "author": found.author, "outlet": found.sitename, "published": found.date},
        ORIGIN,
    )
    header_end = out.length
    lines = [line.strip() for line in found.text.splitlines() if line.strip()]
    if lines and "title" in meta and lines[0] == meta["title"].value:
        lines = lines[1:]  # the headline is already the header's first line
    for line in lines:
        out.line(line)
    comments_start = None
    comments = [line.strip() for line in (found.comments or "").splitlines() if line.strip()]
    if comments and comments[0].lower() in {"comments", "reader comments"}:
        comments = comments[1:]
    if comments:
        out.blank()
        out.line(COMMENTS_LINE)
        comments_start = out.length
        for line in comments:
            out.line(line)
    return Rendition(out.text(), "html", meta, header_end, comments_start=comments_start)

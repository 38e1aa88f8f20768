"""Fixture files made in the tests: an HTML news page (navigation, byline, date, comments),
a two-page PDF with a text layer, a DOCX, and broken ones (a scan without text, truncated files)."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import docx
from fpdf import FPDF

HTML_PAGE = """<!doctype html><html><head><title>Japan lifts defence budget | Harbour Times</title>
<meta property="og:site_name" content="Harbour Times">
<meta name="author" content="Jane Doe">
<meta property="article:published_time" content="2025-01-21T09:00:00+09:00">
<meta property="og:title" content="Japan lifts defence budget to record level">
</head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/world">World news</a></li>
<li><a href="/sport">Sport</a></li></ul></nav>
<header><div class="logo">Harbour Times</div><a href="/login">Log in to your account</a></header>
<article>
<h1>Japan lifts defence budget to record level</h1>
<p class="byline">By Jane Doe</p><time datetime="2025-01-21">January 21, 2025</time>
<p>The Japanese cabinet approved a record defence budget of 8.7 trillion yen on Tuesday, officials said.</p>
<p>The budget funds new long-range missiles and a joint command with the United States, the ministry said.</p>
<p>Critics in the opposition argued that the spending increase would require higher taxes within three years.</p>
</article>
<section id="comments" class="comments"><h2>Comments</h2>
<div class="comment"><p>I think the budget is far too small for the threats we face today.</p></div>
<div class="comment"><p>Taxes will go up again, mark my words, nobody voted for this plan.</p></div>
</section>
<footer><p>Copyright 2025 Harbour Times. All rights reserved.</p><a href="/privacy">Privacy policy</a></footer>
</body></html>
"""
HTML_FACTS = {"title": "Japan lifts defence budget to record level", "outlet": "Harbour Times",
              "author": "Jane Doe", "published": "2025-01-21"}
NAVIGATION = ("World news", "Privacy policy", "Log in to your account")

PDF_PAGES = [
    ["Typhoon Shanshan report",
     "Typhoon Shanshan made landfall in Kyushu on August 29, forcing the evacuation of more than four million "
     "residents across the island, according to officials."],
    ["Rail operators suspended bullet train services between Tokyo and Fukuoka for two days while crews "
     "cleared debris from the tracks.",
     "The weather agency said the storm was the strongest to hit the region in a decade."],
]
PDF_FACTS = {"title": "Typhoon Shanshan report", "author": "Ken Sato", "published": "2024-09-03"}

DOCX_PARAGRAPHS = [
    "Harbour festival draws record crowds",
    "March 3, 2025",
    "The harbour festival drew a record crowd of 12,000 visitors on Saturday, the organisers said.",
    "The mayor said the fireworks display was paid for by a local bakery this year.",
]
DOCX_FACTS = {"title": "Harbour festival draws record crowds", "author": "Mia Lund", "published": "2025-03-03"}


def pdf_bytes(pages: list[list[str]] = PDF_PAGES, title: str = PDF_FACTS["title"],
              author: str = PDF_FACTS["author"]) -> bytes:
    """A PDF with a text layer, one page per list of paragraphs (an empty list: a page without text)."""
    pdf = FPDF()
    pdf.set_title(title)
    pdf.set_author(author)
    pdf.set_creation_date(dt.datetime(2024, 9, 3, 12, 0, tzinfo=dt.UTC))
    pdf.set_font("helvetica", size=11)
    for paragraphs in pages:
        pdf.add_page()
        for paragraph in paragraphs:
            pdf.multi_cell(0, 6, paragraph, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(4)
        if not paragraphs:
            pdf.rect(20, 20, 100, 100, style="F")  # a "scanned image": drawing, no text
    return bytes(pdf.output())


def docx_bytes(paragraphs: list[str] = DOCX_PARAGRAPHS, title: str = DOCX_FACTS["title"],
               author: str = DOCX_FACTS["author"]) -> bytes:
    document = docx.Document()
    document.core_properties.title = title
    document.core_properties.author = author
    for i, paragraph in enumerate(paragraphs):
        document.add_paragraph(paragraph, style="Title" if i == 0 else None)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def write_corpus(folder: Path) -> Path:
    """The three formats plus a text article, as a source folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "budget.html").write_text(HTML_PAGE, encoding="utf-8")
    (folder / "typhoon.pdf").write_bytes(pdf_bytes())
    (folder / "festival.docx").write_bytes(docx_bytes())
    (folder / "ferry.txt").write_text(
        "Ferry service resumes after storm\nKyodo\nJuly 2, 2024\n"
        "The ferry between Kagoshima and Yakushima resumed service on Tuesday after a three-day suspension.\n",
        encoding="utf-8",
    )
    return folder

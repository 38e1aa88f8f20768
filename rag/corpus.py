"""Read a folder of articles and separate reporting from page furniture.

Cleaning never rewrites text: it labels line spans of the raw file (title, article,
caption, reference, comment) and leaves out furniture (credits, login prompts, vote
tallies, counters), so every later offset still points into the raw file.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from . import formats
from .errors import CorpusError, FormatError
from .formats import dates
from .formats.base import Rendition
from .patterns import MONTH_DAY_YEAR
from .text import CONTROL_ESCAPES
from .types import Document, MetaField, Section, Span

logger = logging.getLogger(__name__)

SUFFIXES = formats.SUFFIXES  # .txt .md .html .htm .pdf .docx: one reader each (rag/formats)
TEXT_ORIGIN = "article text"
TRIM = " \t\r\n\ufeff\u00a0"

_VOTE_TALLY = re.compile(r"^[+-]?\d+\s*\(\s*\+\d+\s*/\s*-\d+\s*\)$")
_COUNTER = re.compile(r"^(\d+(\s+comments?)?|comments?\s*\(\d+\)|\d+\s+(shares?|views?|likes?))$", re.I)
_COMMENT_MARKER = re.compile(
    r"^(\d+\s+comments?|comments?(\s*\(\d+\))?|log\s?in to (comment|leave a comment)|"
    r"leave a (comment|reply)|add a comment|reader comments?)$",
    re.I,
)
_ACCOUNT_PROMPT = re.compile(r"\b(log\s?in|sign\s?in|sign\s?up|register|subscribe)\b", re.I)
_ACCOUNT_CONTEXT = re.compile(r"\b(account|comment|newsletter|news alerts|free trial)\b", re.I)
_SOCIAL = re.compile(r"^(facebook|twitter|google|x|linkedin)( users| connect| login)?$", re.I)
_CREDIT = re.compile(r"^(©|\(c\)|copyright\b)\s*(\d{4})?\s*(?P<owner>.*)$", re.I)
_CAPTION = re.compile(
    r"\((AP|Reuters|AFP|Getty|Kyodo|EPA|Xinhua)?\s*Photo[^)]*\)|\b(Image|Photo|Picture|Credit)s?\s*:|"
    r"\bGetty Images\b",
    re.I,
)
_REFERENCE = re.compile(r"^\[\d+\]\s")
_DATELINE_OUTLET = re.compile(r"^[A-Z][A-Z .,'-]+\s+[—–-]+\s+\((?P<outlet>[A-Za-z][\w .&-]{0,30})\)\s+[—–-]+")
_BYLINE = re.compile(r"^By\s+(?P<name>[A-Z][\w.'’-]+(?:\s+(?:[A-Z][\w.'’-]+|de|van|von|bin|al)){0,4})$")
BYLINE_SEARCH_LINES = 30  # a byline sits near the top of a page
_TERMINAL = re.compile(r"[.!?][\"'”’)\]]*$|[\"”]$")


@dataclass(frozen=True)
class _Line:
    start: int
    end: int
    text: str


def _lines(raw: str) -> list[_Line]:
    """Non-blank lines with their trimmed offsets into ``raw``."""
    out = []
    for match in re.finditer(r"[^\n]+", raw):
        text = match.group()
        lead = len(text) - len(text.lstrip(TRIM))
        stripped = text.strip(TRIM)
        if stripped:
            start = match.start() + lead
            out.append(_Line(start, start + len(stripped), stripped))
    return out


def _is_prose(text: str) -> bool:
    """A line that reads like running text rather than a label or a heading."""
    return len(text.split()) >= 8 and bool(_TERMINAL.search(text))


def _is_furniture(text: str) -> bool:
    """Page chrome that is never searched or cited."""
    if _VOTE_TALLY.match(text) or _COUNTER.match(text) or _COMMENT_MARKER.match(text):
        return True
    words = len(text.split())
    if _SOCIAL.match(text) or (_CREDIT.match(text) and words <= 12):
        return True
    if _ACCOUNT_PROMPT.search(text) and (words <= 6 or (words <= 30 and _ACCOUNT_CONTEXT.search(text))):
        return True
    return text.lower() in {"user registration", "advertisement", "share", "related", "read more"}


def _comment_start(lines: list[_Line], body_start: int) -> int:
    """Index of the first line of the reader-comment section, or ``len(lines)``.

    A comment marker ("19 Comments", "Login to comment") after the body has begun opens
    it; failing that, the line before the first vote tally does.
    """
    for i in range(body_start + 1, len(lines)):
        if _COMMENT_MARKER.match(lines[i].text):
            return i
    for i, line in enumerate(lines):
        if i > body_start and _VOTE_TALLY.match(line.text):
            return i - 1
    return len(lines)


def _comment_end(lines: list[_Line], start: int) -> int:
    """Comments end at the last vote tally when tallies are used: what follows is footer."""
    tallies = [i for i in range(start, len(lines)) if _VOTE_TALLY.match(lines[i].text)]
    return tallies[-1] + 1 if tallies else len(lines)


def _header_labels(header: list[_Line]) -> tuple[int | None, int | None]:
    """Pick the title line and an outlet-banner line among the lines before the body."""
    title = outlet = None
    for i, line in enumerate(header):
        if _CAPTION.search(line.text) or _is_furniture(line.text):
            continue
        words = line.text.split()
        if title is None and len(words) >= 4 and not _is_prose(line.text):
            title = i
        elif outlet is None and title is None and 2 <= len(words) <= 4 and all(w[:1].isupper() for w in words):
            outlet = i
    return title, outlet


def classify(raw: str) -> tuple[list[Span], dict[str, str | None]]:
    """Label the content lines of a page and collect its title, outlet and date."""
    lines = _lines(raw)
    body = next((i for i, line in enumerate(lines) if _is_prose(line.text)), 0)
    title_i, outlet_i = _header_labels(lines[:body])
    c_start = _comment_start(lines, body)
    c_end = _comment_end(lines, c_start)
    meta: dict[str, str | None] = {
        "title": lines[title_i].text if title_i is not None else None,
        "outlet": lines[outlet_i].text if outlet_i is not None else None,
        "date": None,
    }
    spans: list[Span] = []
    for i, line in enumerate(lines):
        section = _section(line.text, i, body, title_i, c_start, c_end, meta)
        if section is not None:
            spans.append(Span(line.start, line.end, section))
    date = MONTH_DAY_YEAR.search(raw)
    meta["date"] = date.group() if date else None
    return spans, meta


def _section(text, i, body, title_i, c_start, c_end, meta) -> Section | None:
    """The section of line ``i``, or None for furniture (recording credits as outlet)."""
    credit = _CREDIT.match(text) if len(text.split()) <= 12 else None
    if credit and meta["outlet"] is None and credit.group("owner").strip():
        meta["outlet"] = credit.group("owner").strip()
    if c_start <= i < c_end:
        return None if _is_furniture(text) else Section.COMMENT
    if i >= c_end or _is_furniture(text):
        return None
    if i == title_i:
        return Section.TITLE
    if _CAPTION.search(text):
        return Section.CAPTION
    if _REFERENCE.match(text):
        return Section.REFERENCE
    if i < body:
        return None
    dateline = _DATELINE_OUTLET.match(text)
    if dateline and meta["outlet"] is None:
        meta["outlet"] = dateline.group("outlet")
    if len(text.split()) <= 3 and not _TERMINAL.search(text):
        return None
    return Section.ARTICLE


def _fallback_title(raw: str, spans: list[Span]) -> str:
    """First words of the first article line, for pages that carry no headline."""
    for span in spans:
        if span.section is Section.ARTICLE:
            text = raw[span.start : span.end]
            if len(text) <= 90:
                return text
            return text[:90].rsplit(" ", 1)[0] + "…"
    return ""


def parse_document(doc_id: str, raw: str) -> Document:
    """Build a :class:`Document` from raw text (no file access, easy to test)."""
    return parse_rendition(doc_id, Rendition(raw, "text"), hashlib.sha256(raw.encode("utf-8")).hexdigest())


def parse_rendition(doc_id: str, rendition: Rendition, sha256: str) -> Document:
    """Label a reader's canonical text like a text file, keeping its header lines out of the
    index (the headline stays, as the title), its reader comments labelled as comments,
    and its metadata with the evidence of where each value was found."""
    raw, body = rendition.text, rendition.header_end
    spans, found = classify(raw[body:])  # the header never confuses the classifier
    spans = _place_spans([Span(s.start + body, s.end + body, s.section) for s in spans], rendition)
    meta = {**text_metadata(raw, found, spans, body), **rendition.meta}
    title = meta["title"].value if "title" in meta else _fallback_title(raw, spans)
    date = found["date"]
    if rendition.format != "text" and "published" in meta:
        date = dates.display(meta["published"].value)
    return Document(
        id=doc_id,
        raw=raw,
        sha256=sha256,
        title=title,
        outlet=meta["outlet"].value if "outlet" in meta else None,
        date=date,
        spans=spans,
        format=rendition.format,
        meta=meta,
        pages=rendition.pages,
        warnings=rendition.warnings,
    )


def _place_spans(spans: list[Span], rendition: Rendition) -> list[Span]:
    """Spans of the body only; the header's headline as the title; comments as comments."""
    out = [s for s in spans if s.start >= rendition.header_end]
    if rendition.comments_start is not None:
        out = [Span(s.start, s.end, Section.COMMENT) if s.start >= rendition.comments_start else s for s in out]
    title = rendition.meta.get("title")
    if title is not None and title.end <= rendition.header_end:
        out.insert(0, Span(title.start, title.end, Section.TITLE))
    return out


def text_metadata(raw: str, found: dict[str, str | None], spans: list[Span], body: int = 0) -> dict[str, MetaField]:
    """Metadata the text (from offset ``body`` on) states: headline, outlet banner or credit,
    byline, first date."""
    meta: dict[str, MetaField] = {}
    title = next((s for s in spans if s.section is Section.TITLE), None)
    if title is not None:
        meta["title"] = MetaField(raw[title.start : title.end], title.start, title.end, TEXT_ORIGIN)
    outlet = found.get("outlet")
    if outlet:
        at = raw.find(outlet, body)
        if at >= 0:
            meta["outlet"] = MetaField(outlet, at, at + len(outlet), TEXT_ORIGIN)
    for line in _lines(raw[body:])[:BYLINE_SEARCH_LINES]:
        byline = _BYLINE.match(line.text)
        if byline:
            start = body + line.start
            meta["author"] = MetaField(byline.group("name"), start, start + len(line.text), TEXT_ORIGIN)
            break
    date = dates.find_in_text(raw, body)
    published = dates.iso(date.group()) if date is not None else None
    if date is not None and published:
        meta["published"] = MetaField(published, date.start(), date.end(), TEXT_ORIGIN)
    return meta


def corpus_files(source: Path, skipped: list[str] | None = None) -> list[Path]:
    """Files the corpus consists of, sorted; hidden files and folders excluded.

    Symbolic links, to files and folders alike, are followed only when their target lies
    inside the source folder; a link out of it is left out. A file whose path is not valid
    UTF-8 is left out too (its name could not be shown or stored as text). When ``skipped``
    is given, each file left out is logged as a warning and appended to it (escaped name).
    """
    source = Path(source)
    if not source.is_dir():
        raise CorpusError(f"source folder {printable_name(str(source))!r} does not exist or is not a folder")
    found: list[Path] = []
    _walk(source, source, source.resolve(), set(), found, skipped)
    return sorted(found)


def _walk(source: Path, top: Path, real_source: Path, seen: set[Path], found: list[Path], skipped) -> None:
    """Collect the corpus files below ``top`` (see :func:`corpus_files`)."""
    real_top = top.resolve()
    if real_top in seen:  # a link back to a folder already listed
        return
    seen.add(real_top)
    try:
        entries = sorted(os.scandir(top), key=lambda e: e.name)
    except OSError as exc:
        _leave_out(source, top, f"cannot list it ({exc.strerror})", skipped)
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        if entry.is_symlink() and not path.resolve().is_relative_to(real_source):
            if entry.is_dir() or path.suffix.lower() in SUFFIXES:
                _leave_out(source, path, "it is a symbolic link out of the source folder", skipped)
        elif entry.is_dir():
            _walk(source, path, real_source, seen, found, skipped)
        elif entry.is_file() and path.suffix.lower() in SUFFIXES:
            if _valid_name(path.relative_to(source).as_posix()):
                found.append(path)
            else:
                _leave_out(source, path, "its name is not valid UTF-8; rename it", skipped)


def _valid_name(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def printable_name(name: str) -> str:
    """A file name safe to store as JSON and show: undecodable bytes and control characters escaped."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace").translate(CONTROL_ESCAPES)


def _leave_out(source: Path, path: Path, why: str, skipped: list[str] | None) -> None:
    if skipped is None:
        return
    name = printable_name(path.relative_to(source).as_posix())
    logger.warning("skipping %s: %s", name, why)
    skipped.append(name)


def warn_unsupported(source: Path) -> list[Path]:
    """Log one warning per non-hidden file that no reader handles (an .rtf, an image...), so
    a file that is silently missing from the answers is named; returns those files. Called
    once per build (a second listing of the folder), not by freshness checks."""
    source = Path(source)
    unsupported = sorted(
        p for p in source.rglob("*")
        if p.is_file() and p.suffix.lower() not in SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(source).parts)
    )
    for path in unsupported:
        logger.warning(
            "skipping %s: unsupported file type %r; supported: %s",
            printable_name(doc_id(source, path)), printable_name(path.suffix), ", ".join(SUFFIXES),
        )
    return unsupported


def doc_id(source: Path, path: Path) -> str:
    """Document id: the path relative to the source folder (the file name for flat folders)."""
    return path.relative_to(source).as_posix()


def read_document(source: Path, path: Path) -> Document | None:
    """Read and parse one file through the reader for its type; a file that cannot be read
    (unknown type, undecodable, empty, damaged, no text layer, vanished) is skipped with a
    warning naming it (control characters escaped) and the reason. The file is stat'ed
    before it is read, so an edit made during the read leaves a newer mtime on disk than
    the one recorded: the index shows as stale."""
    name = printable_name(doc_id(source, path))
    try:
        with open(path, "rb") as fh:
            stat = os.fstat(fh.fileno())
            data = fh.read()
    except FileNotFoundError:
        logger.warning("skipping %s: it was removed while the index was being built", name)
        return None
    except OSError as exc:
        logger.warning("skipping %s: cannot read it (%s)", name, exc.strerror)
        return None
    try:
        rendition = formats.render(path.suffix, data)
    except FormatError as exc:
        logger.warning("skipping %s: %s", name, exc)
        return None
    for warning in rendition.warnings:
        logger.warning("%s: %s", name, warning)
    doc = parse_rendition(doc_id(source, path), rendition, hashlib.sha256(data).hexdigest())
    if not doc.spans:
        logger.warning("skipping %s: no text left after cleaning", name)
        return None
    doc.size, doc.mtime_ns = stat.st_size, stat.st_mtime_ns
    return doc


def load_corpus(source: Path) -> list[Document]:
    """All usable documents of a folder."""
    source = Path(source)
    return [doc for path in corpus_files(source) if (doc := read_document(source, path))]

"""Typed records passed between pipeline stages.

Every span carries ``start``/``end`` offsets into the raw file text (Python ``str``
indices of the file decoded as UTF-8), so any quote can be checked against its source.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum


class Section(str, Enum):
    """What part of a page a span comes from; only some sections are reporting."""

    TITLE = "title"
    ARTICLE = "article"
    CAPTION = "caption"
    REFERENCE = "reference"
    COMMENT = "comment"
    METADATA = "metadata"  # the metadata header of a canonical text ("By Jane Doe"): never indexed

    @property
    def is_reporting(self) -> bool:
        """Whether text from this section may be stated as the outlet's own reporting."""
        return self in (Section.TITLE, Section.ARTICLE, Section.CAPTION)


class AnswerKind(str, Enum):
    """What a question asks for, which decides the short answer to look for."""

    DATE = "date"
    AMOUNT = "amount"
    PERCENT = "percent"
    PERSON = "person"
    PLACE = "place"
    OTHER = "other"


@dataclass(frozen=True)
class Span:
    """A cleaned, searchable stretch of a raw file (one line's content)."""

    start: int
    end: int
    section: Section


@dataclass(frozen=True)
class MetaField:
    """A metadata value (title, outlet, author, published ISO date) and where it was found:
    ``raw[start:end]`` of the document's canonical text is the evidence a citation quotes."""

    value: str
    start: int
    end: int
    origin: str


@dataclass(frozen=True)
class Page:
    """A PDF page: ``raw[start:end]`` of the canonical text."""

    number: int
    start: int
    end: int


@dataclass
class Document:
    """One source file: its canonical text (``raw``: the file itself for .txt/.md, the
    rendition of its reader otherwise) plus what cleaning and the reader found in it.
    ``sha256`` is the hash of the file's bytes."""

    id: str
    raw: str
    sha256: str
    title: str = ""
    outlet: str | None = None
    date: str | None = None
    spans: list[Span] = field(default_factory=list)
    size: int = 0  # bytes and modification time of the file, taken before it was read
    mtime_ns: int = 0
    format: str = "text"
    meta: dict[str, MetaField] = field(default_factory=dict)
    pages: list[Page] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def meta_json(self) -> dict:
        """What the index stores about the source beyond title/outlet/date (plain JSON)."""
        return {
            "format": self.format,
            "author": self.meta["author"].value if "author" in self.meta else None,
            "published": self.meta["published"].value if "published" in self.meta else None,
            "fields": {k: asdict(v) for k, v in self.meta.items()},
            "pages": [[p.number, p.start, p.end] for p in self.pages],
            "chars": len(self.raw),
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class Sentence:
    """A sentence of a document; ``raw[start:end] == text``."""

    doc: str
    start: int
    end: int
    text: str
    section: Section
    block: int


@dataclass(frozen=True)
class Chunk:
    """A run of consecutive sentences of one block; the unit of retrieval."""

    doc: str
    start: int
    end: int
    text: str
    section: Section
    first_sentence: int
    n_sentences: int


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its ranks in each retriever and the fused score."""

    chunk: int
    score: float
    dense_rank: int | None
    bm25_rank: int | None
    dense_score: float | None = None
    bm25_score: float | None = None


@dataclass(frozen=True)
class Citation:
    n: int
    source: str
    title: str
    section: Section
    start: int
    end: int
    quote: str
    score: float
    outlet: str | None = None  # source metadata (filled in by rag.sources.attach_metadata)
    author: str | None = None
    published: str | None = None  # ISO date
    page: int | None = None  # PDF page of ``start``
    label: str = ""  # "Kyodo · 21 Jan 2025"


@dataclass(frozen=True)
class ShortAnswer:
    text: str
    source: str
    start: int
    end: int
    kind: AnswerKind


@dataclass(frozen=True)
class Passage:
    source: str
    title: str
    start: int
    end: int
    text: str
    section: Section
    dense_rank: int | None
    bm25_rank: int | None
    score: float
    outlet: str | None = None
    published: str | None = None
    page: int | None = None
    label: str = ""


@dataclass
class Answer:
    """What the assistant says, and everything needed to check it."""

    question: str
    answer: str
    answered: bool
    confidence: float
    short_answer: ShortAnswer | None
    citations: list[Citation]
    passages: list[Passage]
    resolved_question: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        """The CLI / API contract: plain JSON types only."""
        data = asdict(self)
        if self.short_answer is not None:
            data["short_answer"] = {k: data["short_answer"][k] for k in ("text", "source", "start", "end")}
        for span in data["citations"] + data["passages"]:
            span["section"] = Section(span["section"]).value
        data["confidence"] = round(float(self.confidence), 4)
        return data

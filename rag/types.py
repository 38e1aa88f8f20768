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

    @property
    def is_reporting(self) -> bool:
        """Whether text from this section may be stated as the outlet's own reporting."""
        return self in (Section.TITLE, Section.ARTICLE, Section.CAPTION)


@dataclass(frozen=True)
class Span:
    """A cleaned, searchable stretch of a raw file (one line's content)."""

    start: int
    end: int
    section: Section


@dataclass
class Document:
    """One source file: raw text plus what cleaning found in it."""

    id: str
    raw: str
    sha256: str
    title: str = ""
    outlet: str | None = None
    date: str | None = None
    spans: list[Span] = field(default_factory=list)
    size: int = 0  # bytes and modification time of the file, taken before it was read
    mtime_ns: int = 0


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
    section: str
    start: int
    end: int
    quote: str
    score: float


@dataclass(frozen=True)
class ShortAnswer:
    text: str
    source: str
    start: int
    end: int
    kind: str


@dataclass(frozen=True)
class Passage:
    source: str
    title: str
    start: int
    end: int
    text: str
    section: str
    dense_rank: int | None
    bm25_rank: int | None
    score: float


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
        data["confidence"] = round(float(self.confidence), 4)
        return data

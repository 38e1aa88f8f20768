"""Questions about the sources themselves: "when was ... published", "which outlet ...",
"who wrote ...". They are answered from the documents' metadata, quoting where each value
was found (a header line the reader wrote from the file's properties, or the article text),
so the citation check ``quote == text[start:end]`` holds for them too.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .config import METADATA_CONFIDENCE
from .formats import dates
from .retrieval import RetrievalConfig, retrieve
from .sources import SourceInfo
from .text import tokenize
from .types import Answer, AnswerKind, Citation, Passage, Section, ShortAnswer

if TYPE_CHECKING:
    from .embedding import Embedder
    from .index import IndexData

# Checked in this order: "who published" asks for an outlet, not a date.
KINDS = (
    ("author", re.compile(
        r"\bwho\s+(wrote|authored|is the author|was the author)\b|\bauthor of\b|\bwhose byline\b", re.I)),
    ("outlet", re.compile(
        r"\b(which|what)\s+(news\s+)?(outlet|newspaper|paper|site|website|publication|news ?agency|media)\b"
        r"|\bwho\s+published\b", re.I)),
    ("published", re.compile(
        r"\bwhen\s+(was|were|did)\b.*\b(published|posted|released|come out|came out)\b|\bpublication date\b"
        r"|\bwhat\s+date\b.*\b(published|posted)\b", re.I)),
)
# "Who wrote the novel ...?" is about the world, not about a source: author and date questions
# must name the source as such.
SOURCE_NOUN = re.compile(
    r"\b(article|story|stories|report|piece|source|document|file|page|column|op-ed|editorial|news|post|"
    r"this|it|pdf|analysis|interview|commentary)\b", re.I)
NEEDS_SOURCE_NOUN = frozenset({"author", "published"})
FIELD_NAMES = {"author": "author", "outlet": "outlet", "published": "publication date"}
SHORT_KIND = {"author": AnswerKind.PERSON, "outlet": AnswerKind.OTHER, "published": AnswerKind.DATE}


def metadata_kind(question: str) -> str | None:
    """Which metadata field the question asks for, if it is about a source itself."""
    kind = next((kind for kind, pattern in KINDS if pattern.search(question)), None)
    if kind in NEEDS_SOURCE_NOUN and not SOURCE_NOUN.search(question):
        return None
    return kind


def answer_about_sources(data: IndexData, embedder: Embedder, question: str) -> Answer | None:
    """The metadata answer, or None when the question is not about a source itself. The
    source is the one retrieval ranks first for the question (within the active filter)."""
    kind = metadata_kind(question)
    if kind is None:
        return None
    hits = retrieve(data, embedder.encode_query(question), tokenize(question), RetrievalConfig())
    if not hits:
        return None
    doc = int(data.chunks[hits[0].chunk]["doc"])
    info = SourceInfo.from_record(data.docs[doc].__dict__)
    passage = _passage(data, hits[0], info)
    found = info.fields.get(kind)
    if found is None:
        said = f"The source “{info.title}” ({info.id}) does not state its {FIELD_NAMES[kind]}."
        return Answer(question, said, False, 0.0, None, [], [passage], notes=[f"asked for the {FIELD_NAMES[kind]}"])
    text = data.texts[doc]
    quote = text[found.start : found.end]
    citation = Citation(1, info.id, info.title, Section.METADATA, found.start, found.end, quote, METADATA_CONFIDENCE)
    short = _short(info, kind, found.value, quote, found.start)
    note = f"{FIELD_NAMES[kind]} of “{info.title}”, found in: {found.origin}"
    return Answer(question, f"{quote} [1]", True, METADATA_CONFIDENCE, short, [citation], [passage], notes=[note])


def _short(info: SourceInfo, kind: str, value: str, quote: str, start: int) -> ShortAnswer:
    """The value inside its evidence (the evidence itself when written differently)."""
    shown = (dates.display(value) or value) if kind == "published" else value
    at = quote.find(shown)
    if at < 0:
        return ShortAnswer(quote, info.id, start, start + len(quote), SHORT_KIND[kind])
    return ShortAnswer(shown, info.id, start + at, start + at + len(shown), SHORT_KIND[kind])


def _passage(data: IndexData, hit, info: SourceInfo) -> Passage:
    row = data.chunks[hit.chunk]
    return Passage(info.id, info.title, int(row["start"]), int(row["end"]), data.chunk_text(hit.chunk),
                   data.section_of_chunk(hit.chunk), hit.dense_rank, hit.bm25_rank, hit.score)

"""Sentence segmentation and chunking that keep offsets into the raw file."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from .errors import ConfigError
from .text import STOPWORDS
from .types import Chunk, Document, Sentence

_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sen rep gov gen lt col capt sgt st jr sr inc ltd co corp vs etc "
    "jan feb mar apr jun jul aug sep sept oct nov dec no fig approx dept est univ e.g i.e a.m p.m".split()
)
# End punctuation, optional closing quotes/brackets, then whitespace and a plausible sentence start.
_BOUNDARY = re.compile(r"[.!?]+[\"'”’)\]]*(?:\[\d+\])*(?=\s+[\"'“‘(\[]?[A-Z0-9])")
_FOOTNOTE_TAIL = re.compile(r"(\[\d+\])+$")
_INITIALISM = re.compile(r"^(?:[A-Za-z]\.)+[A-Za-z]?$")


@dataclass(frozen=True)
class ChunkingConfig:
    """How sentences are grouped into retrieval chunks."""

    max_chars: int = 500
    max_sentences: int = 4

    def __post_init__(self) -> None:
        if not 50 <= self.max_chars <= 20_000:
            raise ConfigError(f"max_chars={self.max_chars!r} is out of range; use 50..20000")
        if not 1 <= self.max_sentences <= 50:
            raise ConfigError(f"max_sentences={self.max_sentences!r} is out of range; use 1..50")

    def to_json(self) -> dict:
        return asdict(self)


def _is_abbreviation(text: str, dot: int) -> bool:
    """Whether the period at ``text[dot]`` ends an abbreviation rather than a sentence.

    An initialism ("U.S.") still ends the sentence when the next word is one that opens
    sentences rather than continuing a name ("...in the U.S. In particular, ...").
    """
    word = re.search(r"[\w.]*$", text[:dot]).group()
    if not word:
        return False
    if _INITIALISM.match(word + "."):
        following = re.match(r"\s+([\"“‘']?)(\w+)", text[dot + 1 :])
        return not (following and following.group(2).lower() in STOPWORDS)
    if word.lower() in _ABBREVIATIONS:
        return True
    return len(word) == 1 and word.isupper()


def split_sentences(raw: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans inside ``raw[start:end]``, trimmed, without trailing footnote marks."""
    text = raw[start:end]
    cuts = [0]
    for match in _BOUNDARY.finditer(text):
        first_dot = match.start()
        if text[first_dot] == "." and match.end() - first_dot == 1 and _is_abbreviation(text, first_dot):
            continue
        cuts.append(match.end())
    cuts.append(len(text))
    spans = []
    for a, b in zip(cuts, cuts[1:]):
        piece = text[a:b]
        lead = len(piece) - len(piece.lstrip())
        piece = piece.strip()
        piece = _FOOTNOTE_TAIL.sub("", piece).rstrip()
        if piece:
            s = start + a + lead
            spans.append((s, s + len(piece)))
    return spans


def document_sentences(doc: Document) -> list[Sentence]:
    """All sentences of a document. ``block`` changes wherever furniture or a section break
    intervenes, so chunks never join text that was not contiguous on the page."""
    sentences: list[Sentence] = []
    block = 0
    prev = None
    for span in doc.spans:
        gap = doc.raw[prev.end : span.start] if prev else ""
        if prev is not None and (span.section != prev.section or gap.count("\n") > 2 or gap.strip()):
            block += 1
        for s, e in split_sentences(doc.raw, span.start, span.end):
            sentences.append(Sentence(doc.id, s, e, doc.raw[s:e], span.section, block))
        prev = span
    return sentences


def chunk_sentences(doc: Document, sentences: list[Sentence], offset: int, config: ChunkingConfig) -> list[Chunk]:
    """Greedy, non-overlapping chunks of consecutive sentences of one block.

    ``offset`` is the global index of ``sentences[0]`` so chunks can point at sentences.
    """
    chunks: list[Chunk] = []
    i = 0
    while i < len(sentences):
        j = i + 1
        while (
            j < len(sentences)
            and j - i < config.max_sentences
            and sentences[j].block == sentences[i].block
            and sentences[j].end - sentences[i].start <= config.max_chars
        ):
            j += 1
        first, last = sentences[i], sentences[j - 1]
        chunks.append(
            Chunk(doc.id, first.start, last.end, doc.raw[first.start : last.end], first.section, offset + i, j - i)
        )
        i = j
    return chunks

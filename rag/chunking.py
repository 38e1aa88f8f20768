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
# Linear time: a match starts only at the first mark of a run (the lookbehind) and the possessive
# quantifiers never give back, so a run of n dots costs O(n) rather than O(n^3).
_BOUNDARY = re.compile(r"(?<![.!?])[.!?]++[\"'”’)\]]*+(?:\[\d+\])*+(?=\s++[\"'“‘(\[]?[A-Z0-9])")
_FOOTNOTE_END = re.compile(r"\[\d{1,6}\]$")
_INITIALISM = re.compile(r"^(?:[A-Za-z]\.)+[A-Za-z]?$")
_WORD_BEFORE = re.compile(r"[\w.]*+$")
_FOLLOWING_WORD = re.compile(r"\s+([\"“‘']?)(\w+)")
_SPACE = re.compile(r"\s")
ABBREVIATION_LOOKBACK = 32  # longest word read before a period: "e.g" or "U.S.A" are far shorter


@dataclass(frozen=True)
class ChunkingConfig:
    """How sentences are grouped into retrieval chunks.

    ``max_sentence_chars`` caps a sentence: a longer one (a line with no sentence ends, a run
    of dots) is cut at whitespace, so no quoted answer exceeds ``AnswerConfig.max_chars``
    (450 in rag/answer.py: a sentence and a short second one fit), and no chunk exceeds
    ``max_chars`` (a chunk holds whole sentences).
    """

    max_chars: int = 500
    max_sentences: int = 4
    max_sentence_chars: int = 400

    def __post_init__(self) -> None:
        if not 50 <= self.max_chars <= 20_000:
            raise ConfigError(f"max_chars={self.max_chars!r} is out of range; use 50..20000")
        if not 1 <= self.max_sentences <= 50:
            raise ConfigError(f"max_sentences={self.max_sentences!r} is out of range; use 1..50")
        if not 20 <= self.max_sentence_chars <= 20_000:
            raise ConfigError(f"max_sentence_chars={self.max_sentence_chars!r} is out of range; use 20..20000")

    @property
    def sentence_limit(self) -> int:
        """The longest sentence kept whole: a chunk must be able to hold it."""
        return min(self.max_sentence_chars, self.max_chars)

    def to_json(self) -> dict:
        return asdict(self)


def _is_abbreviation(text: str, dot: int, end: int) -> bool:
    """Whether the period at ``text[dot]`` ends an abbreviation rather than a sentence.

    An initialism ("U.S.") still ends the sentence when the next word is one that opens
    sentences rather than continuing a name ("...in the U.S. In particular, ...").
    Reads at most ``ABBREVIATION_LOOKBACK`` characters back, so splitting stays linear.
    """
    lookback = max(0, dot - ABBREVIATION_LOOKBACK)
    before = _WORD_BEFORE.search(text, lookback, dot)  # always matches (maybe the empty word)
    word = before.group() if before else ""
    if not word or dot - len(word) == lookback > 0:  # longer than the lookback: no abbreviation
        return False
    if _INITIALISM.match(word + "."):
        following = _FOLLOWING_WORD.match(text, dot + 1, end)
        return not (following and following.group(2).lower() in STOPWORDS)
    if word.lower() in _ABBREVIATIONS:
        return True
    return len(word) == 1 and word.isupper()


def _strip_footnotes(text: str, a: int, b: int) -> int:
    """The end of ``text[a:b]`` without trailing footnote marks ("[1][2]") and the space before them."""
    while b > a and text[b - 1] == "]":
        mark = _FOOTNOTE_END.search(text, max(a, b - 8), b)
        if mark is None:
            break
        b = mark.start()
    while b > a and text[b - 1].isspace():
        b -= 1
    return b


def _cap(text: str, a: int, b: int, limit: int) -> list[tuple[int, int]]:
    """``text[a:b]`` as pieces of at most ``limit`` characters, cut at the last whitespace of
    the second half of each window (or, with none there, right at the limit)."""
    pieces = []
    while b - a > limit:
        window_start, cut = a + limit // 2, a + limit
        spaces = [m.start() for m in _SPACE.finditer(text, window_start, cut + 1)]
        if spaces:
            cut = spaces[-1]
        end = cut
        while end > a and text[end - 1].isspace():
            end -= 1
        pieces.append((a, end))
        a = cut
        while a < b and text[a].isspace():
            a += 1
    if b > a:
        pieces.append((a, b))
    return pieces


def split_sentences(raw: str, start: int, end: int, max_chars: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans inside ``raw[start:end]``, trimmed, without trailing footnote marks; a
    sentence longer than ``max_chars`` (default ``ChunkingConfig.max_sentence_chars``) is cut
    at whitespace. Linear in the length of the text."""
    limit = max_chars or ChunkingConfig().sentence_limit
    cuts = [start]
    for match in _BOUNDARY.finditer(raw, start, end):
        first_dot = match.start()
        if raw[first_dot] == "." and match.end() - first_dot == 1 and _is_abbreviation(raw, first_dot, end):
            continue
        cuts.append(match.end())
    cuts.append(end)
    spans = []
    for a, b in zip(cuts, cuts[1:]):
        while a < b and raw[a].isspace():
            a += 1
        while b > a and raw[b - 1].isspace():
            b -= 1
        b = _strip_footnotes(raw, a, b)
        if b > a:
            spans.extend(_cap(raw, a, b, limit))
    return spans


def document_sentences(doc: Document, config: ChunkingConfig | None = None) -> list[Sentence]:
    """All sentences of a document. ``block`` changes wherever furniture or a section break
    intervenes, so chunks never join text that was not contiguous on the page."""
    limit = (config or ChunkingConfig()).sentence_limit
    sentences: list[Sentence] = []
    block = 0
    prev = None
    for span in doc.spans:
        gap = doc.raw[prev.end : span.start] if prev else ""
        if prev is not None and (span.section != prev.section or gap.count("\n") > 2 or gap.strip()):
            block += 1
        for s, e in split_sentences(doc.raw, span.start, span.end, limit):
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

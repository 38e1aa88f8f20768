"""Word-level text helpers shared by indexing, retrieval and answering."""

from __future__ import annotations

import re
from functools import lru_cache

from .errors import QuestionError

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are aren't as at be because been
    before being below between both but by can cannot could couldn't did didn't do does doesn't doing
    don't down during each few for from further had hadn't has hasn't have haven't having he he'd
    he'll he's her here here's hers herself him himself his how how's i i'd i'll i'm i've if in into
    is isn't it it's its itself let's me more most mustn't my myself no nor not of off on once only or
    other ought our ours ourselves out over own same shan't she she'd she'll she's should shouldn't so
    some such than that that's the their theirs them themselves then there there's these they they'd
    they'll they're they've this those through to too under until up very was wasn't we we'd we'll
    we're we've were weren't what what's when when's where where's which while who who's whom why
    why's will with won't would wouldn't you you'd you'll you're you've your yours yourself
    yourselves s t""".split()
)
# Characters that must not reach a terminal or a one-line message as they are: C0/C1 controls
# and DEL (escape sequences, carriage returns), bidirectional overrides (text that reads
# differently than it is), and lone surrogates (undecodable file names; not valid UTF-8).
_BIDI = [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]
CONTROL_ESCAPES = {
    c: f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"
    for c in [*range(0x20), *range(0x7F, 0xA0), *_BIDI, *range(0xD800, 0xE000)]
}
_SURROGATE = re.compile("[\ud800-\udfff]")
_WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?")
_INITIALISM = re.compile(r"\b([A-Za-z](?:\.[A-Za-z])+\.?)(?![A-Za-z])")


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def printable(text: object) -> str:
    """``text`` with control characters, bidirectional overrides and lone surrogates escaped
    (``\\x1b``), for terminal output. Newlines and tabs too: call it per line."""
    return str(text).translate(CONTROL_ESCAPES)


def without_surrogates(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD, so it encodes as UTF-8."""
    return _SURROGATE.sub("\ufffd", text)


def require_unicode(text: object, what: str = "question") -> None:
    """Refuse text holding lone surrogates (undecodable bytes from a terminal or a JSON
    escape): it is not valid UTF-8 and could not be tokenised, stored or printed."""
    bad = _SURROGATE.search(text) if isinstance(text, str) else None
    if bad:
        raise QuestionError(
            f"{what} is not valid Unicode (lone surrogate {printable(bad.group())} at character {bad.start()}); "
            f"send it as UTF-8"
        )


def words(text: str) -> list[str]:
    """Lower-cased word tokens, possessive endings dropped, "U.S." read as "us"."""
    text = _INITIALISM.sub(lambda m: m.group(1).replace(".", "") + " ", text)
    out = []
    for w in _WORD.findall(text.lower().replace("’", "'")):
        if w.endswith("'s"):
            w = w[:-2]
        out.append(w)
    return out


def tokenize(text: str) -> list[str]:
    """Stemmed content words: the vocabulary of BM25 and of lexical overlap."""
    content = [w for w in words(text) if w not in STOPWORDS]
    return _stemmer().stemWords(content)


def tokenize_many(texts: list[str]) -> list[list[str]]:
    return [tokenize(t) for t in texts]

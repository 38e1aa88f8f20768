"""Resolve follow-up questions against the conversation, without a language model.

"What did he say?" after "Who is the defense secretary?" becomes "What did Pete Hegseth
say?": a pronoun is replaced by what the previous turn was about (its short answer when
it asked *who*, else the names it used), and "what about X?" reuses the previous question
with X in place of one of its names. When several readings are possible, all are returned
and the assistant keeps the one the corpus answers with the most confidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .config import MAX_READINGS, MAX_REFERENT_WORDS
from .patterns import INITIALISM_END, NAME
from .text import STOPWORDS, tokenize
from .types import AnswerKind

_PERSON = {"he": "", "him": "", "she": "", "his": "'s", "her": "'s", "hers": "'s", "himself": "", "herself": ""}
_THING = {"it": "", "its": "'s", "they": "", "them": "", "their": "'s", "theirs": "'s"}
# Capitalised only because they start the question: function words and discourse openers.
_LEADING = STOPWORDS | frozenset(
    "besides apart aside except also then now okay ok please tell give list name describe explain "
    "according regarding concerning following starting beginning since".split()
) | frozenset(_PERSON) | frozenset(_THING)
_WHAT_ABOUT = re.compile(r"^\s*(?:and\s+)?(?:what|how)\s+about\s+(?P<x>[^?]+?)\s*\??\s*$", re.I)
# "What about energy? What do they plan to import?": the topic, then the actual question.
_WHAT_ABOUT_THEN = re.compile(r"^\s*(?:and\s+)?(?:what|how)\s+about\s+(?P<x>[^?]+?)\s*\?\s*(?P<rest>\S.*)$", re.I)
# "When did that happen?", "Why did Japan do this?": a demonstrative standing for the last answer.
_DEMONSTRATIVE = re.compile(
    r"\b(?:did|does|do|was|is|were|are|will|would|has|had|can|could)\s+(?:that|this)\b"
    r"|\b(?:that|this)\s*[?.!]*\s*$",
    re.I,
)
FRAGMENT_WORDS = 4
_AND_X = re.compile(
    r"^\s*and\s+(?P<x>(?!(?:what|who|whom|how|when|where|why|which|did|does|do|is|are|was|were)\b)[^?]{1,40}?)\s*\?\s*$",
    re.I,
)
_TOPIC = re.compile(r"^(?P<head>.*\b(?:about|regarding|on|concerning|for|with))\s+[^?]+\?*\s*$", re.I)
_DROP_PRONOUN = re.compile(r"\s*\b(?:(?:to|about|with|for|on|of|at|from)\s+)?(?:it|them)\b", re.I)
_PRONOUN = re.compile(r"\b(" + "|".join(list(_PERSON) + list(_THING)) + r")\b", re.I)
_OBJECT_PRONOUN = re.compile(
    r"\b(?:him|her|it|them)(?=\s*[?.!]*\s*$|\s+(?:to|about|with|for|in|on|at|from|after|before|during)\b)", re.I
)


@dataclass(frozen=True)
class Turn:
    """A previous question as asked, as resolved, and what its answer was about."""

    question: str
    resolved: str
    short_answer: str | None = None
    answer_kind: AnswerKind | None = None
    quotes: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()


def entities(text: str) -> list[str]:
    """Capitalised name sequences, without a sentence-initial question word or pronoun. A
    lone capitalised word opening the text is not taken for a name: questions open with
    "Normally, ..." or "Besides ..." far more often than with a bare name."""
    found = []
    for match in NAME.finditer(text):
        words = match.group().split()
        while words and words[0].lower() in _LEADING:
            words = words[1:]
        if len(words) == 1 and words == match.group().split() and not text[: match.start()].strip(" \"'“‘("):
            continue
        if words:
            name = " ".join(words).removesuffix("'s").removesuffix("’s")
            found.append(name if INITIALISM_END.search(name) else name.rstrip("."))
    return found


def needs_context(question: str) -> bool:
    """Whether a question leans on an earlier turn: "what about ...", a pronoun with no name
    before it in the question itself ("what does Tokyo consider its ..." stands alone), or an
    object pronoun, which points outside the question even after a name ("how did China
    react to it?")."""
    if _WHAT_ABOUT.match(question) or _WHAT_ABOUT_THEN.match(question) or _AND_X.match(question):
        return True
    if _OBJECT_PRONOUN.search(question) or _DEMONSTRATIVE.search(question) or is_fragment(question):
        return True
    pronoun = _PRONOUN.search(question)
    return pronoun is not None and not entities(question[: pronoun.start()])


def is_fragment(question: str) -> bool:
    """A few words with at most one content word and no name ("Starting when?", "Why?"),
    which only mean something as a continuation of the previous question."""
    return len(question.split()) <= FRAGMENT_WORDS and len(tokenize(question)) <= 1 and not entities(question)


def _referent(short: str | None, person: bool) -> str | None:
    """The previous short answer when it can stand in for a pronoun: a name for "he"/"she",
    a short phrase without clause punctuation for "it"/"they". A reader's span is whatever it
    found, sometimes a clause or a dateline, and the question a pronoun sits in must still
    read as a question (it is shown to the user as "read as")."""
    if not short:
        return None
    short = short.strip()
    if person:
        return short if NAME.fullmatch(short) else None
    plain = len(short.split()) <= MAX_REFERENT_WORDS and not re.search(r"[,;:()\[\]]|[.!?]$", short)
    return short if plain else None


def _settled(turn: Turn, person: bool) -> str | None:
    """A who-question's answer settles "he"/"she" on its own, when it is a name."""
    return _referent(turn.short_answer, True) if person and turn.answer_kind == AnswerKind.PERSON else None


def _referents(turn: Turn, person: bool) -> list[str]:
    """What a pronoun may point back to, most likely first: the settled name, else the names
    the previous question used and its answer."""
    settled = _settled(turn, person)
    if settled:
        return [settled]
    names = entities(turn.resolved)
    answer = _referent(turn.short_answer, person)
    found: list[str | None] = [*names, answer] if person else [answer, *names]
    return list(dict.fromkeys(n for n in found if n))[:MAX_READINGS]


def _substitute(question: str, person: bool, referent: str) -> str:
    """Replace the first pronoun of one kind; later ones of that kind usually refer back to
    it ("what did he discuss with his counterpart?")."""
    table = _PERSON if person else _THING
    for match in _PRONOUN.finditer(question):
        word = match.group(1).lower()
        if word in table:
            return question[: match.start()] + referent + table[word] + question[match.end() :]
    return question


def _pronoun_readings(question: str, previous: Turn) -> list[str]:
    pronoun = _PRONOUN.search(question)
    if pronoun is None:  # a demonstrative or a fragment means nothing without the previous question
        return [f"{question} {previous.resolved}"]
    first = pronoun.group(1).lower()
    person = first in _PERSON
    referents = _referents(previous, person)
    readings = [_substitute(question, person, r) for r in referents]
    if _settled(previous, person):
        return readings
    readings.append(f"{question} {previous.resolved}")
    if entities(question):  # "how did China react to it?" may stand on its own without "it"
        readings.append(_DROP_PRONOUN.sub("", question, count=1))
    return readings


def _what_about_readings(x: str, previous: Turn) -> list[str]:
    """X in place of each name of the previous question, or X added to it."""
    names = entities(previous.resolved)[:MAX_READINGS]
    readings = [previous.resolved.replace(name, x, 1) for name in names]
    topic = _TOPIC.match(previous.resolved)
    if topic:  # "what did Japan pledge about investments?" -> "... about LNG?"
        readings.append(f"{topic.group('head')} {x}?")
    return readings + [f"{previous.resolved.rstrip('?')} {x}?"]


def readings(question: str, history: list[Turn]) -> list[str]:
    """Ways to read the question on its own, most likely first, at most ``MAX_READINGS``;
    just the question when it does not lean on the conversation. The caller keeps the reading
    the corpus supports best."""
    return _readings(question, history)[:MAX_READINGS]


def _readings(question: str, history: list[Turn]) -> list[str]:
    if not history or not needs_context(question):
        return [question]
    previous = history[-1]
    then = _WHAT_ABOUT_THEN.match(question)
    if then:
        rest, x = then.group("rest"), then.group("x")
        return [f"{r} {x}" for r in _readings(rest, history)]
    match = _WHAT_ABOUT.match(question) or _AND_X.match(question)
    if match:
        return list(dict.fromkeys(_what_about_readings(match.group("x"), previous)))
    return list(dict.fromkeys(_pronoun_readings(question, previous)))

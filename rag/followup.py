"""Resolve follow-up questions against the conversation, without a language model.

"What did he say?" after "Who is the defense secretary?" becomes "What did Pete Hegseth
say?": pronouns are replaced by the entity the previous turn was about (its short answer
when it asked *who*, else the names it mentioned), and "what about X?" reuses the
previous question with X in place of its entity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PERSON = {"he": "", "him": "", "she": "", "his": "'s", "her": "'s", "hers": "'s", "himself": "", "herself": ""}
_THING = {"it": "", "its": "'s", "they": "", "them": "", "their": "'s", "theirs": "'s"}
_LEADING = frozenset(
    "what who whom whose which when where why how did does do is are was were will would can could "
    "should has have had and but also the a an in on at to for of".split()
)
_WHAT_ABOUT = re.compile(r"^\s*(?:and\s+)?(?:what|how)\s+about\s+(?P<x>.+?)\s*\??\s*$", re.I)
_AND_X = re.compile(
    r"^\s*and\s+(?P<x>(?!(?:what|who|whom|how|when|where|why|which|did|does|do|is|are|was|were)\b)[^?]{1,40}?)\s*\?\s*$",
    re.I,
)
_NAME = re.compile(r"[A-Z][\w’'.-]*(?:\s+(?:of\s+|de\s+|the\s+)?[A-Z][\w’'.-]*)*")
_INITIALISM_END = re.compile(r"\b(?:[A-Z]\.){2,}$")
_PRONOUN = re.compile(r"\b(" + "|".join(list(_PERSON) + list(_THING)) + r")\b", re.I)


@dataclass(frozen=True)
class Turn:
    """A previous question as asked, as resolved, and what its answer was about."""

    question: str
    resolved: str
    short_answer: str | None = None
    answer_kind: str | None = None


def entities(text: str) -> list[str]:
    """Capitalised name sequences, without a sentence-initial question word or pronoun."""
    found = []
    for match in _NAME.finditer(text):
        words = match.group().split()
        while words and words[0].lower() in _LEADING | set(_PERSON) | set(_THING) | {"i"}:
            words = words[1:]
        if words:
            name = " ".join(words).removesuffix("'s").removesuffix("’s")
            found.append(name if _INITIALISM_END.search(name) else name.rstrip("."))
    return found


def needs_context(question: str) -> bool:
    """Whether a question leans on an earlier turn (pronoun or "what about ...")."""
    return bool(_PRONOUN.search(question) or _WHAT_ABOUT.match(question) or _AND_X.match(question))


def _focus(turn: Turn, person: bool) -> str | None:
    """The entity a turn was about: its short answer for who-questions, else its first name."""
    if turn.short_answer and (turn.answer_kind == "person" or not person):
        return turn.short_answer
    names = entities(turn.resolved)
    return names[0] if names else turn.short_answer


def _replace_pronouns(question: str, previous: Turn) -> str:
    """Replace the first pronoun of each kind (person, thing); later ones of the same kind
    usually refer back to it ("what did he discuss with his counterpart?")."""
    done: set[bool] = set()

    def sub(match: re.Match) -> str:
        word = match.group(1).lower()
        person = word in _PERSON
        entity = _focus(previous, person=person)
        if person in done or not entity:
            return match.group(0)
        done.add(person)
        return entity + (_PERSON if person else _THING)[word]

    return _PRONOUN.sub(sub, question)


def _what_about(x: str, previous: Turn) -> str:
    names = entities(previous.resolved)
    if names:
        return previous.resolved.replace(names[0], x, 1)
    return f"{previous.resolved.rstrip('?')} {x}?"


def resolve(question: str, history: list[Turn]) -> str:
    """The question rewritten to stand on its own (unchanged if it already does)."""
    if not history or not needs_context(question):
        return question
    previous = history[-1]
    match = _WHAT_ABOUT.match(question) or _AND_X.match(question)
    if match:
        return _what_about(match.group("x"), previous)
    return _replace_pronouns(question, previous)

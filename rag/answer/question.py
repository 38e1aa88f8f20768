"""Question analysis: what a question asks for, and the spans of a sentence that could be
such an answer (dates, amounts, percentages, names). Generic English patterns, not fitted to
any question set; the learned reader uses them only as one feature among others."""

from __future__ import annotations

import re

from ..patterns import CAPITALISED as _CAPITALISED
from ..patterns import INITIALISM_END as _INITIAL_END
from ..patterns import MONTH as _MONTH
from ..types import AnswerKind


def _words(*alternatives: str) -> str:
    return "(?:" + "|".join(alternatives) + ")"


_KIND_SOURCES = [
    (AnswerKind.PERCENT, r"\b(what|which) (percentage|percent|share|proportion)\b|\bby how much\b"),
    (AnswerKind.DATE, r"^\s*when\b|\b(what|which) (date|day|month|year|time)\b|\bhow long ago\b"),
    (
        AnswerKind.AMOUNT,
        r"\bhow (much|many|large|big)\b|\b(what|which)\b(\s+\w+){0,4}\s+"
        + _words("amount", "number", "sum", "budget", "figure", "cost", "price", "tariff", "rate")
        + r"s?\b",
    ),
    (
        AnswerKind.PERSON,
        r"^\s*(who|whom)\b|\b(which|what) "
        + _words("person", "official", "minister", "leader", "president", "secretary", "spokesman", "spokesperson")
        + r"\b",
    ),
    (
        AnswerKind.PLACE,
        r"^\s*where\b|\b(which|what) "
        + _words("country", "countries", "city", "cities", "place", "nations?", "region", "seas?", "islands?", "state")
        + r"\b",
    ),
]
_KIND_PATTERNS = [(kind, re.compile(pattern, re.I)) for kind, pattern in _KIND_SOURCES]

_SCALE = r"(?:\s(?:trillion|billion|million|thousand|hundred))"
_APPROX = r"(?:(?:about|around|nearly|almost|over|more than|some|roughly|at least|up to)\s)?"
_NUMBER_WORD = _words(
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "twenty",
    "thirty",
    "forty",
    "fifty",
    "hundreds",
    "thousands",
    "millions",
    "dozens?",
)
_YEAR = r"(?:1[0-9]|20)\d{2}"
# A counted noun after a number ("11 players"), but not a function word ("2017 and").
_COUNTED = r"\s(?!(?:and|or|the|to|of|in|on|at|by|for|with|from|has|have|had|is|was|were|as|than)\b)[a-z][a-z-]+"
_SPAN_PATTERNS = {
    AnswerKind.DATE: re.compile(
        rf"\b{_MONTH}\s+\d{{1,2}}(?:,\s*\d{{4}})?\b|\b{_MONTH}\s+\d{{4}}\b|\b(?:early|mid|late)?-?{_MONTH}\b(?:\s+\d{{4}})?"
        r"|\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b"
        rf"|\b(?:in|since|by|until|during) (?:the )?{_YEAR}s?\b|\b{_YEAR}s?\b|\b\d{{1,2}}(?:st|nd|rd|th) century\b"
        r"|\b(?:last|next|this) (?:week|month|year|summer|winter|spring|autumn|fall)\b"
        r"|\bin the coming (?:days|weeks|months|years)\b"
    ),
    AnswerKind.PERCENT: re.compile(rf"\b{_APPROX}\d+(?:\.\d+)?\s?(?:%|percent\b|per cent\b)"),
    AnswerKind.AMOUNT: re.compile(
        rf"{_APPROX}(?:[$€£¥]\s?\d[\d,.]*{_SCALE}?|\b\d[\d,.]*\s?%"
        rf"|\b\d[\d,.]*{_SCALE}(?:{_COUNTED})?|\b(?!{_YEAR}\b)\d[\d,.]*(?:{_COUNTED})?"
        rf"|\b{_NUMBER_WORD}\b(?:{_COUNTED})?)"
    ),
}
_TITLES = re.compile(
    r"^(?:(?:The|A|U\.S\.|U\.K\.|American|British|Chinese|French|German|Japanese|Korean|Russian|Former|former|Vice|"
    r"Prime|Minister|Defense|Defence|Foreign|Finance|Secretary|President|Chief|Cabinet|Chairman|Governor|Mayor|"
    r"Senator|General|Director|Ambassador|Gen\.|Mr\.?|Ms\.?|Mrs\.?|Dr\.?|Sen\.?|Rep\.?|Gov\.?)\s+)+"
)


def question_kind(question: str) -> AnswerKind:
    for kind, pattern in _KIND_PATTERNS:
        if pattern.search(question):
            return kind
    return AnswerKind.OTHER


def _person_name(value: str) -> tuple[int, str]:
    """The name inside a capitalised run: after the last possessive, without leading titles
    ("Japan's Prime Minister Shigeru Ishiba" -> "Shigeru Ishiba")."""
    offset = 0
    possessive = list(re.finditer(r"['’]s\s+", value))
    if possessive:
        offset = possessive[-1].end()
    lead = _TITLES.match(value[offset:] + " ")
    if lead:
        offset += min(lead.end(), len(value) - offset)
    name = value[offset:]
    # A lone capitalised word counts as a name only after a title ("Minister Nakatani").
    if len(name.split()) < 2 and not lead:
        return offset, ""
    return offset, name


def _name_spans(text: str, question_words: set[str], person: bool) -> list[tuple[int, int]]:
    """Capitalised sequences that do not repeat the question (just the name, for people)."""
    spans = []
    for match in _CAPITALISED.finditer(text):
        start, value = match.start(), match.group().rstrip(",’'")
        if value.endswith(".") and not _INITIAL_END.search(value):
            value = value.rstrip(".")
        if person:
            offset, value = _person_name(value)
            start += offset
            if not value or value.split()[0].lower() in question_words:
                continue
        if not value or match.start() == 0 and value.split()[0].lower() in {"the", "a", "in", "on", "as", "it", "this"}:
            continue
        if {w.lower() for w in re.findall(r"\w+", value)} <= question_words:
            continue
        spans.append((start, start + len(value)))
    return spans


def short_spans(text: str, kind: AnswerKind, question: str) -> list[tuple[int, int]]:
    """Spans of ``text`` that could answer a question of this kind, excluding the question's own words."""
    if kind is AnswerKind.OTHER:
        return []
    q_words = {w.lower() for w in re.findall(r"\w+", question)}
    if kind in (AnswerKind.PERSON, AnswerKind.PLACE):
        return _name_spans(text, q_words, person=kind is AnswerKind.PERSON)
    pattern = _SPAN_PATTERNS[AnswerKind.AMOUNT if kind is AnswerKind.AMOUNT else kind]
    spans = [(m.start(), m.end()) for m in pattern.finditer(text)]
    if kind is AnswerKind.PERCENT:
        spans += [(m.start(), m.end()) for m in _SPAN_PATTERNS[AnswerKind.AMOUNT].finditer(text) if "%" in m.group()]
    return [(s, e) for s, e in spans if not set(re.findall(r"\w+", text[s:e].lower())) <= q_words]

"""Text patterns shared by several stages, defined once.

Each is plain English orthography, not fitted to any question set: month names as news
copy writes them, capitalised runs of words (names), and initialisms written with periods.
"""

from __future__ import annotations

import re

# A month name in full or abbreviated, with or without the abbreviation's period
# ("January", "Jan.", "Sept.", "May"); a non-capturing group to embed in larger patterns.
MONTH = (
    r"(?:Jan(?:uary|\.)?|Feb(?:ruary|\.)?|Mar(?:ch|\.)?|Apr(?:il|\.)?|May|June?|July?|Aug(?:ust|\.)?"
    r"|Sep(?:tember|t?\.)?|Oct(?:ober|\.)?|Nov(?:ember|\.)?|Dec(?:ember|\.)?)"
)

# A capitalised word, inner apostrophes, periods and hyphens included ("O'Neill", "U.S.", "Jean-Luc").
NAME_WORD = r"[A-Z][\w’'.-]*"


def capitalised_run(*joiners: str) -> str:
    """A run of capitalised words, which may be joined by the given lower-case words
    ("Ministry of Defense", "Charles de Gaulle")."""
    joined = "|".join(rf"{word}\s+" for word in joiners)
    return rf"{NAME_WORD}(?:\s+(?:{joined})?{NAME_WORD})*"


# A name as a follow-up question refers to it ("the Ministry of Defense", "the Sea of Japan").
NAME = re.compile(capitalised_run("of", "de", "the"))
# A capitalised run in a sentence, a candidate short answer ("Ishiba and Trump" stays one span).
CAPITALISED = re.compile(r"\b" + capitalised_run("of", "and", "de"))
# An initialism with periods at the end of a run ("U.S."): its final period is part of it.
INITIALISM_END = re.compile(r"\b(?:[A-Z]\.){2,}$")
# A date as news copy writes it: "January 5, 2025", "Jan. 5, 2025".
MONTH_DAY_YEAR = re.compile(rf"\b{MONTH}\s+\d{{1,2}},\s+\d{{4}}\b")

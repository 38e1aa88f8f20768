"""Publication dates as found in pages, document properties and running text, read into ISO dates.

Sources of the formats: HTML ``<meta>`` / JSON-LD (ISO 8601), PDF document info
(``D:YYYYMMDDHHmmSS``, PDF 1.7 section 7.9.4), DOCX core properties (W3CDTF), and the
way news text writes dates ("January 21, 2025", "21 Jan 2025").
"""

from __future__ import annotations

import re
from datetime import date, datetime

MONTHS = {
    m: i
    for i, names in enumerate(
        (
            ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
            ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
            ("oct", "october"), ("nov", "november"), ("dec", "december"),
        ),
        1,
    )
    for m in names
}
_MONTH = r"(?P<month>Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t|tember)?|" \
         r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
_ISO = re.compile(r"(?<!\d)(?P<year>\d{4})-(?P<m>\d{2})-(?P<day>\d{2})(?!\d)")
_PDF = re.compile(r"^D:(?P<year>\d{4})(?P<m>\d{2})(?P<day>\d{2})")
_MDY = re.compile(_MONTH + r"\s+(?P<day>\d{1,2}),\s+(?P<year>\d{4})\b", re.I)
_DMY = re.compile(r"\b(?P<day>\d{1,2})\s+" + _MONTH + r",?\s+(?P<year>\d{4})\b", re.I)
TEXT_DATE = re.compile(f"(?:{_MDY.pattern})|(?:{_DMY.pattern.replace('?P<', '?P<d_')})", re.I)
DISPLAY = "%d %b %Y"  # "21 Jan 2025", as citations show it


def _make(year: str, month: int, day: str) -> date | None:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def parse_date(value: object) -> date | None:
    """The date a string states (ISO, PDF ``D:``, "January 21, 2025", "21 Jan 2025"), or None."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    for pattern in (_PDF, _ISO):
        m = pattern.search(text)
        if m:
            return _make(m["year"], int(m["m"]), m["day"])
    for pattern in (_MDY, _DMY):
        m = pattern.search(text)
        if m:
            return _make(m["year"], MONTHS[m["month"].lower().rstrip(".")], m["day"])
    return None


def iso(value: object) -> str | None:
    """``parse_date`` as an ISO string (the form stored in the index and compared by filters)."""
    found = parse_date(value)
    return found.isoformat() if found else None


def display(iso_date: str | None) -> str | None:
    """"2025-01-21" -> "21 Jan 2025"; None stays None."""
    found = parse_date(iso_date) if iso_date else None
    return display_date(found) if found else None


def display_date(value: date) -> str:
    """A date as citations show it: "21 Jan 2025"."""
    return value.strftime(DISPLAY).lstrip("0")


def find_in_text(text: str, start: int = 0) -> re.Match | None:
    """The first date (from ``start`` on) written the way news text writes them."""
    return TEXT_DATE.search(text, start)

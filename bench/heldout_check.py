"""Consistency checks for a blind held-out news set (``bench/heldout_news2``, ``heldout_news3``).

    python3 bench/heldout_check.py bench/heldout_news3

Standard library only, so it runs without the project installed (``tests/test_heldout_sets.py``
runs it too).

The sets are written by hand, blind; these checks catch what breaks them silently: an answer
that is not verbatim in its article (it could never be hit), a missing source, a duplicate
id, an article outside the format the questions assume.

Checks:
  * every corpus article: headline on line 1, blank line 2, text on line 3, the first
    paragraph starting with a dateline "... (Wire) — ", 350-700 words;
  * qa.jsonl / followups.jsonl: required fields, every source file exists, every answer
    string occurs verbatim (case-insensitive) in a source; follow-ups carry a history;
  * unanswerable.jsonl: required fields;
  * ids unique across the three files; with :class:`Expected`, their prefixes and the counts.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

MIN_WORDS, MAX_WORDS = 350, 700  # the article length the sets' READMEs promise
DATELINE = re.compile(r"^[A-Z][A-Z .,'-]*(, [A-Za-z .]+)?, [A-Z][a-z]+ \d{1,2} \(Wire\) — \S")
NAME = re.compile(r"^\d{2}_[a-z0-9_]+\.txt$")
FILES = ("qa.jsonl", "unanswerable.jsonl", "followups.jsonl")


@dataclass(frozen=True)
class Expected:
    """What a set's README promises: counts per file, items per article and id prefixes."""

    articles: int
    rows: dict[str, int]  # file name -> number of rows
    per_article: dict[str, int] = field(default_factory=dict)  # file name -> items citing each article
    prefixes: dict[str, str] = field(default_factory=dict)  # file name -> id prefix


def _load_jsonl(path: Path, problems: list[str]) -> list[dict]:
    if not path.is_file():
        problems.append(f"{path.name}: missing")
        return []
    rows = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                problems.append(f"{path.name}:{i}: invalid JSON ({exc})")
    return rows


def _check_article(name: str, text: str) -> list[str]:
    problems = [] if NAME.match(name) else [f"corpus/{name}: file name does not match NN_slug.txt"]
    lines = text.split("\n")
    if len(lines) < 3 or not lines[0].strip():
        problems.append(f"corpus/{name}: first line must be a non-empty headline")
    elif lines[1].strip():
        problems.append(f"corpus/{name}: second line must be blank")
    elif not DATELINE.match(lines[2]):
        problems.append(f"corpus/{name}: first paragraph lacks a dateline like 'OSLO, March 3 (Wire) — '")
    words = len(text.split())
    if not MIN_WORDS <= words <= MAX_WORDS:
        problems.append(f"corpus/{name}: {words} words, outside {MIN_WORDS}-{MAX_WORDS}")
    return problems


def _check_ids(sets: dict[str, list[dict]], prefixes: dict[str, str]) -> list[str]:
    problems: list[str] = []
    seen: dict[str, str] = {}
    for fname, rows in sets.items():
        for row in rows:
            rid = str(row.get("id") or "")
            if not rid:
                problems.append(f"{fname}: row without id: {row}")
                continue
            if rid in seen:
                problems.append(f"{fname}: duplicate id {rid} (also in {seen[rid]})")
            seen[rid] = fname
            if fname in prefixes and not rid.startswith(prefixes[fname]):
                problems.append(f"{fname}: id {rid} does not start with {prefixes[fname]}")
            if not isinstance(row.get("question"), str) or not row["question"].strip():
                problems.append(f"{fname}:{rid}: missing question")
    return problems


def _check_answerable(fname: str, rows: list[dict], texts: dict[str, str]) -> list[str]:
    problems = []
    for row in rows:
        rid = row.get("id", "?")
        history = row.get("history")
        if fname == "followups.jsonl" and not (
            isinstance(history, list) and history and all(isinstance(h, str) and h.strip() for h in history)
        ):
            problems.append(f"{fname}:{rid}: history must be a non-empty list of strings")
        answers, sources = row.get("answers"), row.get("sources")
        if not isinstance(answers, list) or not answers:
            problems.append(f"{fname}:{rid}: answers must be a non-empty list")
            answers = []
        if not isinstance(sources, list) or not sources:
            problems.append(f"{fname}:{rid}: sources must be a non-empty list")
            sources = []
        missing = [s for s in sources if s not in texts]
        problems += [f"{fname}:{rid}: source file corpus/{s} does not exist" for s in missing]
        cited = "\n".join(texts[s].lower() for s in sources if s in texts)
        for answer in answers:
            if not isinstance(answer, str) or not answer.strip():
                problems.append(f"{fname}:{rid}: empty/non-string answer {answer!r}")
            elif cited and answer.lower() not in cited:
                problems.append(f"{fname}:{rid}: answer {answer!r} not found verbatim in {sources}")
    return problems


def _check_counts(expected: Expected, texts: dict[str, str], sets: dict[str, list[dict]]) -> list[str]:
    problems = []
    if len(texts) != expected.articles:
        problems.append(f"corpus/: {len(texts)} articles, expected {expected.articles}")
    for fname, n in expected.rows.items():
        if len(sets[fname]) != n:
            problems.append(f"{fname}: {len(sets[fname])} rows, expected {n}")
    for fname, n in expected.per_article.items():
        cites = Counter(s for row in sets[fname] for s in row.get("sources") or [])
        problems += [
            f"{fname}: {cites[name]} items cite {name}, expected {n}" for name in sorted(texts) if cites[name] != n
        ]
    return problems


def check(root: Path, expected: Expected | None = None) -> list[str]:
    """Every problem found in the set under ``root`` (empty when it is consistent)."""
    problems: list[str] = []
    corpus = root / "corpus"
    texts = {p.name: p.read_text(encoding="utf-8") for p in sorted(corpus.glob("*")) if p.is_file()}
    if not texts:
        problems.append("corpus/: missing or empty")
    for name, text in texts.items():
        problems += _check_article(name, text)
    sets = {fname: _load_jsonl(root / fname, problems) for fname in FILES}
    problems += _check_ids(sets, expected.prefixes if expected else {})
    for fname in ("qa.jsonl", "followups.jsonl"):
        problems += _check_answerable(fname, sets[fname], texts)
    if expected:
        problems += _check_counts(expected, texts, sets)
    return problems


def _promised(articles: int, number: str) -> Expected:
    """What heldout_news2 and 3 promise: 6 questions, 2 unanswerable and 1 follow-up per article."""
    return Expected(
        articles=articles,
        rows={"qa.jsonl": 6 * articles, "unanswerable.jsonl": 2 * articles, "followups.jsonl": articles},
        per_article={"qa.jsonl": 6, "followups.jsonl": 1},
        prefixes={"qa.jsonl": f"n{number}_", "unanswerable.jsonl": f"u{number}_", "followups.jsonl": f"f{number}_"},
    )


SETS = {"heldout_news2": _promised(12, "2"), "heldout_news3": _promised(16, "3")}  # from each set's README


def main(argv: list[str]) -> int:
    """Print the problems (or OK) of each set folder named in ``argv``; exit status 1 when any."""
    if not argv:
        print(__doc__)
        return 2
    status = 0
    for folder in map(Path, argv):
        problems = check(folder, SETS.get(folder.resolve().name))
        for problem in problems:
            print(f"  - {folder}: {problem}")
        print(f"{folder}: {len(problems)} problem(s)" if problems else f"{folder}: OK, no problems found")
        status |= bool(problems)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

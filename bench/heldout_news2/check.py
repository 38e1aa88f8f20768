#!/usr/bin/env python3
"""Sanity checks for the heldout_news2 set: `python3 check.py` (standard library only; the
checks themselves are in bench/heldout_check.py, shared by the blind news sets)."""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from heldout_check import Expected, main  # noqa: E402

EXPECTED = Expected(
    articles=12,
    rows={"qa.jsonl": 72, "unanswerable.jsonl": 24, "followups.jsonl": 12},
    per_article={"qa.jsonl": 6, "followups.jsonl": 1},
    prefixes={"qa.jsonl": "n2_", "unanswerable.jsonl": "u2_", "followups.jsonl": "f2_"},
)

if __name__ == "__main__":
    sys.exit(main(HERE, EXPECTED))

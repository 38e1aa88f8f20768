#!/usr/bin/env python3
"""Sanity checks for the heldout_news3 set: `python3 check.py` (standard library only; the
checks themselves are in bench/heldout_check.py, shared by the blind news sets)."""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from heldout_check import Expected, main  # noqa: E402

EXPECTED = Expected(
    articles=16,
    rows={"qa.jsonl": 96, "unanswerable.jsonl": 32, "followups.jsonl": 16},
    per_article={"qa.jsonl": 6, "followups.jsonl": 1},
    prefixes={"qa.jsonl": "n3_", "unanswerable.jsonl": "u3_", "followups.jsonl": "f3_"},
)

if __name__ == "__main__":
    sys.exit(main(HERE, EXPECTED))

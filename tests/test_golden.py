"""Golden test: every eval question (dev and extra sets) answered exactly as before issue 9's
refactor. ``tests/golden/answers.json`` holds the complete ``Answer.to_json()`` of each item of
``eval/*.jsonl`` (file order as sorted), answered by the default assistant over an index of
``seeds/`` built with the real model; it was written by the code before the refactor with

    PYTHONPATH=. HF_HUB_OFFLINE=1 python tests/test_golden.py --write

and is only rewritten on purpose, when a change of answers is intended."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from rag import Assistant
from rag.evaluation import load_items

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "answers.json"


def answers_of(assistant: Assistant) -> list[dict]:
    """The complete JSON answer to every eval item, in file order."""
    items = load_items(sorted((ROOT / "eval").glob("*.jsonl")))
    return [{"id": item.id, **assistant.ask(item.question, list(item.history)).to_json()} for item in items]


@pytest.mark.slow
def test_answers_match_the_golden_file(assistant):
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    actual = answers_of(assistant)
    assert [a["id"] for a in actual] == [g["id"] for g in golden]
    for got, expected in zip(actual, golden):
        assert got == expected, got["id"]


def _write() -> None:
    import tempfile

    from rag import SentenceTransformerEmbedder, build_index

    embedder = SentenceTransformerEmbedder().load()
    with tempfile.TemporaryDirectory() as tmp:
        build_index(ROOT / "seeds", tmp, embedder)
        answers = answers_of(Assistant(tmp, embedder=embedder).load())
    GOLDEN.write_text(json.dumps(answers, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(answers)} answers to {GOLDEN}")


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/test_golden.py --write  (rewrites the golden answers)")
    _write()

"""The blind held-out news sets stay consistent (bench/heldout_check.py): every answer verbatim
in its cited article, counts and ids as their READMEs promise."""

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _load_checker():
    spec = importlib.util.spec_from_file_location("heldout_check", BENCH / "heldout_check.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


heldout_check = _load_checker()


@pytest.mark.parametrize("name", ["heldout_news2", "heldout_news3"])
def test_shipped_set_is_consistent(name):
    assert heldout_check.check(BENCH / name, heldout_check.SETS[name]) == []


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _write(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


@pytest.fixture
def small_set(tmp_path):
    """heldout_news3 cut to its first article and that article's questions."""
    source = BENCH / "heldout_news3"
    (tmp_path / "corpus").mkdir()
    article = sorted((source / "corpus").glob("*.txt"))[0]
    shutil.copy(article, tmp_path / "corpus" / article.name)
    for fname in ("qa.jsonl", "unanswerable.jsonl", "followups.jsonl"):
        keep = [r for r in _rows(source / fname) if r.get("sources", [article.name]) == [article.name]][:2]
        _write(tmp_path / fname, keep)
    return tmp_path


def _rewrite(path: Path, change) -> None:
    rows = _rows(path)
    change(rows)
    _write(path, rows)


def test_small_set_passes(small_set):
    assert heldout_check.check(small_set) == []


@pytest.mark.parametrize(
    ("fname", "change", "reported"),
    [
        ("qa.jsonl", lambda rows: rows[0].update(answers=["a phrase in no article"]), "not found verbatim"),
        ("qa.jsonl", lambda rows: rows[0].update(sources=["99_missing.txt"]), "does not exist"),
        ("unanswerable.jsonl", lambda rows: rows[1].update(id=rows[0]["id"]), "duplicate id"),
        ("followups.jsonl", lambda rows: rows[0].update(history=[]), "history"),
    ],
)
def test_broken_set_is_reported(small_set, fname, change, reported):
    _rewrite(small_set / fname, change)
    problems = heldout_check.check(small_set)
    assert any(reported in p for p in problems), problems


def test_command_line_exit_status(small_set, capsys):
    assert heldout_check.main([str(small_set)]) == 0
    _rewrite(small_set / "qa.jsonl", lambda rows: rows[0].update(answers=["a phrase in no article"]))
    assert heldout_check.main([str(small_set)]) == 1
    assert "not found verbatim" in capsys.readouterr().out


def test_wrong_counts_and_prefixes_are_reported(small_set):
    expected = heldout_check.Expected(articles=2, rows={"qa.jsonl": 6}, prefixes={"qa.jsonl": "x_"})
    problems = heldout_check.check(small_set, expected)
    assert any("1 articles, expected 2" in p for p in problems)
    assert any("2 rows, expected 6" in p for p in problems)
    assert any("does not start with x_" in p for p in problems)

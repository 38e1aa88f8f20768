"""The whole pipeline on seeds/ with the real model, scored on the dev question sets."""

from pathlib import Path

import pytest

from rag.evaluation import DEFAULT_FILES, evaluate

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def scores(assistant):
    return evaluate(assistant, [ROOT / f for f in DEFAULT_FILES], baselines=True)


def test_dev_sets_meet_the_bar(scores):
    row = scores[0].table_row()
    assert row["answer_hit"] >= 0.95
    assert row["source_hit"] >= 0.95
    assert row["abstention"] >= 0.9
    assert row["false_abstention"] <= 0.05
    assert row["followup_answered"] == 1.0
    assert row["verbatim"] == 1.0
    assert row["comment_as_reporting"] == 0


def test_beats_the_textbook_baselines(scores):
    rows = {s.name: s.table_row() for s in scores}
    ours = rows["ours: linear"]
    dense, bm25 = rows["baseline: dense top-1 sentence"], rows["baseline: bm25 top-1 sentence"]
    assert ours["answer_hit"] > dense["answer_hit"]
    assert ours["answer_hit"] >= bm25["answer_hit"]
    assert ours["abstention"] > max(dense["abstention"], bm25["abstention"])


def test_confidence_separates_right_from_wrong(scores):
    calibration = scores[0].calibration()
    assert calibration["mean_conf_right"] > calibration["mean_conf_wrong"]
    assert calibration["auroc_right_vs_wrong"] >= 0.8

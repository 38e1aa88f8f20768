"""The quality gate: the whole pipeline on seeds/ with the real model and both answer
strategies, the default (the learned reader) and the fallback (the linear scorer), on the dev
sets (used to set the linear scorer's weights) and on the held-out extra sets (used for
neither), next to the textbook baselines.

The thresholds are the values measured when each gate was written (all questions, this corpus):

=========================  ==========================  ==========================
                           dev (``eval/dev_*``)        extra (``eval/extra*``)
=========================  ==========================  ==========================
questions                  20 + 5 unanswerable + 2     25 + 8 unanswerable + 20
                           follow-ups                  follow-ups
answer hit, reader/linear  1.00 / 1.00                 1.00 / 0.96
source hit                 1.00 / 1.00                 1.00 / 0.96
abstention                 0.80 / 1.00                 1.00 / 0.875
false abstention           0.00 / 0.00                 0.022 / 0.022
follow-up hit              0.50 / 0.50                 0.80 / 0.80
follow-up answered         1.00 / 1.00                 0.95 / 0.95
verbatim, comments         1.00, 0                     1.00, 0
AUROC (confidence)         0.929 / 0.952               0.994 / 0.933
precision of answers       0.913 (21 of 23) /          0.932 (41 of 44) /
                           0.955 (21 of 22)            0.889 (40 of 45)
dense / BM25 answer hit    0.65 / 0.95                 0.68 / 0.92
dense / BM25 precision     0.52 / 0.70                 0.47 / 0.64
=========================  ==========================  ==========================

The reader's one dev loss is "What is the capital of Australia?", answered from a sentence
naming Australia (tests/test_answer.py keeps it as a known miss).

A change that loses one question fails the gate: that is the point. Thresholds move only
with a measured improvement (then write the new figures here).
"""

from dataclasses import replace
from pathlib import Path

import pytest

from rag import AnswerStrategy
from rag.evaluation import DEFAULT_FILES, Scores, answer_hit, load_items, run_assistant, run_baseline

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
SETS = {
    "dev": DEFAULT_FILES,
    "extra": ("eval/extra_qa.jsonl", "eval/extra_unanswerable.jsonl", "eval/extra_followups.jsonl",
              "eval/extra2_followups.jsonl"),
}
BAR = {
    ("reader", "dev"): {"answer_hit": 1.0, "source_hit": 1.0, "abstention": 0.8, "false_abstention": 0.0,
                        "followup_hit": 0.5, "followup_answered": 1.0, "auroc": 0.92, "precision": 0.91},
    ("reader", "extra"): {"answer_hit": 1.0, "source_hit": 1.0, "abstention": 1.0, "false_abstention": 0.022,
                          "followup_hit": 0.8, "followup_answered": 0.95, "auroc": 0.99, "precision": 0.93},
    ("linear", "dev"): {"answer_hit": 1.0, "source_hit": 1.0, "abstention": 1.0, "false_abstention": 0.0,
                        "followup_hit": 0.5, "followup_answered": 1.0, "auroc": 0.95, "precision": 0.95},
    ("linear", "extra"): {"answer_hit": 0.96, "source_hit": 0.96, "abstention": 0.875, "false_abstention": 0.022,
                          "followup_hit": 0.8, "followup_answered": 0.95, "auroc": 0.93, "precision": 0.88},
}
SIZES = {"dev": 27, "extra": 53}


def test_the_reader_is_the_default(assistant):
    assert assistant.scorer.strategy is AnswerStrategy.READER  # its files ship with the repo


@pytest.fixture(scope="module")
def baselines(assistant) -> dict[str, tuple[Scores, Scores]]:
    """(dense, BM25) baseline scores of each question set, run once for both strategies."""
    out = {}
    for name, files in SETS.items():
        items = load_items([ROOT / f for f in files])
        out[name] = run_baseline(assistant, items, "dense"), run_baseline(assistant, items, "bm25")
    return out


@pytest.fixture(scope="module", params=list(BAR), ids="-".join)
def run(request, assistant, baselines) -> tuple[tuple[str, str], Scores, Scores, Scores]:
    """((strategy, set name), ours, dense baseline, BM25 baseline) on one group of question files."""
    strategy, name = request.param
    items = load_items([ROOT / f for f in SETS[name]])
    assert len(items) == SIZES[name]
    ours = assistant.variant(replace(assistant.answering, strategy=AnswerStrategy(strategy)))
    assert ours.scorer.strategy.value == strategy
    return request.param, run_assistant(ours, items), *baselines[name]


def precision(scores: Scores) -> float:
    """Share of the given answers that are right: an answerable question, a hit."""
    answered = [o for o in scores.outcomes if o.answered]
    return sum(o.item.answerable and answer_hit(o.text, o.item.answers) for o in answered) / len(answered)


def test_meets_the_bar(run):
    name, ours, _, _ = run
    row, bar = ours.table_row(), BAR[name]
    for key in ("answer_hit", "source_hit", "abstention", "followup_hit", "followup_answered"):
        assert row[key] >= bar[key], (name, key, row[key])
    assert row["false_abstention"] <= bar["false_abstention"], (name, row["false_abstention"])
    assert row["verbatim"] == 1.0 and row["comment_as_reporting"] == 0, name


def test_beats_the_textbook_baselines(run):
    """Ours finds the answer at least as often as either top-1 sentence baseline, and what it
    says is right far more often: the baselines always answer, right or wrong."""
    name, ours, dense, bm25 = run
    hits = {s.name: s.table_row()["answer_hit"] for s in (ours, dense, bm25)}
    assert hits[ours.name] > hits[dense.name] and hits[ours.name] >= hits[bm25.name], (name, hits)
    assert precision(ours) >= BAR[name]["precision"], (name, precision(ours))
    assert precision(ours) > max(precision(dense), precision(bm25)) + 0.1, name


def test_confidence_separates_right_from_wrong(run):
    name, ours, _, _ = run
    calibration = ours.calibration()
    assert calibration["mean_conf_right"] > calibration["mean_conf_wrong"]
    assert calibration["auroc_right_vs_wrong"] >= BAR[name]["auroc"], (name, calibration)

"""The reader's training examples (``models/train_reader.py``): every answer offset must
still point at the answer after the passage is edited, and negatives must hold no answer."""

from __future__ import annotations

import importlib.util
import random
import sys
from collections import Counter
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[1] / "models" / "train_reader.py"


def load_script(name: str, path: Path):
    """A script of ``models/`` as a module (they are run as files, not installed)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def train_reader():
    return load_script("train_reader_under_test", SCRIPT)


@pytest.mark.parametrize(
    ("question", "restated"),
    [
        ("Which judge threw out Yukos's attempt?", "The judge threw out Yukos's attempt."),
        ("Who is the new boss of the coal producer?", "Someone is the new boss of the coal producer."),
        ("How many jobs will the firm cut?", "Several jobs will the firm cut."),
        ("When was Martin Luther ordained as a priest?", "Martin Luther ordained as a priest."),
        ("What caused the delay?", "Something caused the delay."),
        ("Ghettotech was created in what country?", "Ghettotech was created in the country."),
        ("", ""),
    ],
)
def test_restate_turns_the_question_into_a_statement_without_its_wh_word(train_reader, question, restated):
    assert train_reader.restate(question) == restated


PARAGRAPH = (
    "A judge has dismissed an attempt by Yukos to gain bankruptcy protection. "
    "Texas Judge Letitia Clark said Yukos did not have enough of a US presence. "
    "The company said it would appeal."
)
ARTICLES = [
    {
        "title": "t",
        "file": "f.json",
        "paragraphs": [
            {
                "context": PARAGRAPH,
                "qas": [
                    {
                        "id": f"q{i}",
                        "question": "Which judge threw out Yukos's attempt?",
                        "answers": [{"text": "Letitia Clark", "answer_start": PARAGRAPH.index("Letitia Clark")}],
                    }
                    for i in range(40)
                ],
            },
            {"context": "An unrelated paragraph about the weather.", "qas": []},
        ],
    }
]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_restated_examples_keep_the_answer_offsets_and_negatives_hold_no_answer(train_reader, seed):
    made = train_reader.examples(ARTICLES, random.Random(seed), 0.5, 0.5, 0.5)
    restated = [e for e in made if e.qid.endswith("/restated")]
    negatives = [e for e in made if e.answer_start < 0]
    assert restated and any(e.qid.endswith("/removed-restated") for e in negatives)
    for e in made:
        if e.answer_start >= 0:
            assert e.context[e.answer_start : e.answer_start + len(e.answer_text)] == e.answer_text
        else:
            assert "Letitia Clark" not in e.context
    for e in restated:
        assert "The judge threw out Yukos's attempt." in e.context
        assert len(e.context) == len(PARAGRAPH) + len("The judge threw out Yukos's attempt.") + 1


@pytest.mark.parametrize("seed", [1, 7])
def test_no_restated_examples_unless_asked(train_reader, seed):
    made = train_reader.examples(ARTICLES, random.Random(seed), 0.5, 0.5)
    assert made and not any("restated" in e.qid for e in made)


CONVERTER = Path(__file__).resolve().parents[1] / "models" / "data" / "convert_extra.py"


@pytest.fixture(scope="module")
def convert_extra():
    return load_script("convert_extra_under_test", CONVERTER)


CONTEXT = "Frankie buys a revolver. Later, Frankie meets Lori in a bar."


@pytest.mark.parametrize(
    ("answers", "kept_start", "why"),
    [
        ([("Lori", 46)], 46, "kept"),
        ([("Lori", 47)], 46, "offset moved to the only occurrence"),  # off by one, text unique
        ([("Frankie", 3)], None, "offset wrong, text not unique"),
        ([("Frankie", 0), ("Lori", 46)], None, "several answer spans"),
        ([("Lori", 46), ("Lori", 46)], 46, "kept"),  # two annotators, one span
        ([("", 0)], None, "empty answer"),  # matches any context at 0, answers nothing
    ],
)
def test_converted_answers_match_their_context(convert_extra, answers, kept_start, why):
    qa = {"id": "q1", "question": "Whom?", "answers": [{"text": t, "answer_start": s} for t, s in answers]}
    counts: Counter = Counter()
    kept = convert_extra.single_span(qa, CONTEXT, counts)
    assert counts[why] == 1
    if kept_start is None:
        assert kept is None
    else:
        (answer,) = kept["answers"]
        assert answer["answer_start"] == kept_start
        assert CONTEXT[kept_start : kept_start + len(answer["text"])] == answer["text"]


def test_untitled_articles_are_named_by_their_first_question(convert_extra):
    qa = {"id": "7", "question": "Whom?", "answers": [{"text": "Lori", "answer_start": 46}]}
    articles = [{"paragraphs": [{"context": CONTEXT, "qas": [qa]}]}]
    converted, counts = convert_extra.convert(articles, "tydiqa_en")
    assert [a["title"] for a in converted] == ["tydiqa_en_7"] and counts["kept"] == 1


@pytest.fixture(scope="module")
def average_readers():
    return load_script("average_readers_under_test", SCRIPT.parent / "average_readers.py")


@pytest.mark.parametrize(("weights", "expected"), [([1.0, 1.0], [2.0, -1.0]), ([3.0, 1.0], [1.0, -0.5])])
def test_averaged_readers_are_the_weighted_mean_in_fp16(average_readers, weights, expected):
    first = {"w": torch.tensor([0.0, 0.0], dtype=torch.float16)}
    second = {"w": torch.tensor([4.0, -2.0], dtype=torch.float16)}
    averaged = average_readers.average([first, second], weights)
    assert averaged["w"].dtype == torch.float16 and averaged["w"].tolist() == expected


def test_readers_of_different_architectures_are_not_averaged(average_readers):
    with pytest.raises(ValueError, match="differ in tensors"):
        average_readers.average([{"a": torch.zeros(1)}, {"b": torch.zeros(1)}], [1.0, 1.0])

"""Extraction units, and answers on the seed corpus with the real model."""

import pytest

from rag.answer import (
    NAME_EVIDENCE_CHARS,
    AnswerConfig,
    AnswerKind,
    Candidate,
    confidence,
    missing_names,
    question_kind,
    short_spans,
)
from rag.errors import ConfigError, QuestionError


@pytest.mark.parametrize(
    "question, kind",
    [
        ("When will the leaders meet?", AnswerKind.DATE),
        ("What date was the summit?", AnswerKind.DATE),
        ("How much will Japan invest?", AnswerKind.AMOUNT),
        ("What was the total defense budget?", AnswerKind.AMOUNT),
        ("By how much did tonnage grow?", AnswerKind.PERCENT),
        ("Who is the defense secretary?", AnswerKind.PERSON),
        ("Where is Ishiba travelling?", AnswerKind.PLACE),
        ("Which countries did he visit?", AnswerKind.PLACE),
        ("What did the minister say?", AnswerKind.OTHER),
    ],
)
def test_question_kind(question, kind):
    assert question_kind(question) is kind


@pytest.mark.parametrize(
    "text, kind, question, expected",
    [
        (
            "An initial meeting is arranged for February 7, 2025, in Washington.",
            AnswerKind.DATE,
            "When is the meeting?",
            "February 7, 2025",
        ),
        ("Japan pledged to raise investment to $1 trillion.", AnswerKind.AMOUNT, "How much?", "$1 trillion"),
        ("The budget is around 43 trillion yen.", AnswerKind.AMOUNT, "How much?", "around 43 trillion yen"),
        ("Tonnage rose by 50% since 2017.", AnswerKind.PERCENT, "By how much did tonnage rise?", "50%"),
        (
            "Japan's Defense Minister Gen Nakatani spoke.",
            AnswerKind.PERSON,
            "Who is the defense minister?",
            "Gen Nakatani",
        ),
        ("The Japanese Prime Minister Shigeru Ishiba said so.", AnswerKind.PERSON, "Who spoke?", "Shigeru Ishiba"),
    ],
)
def test_short_spans(text, kind, question, expected):
    assert expected in [text[s:e] for s, e in short_spans(text, kind, question)]


def test_short_spans_skip_words_of_the_question():
    text = "Ishiba met Trump in Washington."
    spans = [text[s:e] for s, e in short_spans(text, AnswerKind.PLACE, "Where did Ishiba meet Trump?")]
    assert spans == ["Washington"]


def _cand(dense, cov, missing=0.0, has_kind=True):
    return Candidate(0, 0, 0, dense, cov, 0.0, has_kind, missing)


def test_confidence_is_bounded_and_monotone():
    low, high = confidence(_cand(0.2, 0.1), False), confidence(_cand(0.7, 0.9), False)
    assert 0.0 <= low < high <= 1.0
    assert confidence(_cand(0.7, 0.9, missing=1.0), False) < high
    assert confidence(_cand(0.7, 0.9, has_kind=False), True) < confidence(_cand(0.7, 0.9), True)


def test_context_raises_confidence():
    plain = _cand(0.5, 0.3)
    in_context = Candidate(0, 0, 0, 0.5, 0.3, 0.0, True, 0.0, in_context=True)
    assert confidence(in_context, False) > confidence(plain, False)


LONG = "Quarterback Cam Newton of the Carolina Panthers was sacked. " * (NAME_EVIDENCE_CHARS // 40)


@pytest.mark.parametrize(
    "names, document, expected",
    [
        ([{"newton"}], LONG, 0.0),
        ([{"cam", "newton"}, {"brazil"}], LONG, 0.5),
        ([{"peyton", "newton"}], LONG, 0.5),
        ([{"brazil"}], LONG, 1.0),
        ([{"brazil"}], LONG[: NAME_EVIDENCE_CHARS // 2], 0.5),
        ([], LONG, 0.0),
    ],
)
def test_missing_names_count_parts_and_discount_short_texts(names, document, expected):
    assert missing_names(names, document) == pytest.approx(expected, abs=0.01)


def test_answer_config_is_checked():
    with pytest.raises(ConfigError, match="max_sentences=9"):
        AnswerConfig(max_sentences=9)


def test_answer_is_verbatim_and_cited(assistant):
    answer = assistant.ask("Where is Ishiba planning to travel in the coming weeks?")
    assert answer.answered and "Washington" in answer.answer
    data = assistant.data
    ids = data.doc_ids()
    for c in answer.citations:
        assert data.texts[ids[c.source]][c.start : c.end] == c.quote
        assert f"{c.quote} [{c.n}]" in answer.answer
        assert c.section != "comment"
    assert len(answer.answer) < 450
    assert answer.short_answer is not None and answer.short_answer.text == "Washington"
    sa = answer.short_answer
    assert data.texts[ids[sa.source]][sa.start : sa.end] == "Washington"


def test_passages_trace_ranks(assistant):
    answer = assistant.ask("What did Nakatani say about the strength of the alliance?")
    assert answer.passages and all(p.dense_rank or p.bm25_rank for p in answer.passages)
    scores = [p.score for p in answer.passages]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("question", ["What is the capital of Australia?", "Who wrote the novel Norwegian Wood?"])
def test_abstains_but_shows_closest_passages(assistant, question):
    answer = assistant.ask(question)
    assert not answer.answered and not answer.citations
    assert "could not find" in answer.answer
    assert answer.passages
    assert 0.0 <= answer.confidence < assistant.scorer.threshold(assistant.answering)


def test_comments_are_never_stated_as_reporting(assistant):
    # Only a reader comment says this; the article never does.
    answer = assistant.ask("Who should cut off all diplomatic relations and trade with the US?")
    assert all(c.section != "comment" for c in answer.citations)
    assert "cut off all diplomatic relations" not in answer.answer


@pytest.mark.parametrize("question", ["", "   \n\t"])
def test_empty_question_is_refused(assistant, question):
    with pytest.raises(QuestionError, match="question is empty"):
        assistant.ask(question)


def test_long_question_is_truncated_with_a_note(assistant):
    answer = assistant.ask("Where is Ishiba planning to travel? " + "please " * 400)
    assert any("only the first" in note for note in answer.notes)


def test_follow_up_uses_history(assistant):
    answer = assistant.ask("What did he discuss with his Japanese counterpart?", ["Who is the U.S. defense secretary?"])
    assert answer.answered
    assert "Hegseth" in (answer.resolved_question or "")
    assert answer.citations[0].source == "002_9e7f3e763ff0b01e.txt"


def test_follow_up_may_repeat_the_previous_sentence_rather_than_abstain(assistant):
    """The sentence that answered the last turn can also hold the answer to the next one."""
    history = ["Which two Southeast Asian countries did Ishiba recently visit?"]
    answer = assistant.ask("And where did he send his foreign minister?", history)
    assert answer.answered and "Philippines" in answer.answer

"""Follow-up questions are rewritten from the conversation without a language model."""

import pytest

from rag.followup import Turn, entities, needs_context, readings


@pytest.mark.parametrize(
    "question, expected",
    [
        ("Who is the U.S. defense secretary?", ["U.S."]),
        ("What did Ishiba say in his policy speech?", ["Ishiba"]),
        ("What did Japan's leader tell Donald Trump?", ["Japan", "Donald Trump"]),
        ("What is the capital?", []),
        ("Normally silver, what color was used for the number?", []),
        ("Besides security, what other goals did Ishiba list?", ["Ishiba"]),
    ],
)
def test_entities(question, expected):
    assert entities(question) == expected


@pytest.mark.parametrize(
    "question, dependent",
    [
        ("What did he say?", True),
        ("What about China?", True),
        ("And Russia?", True),
        ("What did Ishiba say?", False),
        ("And what did Ishiba say?", False),
        ("What does Tokyo consider the cornerstone of its foreign policy?", False),
        ("Which partners does he want to work with?", True),
        ("How did China react to it?", True),
        ("When did Trump meet him?", True),
        ("Did Japan say it would invest more?", False),
        ("When did that happen?", True),
        ("Starting when?", True),
        ("Why did Japan do this?", True),
        ("Who is Ishiba?", False),
        ("Did Japan say that tariffs would rise?", False),
        ("What about energy? What does Japan plan to import?", True),
    ],
)
def test_needs_context(question, dependent):
    assert needs_context(question) is dependent


def test_who_answer_settles_he():
    previous = Turn(
        "Who is the U.S. defense secretary?", "Who is the U.S. defense secretary?", "Pete Hegseth", "person"
    )
    assert readings("What did he discuss with his Japanese counterpart?", [previous]) == [
        "What did Pete Hegseth discuss with his Japanese counterpart?"
    ]


@pytest.mark.parametrize(
    "short, question, unwanted",
    [
        # a who-question answered with a clause (a reader's span): not a name, so it settles nothing
        ("holders Kingsmere United 2-1 after extra time.", "How old is she?", "Kingsmere"),
        ("MIRAVAL, Oct. 21 (Wire)", "What did she say would be looked into?", "MIRAVAL"),
        # a dateline does not stand in for "it" either
        ("MIRAVAL, Oct. 21 (Wire)", "When did it start?", "MIRAVAL"),
    ],
)
def test_a_short_answer_that_is_not_a_phrase_is_not_substituted(short, question, unwanted):
    previous = Turn("Who is the governor of Alta Serra?", "Who is the governor of Alta Serra?", short, "person")
    options = readings(question, [previous])
    assert options and not any(unwanted in o.replace(previous.resolved, "") for o in options)
    assert any("Alta Serra" in o for o in options)  # the previous question's names are still tried


def test_pronoun_takes_a_name_from_the_previous_question():
    previous = Turn("What did Ishiba say in his policy speech?", "What did Ishiba say in his policy speech?")
    options = readings("Which other partners does he want to work with?", [previous])
    assert options[0] == "Which other partners does Ishiba want to work with?"
    assert any("policy speech" in o for o in options[1:])


def test_what_about_offers_each_substitution():
    previous = Turn("What did Japan pledge about investments?", "What did Japan pledge about investments?")
    options = readings("What about LNG?", [previous])
    assert "What did LNG pledge about investments?" in options
    assert "What did Japan pledge about LNG?" in options


def test_standalone_question_is_unchanged():
    previous = Turn("Who is Hayashi?", "Who is Hayashi?", "Yoshimasa Hayashi", "person")
    assert readings("Where is Ishiba planning to travel?", [previous]) == ["Where is Ishiba planning to travel?"]
    assert readings("What did he say?", []) == ["What did he say?"]


@pytest.mark.parametrize("question", ["When did that happen?", "Starting when?"])
def test_fragment_is_read_with_the_previous_question(question):
    previous = Turn("Did Nakatani talk with Hegseth?", "Did Nakatani talk with Hegseth?")
    assert readings(question, [previous]) == [f"{question} Did Nakatani talk with Hegseth?"]


def test_what_about_then_a_question_keeps_both():
    previous = Turn("What deterrence did the U.S. commit to?", "What deterrence did the U.S. commit to?")
    options = readings("What about energy? What does Japan plan to import?", [previous])
    assert options == ["What does Japan plan to import? energy"]


@pytest.mark.parametrize(
    "previous, question",
    [
        # three names and an answer to stand in for "they", plus the appended and the dropped readings
        (
            Turn(
                "What did Japan, India and Australia agree with the U.S.?",
                "What did Japan, India and Australia agree with the U.S.?",
                "a maritime pact",
                "thing",
            ),
            "How did China react to it?",
        ),
        # a name for each of four places in the previous question, plus its topic
        (
            Turn(
                "What did Japan tell Korea, China and India about tariffs?",
                "What did Japan tell Korea, China and India about tariffs?",
            ),
            "What about Vietnam?",
        ),
    ],
)
def test_a_follow_up_is_read_at_most_max_readings_ways(previous, question):
    from rag.config import MAX_READINGS

    options = readings(question, [previous])
    assert len(options) == MAX_READINGS  # each reading costs a read: the most likely ones are kept
    assert options == list(dict.fromkeys(options))

"""Mixed formats end to end: verbatim citations with metadata, metadata questions, source filters
(Python API, CLI and JSON batch) that act inside retrieval, and `rag info` listing every source
(on the hashing embedder's index of the seeds plus one file of each format)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from formats_data import DOCX_FACTS, HTML_FACTS, PDF_FACTS

from rag.about import answer_about_sources
from rag.cli import main
from rag.embedding import MODEL_ENV
from rag.errors import FilterError
from rag.sources import SourceFilter

FORMAT_QUESTIONS = [
    ("How many residents were evacuated when Typhoon Shanshan made landfall?", "typhoon.pdf", "four million", 1),
    ("Which trains were suspended between Tokyo and Fukuoka?", "typhoon.pdf", "bullet train", 2),
    ("How big is the record defence budget the Japanese cabinet approved?", "budget.html", "8.7 trillion yen", None),
    ("How many visitors came to the harbour festival?", "festival.docx", "12,000", None),
]
META_QUESTIONS = [
    ("When was the article about the defence budget published?", "budget.html", "21 Jan 2025"),
    ("Which outlet published the article on the defence budget?", "budget.html", HTML_FACTS["outlet"]),
    ("Who wrote the article about the defence budget?", "budget.html", HTML_FACTS["author"]),
    ("Who wrote the typhoon report?", "typhoon.pdf", PDF_FACTS["author"]),
    ("When was the typhoon report published?", "typhoon.pdf", "3 Sep 2024"),
    ("Who wrote the article about the harbour festival?", "festival.docx", DOCX_FACTS["author"]),
    ("When was the harbour festival story published?", "festival.docx", "March 3, 2025"),  # from its text
]
PLEDGE = "How much did Japan pledge to invest in the U.S.?"


def check_citations(assistant, answer):
    """Every quote is the canonical text at its offsets (the same check as for text files)."""
    data = assistant.data
    for c in answer.citations:
        assert data.texts[data.doc_ids()[c.source]][c.start : c.end] == c.quote
    for p in answer.passages:
        assert data.texts[data.doc_ids()[p.source]][p.start : p.end] == p.text


@pytest.mark.parametrize(("question", "source", "expected", "page"), FORMAT_QUESTIONS)
def test_each_format_answers_with_verbatim_citations(hash_mixed_assistant, question, source, expected, page):
    answer = hash_mixed_assistant.ask(question)
    assert answer.answered, answer.answer
    top = answer.citations[0]
    assert top.source == source and expected in top.quote
    assert top.page == page
    check_citations(hash_mixed_assistant, answer)


def test_citations_carry_outlet_and_date(hash_mixed_assistant):
    answer = hash_mixed_assistant.ask(FORMAT_QUESTIONS[2][0])
    assert answer.citations[0].label == "Harbour Times · 21 Jan 2025"
    assert answer.to_json()["citations"][0]["published"] == "2025-01-21"


@pytest.mark.parametrize(("question", "source", "expected"), META_QUESTIONS)
def test_metadata_questions(hash_mixed_assistant, question, source, expected):
    answer = hash_mixed_assistant.ask(question)
    assert answer.answered
    c = answer.citations[0]
    assert c.source == source and c.section == "metadata"
    assert expected in c.quote and answer.short_answer.text == expected
    check_citations(hash_mixed_assistant, answer)


def test_world_questions_are_not_metadata_questions(hash_mixed_assistant):
    """Author and date questions must name the source as such ("article", "report", ...)."""
    data, embedder = hash_mixed_assistant.data, hash_mixed_assistant.embedder
    assert answer_about_sources(data, embedder, "Who wrote the novel Norwegian Wood?") is None
    assert answer_about_sources(data, embedder, "Who wrote the article about the defence budget?") is not None
    answer = hash_mixed_assistant.ask("Who wrote the novel Norwegian Wood?")
    assert all(c.section != "metadata" for c in answer.citations)


@pytest.mark.parametrize(
    ("flt", "allowed"),
    [
        (SourceFilter.build(["*.pdf"]), {"typhoon.pdf"}),
        (SourceFilter.build(["harbour times"]), {"budget.html"}),
        (SourceFilter.build(since="2025-01-01", until="2025-01-31"), None),
        (SourceFilter.build(ids=["festival.docx", "ferry.txt"]), {"festival.docx", "ferry.txt"}),
    ],
)
def test_filters_never_return_a_filtered_out_source(hash_mixed_assistant, flt, allowed):
    answer = hash_mixed_assistant.ask(PLEDGE, sources=flt)
    data = hash_mixed_assistant.data
    infos = {d.id: d for d in data.docs}
    used = {c.source for c in answer.citations} | {p.source for p in answer.passages}
    assert used, "a filter must still retrieve from the allowed sources"
    for source in used:
        if allowed is not None:
            assert source in allowed
        else:
            assert "2025-01-01" <= infos[source].meta["published"] <= "2025-01-31"
    check_citations(hash_mixed_assistant, answer)


def test_filtering_happens_inside_retrieval(hash_mixed_assistant):
    """Restricted to one article, the passages are still a full list from that article."""
    answer = hash_mixed_assistant.ask(PLEDGE, sources=SourceFilter.build(["004_*"]))
    assert len(answer.passages) == 5 and {p.source for p in answer.passages} == {"004_0e83dc79f4f4794c.txt"}


def test_filters_change_the_answer(hash_mixed_assistant):
    assert hash_mixed_assistant.ask(PLEDGE).answered
    assert not hash_mixed_assistant.ask(PLEDGE, sources=SourceFilter.build(["*.docx"])).answered


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"patterns": ["nothing-like-this"]}, "no source matches"),
        ({"since": "yesterday"}, "not a date"),
        ({"since": "2025-02-01", "until": "2025-01-01"}, "swap them"),
    ],
)
def test_bad_filters_name_the_value(hash_mixed_assistant, kwargs, message):
    with pytest.raises(FilterError, match=message):
        hash_mixed_assistant.ask(PLEDGE, sources=SourceFilter.build(**kwargs))


@pytest.fixture(scope="module")
def run(hash_mixed_index, hash_embedder):
    runner = CliRunner(env={MODEL_ENV: hash_embedder.name})

    def invoke(*args, stdin=None):
        return runner.invoke(main, [*args, "--index", str(hash_mixed_index)], input=stdin)

    return invoke


def test_cli_filters(run):
    out = json.loads(run("ask", "--json", PLEDGE, "--source", "*.pdf", "--source", "*.docx").stdout)
    assert out["passages"] and {p["source"] for p in out["passages"]} <= {"typhoon.pdf", "festival.docx"}
    out = json.loads(run("ask", "--json", PLEDGE, "--since", "2025-01-20", "--until", "2025-01-20").stdout)
    assert {c["source"] for c in out["citations"]} == {"004_0e83dc79f4f4794c.txt"}
    bad = run("ask", PLEDGE, "--until", "soon")
    assert bad.exit_code == 2 and "until='soon' is not a date" in bad.output


def test_cli_batch_filters_per_line(run):
    lines = [
        {"question": PLEDGE},
        {"question": PLEDGE, "source": ["*.pdf"]},
        {"question": PLEDGE, "source": "no-such-source"},
    ]
    result = run("ask", "--json", "-", stdin="\n".join(json.dumps(x) for x in lines) + "\n")
    outs = [json.loads(line) for line in result.stdout.splitlines()]
    assert outs[0]["answered"] and outs[0]["citations"][0]["source"] == "004_0e83dc79f4f4794c.txt"
    assert {p["source"] for p in outs[1]["passages"]} == {"typhoon.pdf"}
    assert "no source matches" in outs[2]["error"]


def test_cli_human_citation_names_outlet_date_and_page(run):
    result = run("ask", "How many residents were evacuated when Typhoon Shanshan made landfall?")
    assert "(3 Sep 2024 · typhoon.pdf · p. 1, chars " in result.stdout


def test_info_lists_every_source_with_metadata(run, mixed_corpus):
    out = json.loads(run("info", "--json").stdout)
    listed = {s["id"]: s for s in out["sources"]}
    assert set(listed) == {p.name for p in mixed_corpus.iterdir()}
    assert listed["budget.html"] | HTML_FACTS == listed["budget.html"]
    assert listed["typhoon.pdf"]["pages"] == 2 and listed["typhoon.pdf"]["author"] == PDF_FACTS["author"]
    assert listed["festival.docx"]["found"]["published"]["origin"] == "article text"
    line = "budget.html  “Japan lifts defence budget to record level”  Harbour Times · 21 Jan 2025"
    assert line in run("info").stdout

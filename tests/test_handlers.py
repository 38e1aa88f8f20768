"""The app's handlers and renderers as plain functions: inline documents, a stand-in for the
assistant, no model, no index on disk, no server."""

from __future__ import annotations

import html
import re

import gradio as gr
import pytest

import app
from app.handlers import MAX_HISTORY_ITEMS
from app.ui import shown
from rag import Answer, Chunk, Citation, IndexMissingError, Passage, QuestionError, Section, ShortAnswer
from rag.index import DocRecord, Freshness

XSS = '<img src=x onerror="window.__pwned=1">'
ARTICLE = f"Harbour news {XSS}\nThe festival drew 12,000 visitors on Saturday. The mayor paid for the fireworks."
COMMENTS = "Readers wrote in.\nComments\nI think the fireworks were too loud this year."
DOCS = {"festival.txt": ARTICLE, "letters.txt": COMMENTS}
QUOTE = "The festival drew 12,000 visitors on Saturday."
Q_START = ARTICLE.index(QUOTE)


def visible(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def marked(fragment: str, tag: str, cls: str) -> list[str]:
    return [visible(m) for m in re.findall(rf'<{tag} class="{cls}"[^>]*>(.*?)</{tag}>', fragment, flags=re.S)]


def record(doc_id: str, title: str, outlet: str | None = None, published: str | None = None) -> DocRecord:
    meta = {"published": published, "format": "text"}
    return DocRecord(doc_id, title, outlet, published, "0" * 64, len(DOCS[doc_id]), 0, 0, 0, 0, 0, meta)


class Data:
    """What the handlers read of a loaded index (``IndexData``'s interface), over ``DOCS``.
    The first line of each document is its chunk; the rest is the second chunk."""

    def __init__(self) -> None:
        self.docs = [record("festival.txt", f"Festival {XSS}", "Harbour Times", "2025-03-01"),
                     record("letters.txt", "Letters")]
        self.texts = list(DOCS.values())
        self.manifest = {"source": "/nowhere", "counts": {"documents": 2, "chunks": 4}, "model": {"name": "m"},
                         "built_at": "2025-03-02T10:00:00Z"}

    def doc_ids(self) -> dict[str, int]:
        return {d.id: i for i, d in enumerate(self.docs)}

    def chunk_at(self, doc_id: str, start: int, end: int | None = None) -> Chunk | None:
        text = DOCS.get(doc_id)
        if text is None:
            return None
        cut = text.index("\n") + 1
        lo, hi = (0, cut) if start < cut else (cut, len(text))
        return Chunk(doc_id, lo, hi, text[lo:hi], Section.ARTICLE, 0, 1) if (end or start + 1) <= hi else None

    def section_at(self, doc_id: str, offset: int) -> Section | None:
        return Section.COMMENT if doc_id == "letters.txt" and offset > COMMENTS.index("Comments") else Section.ARTICLE


class Assistant:
    """Stands in for ``rag.Assistant``: answers every question with ``QUOTE`` and records the calls."""

    def __init__(self, error: Exception | None = None, passages: bool = True) -> None:
        self._data, self.error, self.passages, self.calls = Data(), error, passages, []

    @property
    def data(self) -> Data:
        if self.error is not None:
            raise self.error
        return self._data

    def ask(self, question: str, history=None, sources=None) -> Answer:
        self.calls.append((question, history, sources))
        end = Q_START + len(QUOTE)
        citation = Citation(1, "festival.txt", f"Festival {XSS}", "article", Q_START, end, QUOTE, 0.8)
        short = ShortAnswer("12,000", "festival.txt", ARTICLE.index("12,000"), ARTICLE.index("12,000") + 6, "number")
        passages = [Passage("festival.txt", "Festival", 0, len(ARTICLE), ARTICLE, "article", 1, 2, 0.9)]
        return Answer(question, f"{QUOTE} [1]", True, 0.8, short, [citation], passages if self.passages else [])


# --------------------------------------------------------------------------- chat turns


def test_respond_returns_messages_history_panel_viewer_and_an_empty_box():
    assistant = Assistant()
    question = f"How many came {XSS}?"
    old = [{"role": "user", "content": "earlier"}]
    messages, questions, panel, viewer, box = app.respond(assistant, question, ["earlier"], old, ["festival.txt"])
    assert messages[0] == old[0] and [m["role"] for m in messages[1:]] == ["user", "assistant"]
    assert "<img" not in messages[1]["content"] and visible(messages[1]["content"]) == question
    assert marked(messages[2]["content"], "strong", "rag-short") == ["12,000", "12,000"]  # headline and in the quote
    assert questions == ["earlier", question] and box == "" and viewer == app.VIEWER_PLACEHOLDER
    assert marked(panel, "mark", "rag-quote") == [QUOTE] and "<img" not in panel
    (asked, history, flt), = assistant.calls
    assert (asked, history) == (question, ["earlier"]) and flt.ids == {"festival.txt"}


def test_respond_sends_only_the_recent_history():
    assistant = Assistant()
    earlier = [f"question {i}" for i in range(MAX_HISTORY_ITEMS + 7)]
    app.respond(assistant, "and then?", earlier, [])
    assert assistant.calls[0][1] == earlier[-MAX_HISTORY_ITEMS:] and assistant.calls[0][2] is None


@pytest.mark.parametrize("history", ["not a list", [1, 2], [None], ["ok", "\udce9"]])
def test_api_refuses_bad_history(history):
    with pytest.raises(QuestionError, match="history"):
        app.api_ask(Assistant(), "How many came?", history)


def test_api_returns_the_answer_as_json():
    out = app.api_ask(Assistant(), "How many came?")
    assert out["answer"] == f"{QUOTE} [1]" and out["short_answer"]["text"] == "12,000"


def test_ui_shows_engine_errors_on_the_page():
    with pytest.raises(gr.Error, match="not valid Unicode"):
        shown(app.api_ask)(Assistant(), "Where did \udce9 go?")


# --------------------------------------------------------------------------- the panel's context


def test_panel_reads_the_context_of_an_unlisted_passage_from_the_index():
    answer = Assistant(passages=False).ask("How many came?")
    panel = app.render_panel(answer, Data().chunk_at)
    context = marked(panel, "div", "rag-passage")
    assert context == [ARTICLE[ARTICLE.index("\n") + 1 :]] and marked(panel, "mark", "rag-quote") == [QUOTE]
    assert "ranked below" in panel


def test_panel_shows_the_quote_alone_when_the_index_text_differs():
    answer = Assistant(passages=False).ask("How many came?")
    elsewhere = Chunk("festival.txt", Q_START, Q_START + 60, "x" * 60, Section.ARTICLE, 0, 1)
    panel = app.render_panel(answer, lambda doc_id, start, end: elsewhere)
    assert marked(panel, "div", "rag-passage") == [QUOTE]


# --------------------------------------------------------------------------- source viewer


def test_viewer_shows_the_whole_article_escaped_with_the_span_highlighted():
    end = Q_START + len(QUOTE)
    viewer = app.open_citation(Assistant(), {"source": "festival.txt", "start": Q_START, "end": end})
    assert marked(viewer, "mark", "rag-target") == [QUOTE] and visible(viewer).count(ARTICLE) == 1
    assert "<img" not in viewer and "Reader comment" not in viewer


def test_viewer_labels_reader_comments():
    start = COMMENTS.index("I think")
    viewer = app.open_citation(Assistant(), {"source": "letters.txt", "start": start, "end": len(COMMENTS)})
    assert "Reader comment" in viewer


@pytest.mark.parametrize(
    "detail",
    [{"source": "../pyproject.toml", "start": 0, "end": 5}, {"source": "/etc/passwd", "start": 0, "end": 5},
     {"source": "festival.txt", "start": 0, "end": len(ARTICLE) + 1}, {"source": "festival.txt", "start": 9, "end": 9},
     {"source": "festival.txt", "start": "x", "end": 5}, {"source": ["festival.txt"], "start": 0, "end": 5}, {}, None],
)
def test_viewer_refuses_anything_but_a_span_of_an_indexed_document(detail):
    with pytest.raises(app.CitationError):
        app.open_citation(Assistant(), detail)


# --------------------------------------------------------------------------- status and sources


def test_status_names_the_problem_when_the_index_cannot_be_read():
    status = app.index_status(Assistant(error=IndexMissingError(f"no index in {XSS}; run `rag index`")))
    assert "<img" not in status and "run `rag index`" in visible(status) and "Rebuild index" in status


def test_status_shows_a_read_only_banner_when_the_source_is_gone():
    status = app.render_status(Data().manifest, Freshness(source_missing=f"/gone/{XSS}"), note="1 added")
    assert 'id="rag-read-only"' in status and "<img" not in status and f"/gone/{XSS}" in visible(status)
    assert "<b>2</b> documents" in status and "<b>4</b> chunks" in status and status.endswith("1 added</div>")


def test_source_choices_match_every_word_and_keep_ticked_sources():
    assistant = Assistant()
    assert [doc_id for _, doc_id in app.source_choices(assistant)] == ["festival.txt", "letters.txt"]
    assert [doc_id for _, doc_id in app.source_choices(assistant, "harbour 2025")] == ["festival.txt"]
    assert [doc_id for _, doc_id in app.source_choices(assistant, "harbour", ["letters.txt"])] == list(DOCS)
    label = dict((d, label) for label, d in app.source_choices(assistant))["festival.txt"]
    assert label == f"Festival {XSS} — Harbour Times · 1 Mar 2025 · {len(ARTICLE)} bytes · festival.txt"
    assert app.source_choices(Assistant(error=IndexMissingError("no index"))) == []

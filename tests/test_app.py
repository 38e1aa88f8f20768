"""The chat app's handlers, called directly (no server, no browser), on hashing-embedder indexes."""

from __future__ import annotations

import html
import importlib.util
import json
import re
import shutil
import threading
from pathlib import Path

import gradio as gr
import pytest

import app
from rag import Answer, Assistant, Citation, Passage, RagError, ShortAnswer, build_index, read_manifest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
TRAVEL = "Where is Ishiba planning to travel in the coming weeks?"
NOT_FOUND_Q = "Who wrote the novel Norwegian Wood?"
XSS_SCRIPT = "<script>window.__pwned=1</script>"
XSS_IMG = '<img src=x onerror="window.__pwned=1">'


def marked(fragment: str, tag: str, cls: str) -> list[str]:
    """Unescaped text inside ``<tag class="cls">`` elements (no nested tags of the same kind)."""
    pattern = rf'<{tag} class="{cls}"[^>]*>(.*?)</{tag}>'
    return [html.unescape(re.sub(r"<[^>]+>", "", m)) for m in re.findall(pattern, fragment, flags=re.S)]


def visible_text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def synthetic_answer(quote: str, section: str = "article", title: str = "Title") -> Answer:
    raw_start = 10
    citation = Citation(1, "doc.txt", title, section, raw_start, raw_start + len(quote), quote, 0.9)
    passage = Passage("doc.txt", title, 0, raw_start + len(quote), "x" * raw_start + quote, section, 1, 2, 0.95)
    prefix = "A reader comment says: " if section == "comment" else ""
    return Answer("q?", f"{prefix}{quote} [1]", True, 0.9, None, [citation], [passage])


# --------------------------------------------------------------------------- highlighting


def test_highlight_escapes_every_piece_and_nests_spans():
    text = "a <b> & c*d* e"
    out = app.highlight(text, 100, [(102, 105, "<mark>", "</mark>"), (103, 104, "<strong>", "</strong>")])
    assert out == "a <mark>&lt;<strong>b</strong>&gt;</mark> &amp; c*d* e"
    assert visible_text(out) == text


def test_highlight_cuts_crossing_spans_and_ignores_outside_ones():
    text = "0123456789"
    out = app.highlight(text, 0, [(2, 6, "<i>", "</i>"), (4, 9, "<u>", "</u>"), (20, 30, "<s>", "</s>")])
    assert out == "01<i>23<u>45</u></i>6789"
    assert visible_text(out) == text


def test_cite_href_encodes_the_document_id():
    href = html.unescape(app.cite_href('a b/"x".txt', 3, 9))
    assert href == "#cite:a%20b%2F%22x%22.txt:3:9"


# --------------------------------------------------------------------------- answers in the chat


def test_answer_message_quotes_marks_and_emphasises(hash_assistant):
    answer = app.ask(hash_assistant, TRAVEL)
    message = app.format_answer(answer)
    assert answer.answered and "Washington" in visible_text(message)
    assert "Washington" in marked(message, "strong", "rag-short")
    for c in answer.citations:
        assert c.quote in visible_text(message)
        assert f'href="{app.cite_href(c.source, c.start, c.end)}"' in message
        assert f">[{c.n}]</a>" in message
    assert c.source in message


def test_answer_message_escapes_document_text():
    quote = f"Officials said {XSS_SCRIPT} and {XSS_IMG} were **fine** [x](javascript:alert(1)) $$x$$."
    message = app.format_answer(synthetic_answer(quote, title=XSS_IMG))
    assert "<script" not in message and "<img" not in message
    assert quote in visible_text(message)
    assert "&lt;script&gt;" in message


def test_question_message_is_escaped():
    message = app.format_question(f"why {XSS_IMG} **now**?")
    assert "<img" not in message and f"why {XSS_IMG} **now**?" == visible_text(message)


def test_reader_comment_is_labelled():
    answer = synthetic_answer("Readers think the deal is great for everyone involved here.", section="comment")
    assert "Reader comment" in app.format_answer(answer)
    assert "Reader comment" in app.render_panel(answer)


# --------------------------------------------------------------------------- the panel


def test_panel_highlights_the_quote_with_trace(hash_assistant):
    answer = app.ask(hash_assistant, TRAVEL)
    panel = app.render_panel(answer, hash_assistant.data.chunk_at)
    quotes = marked(panel, "mark", "rag-quote")
    assert [c.quote for c in answer.citations] == quotes
    assert answer.citations[0].source in panel
    assert answer.citations[0].source in {"000_76599d89af1a5866.txt", "001_f14a05f1355ea57a.txt"}
    assert "Washington" in marked(panel, "strong", "rag-short")
    for needle in ("dense rank", "BM25 rank", "fused score", "Open in article", "Article text"):
        assert needle in panel


def test_panel_falls_back_to_the_index_when_the_passage_is_not_listed(hash_assistant):
    answer = app.ask(hash_assistant, TRAVEL)
    answer.passages = []
    panel = app.render_panel(answer, hash_assistant.data.chunk_at)
    assert marked(panel, "mark", "rag-quote") == [c.quote for c in answer.citations]
    assert "ranked below" in panel


def test_panel_escapes_document_text():
    quote = f"Officials said {XSS_SCRIPT} and {XSS_IMG} were fine."
    panel = app.render_panel(synthetic_answer(quote, title=XSS_SCRIPT))
    assert "<script" not in panel and "<img" not in panel
    assert marked(panel, "mark", "rag-quote") == [quote]


def test_not_found_lists_the_closest_passages(hash_assistant):
    messages, questions, panel, viewer, box = app.respond(hash_assistant, NOT_FOUND_Q, [], [])
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert "could not find" in visible_text(messages[1]["content"])
    assert "closest passages" in visible_text(messages[1]["content"])
    assert "No answer found" in panel and panel.count("rag-retrieved") >= 1
    assert questions == [NOT_FOUND_Q] and box == "" and viewer == app.VIEWER_PLACEHOLDER


# --------------------------------------------------------------------------- chat turns


def test_respond_appends_turns_and_resolves_follow_ups(hash_assistant):
    messages, questions, *_ = app.respond(hash_assistant, "What did Ishiba say in his policy speech?", [], [])
    messages, questions, panel, viewer, _ = app.respond(
        hash_assistant, "Which countries did he visit recently?", questions, messages
    )
    assert len(messages) == 4 and len(questions) == 2
    reply = visible_text(messages[-1]["content"])
    assert "Indonesia" in reply and "read as" in reply and "Ishiba" in reply
    assert "rag-quote" in panel and viewer == app.VIEWER_PLACEHOLDER


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_empty_question_is_refused_with_a_message(hash_assistant, question):
    with pytest.raises(RagError, match="empty"):
        app.respond(hash_assistant, question, [], [])
    with pytest.raises(RagError, match="empty"):
        app.api_ask(hash_assistant, question, [])


def test_clear_chat_resets_everything():
    assert app.clear_chat() == ([], [], app.PANEL_PLACEHOLDER, app.VIEWER_PLACEHOLDER, "")


# --------------------------------------------------------------------------- API


def test_api_returns_the_cli_json(hash_assistant):
    out = app.api_ask(hash_assistant, TRAVEL, [])
    expected = hash_assistant.ask(TRAVEL).to_json()
    assert json.loads(json.dumps(out)) == out
    assert out["answer"] == expected["answer"] and out["citations"] == expected["citations"]
    assert set(out) == set(expected)
    history = ["What did Ishiba say in his policy speech?"]
    follow = app.api_ask(hash_assistant, "Which countries did he visit recently?", history)
    assert "Indonesia" in follow["answer"]


@pytest.mark.parametrize("history", ["not a list", [1, 2], [None]])
def test_api_rejects_bad_history(hash_assistant, history):
    with pytest.raises(RagError, match="history"):
        app.api_ask(hash_assistant, TRAVEL, history)


# --------------------------------------------------------------------------- source viewer


def test_source_viewer_highlights_the_span(hash_assistant):
    c = app.ask(hash_assistant, TRAVEL).citations[0]
    viewer = app.open_citation(hash_assistant, {"source": c.source, "start": c.start, "end": c.end})
    assert marked(viewer, "mark", "rag-target") == [c.quote]
    doc = hash_assistant.data.doc_ids()[c.source]
    assert hash_assistant.data.texts[doc] in visible_text(viewer)
    assert (SEEDS / c.source).read_text(encoding="utf-8")[c.start : c.end] == c.quote


@pytest.mark.parametrize(
    "detail",
    [
        {"source": "../pyproject.toml", "start": 0, "end": 10},
        {"source": "/etc/passwd", "start": 0, "end": 10},
        {"source": "000_76599d89af1a5866.txt", "start": 5, "end": 10**9},
        {"source": "000_76599d89af1a5866.txt", "start": 10, "end": 5},
        {"source": "000_76599d89af1a5866.txt", "start": "x", "end": 5},
        {"source": ["000_76599d89af1a5866.txt"], "start": 0, "end": 5},
        {},
        None,
    ],
)
def test_source_viewer_only_shows_indexed_documents(hash_assistant, detail):
    with pytest.raises(app.CitationError):
        app.open_citation(hash_assistant, detail)


# --------------------------------------------------------------------------- index status, rebuild, startup


def test_status_line_names_counts_model_and_build_time(hash_assistant):
    status = app.index_status(hash_assistant)
    manifest = hash_assistant.data.manifest
    for value in (manifest["counts"]["documents"], manifest["counts"]["chunks"], manifest["model"]["name"]):
        assert f"<b>{value}</b>" in status
    assert html.escape(manifest["built_at"]) in status and "up to date" in status


def small_corpus(root: Path, names=("000_76599d89af1a5866.txt", "002_9e7f3e763ff0b01e.txt")) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(SEEDS / name, root / name)
    return root


def test_rebuild_swaps_in_the_new_index_while_questions_keep_working(tmp_path, hash_embedder):
    corpus = small_corpus(tmp_path / "corpus")
    build_index(corpus, tmp_path / "index", hash_embedder)
    assistant = Assistant(tmp_path / "index", embedder=hash_embedder).load()
    shutil.copy(SEEDS / "004_0e83dc79f4f4794c.txt", corpus)
    errors, answers, done = [], [], threading.Event()

    def keep_asking():
        while not done.is_set():
            try:
                answers.append(app.api_ask(assistant, TRAVEL, []))
            except Exception as exc:  # any failure is what the test looks for
                errors.append(exc)

    worker = threading.Thread(target=keep_asking)
    worker.start()
    steps = []
    try:
        status = app.rebuild(assistant, corpus, lambda fraction, desc="": steps.append((fraction, desc)))
    finally:
        done.set()
        worker.join()
    assert not errors and answers and all("Washington" in a["answer"] for a in answers)
    assert "<b>3</b> documents" in status and "1 added" in status
    assert [f for f, _ in steps] == sorted(f for f, _ in steps) and steps[-1][0] == 1.0
    assert any(desc.startswith("embedded") for _, desc in steps)
    assert app.ask(assistant, "What did the two leaders pledge regarding China?").citations[0].source.startswith("004_")


def test_open_with_build_builds_a_missing_index_and_updates_a_stale_one(tmp_path, hash_embedder):
    corpus = small_corpus(tmp_path / "corpus")
    index = tmp_path / "index"
    assistant = Assistant.open(index, source=corpus, build=True, embedder=hash_embedder)
    assert assistant.data.manifest["counts"]["documents"] == 2
    built = assistant.data.manifest["built_at"], assistant.data.version
    again = Assistant.open(index, build=True, embedder=hash_embedder)  # fresh: nothing rebuilt; source from manifest
    assert (again.data.manifest["built_at"], again.data.version) == built
    shutil.copy(SEEDS / "003_db39fb9482dc13f4.txt", corpus)
    updated = Assistant.open(index, build=True, embedder=hash_embedder)
    assert updated.data.manifest["counts"]["documents"] == 3
    assert app.ask(updated, "Who did Nakatani say he would closely communicate with?").answered


def entry_point():
    """``app.py``, the script (``import app`` finds the package ``app/``)."""
    spec = importlib.util.spec_from_file_location("app_entry_point", ROOT / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_main_binds_to_localhost_without_sharing(tmp_path, hash_cli_env, monkeypatch):
    calls = {}
    script = entry_point()
    monkeypatch.setattr(gr.Blocks, "launch", lambda self, **kwargs: calls.update(kwargs))
    corpus = small_corpus(tmp_path / "corpus")
    script.main(["--index", str(tmp_path / "index"), "--source", str(corpus), "--port", "7999"])
    assert calls["server_name"] == "127.0.0.1" and calls["server_port"] == 7999
    assert calls["share"] is False and not calls.get("allowed_paths")
    assert (tmp_path / "index" / "CURRENT").is_file()
    assert read_manifest(tmp_path / "index").model.name == hash_cli_env  # $RAG_MODEL chose the embedder


def test_main_reports_a_missing_source(tmp_path, hash_cli_env, monkeypatch):
    script = entry_point()
    monkeypatch.setattr(gr.Blocks, "launch", lambda self, **kwargs: pytest.fail("must not serve"))
    with pytest.raises(SystemExit, match="cannot prepare the index"):
        script.main(["--index", str(tmp_path / "index"), "--source", str(tmp_path / "nowhere")])


def test_short_answer_outside_the_quote_is_not_marked():
    answer = synthetic_answer("Nothing special happened on that day at all.")
    answer.short_answer = ShortAnswer("Tokyo", "other.txt", 0, 5, "place")
    assert "rag-short" not in app.render_panel(answer)

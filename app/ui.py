"""The Gradio page: layout, event wiring and launch.

Each event calls one function of :mod:`app.handlers`; this is the only module that knows
Gradio, and the one place where the engine's errors (:class:`~rag.RagError`) become
messages on the page (``gr.Error``). The page's CSS and scripts are files in ``static/``,
read at start.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from rag import Assistant, RagError
from rag.formats import SUFFIXES as FORMAT_SUFFIXES
from rag.library import MAX_UPLOAD_BYTES

from . import handlers
from .render import PANEL_PLACEHOLDER, VIEWER_PLACEHOLDER, render_note

STATIC = Path(__file__).resolve().parent / "static"
CSS_FILES = [STATIC / "app.css"]
PANEL_JS = (STATIC / "panel.js").read_text(encoding="utf-8")  # citation clicks -> the viewer
VIEWER_JS = (STATIC / "viewer.js").read_text(encoding="utf-8")  # scrolls to the highlighted sentence

API_NAME = "ask"
CONCURRENCY = 4  # questions answered at once; rebuilds run in their own queue lane

EXAMPLES = [
    "Where is Ishiba planning to travel in the coming weeks?",
    "What did Ishiba say in his policy speech?",
    "Which countries did Ishiba visit recently?",
    "Who is the U.S. defense secretary?",
    "What did the Japanese government say about the Senkaku Islands' status?",
    "What is the capital of Australia?",
]


def shown(fn: Callable) -> Callable:
    """Show the engine's errors on the page: a RagError's message becomes a ``gr.Error``.
    (``functools.wraps`` keeps the signature Gradio reads for ``gr.Progress``/``gr.EventData``.)"""
    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except RagError as exc:
            raise gr.Error(str(exc)) from exc
    return call


@dataclass
class Sources:
    """The source panel: search, tick, upload and remove sources."""

    search: gr.Textbox
    ticked: gr.CheckboxGroup
    uploader: gr.File
    to_remove: gr.Dropdown
    remove: gr.Button
    note: gr.HTML


@dataclass
class Chat:
    """The chat, the question box and its buttons, the example questions."""

    chat: gr.Chatbot
    box: gr.Textbox
    send: gr.Button
    clear: gr.Button
    examples: gr.Examples


@dataclass
class Page:
    """The components events read and write."""

    status: gr.HTML
    rebuild: gr.Button
    questions: gr.State  # the raw earlier questions (the chat shows escaped HTML)
    sources: Sources
    chat: Chat
    panel: gr.HTML
    viewer: gr.HTML


def build_app(assistant: Assistant, source: str | Path | None = None) -> gr.Blocks:
    """The Gradio page. ``source`` is the folder "Rebuild index" and uploads use (default: the index's own)."""
    with gr.Blocks(title="rag-news: cited answers", analytics_enabled=False) as demo:
        gr.Markdown("## Cited answers from your articles\nEvery answer quotes the articles verbatim; click a "
                    "citation to read it in context.")
        with gr.Row(equal_height=False):
            with gr.Column(scale=6):
                status = gr.HTML(handlers.index_status(assistant), elem_id="rag-status", js_on_load=None)
            with gr.Column(scale=1, min_width=150):
                rebuild = gr.Button("Rebuild index", elem_id="rag-rebuild", size="sm", variant="secondary")
        questions = gr.State([])
        sources = _sources_panel(handlers.source_choices(assistant))
        with gr.Row(equal_height=False):
            with gr.Column(scale=5):
                chat = _chat_column()
            with gr.Column(scale=4):
                panel = gr.HTML(PANEL_PLACEHOLDER, elem_id="rag-panel", js_on_load=PANEL_JS, label="Cited passages")
                viewer = gr.HTML(VIEWER_PLACEHOLDER, elem_id="rag-viewer", js_on_load=VIEWER_JS, label="Source viewer")
        page = Page(status, rebuild, questions, sources, chat, panel, viewer)
        _wire_chat(page, assistant)
        _wire_sources(page, assistant, source)
        demo.load(lambda: handlers.index_status(assistant), None, status, api_visibility="private", queue=False)
    return demo


def _sources_panel(choices: list[tuple[str, str]]) -> Sources:
    with gr.Accordion("Sources: tick the ones to ask over (none ticked: all), add or remove articles",
                      open=True, elem_id="rag-sources-panel"):
        search = gr.Textbox(elem_id="rag-source-search", show_label=False, container=False,
                            placeholder="Search sources by title, outlet, date or file name")
        ticked = gr.CheckboxGroup(choices=choices, value=[], elem_id="rag-source-list",
                                  label="Sources (title — outlet · date · size · file)", show_select_all=True)
        with gr.Row(equal_height=False):
            uploader = gr.File(file_count="multiple", file_types=list(FORMAT_SUFFIXES), type="filepath",
                               label=f"Add articles ({' '.join(FORMAT_SUFFIXES)}): drop files here or click",
                               elem_id="rag-upload", height=130, scale=3)
            with gr.Column(scale=2):
                to_remove = gr.Dropdown(choices=choices, value=None, label="Remove a source",
                                        elem_id="rag-remove-choice")
                remove = gr.Button("Move to trash", elem_id="rag-remove", variant="stop", size="sm")
        note = gr.HTML("", elem_id="rag-source-note")
    return Sources(search, ticked, uploader, to_remove, remove, note)


def _chat_column() -> Chat:
    chat = gr.Chatbot(
        elem_id="rag-chat",
        label="Chat",
        height=480,
        render_markdown=False,  # messages are HTML built by app.render with every text escaped
        sanitize_html=True,
        latex_delimiters=[],
        feedback_options=None,
        allow_tags=False,
        placeholder="Ask about the articles. Answers are quoted sentences with [n] citations.",
    )
    with gr.Row(equal_height=True):
        box = gr.Textbox(elem_id="rag-question", show_label=False, placeholder="Type a question and press Enter",
                         scale=6, max_lines=3, autofocus=True, container=False)
        send = gr.Button("Ask", elem_id="rag-send", variant="primary", scale=1, min_width=80)
        clear = gr.Button("Clear", elem_id="rag-clear", scale=1, min_width=80)
    examples = gr.Examples(EXAMPLES, inputs=[box], label="Example questions (click to ask)", elem_id="rag-examples")
    return Chat(chat, box, send, clear, examples)


def _wire_chat(page: Page, assistant: Assistant) -> None:
    """Questions (box, button, examples, the API), clearing, and citation clicks."""

    @shown
    def on_submit(question: str, questions: list[str], messages: list[dict], ticked: list[str]):
        return handlers.respond(assistant, question, questions, messages, ticked)

    @shown
    def on_cite(event: gr.EventData):
        return handlers.open_citation(assistant, getattr(event, "_data", None))

    @shown
    def ask_api(question: str, history: list[str] | None = None) -> dict:
        """Answer a question about the articles; ``history`` holds the earlier questions of the conversation.
        Returns the same JSON object as `rag ask --json`."""
        return handlers.api_ask(assistant, question, history)

    chat = page.chat
    inputs = [chat.box, page.questions, chat.chat, page.sources.ticked]
    outputs = [chat.chat, page.questions, page.panel, page.viewer, chat.box]
    answer_opts: dict[str, Any] = dict(api_visibility="private", concurrency_limit=CONCURRENCY,
                                       concurrency_id="answer")
    chat.box.submit(on_submit, inputs, outputs, **answer_opts)
    chat.send.click(on_submit, inputs, outputs, **answer_opts)
    chat.examples.load_input_event.then(on_submit, inputs, outputs, **answer_opts)
    chat.clear.click(handlers.clear_chat, None, outputs, api_visibility="private", queue=False)
    page.panel.click(on_cite, None, page.viewer, show_progress="hidden", **answer_opts)
    gr.api(ask_api, api_name=API_NAME, concurrency_limit=CONCURRENCY, concurrency_id="answer")


def _wire_sources(page: Page, assistant: Assistant, source: str | Path | None) -> None:
    """Source search, upload, removal and "Rebuild index" (one at a time, in their own queue lane)."""

    def source_updates(query: str, ticked: list[str] | None):
        ticked = [t for t in ticked or [] if t in assistant.data.doc_ids()]  # removed sources drop out
        choices = handlers.source_choices(assistant, query, ticked)
        everything = handlers.source_choices(assistant)
        return gr.CheckboxGroup(choices=choices, value=ticked), gr.Dropdown(choices=everything, value=None)

    def on_search(query: str, ticked: list[str]):
        return source_updates(query, ticked)[0]

    @shown
    def on_upload(files, query: str, ticked: list[str], progress=gr.Progress()):  # noqa: B008
        note = handlers.upload(assistant, source, files, progress)
        return render_note(note), handlers.index_status(assistant), *source_updates(query, ticked), None

    @shown
    def on_remove(doc_id: str, query: str, ticked: list[str], progress=gr.Progress()):  # noqa: B008
        note = handlers.remove(assistant, source, doc_id, progress)
        return render_note(note), handlers.index_status(assistant), *source_updates(query, ticked)

    @shown
    def on_rebuild(progress=gr.Progress()):  # noqa: B008 - gradio injects progress through the default
        return handlers.rebuild(assistant, source, progress)

    src = page.sources
    src.search.change(on_search, [src.search, src.ticked], src.ticked, api_visibility="private", queue=False)
    library_opts: dict[str, Any] = dict(api_visibility="private", concurrency_limit=1, concurrency_id="rebuild",
                                        show_progress="full")
    src.uploader.upload(on_upload, [src.uploader, src.search, src.ticked],
                        [src.note, page.status, src.ticked, src.to_remove, src.uploader], **library_opts)
    src.remove.click(on_remove, [src.to_remove, src.search, src.ticked],
                     [src.note, page.status, src.ticked, src.to_remove], **library_opts)
    page.rebuild.click(on_rebuild, None, page.status, **library_opts)


def launch(demo: gr.Blocks, host: str = "127.0.0.1", port: int = 7860, block: bool = True):
    """Serve on ``host:port``: never shared, no extra file paths exposed (the CSS is read
    into the page, not served from its folder)."""
    return demo.queue(default_concurrency_limit=CONCURRENCY).launch(
        server_name=host,
        server_port=port,
        share=False,
        css_paths=CSS_FILES,
        prevent_thread_lock=not block,
        quiet=not block,
        footer_links=["api"],
        run_history=False,
        enable_monitoring=False,
        mcp_server=False,
        # Gradio's upload route refuses (413) any file above the library's own per-file limit,
        # before it is written to disk; save_upload checks the same limit again.
        max_file_size=MAX_UPLOAD_BYTES,
    )

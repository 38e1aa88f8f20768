"""What the page's events do, as plain functions: an :class:`~rag.Assistant` and plain
values in (strings, lists, dicts), plain values out (HTML strings, message lists, JSON
objects), so tests call them without a server.

A problem the person at the page can act on is raised as a :class:`~rag.RagError` (its
message says what to do); :mod:`app.ui` shows it on the page, in one place. Documents are
only ever looked up by id in the loaded index, never opened by a path from the page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from rag import Answer, Assistant, QuestionError, RagError, Section
from rag.errors import UploadError
from rag.index import check_freshness
from rag.library import move_to_trash, save_upload
from rag.sources import SourceFilter, sources
from rag.text import require_unicode

from .render import (
    PANEL_PLACEHOLDER,
    VIEWER_PLACEHOLDER,
    ChunkAt,
    format_answer,
    format_question,
    render_panel,
    render_source,
    render_status,
    render_status_error,
    source_label,
)

logger = logging.getLogger(__name__)

MAX_HISTORY_ITEMS = 50  # earlier questions sent back with a chat turn (the engine replays the last few)

Progress = Callable[..., object]  # gr.Progress or any ``progress(fraction, desc=...)``


class CitationError(RagError):
    """A citation click names a document or offsets the loaded index does not hold."""


# --------------------------------------------------------------------------- questions


def ask(
    assistant: Assistant, question: str, history: list[str] | None = None, ticked: list[str] | None = None
) -> Answer:
    """Ask the engine over the ticked sources (all when none is ticked)."""
    require_unicode(question)
    for item in history or []:
        require_unicode(item, "history")
    flt = SourceFilter.build(ids=ticked) if ticked else None
    return assistant.ask(question, history, flt)


def respond(
    assistant: Assistant, question: str, questions: list[str] | None, messages: list[dict] | None,
    ticked: list[str] | None = None,
) -> tuple[list[dict], list[str], str, str, str]:
    """One chat turn: returns (messages, questions asked so far, panel HTML, viewer HTML, new textbox value).

    ``questions`` holds the raw previous questions (the chat itself shows escaped HTML), which
    the engine uses to resolve follow-ups.
    """
    questions = list(questions or [])
    answer = ask(assistant, question or "", questions[-MAX_HISTORY_ITEMS:], ticked)
    logger.debug("answered=%s confidence=%.2f question=%r", answer.answered, answer.confidence, answer.question[:80])
    messages = list(messages or []) + [
        {"role": "user", "content": format_question(answer.question)},
        {"role": "assistant", "content": format_answer(answer)},
    ]
    panel = render_panel(answer, _chunk_lookup(assistant))
    return messages, questions + [answer.question], panel, VIEWER_PLACEHOLDER, ""


def _chunk_lookup(assistant: Assistant) -> ChunkAt | None:
    """The loaded index's chunk query, or None when the index cannot be read (the panel then
    shows a citation's quote alone)."""
    try:
        return assistant.data.chunk_at
    except RagError:
        return None


def api_ask(assistant: Assistant, question: str, history: list[str] | None = None) -> dict:
    """The API endpoint: the same JSON object as ``rag ask --json``."""
    if history is not None and not (isinstance(history, list) and all(isinstance(h, str) for h in history)):
        raise QuestionError("history must be a list of strings (the earlier questions of the conversation)")
    return ask(assistant, question, history).to_json()


def clear_chat() -> tuple[list, list, str, str, str]:
    return [], [], PANEL_PLACEHOLDER, VIEWER_PLACEHOLDER, ""


# --------------------------------------------------------------------------- source viewer


def open_citation(assistant: Assistant, detail: dict | None) -> str:
    """A click on a citation: ``detail`` carries the document id and offsets."""
    detail = detail if isinstance(detail, dict) else {}
    return show_source(assistant, detail.get("source"), detail.get("start"), detail.get("end"))


def show_source(assistant: Assistant, source: object, start: object, end: object) -> str:
    """The whole article from the loaded index, with ``[start, end)`` highlighted.

    Only documents of the loaded index can be shown: ``source`` is looked up among its ids,
    never used as a path, and the offsets must lie inside the text.
    """
    data = assistant.data
    doc = data.doc_ids().get(source) if isinstance(source, str) else None
    if doc is None:
        raise CitationError("That document is not in the loaded index (it may have been removed by a rebuild).")
    text = data.texts[doc]
    try:
        start, end = int(start), int(end)  # whatever the page sent
    except (TypeError, ValueError):
        raise CitationError("The citation has no valid character offsets.") from None
    if not 0 <= start < end <= len(text):
        raise CitationError("The citation's offsets are outside the article; ask the question again after a rebuild.")
    record = data.docs[doc]
    comment = data.section_at(record.id, start) is Section.COMMENT
    return render_source(record.id, record.title, text, start, end, comment)


# --------------------------------------------------------------------------- index status and rebuild


def index_status(assistant: Assistant, note: str = "") -> str:
    """The index status line (documents, chunks, model, build time, freshness), plus ``note``."""
    try:
        manifest = assistant.data.manifest
    except RagError as exc:
        return render_status_error(exc)
    return render_status(manifest, check_freshness(manifest), note)


def rebuild(assistant: Assistant, source: str | Path | None, progress: Progress | None = None) -> str:
    """Incrementally rebuild from ``source`` and swap the new index in; questions asked
    meanwhile are answered from the previous snapshot. Returns the new status line."""
    def step(fraction: float, desc: str) -> None:
        if progress is not None:
            progress(fraction, desc=desc)

    step(0.0, "Rebuilding: checking the articles for changes")
    report = assistant.rebuild(source=source, progress=step)
    step(1.0, "Swapped the new index in")
    logger.info("rebuild: %s", report.summary())
    return index_status(assistant, report.summary())


# --------------------------------------------------------------------------- sources: list, upload, remove


def source_choices(assistant: Assistant, query: str = "", ticked: list[str] | None = None) -> list[tuple[str, str]]:
    """(label, document id) of the sources whose label contains ``query`` (case-insensitive),
    plus every ticked one, so a search never unticks a source."""
    try:
        listed = sources(assistant.data)
    except RagError:
        return []
    words = (query or "").lower().split()
    keep = set(ticked or [])
    return [
        (source_label(info), info.id)
        for info in listed
        if info.id in keep or all(w in source_label(info).lower() for w in words)
    ]


def source_folder(assistant: Assistant, source: str | Path | None) -> Path:
    """The folder uploads go to and removals come from: the app's --source, else the index's."""
    return Path(source) if source else Path(assistant.data.manifest["source"])


def upload(
    assistant: Assistant, source: str | Path | None, files: list | None, progress: Progress | None = None
) -> str:
    """Save uploaded files into the source folder (checked, under safe names), index them
    incrementally and swap the new index in; returns a message naming what was added or refused."""
    paths = [f if isinstance(f, str | Path) else getattr(f, "name", None) for f in (files or [])]
    folder = source_folder(assistant, source)
    if paths and not folder.is_dir():  # read-only serving: the source folder is gone
        return f"Refused: the source folder {folder} is gone; the index is served read-only."
    added, refused = [], []
    for path in paths:
        client = Path(str(path)).name if path else None  # gradio keeps the client's file name, in its own folder
        try:
            added.append(save_upload(folder, Path(str(path)), client).name)
        except (UploadError, OSError) as exc:
            refused.append(str(exc))
    if added:
        rebuild(assistant, folder, progress)
    parts = [f"Added and indexed: {', '.join(added)}."] if added else []
    parts += [f"Refused: {r}" for r in refused]
    return " ".join(parts) or "No file received."


def remove(
    assistant: Assistant, source: str | Path | None, doc_id: str | None, progress: Progress | None = None
) -> str:
    """Move a source's file to .trash/ in the source folder and update the index."""
    folder = source_folder(assistant, source)
    moved = move_to_trash(folder, doc_id)
    rebuild(assistant, folder, progress)
    return f"Removed {doc_id} (moved to {moved.parent.name}/{moved.name})."

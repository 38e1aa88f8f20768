"""Browser chat over the index: cited answers, inspectable passages and a source viewer.

    python app.py [--host 127.0.0.1] [--port 7860] [--index index] [--source seeds]

The module stays thin: handler functions below call :mod:`rag` and return plain values
(HTML strings, message lists, JSON objects), so tests call them directly; ``build_app``
only wires them to Gradio components. Every piece of document or user text is escaped
with ``html.escape`` before it reaches the page; highlights are made by slicing the raw
text at the engine's offsets and escaping each piece.
"""

from __future__ import annotations

import argparse
import html
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote

import gradio as gr

from rag import (
    Answer,
    AnswerConfig,
    AnswerStrategy,
    Assistant,
    Citation,
    Embedder,
    IndexCorruptError,
    IndexMissingError,
    IndexStaleError,
    Passage,
    RagError,
    build_index,
    check_freshness,
    read_manifest,
)
from rag.errors import UploadError
from rag.formats import SUFFIXES as FORMAT_SUFFIXES
from rag.formats.dates import display as display_date
from rag.index import verify_index
from rag.library import MAX_UPLOAD_BYTES, move_to_trash, save_upload
from rag.sources import LABEL_SEPARATOR, SourceFilter, SourceInfo, sources
from rag.text import require_unicode

logger = logging.getLogger(__name__)

DEFAULT_SOURCE = "seeds"
DEFAULT_INDEX = "index"
API_NAME = "ask"
CONCURRENCY = 4  # questions answered at once; rebuilds run in their own queue lane
SHORT_ANSWER_MIN_CONFIDENCE = 0.5  # below this a short answer is marked but not headlined
MAX_HISTORY_ITEMS = 50

EXAMPLES = [
    "Where is Ishiba planning to travel in the coming weeks?",
    "What did Ishiba say in his policy speech?",
    "Which countries did Ishiba visit recently?",
    "Who is the U.S. defense secretary?",
    "What did the Japanese government say about the Senkaku Islands' status?",
    "What is the capital of Australia?",
]

SECTION_LABELS = {
    "title": "Headline",
    "article": "Article text",
    "caption": "Photo caption",
    "reference": "Reference",
    "comment": "Reader comment",
    "metadata": "Source metadata",
}

PANEL_PLACEHOLDER = '<div class="rag-root rag-empty">Ask a question: the passages behind the answer appear here.</div>'
VIEWER_PLACEHOLDER = (
    '<div class="rag-root rag-empty">Click a citation (<span class="rag-marker">[1]</span> or '
    "“Open in article”) to read the whole article with the quoted sentence highlighted.</div>"
)

# Clicks on citations (in the panel, or on [n] markers in the chat) send the span to the
# server, which answers with the article from the loaded index. The document-level
# listener is installed once; it always calls the newest ``trigger``.
PANEL_JS = """
window.__ragOpenCite = (detail) => trigger('click', detail);
if (!window.__ragCiteHook) {
  window.__ragCiteHook = true;
  document.addEventListener('click', (event) => {
    const link = event.target.closest && event.target.closest('a[href^="#cite:"]');
    if (!link) return;
    event.preventDefault();
    const parts = link.getAttribute('href').split(':');
    if (parts.length !== 4) return;
    window.__ragOpenCite({source: decodeURIComponent(parts[1]), start: Number(parts[2]), end: Number(parts[3])});
  });
}
"""

VIEWER_JS = """
const scrollToTarget = () => {
  const target = element.querySelector('mark.rag-target');
  if (target) target.scrollIntoView({block: 'center', inline: 'nearest'});
};
watch('value', scrollToTarget);
scrollToTarget();
"""

CSS = """
.rag-root { font-size: 0.95rem; line-height: 1.5; }
.rag-empty { color: var(--body-text-color-subdued); padding: 0.5rem 0; }
.rag-status { font-size: 0.9rem; color: var(--body-text-color-subdued); }
.rag-status b { color: var(--body-text-color); }
.rag-status .rag-warn { color: #b45309; }
.rag-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 0.6rem 0.8rem;
  margin-bottom: 0.6rem; background: var(--block-background-fill); }
.rag-card-head { font-weight: 600; }
.rag-meta { font-size: 0.85rem; color: var(--body-text-color-subdued); margin: 0.15rem 0 0.35rem; }
.rag-comment-label { background: #fde68a; color: #78350f; border-radius: 4px; padding: 0 0.35rem; font-weight: 600; }
.rag-passage, .rag-article { white-space: pre-wrap; overflow-wrap: anywhere; }
.rag-passage { border-left: 3px solid var(--border-color-primary); padding-left: 0.6rem; margin: 0.3rem 0; }
.rag-article { max-height: 420px; overflow-y: auto; padding: 0.5rem 0.7rem;
  border: 1px solid var(--border-color-primary); border-radius: 8px; }
mark.rag-quote, mark.rag-target { background: #fef08a; color: #111; padding: 0 1px; }
mark.rag-target { outline: 2px solid #f59e0b; }
.rag-short, strong.rag-short { font-weight: 700; text-decoration: underline; text-decoration-color: #f59e0b;
  text-decoration-thickness: 2px; }
.rag-trace { font-size: 0.82rem; color: var(--body-text-color-subdued); }
.rag-trace b { color: var(--body-text-color); }
a.rag-open, a.rag-marker { cursor: pointer; color: var(--link-text-color); text-decoration: none; }
a.rag-open { display: inline-block; border: 1px solid var(--border-color-primary); border-radius: 6px;
  padding: 0.05rem 0.5rem; font-size: 0.85rem; margin-top: 0.3rem; }
.rag-marker { font-size: 0.8em; font-weight: 600; }
.rag-headline { font-size: 1.05rem; margin-bottom: 0.3rem; }
.rag-sources { font-size: 0.82rem; color: var(--body-text-color-subdued); margin-top: 0.4rem; }
.rag-notfound { font-weight: 600; }
.rag-table { border-collapse: collapse; font-size: 0.82rem; width: 100%; }
.rag-table td, .rag-table th { border-bottom: 1px solid var(--border-color-primary); padding: 0.2rem 0.3rem;
  text-align: left; vertical-align: top; }
"""


# --------------------------------------------------------------------------- escaping and highlighting


def esc(text: object) -> str:
    """Escape any value for HTML text or a double-quoted attribute."""
    return html.escape(str(text), quote=True)


def highlight(text: str, base: int, spans: Iterable[tuple[int, int, str, str]]) -> str:
    """Escape ``text`` (which starts at offset ``base`` of its document) and wrap spans in tags.

    ``spans`` holds ``(start, end, open_tag, close_tag)`` with document offsets; tags are
    trusted markup built by this module. Spans are nested when one lies inside another;
    a span that crosses the end of an enclosing one is cut there, so the markup is always
    well formed. Every character of ``text`` is emitted exactly once, escaped.
    """
    stop = base + len(text)
    items = sorted(
        ((max(s, base) - base, min(e, stop) - base, open_tag, close_tag)
         for s, e, open_tag, close_tag in spans if s < stop and e > base and e > s),
        key=lambda item: (item[0], -item[1]),  # outer spans open before the spans they contain
    )
    out: list[str] = []
    stack: list[tuple[int, str]] = []
    pos = 0
    for start, end, open_tag, close_tag in items:
        while stack and stack[-1][0] <= start:
            close_at, closing = stack.pop()
            out.append(esc(text[pos:close_at]) + closing)
            pos = close_at
        if stack:
            end = min(end, stack[-1][0])
        out.append(esc(text[pos:start]) + open_tag)
        pos = start
        stack.append((end, close_tag))
    while stack:
        close_at, closing = stack.pop()
        out.append(esc(text[pos:close_at]) + closing)
        pos = close_at
    out.append(esc(text[pos:]))
    return "".join(out)


def cite_href(source: str, start: int, end: int) -> str:
    """The link a citation carries: ``#cite:<percent-encoded document id>:<start>:<end>``.

    A fragment link survives the chat's HTML sanitiser (data attributes do not); the page's
    script turns a click on it into a request for the article, resolved by id in the index.
    """
    return esc(f"#cite:{quote(source, safe='')}:{int(start)}:{int(end)}")


def _marker(c: Citation) -> str:
    return f'<a class="rag-marker" href="{cite_href(c.source, c.start, c.end)}" title="{esc(c.title)}">[{c.n}]</a>'


def _section_label(section: str) -> str:
    label = esc(SECTION_LABELS.get(section, section))
    if section == "comment":
        return f'<span class="rag-comment-label">{label} (not the outlet\'s reporting)</span>'
    return label


def _short_in(short, source: str, start: int, end: int) -> bool:
    return short is not None and short.source == source and start <= short.start < short.end <= end


def _short_tags(short) -> tuple[int, int, str, str]:
    return (short.start, short.end, f'<strong class="rag-short" title="short answer ({esc(short.kind)})">', "</strong>")


# --------------------------------------------------------------------------- chat messages


def format_question(question: str) -> str:
    """The user's message as shown in the chat: escaped, never interpreted."""
    return f'<span class="rag-question">{esc(question)}</span>'


def format_answer(answer: Answer) -> str:
    """The assistant's chat message: the verbatim sentences with their [n] markers.

    The short answer is emphasised inside its sentence (and headlined when confident);
    a not-found answer says so plainly and points at the closest passages.
    """
    if not answer.answered or not answer.citations:
        parts = [f'<p class="rag-notfound">{esc(answer.answer)}</p>']
        if answer.passages:
            parts.append("<p>The closest passages are listed beside the chat; none of them answers the question.</p>")
        return "".join(parts) + _answer_notes(answer)
    parts = []
    short = answer.short_answer
    if short is not None and answer.confidence >= SHORT_ANSWER_MIN_CONFIDENCE:
        headline = f'<strong class="rag-short">{esc(short.text)}</strong>'
        parts.append(f'<div class="rag-headline">Short answer: {headline}</div>')
    parts.append(f'<p class="rag-answer">{_answer_body(answer)}</p>')
    sources = "<br>".join(
        f"{_marker(c)} {esc(c.title)} — {esc(_where(c))}"
        + (" — " + _section_label(c.section) if c.section != "article" else "")
        for c in answer.citations
    )
    parts.append(f'<div class="rag-sources">{sources}</div>')
    return "".join(parts) + _answer_notes(answer)


def _where(c: Citation | Passage) -> str:
    """"Kyodo · 21 Jan 2025 · file.pdf · p. 2": the source's outlet, date, file and page."""
    return LABEL_SEPARATOR.join(x for x in (c.label, c.source, c.page and f"p. {c.page}") if x)


def _answer_body(answer: Answer) -> str:
    """The engine's answer text, with each quoted sentence located and re-rendered so the
    short answer can be emphasised and the markers made clickable. Falls back to plain
    escaped text if the text does not contain the quotes in order."""
    text, cursor, out = answer.answer, 0, []
    for c in answer.citations:
        at = text.find(c.quote, cursor)
        if at < 0:
            return esc(text)
        out.append(esc(text[cursor:at]))
        spans = [_short_tags(answer.short_answer)] if _short_in(answer.short_answer, c.source, c.start, c.end) else []
        out.append(highlight(c.quote, c.start, spans))
        cursor = at + len(c.quote)
        marker = f"[{c.n}]"
        m = text.find(marker, cursor)
        if m >= 0 and not text[cursor:m].strip():
            out.append(esc(text[cursor:m]) + _marker(c))
            cursor = m + len(marker)
    out.append(esc(text[cursor:]))
    return "".join(out)


def _answer_notes(answer: Answer) -> str:
    notes = []
    if answer.resolved_question:
        notes.append(f"read as: “{esc(answer.resolved_question)}”")
    notes.extend(esc(n) for n in answer.notes)
    notes.append(f"confidence {answer.confidence:.2f}")
    return f'<div class="rag-sources">{" · ".join(notes)}</div>'


# --------------------------------------------------------------------------- citation panel


def _rank(value: int | None) -> str:
    return f"<b>{value}</b>" if value is not None else "<b>—</b> (not in its top results)"


def _trace(p: Passage | None, c: Citation | None = None) -> str:
    parts = []
    if p is not None:
        parts += [
            f"dense rank {_rank(p.dense_rank)}", f"BM25 rank {_rank(p.bm25_rank)}", f"fused score <b>{p.score:.3f}</b>"
        ]
    else:
        parts.append("passage ranked below the ones listed")
    if c is not None:
        parts.append(f"sentence score <b>{c.score:.3f}</b>")
    return '<div class="rag-trace">Why this passage: ' + " · ".join(parts) + "</div>"


def _containing_passage(c: Citation, passages: list[Passage]) -> Passage | None:
    for p in passages:
        if p.source == c.source and p.start <= c.start and c.end <= p.end:
            return p
    return None


def _context_from_index(c: Citation, assistant: Assistant | None) -> tuple[str, int]:
    """The chunk around a cited sentence, read from the loaded index (the quote alone if
    the index no longer holds the same text)."""
    try:
        data = assistant.data if assistant is not None else None
    except RagError:
        data = None
    if data is not None:
        doc = data.doc_ids().get(c.source)
        if doc is not None and data.texts[doc][c.start : c.end] == c.quote:
            chunks = data.chunks
            rows = chunks[(chunks["doc"] == doc) & (chunks["start"] <= c.start) & (chunks["end"] >= c.end)]
            if len(rows):
                start, end = int(rows[0]["start"]), int(rows[0]["end"])
                return data.texts[doc][start:end], start
    return c.quote, c.start


def _open_button(source: str, start: int, end: int) -> str:
    return f'<a class="rag-open" href="{cite_href(source, start, end)}">Open in article</a>'


def render_panel(answer: Answer | None, assistant: Assistant | None = None) -> str:
    """The side panel for the latest answer: each cited passage with the quote highlighted,
    the short answer marked and the retrieval trace; for not-found answers, the closest passages."""
    if answer is None:
        return PANEL_PLACEHOLDER
    out = ['<div class="rag-root">']
    if answer.answered and answer.citations:
        out.append("<h4>Cited passages</h4>")
        for c in answer.citations:
            p = _containing_passage(c, answer.passages)
            text, base = (p.text, p.start) if p is not None else _context_from_index(c, assistant)
            spans = [(c.start, c.end, '<mark class="rag-quote">', "</mark>")]
            if _short_in(answer.short_answer, c.source, c.start, c.end):
                spans.append(_short_tags(answer.short_answer))
            out.append(
                f'<div class="rag-card" data-n="{c.n}">'
                f'<div class="rag-card-head">{_marker(c)} {esc(c.title)}</div>'
                f'<div class="rag-meta">{esc(_where(c))} · {_section_label(c.section)}'
                f" · characters {c.start}–{c.end}</div>"
                f'<div class="rag-passage">{highlight(text, base, spans)}</div>'
                f"{_trace(p, c)}{_open_button(c.source, c.start, c.end)}</div>"
            )
        others = [p for p in answer.passages if not any(_containing_passage(c, [p]) for c in answer.citations)]
        if others:
            out.append(f"<details><summary>Other retrieved passages ({len(others)})</summary>")
            out.append(_passage_cards(others))
            out.append("</details>")
    else:
        out.append("<h4>No answer found — closest passages</h4>")
        empty = '<p class="rag-empty">Nothing was retrieved.</p>'
        out.append(_passage_cards(answer.passages) if answer.passages else empty)
    out.append("</div>")
    return "".join(out)


def _passage_cards(passages: list[Passage]) -> str:
    return "".join(
        f'<div class="rag-card rag-retrieved"><div class="rag-card-head">{i}. {esc(p.title)}</div>'
        f'<div class="rag-meta">{esc(_where(p))} · {_section_label(p.section)} · characters {p.start}–{p.end}</div>'
        f'<div class="rag-passage">{esc(p.text)}</div>{_trace(p)}{_open_button(p.source, p.start, p.end)}</div>'
        for i, p in enumerate(passages, 1)
    )


# --------------------------------------------------------------------------- source viewer


TARGET_OPEN = '<mark class="rag-target">'


def render_source(assistant: Assistant, source: object, start: object, end: object) -> str:
    """The whole article from the loaded index, with ``[start, end)`` highlighted.

    Only documents of the loaded index can be shown: ``source`` is looked up among its ids,
    never used as a path, and the offsets must lie inside the text.
    """
    try:
        data = assistant.data
    except RagError as exc:
        raise gr.Error(str(exc)) from exc
    doc = data.doc_ids().get(source) if isinstance(source, str) else None
    if doc is None:
        raise gr.Error("That document is not in the loaded index (it may have been removed by a rebuild).")
    text = data.texts[doc]
    try:
        start, end = int(start), int(end)
    except (TypeError, ValueError):
        raise gr.Error("The citation has no valid character offsets.") from None
    if not 0 <= start < end <= len(text):
        raise gr.Error("The citation's offsets are outside the article; ask the question again after a rebuild.")
    record = data.docs[doc]
    comment = _sentence_section(data, doc, start) == "comment"
    label = f" · {_section_label('comment')}" if comment else ""
    return (
        f'<div class="rag-root rag-viewer" data-doc="{esc(record.id)}">'
        f"<h4>{esc(record.title or record.id)}</h4>"
        f'<div class="rag-meta">{esc(record.id)} · highlighted: characters {start}–{end}{label}</div>'
        f'<div class="rag-article">{highlight(text, 0, [(start, end, TARGET_OPEN, "</mark>")])}</div>'
        "</div>"
    )


def _sentence_section(data, doc: int, start: int) -> str | None:
    """The section of the sentence of document ``doc`` that contains offset ``start``."""
    rows = data.sentences
    hits = ((rows["doc"] == doc) & (rows["start"] <= start) & (rows["end"] > start)).nonzero()[0]
    return data.section_of_sentence(int(hits[0])).value if len(hits) else None


# --------------------------------------------------------------------------- handlers


def ask(
    assistant: Assistant, question: str, history: list[str] | None = None, ticked: list[str] | None = None
) -> Answer:
    """Ask the engine over the ticked sources (all when none is ticked); its user-facing
    errors become ``gr.Error`` messages."""
    try:
        require_unicode(question)
        for item in history or []:
            require_unicode(item, "history")
        flt = SourceFilter.build(ids=ticked) if ticked else None
        return assistant.ask(question, history, flt)
    except RagError as exc:
        raise gr.Error(str(exc)) from exc


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
    return messages, questions + [answer.question], render_panel(answer, assistant), VIEWER_PLACEHOLDER, ""


def api_ask(assistant: Assistant, question: str, history: list[str] | None = None) -> dict:
    """The API endpoint: the same JSON object as ``rag ask --json``."""
    if history is not None and not (isinstance(history, list) and all(isinstance(h, str) for h in history)):
        raise gr.Error("history must be a list of strings (the earlier questions of the conversation)")
    return ask(assistant, question, history).to_json()


def open_citation(assistant: Assistant, detail: dict | None) -> str:
    """A click on a citation: ``detail`` carries the document id and offsets."""
    detail = detail if isinstance(detail, dict) else {}
    return render_source(assistant, detail.get("source"), detail.get("start"), detail.get("end"))


def clear_chat() -> tuple[list, list, str, str, str]:
    return [], [], PANEL_PLACEHOLDER, VIEWER_PLACEHOLDER, ""


def render_status(assistant: Assistant, note: str = "") -> str:
    """The index status line: documents, chunks, model, build time (and freshness)."""
    try:
        manifest = assistant.data.manifest
    except RagError as exc:
        return f'<div class="rag-root rag-status"><span class="rag-warn">{esc(exc)}</span> Use “Rebuild index”.</div>'
    counts = manifest.get("counts", {})
    fresh = check_freshness(manifest)
    state = "up to date" if fresh.fresh else f'<span class="rag-warn">stale: {esc(fresh.describe())}</span>'
    if fresh.source_missing:  # the banner: answers still come from the index, a rebuild cannot
        state = (f'<span class="rag-warn" id="rag-read-only">read-only: the source folder '
                 f'{esc(fresh.source_missing)} is gone; answers come from the index as built, and '
                 f'“Rebuild index” needs the folder back (or `--source`)</span>')
    line = (
        f"Index: <b>{esc(counts.get('documents', '?'))}</b> documents · <b>{esc(counts.get('chunks', '?'))}</b> chunks"
        f" · model <b>{esc(manifest.get('model', {}).get('name', '?'))}</b>"
        f" · built <b>{esc(manifest.get('built_at', '?'))}</b> · {state}"
    )
    if note:
        line += f"<br>{esc(note)}"
    return f'<div class="rag-root rag-status">{line}</div>'


def rebuild(assistant: Assistant, source: str | Path | None, progress=None) -> str:
    """Incrementally rebuild from ``source`` and swap the new index in; questions asked
    meanwhile are answered from the previous snapshot."""
    def step(fraction: float, desc: str) -> None:
        if progress is not None:
            progress(fraction, desc=desc)

    step(0.0, "Rebuilding: checking the articles for changes")
    try:
        report = assistant.rebuild(source=source, progress=step)
    except RagError as exc:
        raise gr.Error(str(exc)) from exc
    step(1.0, "Swapped the new index in")
    logger.info("rebuild: %s", report.summary())
    return render_status(assistant, report.summary())


# --------------------------------------------------------------------------- sources: list, upload, remove


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    return f"{n / 1024:.0f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MB"


def source_label(info: SourceInfo) -> str:
    """One line of the source list: title, outlet, date and size (shown as text, not HTML)."""
    details = [info.outlet or "outlet unknown", dates_display(info), _size(info.size), info.id]
    return f"{info.title} — {LABEL_SEPARATOR.join(details)}"


def dates_display(info: SourceInfo) -> str:
    return display_date(info.published) or "date unknown"


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


def upload(assistant: Assistant, source: str | Path | None, files: list | None, progress=None) -> str:
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


def remove(assistant: Assistant, source: str | Path | None, doc_id: str | None, progress=None) -> str:
    """Move a source's file to .trash/ in the source folder and update the index."""
    folder = source_folder(assistant, source)
    try:
        moved = move_to_trash(folder, doc_id)
    except UploadError as exc:
        raise gr.Error(str(exc)) from exc
    rebuild(assistant, folder, progress)
    return f"Removed {doc_id} (moved to {moved.parent.name}/{moved.name})."


# --------------------------------------------------------------------------- startup


def prepare_index(
    index: str | Path,
    source: str | Path | None,
    embedder: Embedder | None = None,
    answering: AnswerConfig | None = None,
) -> Assistant:
    """Make sure ``index`` holds a fresh index before serving and return a loaded assistant.

    A missing (or unreadable) index is built from ``source``; a stale one, or one built from
    another folder than ``source``, is updated incrementally. ``source`` defaults to the
    folder the index was built from, else ``seeds/``.
    """
    embedder = embedder or Embedder()
    index = Path(index)
    try:
        manifest = read_manifest(index)
    except (IndexMissingError, IndexCorruptError) as exc:
        target = Path(source or DEFAULT_SOURCE)
        logger.info("%s; building it from %s", exc, target)
        build_index(target, index, embedder, full=True)
    else:
        target = Path(source).resolve() if source else Path(manifest["source"])
        fresh = check_freshness(manifest, embedder.name)
        if fresh.source_missing and not source:
            logger.warning("%s", fresh.describe())
        elif not fresh.fresh or target != Path(manifest["source"]):
            logger.info("index needs updating (%s)", fresh.describe() if not fresh.fresh else f"new source {target}")
            build_index(target, index, embedder, full=bool(fresh.model_mismatch))
    assistant = Assistant(index, embedder=embedder, answering=answering)
    try:
        assistant.load()
        verify_index(index)  # every file hashed before serving (loading hashes only the small ones)
    except (IndexStaleError, IndexCorruptError) as exc:  # an older format, files changed meanwhile, damage
        logger.warning("%s; rebuilding", exc)
        build_index(source or assistant_source(index), index, embedder, full=True)
        assistant.load()
    return assistant


def assistant_source(index: str | Path) -> str:
    """The folder an index was built from."""
    return read_manifest(index)["source"]


def build_app(assistant: Assistant, source: str | Path | None = None) -> gr.Blocks:
    """The Gradio page. ``source`` is the folder "Rebuild index" reads (default: the index's own)."""

    def on_submit(question: str, questions: list[str], messages: list[dict], ticked: list[str]):
        return respond(assistant, question, questions, messages, ticked)

    def source_updates(query: str, ticked: list[str] | None):
        ticked = [t for t in ticked or [] if t in assistant.data.doc_ids()]  # removed sources drop out
        choices = source_choices(assistant, query, ticked)
        everything = source_choices(assistant)
        return gr.CheckboxGroup(choices=choices, value=ticked), gr.Dropdown(choices=everything, value=None)

    def on_search(query: str, ticked: list[str]):
        return source_updates(query, ticked)[0]

    def on_upload(files, query: str, ticked: list[str], progress=gr.Progress()):  # noqa: B008
        note = upload(assistant, source, files, progress)
        return (f'<div class="rag-root rag-status">{esc(note)}</div>', render_status(assistant),
                *source_updates(query, ticked), None)

    def on_remove(doc_id: str, query: str, ticked: list[str], progress=gr.Progress()):  # noqa: B008
        note = remove(assistant, source, doc_id, progress)
        return (f'<div class="rag-root rag-status">{esc(note)}</div>', render_status(assistant),
                *source_updates(query, ticked))

    def on_cite(event: gr.EventData):
        return open_citation(assistant, getattr(event, "_data", None))

    def on_rebuild(progress=gr.Progress()):  # noqa: B008 - gradio injects progress through the default
        return rebuild(assistant, source, progress)

    def on_load():
        return render_status(assistant)

    def ask_api(question: str, history: list[str] | None = None) -> dict:
        """Answer a question about the articles; ``history`` holds the earlier questions of the conversation.
        Returns the same JSON object as `rag ask --json`."""
        return api_ask(assistant, question, history)

    with gr.Blocks(title="rag-news: cited answers", analytics_enabled=False) as demo:
        gr.Markdown("## Cited answers from your articles\nEvery answer quotes the articles verbatim; click a "
                    "citation to read it in context.")
        with gr.Row(equal_height=False):
            with gr.Column(scale=6):
                status = gr.HTML(render_status(assistant), elem_id="rag-status", js_on_load=None)
            with gr.Column(scale=1, min_width=150):
                rebuild_btn = gr.Button("Rebuild index", elem_id="rag-rebuild", size="sm", variant="secondary")
        questions = gr.State([])
        with gr.Accordion("Sources: tick the ones to ask over (none ticked: all), add or remove articles",
                          open=True, elem_id="rag-sources-panel"):
            search = gr.Textbox(elem_id="rag-source-search", show_label=False, container=False,
                                placeholder="Search sources by title, outlet, date or file name")
            ticked = gr.CheckboxGroup(choices=source_choices(assistant), value=[], elem_id="rag-source-list",
                                      label="Sources (title — outlet · date · size · file)", show_select_all=True)
            with gr.Row(equal_height=False):
                uploader = gr.File(file_count="multiple", file_types=list(FORMAT_SUFFIXES), type="filepath",
                                   label=f"Add articles ({' '.join(FORMAT_SUFFIXES)}): drop files here or click",
                                   elem_id="rag-upload", height=130, scale=3)
                with gr.Column(scale=2):
                    to_remove = gr.Dropdown(choices=source_choices(assistant), value=None, label="Remove a source",
                                            elem_id="rag-remove-choice")
                    remove_btn = gr.Button("Move to trash", elem_id="rag-remove", variant="stop", size="sm")
            source_note = gr.HTML("", elem_id="rag-source-note")
        with gr.Row(equal_height=False):
            with gr.Column(scale=5):
                chat = gr.Chatbot(
                    elem_id="rag-chat",
                    label="Chat",
                    height=480,
                    render_markdown=False,  # messages are HTML built here with every text escaped
                    sanitize_html=True,
                    latex_delimiters=[],
                    feedback_options=None,
                    allow_tags=False,
                    placeholder="Ask about the articles. Answers are quoted sentences with [n] citations.",
                )
                with gr.Row(equal_height=True):
                    box = gr.Textbox(
                        elem_id="rag-question", show_label=False, placeholder="Type a question and press Enter",
                        scale=6, max_lines=3, autofocus=True, container=False,
                    )
                    send = gr.Button("Ask", elem_id="rag-send", variant="primary", scale=1, min_width=80)
                    clear = gr.Button("Clear", elem_id="rag-clear", scale=1, min_width=80)
                examples = gr.Examples(EXAMPLES, inputs=[box], label="Example questions (click to ask)",
                                       elem_id="rag-examples")
            with gr.Column(scale=4):
                panel = gr.HTML(PANEL_PLACEHOLDER, elem_id="rag-panel", js_on_load=PANEL_JS, label="Cited passages")
                viewer = gr.HTML(VIEWER_PLACEHOLDER, elem_id="rag-viewer", js_on_load=VIEWER_JS, label="Source viewer")

        outputs = [chat, questions, panel, viewer, box]
        answer_opts = dict(api_visibility="private", concurrency_limit=CONCURRENCY, concurrency_id="answer")
        box.submit(on_submit, [box, questions, chat, ticked], outputs, **answer_opts)
        send.click(on_submit, [box, questions, chat, ticked], outputs, **answer_opts)
        examples.load_input_event.then(on_submit, [box, questions, chat, ticked], outputs, **answer_opts)
        search.change(on_search, [search, ticked], ticked, api_visibility="private", queue=False)
        library_opts = dict(api_visibility="private", concurrency_limit=1, concurrency_id="rebuild",
                            show_progress="full")
        uploader.upload(on_upload, [uploader, search, ticked],
                        [source_note, status, ticked, to_remove, uploader], **library_opts)
        remove_btn.click(on_remove, [to_remove, search, ticked], [source_note, status, ticked, to_remove],
                         **library_opts)
        clear.click(clear_chat, None, outputs, api_visibility="private", queue=False)
        panel.click(on_cite, None, viewer, api_visibility="private", concurrency_limit=CONCURRENCY,
                    concurrency_id="answer", show_progress="hidden")
        rebuild_btn.click(on_rebuild, None, status, api_visibility="private", concurrency_limit=1,
                          concurrency_id="rebuild", show_progress="full")
        demo.load(on_load, None, status, api_visibility="private", queue=False)
        gr.api(ask_api, api_name=API_NAME, concurrency_limit=CONCURRENCY, concurrency_id="answer")
    return demo


def launch(demo: gr.Blocks, host: str = "127.0.0.1", port: int = 7860, block: bool = True):
    """Serve on ``host:port``: never shared, no extra file paths exposed."""
    return demo.queue(default_concurrency_limit=CONCURRENCY).launch(
        server_name=host,
        server_port=port,
        share=False,
        css=CSS,
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Chat with cited answers from a folder of news articles.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--index", default=os.environ.get("RAG_INDEX") or DEFAULT_INDEX, help="index folder")
    parser.add_argument("--source", default=None,
                        help=f"folder of articles (default: the one the index was built from, else {DEFAULT_SOURCE})")
    parser.add_argument("--model", default=None, help="sentence-transformers model (default all-MiniLM-L6-v2)")
    parser.add_argument("--strategy", choices=[s.value for s in AnswerStrategy], default=AnswerStrategy.LINEAR.value,
                        help="answer with the linear sentence scorer (default) or the learned reader")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    args = parser.parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("bm25s", "httpx", "faiss.loader"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        answering = AnswerConfig(strategy=args.strategy)
        assistant = prepare_index(args.index, args.source, Embedder(args.model), answering)
    except RagError as exc:
        raise SystemExit(f"cannot prepare the index: {exc}") from exc
    launch(build_app(assistant, args.source), args.host, args.port)


if __name__ == "__main__":
    main()

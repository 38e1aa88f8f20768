"""All of the app's HTML: chat messages, the citation panel, the source viewer, the status line.

Every piece of document or user text is escaped here, with :func:`esc`; highlights are made
by :func:`highlight`, which slices the raw text at the engine's offsets and escapes each
piece. Functions take plain values (an :class:`~rag.Answer`, a manifest, strings) and
return HTML strings, so nothing here needs a server or an index.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from urllib.parse import quote

from rag import Answer, Chunk, Citation, Passage, ShortAnswer
from rag.formats.dates import display as display_date
from rag.index import Freshness
from rag.sources import LABEL_SEPARATOR, SourceInfo

SHORT_ANSWER_MIN_CONFIDENCE = 0.5  # below this a short answer is marked but not headlined

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
TARGET_OPEN = '<mark class="rag-target">'

ChunkAt = Callable[[str, int, int], Chunk | None]  # IndexData.chunk_at: (document id, start, end) -> its chunk


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
    script (static/panel.js) turns a click on it into a request for the article, resolved by
    id in the index.
    """
    return esc(f"#cite:{quote(source, safe='')}:{int(start)}:{int(end)}")


def _marker(c: Citation) -> str:
    return f'<a class="rag-marker" href="{cite_href(c.source, c.start, c.end)}" title="{esc(c.title)}">[{c.n}]</a>'


def _section_label(section: str) -> str:
    label = esc(SECTION_LABELS.get(section, section))
    if section == "comment":
        return f'<span class="rag-comment-label">{label} (not the outlet\'s reporting)</span>'
    return label


def _short_spans(short: ShortAnswer | None, source: str, start: int, end: int) -> list[tuple[int, int, str, str]]:
    """The short answer's emphasis, for :func:`highlight`, when it lies inside ``[start, end)`` of ``source``."""
    if short is None or short.source != source or not start <= short.start < short.end <= end:
        return []
    open_tag = f'<strong class="rag-short" title="short answer ({esc(short.kind)})">'
    return [(short.start, short.end, open_tag, "</strong>")]


def _where(c: Citation | Passage) -> str:
    """"Kyodo · 21 Jan 2025 · file.pdf · p. 2": the source's outlet, date, file and page."""
    return LABEL_SEPARATOR.join(x for x in (c.label, c.source, c.page and f"p. {c.page}") if x)


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
        out.append(highlight(c.quote, c.start, _short_spans(answer.short_answer, c.source, c.start, c.end)))
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


def _context(c: Citation, chunk_at: ChunkAt | None) -> tuple[str, int]:
    """The chunk around a cited sentence, from the loaded index (the quote alone if the index
    no longer holds the same text there)."""
    chunk = chunk_at(c.source, c.start, c.end) if chunk_at is not None else None
    if chunk is not None and chunk.text[c.start - chunk.start : c.end - chunk.start] == c.quote:
        return chunk.text, chunk.start
    return c.quote, c.start


def _open_button(source: str, start: int, end: int) -> str:
    return f'<a class="rag-open" href="{cite_href(source, start, end)}">Open in article</a>'


def _citation_card(c: Citation, answer: Answer, chunk_at: ChunkAt | None) -> str:
    p = _containing_passage(c, answer.passages)
    text, base = (p.text, p.start) if p is not None else _context(c, chunk_at)
    spans = [(c.start, c.end, '<mark class="rag-quote">', "</mark>")]
    spans += _short_spans(answer.short_answer, c.source, c.start, c.end)
    return (
        f'<div class="rag-card" data-n="{c.n}">'
        f'<div class="rag-card-head">{_marker(c)} {esc(c.title)}</div>'
        f'<div class="rag-meta">{esc(_where(c))} · {_section_label(c.section)}'
        f" · characters {c.start}–{c.end}</div>"
        f'<div class="rag-passage">{highlight(text, base, spans)}</div>'
        f"{_trace(p, c)}{_open_button(c.source, c.start, c.end)}</div>"
    )


def render_panel(answer: Answer | None, chunk_at: ChunkAt | None = None) -> str:
    """The side panel for the latest answer: each cited passage with the quote highlighted,
    the short answer marked and the retrieval trace; for not-found answers, the closest passages.

    ``chunk_at`` (the loaded index's :meth:`~rag.index.IndexData.chunk_at`) gives the context
    of a citation whose passage is not among the answer's passages."""
    if answer is None:
        return PANEL_PLACEHOLDER
    out = ['<div class="rag-root">']
    if answer.answered and answer.citations:
        out.append("<h4>Cited passages</h4>")
        out.extend(_citation_card(c, answer, chunk_at) for c in answer.citations)
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


# --------------------------------------------------------------------------- source viewer, status, source list


def render_source(doc_id: str, title: str, text: str, start: int, end: int, comment: bool = False) -> str:
    """The whole article ``text`` with ``[start, end)`` highlighted (a reader comment labelled so)."""
    label = f" · {_section_label('comment')}" if comment else ""
    return (
        f'<div class="rag-root rag-viewer" data-doc="{esc(doc_id)}">'
        f"<h4>{esc(title or doc_id)}</h4>"
        f'<div class="rag-meta">{esc(doc_id)} · highlighted: characters {start}–{end}{label}</div>'
        f'<div class="rag-article">{highlight(text, 0, [(start, end, TARGET_OPEN, "</mark>")])}</div>'
        "</div>"
    )


def render_status(manifest: dict, fresh: Freshness, note: str = "") -> str:
    """The index status line: documents, chunks, model, build time and freshness (a banner
    when the source folder is gone and the index is served read-only)."""
    counts = manifest.get("counts", {})
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


def render_status_error(problem: object) -> str:
    """The status line when the index cannot be read."""
    return f'<div class="rag-root rag-status"><span class="rag-warn">{esc(problem)}</span> Use “Rebuild index”.</div>'


def render_note(note: str) -> str:
    """A one-line message under the source list (what an upload or removal did)."""
    return f'<div class="rag-root rag-status">{esc(note)}</div>'


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    return f"{n / 1024:.0f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MB"


def source_label(info: SourceInfo) -> str:
    """One line of the source list: title, outlet, date and size (shown as text, not HTML)."""
    date = display_date(info.published) or "date unknown"
    details = [info.outlet or "outlet unknown", date, _size(info.size), info.id]
    return f"{info.title} — {LABEL_SEPARATOR.join(details)}"

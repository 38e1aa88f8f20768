"""The browser chat over the index: cited answers, inspectable passages and a source viewer.

Started by ``app.py`` (``python app.py --host 127.0.0.1 --port 7860 --index index``). Modules:

- :mod:`app.render`: all HTML; every document or user text is escaped there, highlights are
  cut at the engine's offsets.
- :mod:`app.handlers`: what each event does, as plain functions (an Assistant and plain values
  in, HTML strings, message lists or JSON objects out), callable without a server.
- :mod:`app.ui`: the Gradio page (layout, event wiring, launch); the engine's errors become
  messages on the page there.
- ``app/static/``: the page's CSS and scripts, read at start.
"""

from rag.library import MAX_UPLOAD_BYTES

from .handlers import (
    CitationError,
    api_ask,
    ask,
    clear_chat,
    index_status,
    open_citation,
    rebuild,
    remove,
    respond,
    show_source,
    source_choices,
    source_folder,
    upload,
)
from .render import (
    PANEL_PLACEHOLDER,
    VIEWER_PLACEHOLDER,
    cite_href,
    esc,
    format_answer,
    format_question,
    highlight,
    render_panel,
    render_source,
    render_status,
    source_label,
)
from .ui import API_NAME, build_app, launch

__all__ = [
    "API_NAME", "MAX_UPLOAD_BYTES", "PANEL_PLACEHOLDER", "VIEWER_PLACEHOLDER", "CitationError", "api_ask", "ask",
    "build_app", "cite_href", "clear_chat", "esc", "format_answer", "format_question", "highlight", "index_status",
    "launch", "open_citation", "rebuild", "remove", "render_panel", "render_source", "render_status", "respond",
    "show_source", "source_choices", "source_folder", "source_label", "upload",
]

"""Start the browser chat: ``python app.py [--host 127.0.0.1] [--port 7860] [--index index] [--source seeds]
[--model NAME] [--strategy reader|linear] [-v]`` (``make run`` does this with the defaults).

The index is made ready first (built when missing, updated when stale, checked before
serving: :meth:`rag.Assistant.open`); then the ``app`` package serves the page. Options
and defaults are the ``rag`` command's: ``--index`` (else ``$RAG_INDEX``, else ``index/``),
``--model`` (else ``$RAG_MODEL``), ``--source`` (else the folder the index was built from,
else ``seeds/``), ``--strategy``. The server binds to this machine only unless ``--host``
says otherwise, and is never shared.

(``import app`` finds the package ``app/``, not this file: this file is only run.)
"""

from __future__ import annotations

import argparse
import logging
import os

from app import build_app, launch
from rag import AnswerConfig, AnswerStrategy, Assistant, RagError, make_embedder
from rag.config import DEFAULT_SOURCE
from rag.index import DEFAULT_INDEX, INDEX_ENV

QUIET_LOGGERS = ("bm25s", "httpx", "faiss.loader")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Chat with cited answers from a folder of news articles.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--index", default=os.environ.get(INDEX_ENV) or DEFAULT_INDEX,
                        help=f"index folder (default ${INDEX_ENV}, else {DEFAULT_INDEX})")
    parser.add_argument("--source", default=None,
                        help=f"folder of articles (default: the one the index was built from, else {DEFAULT_SOURCE})")
    parser.add_argument("--model", default=None,
                        help="sentence-transformers model (default $RAG_MODEL, else all-MiniLM-L6-v2; hashing: none)")
    parser.add_argument("--strategy", choices=[s.value for s in AnswerStrategy], default=AnswerConfig.strategy.value,
                        help="answer with the learned reader (default) or the linear sentence scorer")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    for noisy in QUIET_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        answering = AnswerConfig(strategy=args.strategy)
        assistant = Assistant.open(args.index, answering=answering, source=args.source, build=True,
                                   embedder=make_embedder(args.model))
    except RagError as exc:
        raise SystemExit(f"cannot prepare the index: {exc}") from exc
    launch(build_app(assistant, args.source), args.host, args.port)


if __name__ == "__main__":
    main()

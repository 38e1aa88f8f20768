"""The ``rag`` command line: index, info, ask, eval.

Heavy libraries (torch, faiss) are imported only by the commands that need them, so
``rag info`` stays fast.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click

from .errors import QuestionError, RagError
from .index import DEFAULT_INDEX, INDEX_ENV, check_freshness, read_manifest
from .sources import LABEL_SEPARATOR, SourceFilter, manifest_sources

MODEL_HELP = "sentence-transformers model name or local path (default all-MiniLM-L6-v2, or $RAG_MODEL)"


def _index_option(f):
    return click.option(
        "--index",
        "index",
        default=DEFAULT_INDEX,
        envvar=INDEX_ENV,
        show_default=True,
        type=click.Path(file_okay=False, path_type=Path),
        help=f"index folder (or ${INDEX_ENV})",
    )(f)


def _model_option(f):
    return click.option("--model", default=None, envvar="RAG_MODEL", help=MODEL_HELP)(f)


STRATEGIES = ("reader", "linear")


def _strategy_option(f):
    return click.option(
        "--strategy",
        type=click.Choice(STRATEGIES),
        default="reader",
        show_default=True,
        help="answer with the learned reader or the linear sentence scorer",
    )(f)


class _Group(click.Group):
    """Turns domain errors into one-line messages instead of tracebacks."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except RagError as exc:
            raise click.ClickException(str(exc)) from exc


@click.group(cls=_Group)
@click.option("-v", "--verbose", count=True, help="log progress (-vv for debug)")
def main(verbose: int) -> None:
    """Ask questions of a folder of articles; every answer is quoted and cited."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    quiet = level if verbose >= 2 else logging.WARNING
    for handler in logging.getLogger().handlers:  # libraries that set their own loggers to DEBUG
        handler.addFilter(lambda record: record.name.startswith("rag") or record.levelno >= quiet)


@main.command()
@click.option(
    "--source", default="seeds", show_default=True, type=click.Path(path_type=Path),
    help="folder of articles (.txt .md .html .htm .pdf .docx)",
)
@_index_option
@_model_option
@click.option("--full", is_flag=True, help="rebuild everything instead of only what changed")
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
def index(source: Path, index: Path, model: str | None, full: bool, as_json: bool) -> None:
    """Build or update the index of SOURCE into INDEX."""
    from .embedding import Embedder
    from .index import build_index

    report = build_index(source, index, Embedder(model), full=full)
    if as_json:
        click.echo(json.dumps(report.__dict__))
    else:
        click.echo(report.summary())
        if report.skipped:
            click.echo("skipped (see warnings above): " + ", ".join(report.skipped))


@main.command()
@_index_option
@click.option("--json", "as_json", is_flag=True)
def info(index: Path, as_json: bool) -> None:
    """What the index holds and whether it is up to date (does not load the model)."""
    manifest = read_manifest(index)
    fresh = check_freshness(manifest)
    summary = {
        "index": str(index),
        "source": manifest["source"],
        "documents": manifest["counts"]["documents"],
        "chunks": manifest["counts"]["chunks"],
        "sentences": manifest["counts"]["sentences"],
        "model": manifest["model"]["name"],
        "dimension": manifest["model"]["dimension"],
        "faiss": manifest["faiss"]["type"],
        "built_at": manifest["built_at"],
        "fresh": fresh.fresh,
        "status": "up to date" if fresh.fresh else f"stale: {fresh.describe()}; run `rag index --index {index}`",
    }
    listed = manifest_sources(manifest)
    if as_json:
        click.echo(json.dumps({**summary, "sources": [s.to_json() for s in listed]}, ensure_ascii=False))
        return
    for key, value in summary.items():
        click.echo(f"{key:10s} {value}")
    click.echo("\nsources:")
    for s in listed:
        details = LABEL_SEPARATOR.join(x for x in (s.label(), s.author and f"by {s.author}", s.format) if x)
        click.echo(f"  {s.id}  “{s.title}”  {details}")


def _assistant(index: Path, model: str | None, k: int, strategy: str = "reader"):
    from .answer import AnswerConfig
    from .pipeline import Assistant

    return Assistant(index, model, answering=AnswerConfig(strategy=strategy, passages=k)).load()


def _print_human(answer) -> None:
    click.echo(answer.answer)
    for note in answer.notes:
        click.echo(f"(note: {note})")
    if answer.resolved_question:
        click.echo(f"(read as: {answer.resolved_question})")
    if answer.short_answer:
        click.echo(f"short answer: {answer.short_answer.text}")
    click.echo(f"confidence: {answer.confidence:.2f}")
    for c in answer.citations:
        label = {"comment": " — reader comment", "metadata": " — source metadata"}.get(c.section, "")
        where = LABEL_SEPARATOR.join(x for x in (c.label, c.source, c.page and f"p. {c.page}") if x)
        click.echo(f"\n[{c.n}] {c.title} ({where}, chars {c.start}-{c.end}{label})\n    “{c.quote}”")
    if not answer.answered and answer.passages:
        click.echo("\nClosest passages:")
        for i, p in enumerate(answer.passages, 1):
            click.echo(f"  {i}. {p.title} ({p.source}, {p.section}): {' '.join(p.text.split())[:200]}")


def _line_filter(record: dict, default: SourceFilter | None) -> SourceFilter | None:
    """A batch line's own "source"/"since"/"until" fields, else the command line's filter."""
    if not any(k in record for k in ("source", "since", "until")):
        return default
    return SourceFilter.build(record.get("source"), record.get("since"), record.get("until"))


def _batch(assistant, default: SourceFilter | None = None) -> None:
    """JSON Lines in, one JSON object out per line, in order, flushed as it goes."""
    for n, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError("expected a JSON object")
            question, history = record.get("question"), record.get("history") or []
            if not isinstance(history, list):
                raise ValueError("history must be a list of strings")
        except ValueError as exc:
            out = {"line": n, "error": f"invalid JSON on line {n}: {exc}", "answered": False}
        else:
            try:
                out = assistant.ask(question, history, _line_filter(record, default)).to_json()
            except QuestionError as exc:
                out = {
                    "line": n,
                    "question": question,
                    "error": str(exc),
                    "answered": False,
                    "answer": str(exc),
                    "confidence": 0.0,
                    "short_answer": None,
                    "citations": [],
                    "passages": [],
                }
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        sys.stdout.flush()


@main.command()
@click.argument("question")
@_index_option
@_model_option
@click.option("--json", "as_json", is_flag=True, help="print the answer as a JSON object")
@click.option("-k", "k", default=5, show_default=True, type=click.IntRange(0, 100), help="passages to return")
@click.option("--history", multiple=True, help="an earlier question of the conversation (repeatable)")
@click.option("--source", "source", multiple=True, metavar="PATTERN",
              help="only sources whose file, title or outlet matches (wildcards allowed; repeatable)")
@click.option("--since", default=None, metavar="DATE", help="only sources published on or after DATE (YYYY-MM-DD)")
@click.option("--until", default=None, metavar="DATE", help="only sources published on or before DATE (YYYY-MM-DD)")
@_strategy_option
def ask(
    question: str, index: Path, model: str | None, as_json: bool, k: int, history: tuple[str, ...],
    source: tuple[str, ...], since: str | None, until: str | None, strategy: str,
) -> None:
    """Answer QUESTION. With --json and QUESTION '-', read JSON Lines from stdin
    (each line may carry its own "source", "since" and "until")."""
    from .pipeline import clean_question

    try:
        sources = SourceFilter.build(source, since, until)
    except QuestionError as exc:
        raise click.UsageError(str(exc)) from exc
    if question == "-" and as_json:
        _batch(_assistant(index, model, k, strategy), sources)
        return
    try:
        clean_question(question)
    except QuestionError as exc:
        if as_json:
            click.echo(json.dumps({"question": question, "error": str(exc), "answered": False}))
            sys.exit(2)
        raise click.UsageError(str(exc)) from exc
    answer = _assistant(index, model, k, strategy).ask(question, list(history), sources)
    if as_json:
        click.echo(json.dumps(answer.to_json(), ensure_ascii=False))
    else:
        _print_human(answer)


@main.command(name="eval")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@_index_option
@_model_option
@click.option(
    "--baselines", is_flag=True, help="also run the linear scorer and dense-only / BM25-only top-1 sentence baselines"
)
@click.option("--fusion-sweep", is_flag=True, help="also compare fusion settings by chunk retrieval (MRR, recall@k)")
@click.option("--json", "as_json", is_flag=True)
@_strategy_option
def eval_(
    files: tuple[str, ...],
    index: Path,
    model: str | None,
    baselines: bool,
    fusion_sweep: bool,
    as_json: bool,
    strategy: str,
) -> None:
    """Score the assistant on question sets (default: eval/dev_*.jsonl)."""
    from .evaluation import DEFAULT_FILES, FUSION_SWEEP, evaluate, format_table, fusion_row, load_items

    paths = list(files) or [f for f in DEFAULT_FILES if Path(f).exists()]
    if not paths:
        raise click.UsageError("no question files given and eval/dev_*.jsonl not found")
    assistant = _assistant(index, model, 5, strategy)
    runs = evaluate(assistant, paths, baselines)
    report = {
        "files": paths,
        "results": [r.table_row() for r in runs],
        "calibration": [r.calibration() for r in runs if not r.name.startswith("baseline")],
    }
    if fusion_sweep:
        items = load_items(paths)
        report["fusion"] = [fusion_row(assistant, items, config) for config in FUSION_SWEEP]
    if as_json:
        click.echo(json.dumps(report))
        return
    click.echo(format_table(report["results"]))
    click.echo("\nconfidence vs correctness:")
    click.echo(format_table(report["calibration"]))
    if fusion_sweep:
        click.echo("\nchunk retrieval by fusion setting (answerable questions):")
        click.echo(format_table(report["fusion"]))

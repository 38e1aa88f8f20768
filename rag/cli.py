"""The ``rag`` command line: index, info, ask, eval.

Heavy libraries (torch, faiss) are imported only by the commands that need them, so
``rag info`` stays fast.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import click

from .answer import AnswerConfig, AnswerStrategy
from .config import DEFAULT_INDEX, DEFAULT_MODEL, DEFAULT_SOURCE, INDEX_ENV, MODEL_ENV
from .errors import QuestionError, RagError
from .index import Freshness, Manifest, check_freshness, index_command, read_manifest, recorded_source, verify_index
from .sources import LABEL_SEPARATOR, SourceFilter, manifest_sources
from .text import printable, require_unicode, without_surrogates

logger = logging.getLogger(__name__)
BOM = "\ufeff"

MODEL_HELP = (
    f"sentence-transformers model name or local path (default {DEFAULT_MODEL}, or ${MODEL_ENV}); "
    "'hashing' for the model-free embedder (tests, trying the pipeline)"
)


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
    return click.option("--model", default=None, envvar=MODEL_ENV, help=MODEL_HELP)(f)


STRATEGIES = ("reader", "linear")


def _strategy_option(f):
    return click.option(
        "--strategy",
        type=click.Choice(STRATEGIES),
        default=AnswerConfig.strategy.value,
        show_default=True,
        callback=lambda _ctx, _param, value: AnswerStrategy(value),
        help="answer with the learned reader (models/reader) or the linear sentence scorer",
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
    "--source",
    default=None,
    type=click.Path(path_type=Path),
    help=(
        "folder of articles (.txt .md .html .htm .pdf .docx) "
        f"[default: the folder INDEX was built from, else {DEFAULT_SOURCE}]"
    ),
)
@_index_option
@_model_option
@click.option("--full", is_flag=True, help="rebuild everything instead of only what changed")
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
def index(source: Path | None, index: Path, model: str | None, full: bool, as_json: bool) -> None:
    """Build or update the index of SOURCE into INDEX."""
    from .embedding import make_embedder
    from .index import build_index

    if source is None:
        source = Path(recorded_source(index) or DEFAULT_SOURCE)
        logger.info("indexing %s (the folder %s was built from, else %s)", source, index, DEFAULT_SOURCE)
    report = build_index(source, index, make_embedder(model), full=full)
    if as_json:
        click.echo(json.dumps(report.__dict__))
    else:
        click.echo(report.summary())
        if report.skipped:
            click.echo("skipped (see warnings above): " + printable(", ".join(report.skipped)))


@main.command()
@_index_option
@click.option("--json", "as_json", is_flag=True)
@click.option("--verify", is_flag=True, help="hash every index file against the manifest (reads the whole index)")
def info(index: Path, as_json: bool, verify: bool) -> None:
    """What the index holds and whether it is up to date (does not load the model)."""
    manifest = read_manifest(index)
    integrity = verify_index(index) if verify else None
    fresh = check_freshness(manifest)
    summary = {
        "index": str(index),
        "source": manifest.source,
        "documents": manifest.counts.documents,
        "chunks": manifest.counts.chunks,
        "sentences": manifest.counts.sentences,
        "model": manifest.model.name,
        "dimension": manifest.model.dimension,
        "faiss": manifest.faiss.type,
        "built_at": manifest.built_at,
        "fresh": fresh.fresh,
        "status": _status(index, manifest, fresh),
    }
    if integrity is not None:
        summary["integrity"] = f"ok: {integrity.files} files, {integrity.bytes_hashed:,} bytes hashed"
    listed = manifest_sources(manifest)
    if as_json:
        click.echo(_dumps({**summary, "sources": [s.to_json() for s in listed]}))
        return
    for key, value in summary.items():
        click.echo(f"{key:10s} {printable(value)}")
    click.echo("\nsources:")
    for s in listed:
        details = LABEL_SEPARATOR.join(x for x in (s.label(), s.author and f"by {s.author}", s.format) if x)
        click.echo(printable(f"  {s.id}  “{s.title}”  {details}"))


def _status(index: Path, manifest: Manifest, fresh: Freshness) -> str:
    if not fresh.fresh:
        return f"stale: {fresh.describe()}; run `{index_command(index, manifest)}`"
    return f"up to date ({fresh.describe()})" if fresh.source_missing else "up to date"


def _assistant(index: Path, model: str | None, k: int, strategy: AnswerStrategy = AnswerConfig.strategy):
    from .pipeline import Assistant

    return Assistant.open(index, model, answering=AnswerConfig(strategy=strategy, passages=k))


def _print_human(answer) -> None:
    """The answer for a terminal: every piece of document or user text goes through ``printable``."""
    echo = lambda text: click.echo(printable(text))  # noqa: E731 - one line per call
    echo(answer.answer)
    for note in answer.notes:
        echo(f"(note: {note})")
    if answer.resolved_question:
        echo(f"(read as: {answer.resolved_question})")
    if answer.short_answer:
        echo(f"short answer: {answer.short_answer.text}")
    echo(f"confidence: {answer.confidence:.2f}")
    for c in answer.citations:
        label = {"comment": " — reader comment", "metadata": " — source metadata"}.get(c.section, "")
        where = LABEL_SEPARATOR.join(x for x in (c.label, c.source, c.page and f"p. {c.page}") if x)
        click.echo("")
        echo(f"[{c.n}] {c.title} ({where}, chars {c.start}-{c.end}{label})")
        echo(f"    “{' '.join(c.quote.split())}”")
    if not answer.answered and answer.passages:
        click.echo("\nClosest passages:")
        for i, p in enumerate(answer.passages, 1):
            echo(f"  {i}. {p.title} ({p.source}, {p.section.value}): {' '.join(p.text.split())[:200]}")


def _dumps(obj: dict) -> str:
    """One JSON line, valid UTF-8 whatever it holds (a lone surrogate becomes U+FFFD)."""
    text = json.dumps(obj, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = without_surrogates(text)
    return text


def _parse_line(line: bytes, n: int) -> tuple[dict[str, Any], Any, list[Any]]:
    """The record, question and history of one batch line; ValueError (with the reason) when malformed."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not valid UTF-8 ({exc.reason} at byte {exc.start})") from exc
    record = json.loads(text.removeprefix(BOM) if n == 1 else text)
    if not isinstance(record, dict):
        raise ValueError("expected a JSON object")
    question, history = record.get("question"), record.get("history") or []
    if not isinstance(history, list):
        raise ValueError("history must be a list of strings")
    return record, question, history


def _answer_line(assistant, line: bytes, n: int, default: SourceFilter | None = None) -> dict:
    """One batch line's output; no exception escapes (a bad line never stops the batch)."""
    try:
        record, question, history = _parse_line(line, n)
    except (ValueError, RecursionError) as exc:  # json.JSONDecodeError is a ValueError
        return {"line": n, "error": f"invalid JSON on line {n}: {exc}", "answered": False}
    try:
        require_unicode(question)
        for item in history:
            require_unicode(item, "history")
        return assistant.ask(question, history, _line_filter(record, default)).to_json()
    except QuestionError as exc:  # includes FilterError: a line's bad or empty source filter
        return {"line": n, "question": question, "error": str(exc), "answered": False, "answer": str(exc),
                "confidence": 0.0, "short_answer": None, "citations": [], "passages": []}
    except Exception as exc:  # noqa: BLE001 - isolation is the point: report it on its line, go on
        logger.debug("batch line %d failed", n, exc_info=True)
        return {"line": n, "error": f"line {n} could not be answered ({type(exc).__name__}: {exc})",
                "answered": False}


def _line_filter(record: dict, default: SourceFilter | None) -> SourceFilter | None:
    """A batch line's own "source"/"since"/"until" fields, else the command line's filter."""
    if not any(k in record for k in ("source", "since", "until")):
        return default
    return SourceFilter.build(record.get("source"), record.get("since"), record.get("until"))


def _batch(assistant, default: SourceFilter | None = None) -> None:
    """JSON Lines in, one JSON object out per line, in order, flushed as it goes. A BOM before
    the first line is accepted; a line may carry its own "source"/"since"/"until" (else the
    command line's filter applies); any failure of one line becomes ``{"line", "error"}``."""
    for n, line in enumerate(sys.stdin.buffer, 1):
        if not line.strip() or (n == 1 and not line.removeprefix(BOM.encode("utf-8")).strip()):
            continue
        sys.stdout.write(_dumps(_answer_line(assistant, line, n, default)) + "\n")
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
    source: tuple[str, ...], since: str | None, until: str | None, strategy: AnswerStrategy,
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
        require_unicode(question)
        for item in history:
            require_unicode(item, "history")
        clean_question(question)
    except QuestionError as exc:
        if as_json:
            click.echo(_dumps({"question": question, "error": str(exc), "answered": False}))
            sys.exit(2)
        raise click.UsageError(str(exc)) from exc
    answer = _assistant(index, model, k, strategy).ask(question, list(history), sources)
    if as_json:
        click.echo(_dumps(answer.to_json()))
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
    strategy: AnswerStrategy,
) -> None:
    """Score the assistant on question sets (default: eval/dev_*.jsonl)."""
    from .evaluation import DEFAULT_FILES, FUSION_SWEEP, evaluate, format_table, fusion_row, load_items

    paths = list(files) or [f for f in DEFAULT_FILES if Path(f).exists()]
    if not paths:
        raise click.UsageError("no question files given and eval/dev_*.jsonl not found")
    assistant = _assistant(index, model, 5, strategy)
    runs = evaluate(assistant, paths, baselines)
    report: dict[str, Any] = {
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

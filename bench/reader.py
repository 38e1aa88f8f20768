"""What the learned reader costs: warm answer latency and throughput, reader against the
linear scorer, next to question encoding, all in the same run (``make bench-reader``).

    .venv/bin/python bench/reader.py [--index index] [--rounds 3] [--clients 8] [--out bench/READER.json]

Rows: question encoding alone (the floor every strategy pays), the linear scorer, the
reader as shipped (fp32 on ONNX Runtime), on PyTorch, and with int8 linear layers; then answers per second with
``--clients`` threads asking at once through ``Assistant.ask`` (the path the app's /ask API
runs). Questions: every eval/*.jsonl question, follow-ups with their history.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag import Assistant, build_index  # noqa: E402
from rag.answer import AnswerConfig, AnswerStrategy, Features, ReaderScorer, make_scorer  # noqa: E402
from rag.evaluation import load_items  # noqa: E402
from rag.reader import Combiner, Reader, ReaderConfig, ReaderRuntime, default_path  # noqa: E402


def percentiles(seconds: list[float]) -> dict:
    ms = np.array(seconds) * 1000
    return {"p50_ms": round(float(np.percentile(ms, 50)), 1), "p95_ms": round(float(np.percentile(ms, 95)), 1)}


def warm(assistant: Assistant, questions: list, rounds: int) -> dict:
    """Percentiles over every question, and apart for single questions and follow-ups.

    Every answer is timed from scratch (remembered answers dropped), except that a
    follow-up is asked as in a chat: its earlier questions are asked first, untimed, so the
    previous answer is remembered when the follow-up replays it (rag.pipeline.AnswerCache).
    A follow-up may still try several readings, each a read of its own."""
    assistant.ask(questions[0][0], questions[0][1])  # first call pays lazy set-up
    times: dict[str, list[float]] = {"single": [], "followup": []}
    for _ in range(rounds):
        for q, history in questions:
            assistant.forget()
            for n, earlier in enumerate(history):
                assistant.ask(earlier, history[:n])
            t0 = time.perf_counter()
            assistant.ask(q, history)
            times["followup" if history else "single"].append(time.perf_counter() - t0)
    row = percentiles(times["single"] + times["followup"])
    for kind, seconds in times.items():
        row.update({f"{kind}_{k}": v for k, v in percentiles(seconds).items()})
    return row


def encoding(assistant: Assistant, questions: list, rounds: int) -> dict:
    times = []
    for _ in range(rounds):
        for q, _ in questions:
            t0 = time.perf_counter()
            assistant.embedder.encode_query(q)
            times.append(time.perf_counter() - t0)
    return percentiles(times)


def throughput(assistant: Assistant, questions: list, clients: int, total: int) -> dict:
    work = [questions[i % len(questions)] for i in range(total)]
    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(lambda qh: assistant.ask(*qh), work))
    seconds = time.perf_counter() - t0
    return {"answers_per_s": round(total / seconds, 2), "clients": clients, "answers": total}


def reader_variant(assistant: Assistant, config: ReaderConfig) -> Assistant:
    path = default_path()
    scorer = ReaderScorer(Reader(path, config).load(), Combiner.load(path, Features.NAMES))
    return assistant.variant(replace(assistant.answering, strategy=AnswerStrategy.READER), scorer)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", default="/tmp/bench-reader-index")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--out", default=str(ROOT / "bench" / "READER.json"))
    args = parser.parse_args()
    if not (Path(args.index) / "CURRENT").exists():
        build_index(ROOT / "seeds", args.index)
    base = Assistant(args.index, answering=AnswerConfig(strategy=AnswerStrategy.LINEAR)).load()
    items = load_items(sorted((ROOT / "eval").glob("*.jsonl")))
    questions = [(i.question, list(i.history)) for i in items]
    if not isinstance(make_scorer(AnswerStrategy.READER), ReaderScorer):
        sys.exit("models/reader is missing: nothing to measure")
    systems = {
        "linear scorer": base,
        "reader fp32, ONNX Runtime (shipped)": reader_variant(base, ReaderConfig()),
        "reader fp32, PyTorch": reader_variant(base, ReaderConfig(runtime=ReaderRuntime.TORCH)),
        "reader int8, PyTorch": reader_variant(base, ReaderConfig(runtime=ReaderRuntime.TORCH, quantize=True)),
    }
    rows = [{"system": "question encoding only", **encoding(base, questions, args.rounds)}]
    for name, assistant in systems.items():
        row = {"system": name, **warm(assistant, questions, args.rounds)}
        row.update(throughput(assistant, questions, args.clients, len(questions) * 2))
        rows.append(row)
    floor = rows[0]["p50_ms"]
    for row in rows:
        row["p50_vs_encoding"] = round(row["p50_ms"] / floor, 1)
    results = {"questions": len(questions), "rounds": args.rounds, "rows": rows}
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    width = max(len(r["system"]) for r in rows)
    print(
        f"{'system':{width}}  p50 ms  p95 ms  single p50/p95  follow-up p50/p95  x encoding  "
        f"answers/s ({args.clients} clients)"
    )
    for r in rows:
        single = f"{r.get('single_p50_ms', '-')}/{r.get('single_p95_ms', '-')}"
        followup = f"{r.get('followup_p50_ms', '-')}/{r.get('followup_p95_ms', '-')}"
        print(
            f"{r['system']:{width}}  {r['p50_ms']:6}  {r['p95_ms']:6}  {single:>14}  {followup:>17}  "
            f"{r['p50_vs_encoding']:10}  {r.get('answers_per_s', '-')}"
        )


if __name__ == "__main__":
    main()

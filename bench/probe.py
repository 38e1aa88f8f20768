"""Serve one index in a fresh process and measure it: load time, memory, warm latency.

Run by ``bench/run.py`` as a subprocess so that memory figures belong to one server-like
process (the assistant with its model and index loaded) and nothing else. Prints one JSON
object on the last line of stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import numpy as np  # noqa: E402
from stats import PeakSampler, pct, rss_mb, rss_split_mb, smaps_by_file  # noqa: E402


def questions(paths: list[str]) -> list[tuple[str, list[str]]]:
    out = []
    for path in paths:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                out.append((record["question"], list(record.get("history", []))))
    return out


class CachingEmbedder:
    """Wraps the real embedder; once warm, question vectors come from a dict, so timing
    ``Assistant.ask`` measures the whole pipeline except the model."""

    def __init__(self, embedder) -> None:
        self.inner = embedder
        self.name = embedder.name
        self.cache: dict[str, np.ndarray] = {}
        self.use_cache = False

    def load(self):
        self.inner.load()
        return self

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def encode(self, texts, progress=False):
        return self.inner.encode(texts, progress)

    def encode_query(self, text: str) -> np.ndarray:
        if self.use_cache and text in self.cache:
            return self.cache[text]
        vector = self.inner.encode_query(text)
        self.cache[text] = vector
        return vector


def ask_from_scratch(assistant, question: str, history: list[str]) -> float:
    """Seconds to answer with nothing remembered: an ``Assistant`` keeps its recent answers,
    so a repeated question would be timed as a lookup. A follow-up's earlier questions are
    asked first, untimed, as in a chat (as bench/reader.py does)."""
    assistant.forget()
    for n, earlier in enumerate(history):
        assistant.ask(earlier, history[:n])
    t0 = time.perf_counter()
    assistant.ask(question, history)
    return time.perf_counter() - t0


def answer_times(assistant, embedder: CachingEmbedder, qs, rounds: int) -> dict:
    """Answer latency with the model encoding each question, the encoding alone, and the
    answer with question vectors from a dict (everything but the model)."""
    total, encode, no_encode = [], [], []
    for _ in range(rounds):
        for q, h in qs:
            total.append(ask_from_scratch(assistant, q, h))
            t0 = time.perf_counter()
            embedder.inner.encode_query(q)
            encode.append(time.perf_counter() - t0)
    embedder.use_cache = True
    for _ in range(rounds):
        for q, h in qs:
            no_encode.append(ask_from_scratch(assistant, q, h))
    embedder.use_cache = False
    out = {"ask": pct(total), "encode": pct(encode), "ask_without_encoding": pct(no_encode)}
    out["ratio_p50_ask_over_encode"] = out["ask"]["p50_ms"] / out["encode"]["p50_ms"]
    return out


def stage_times(assistant, qs, rounds: int) -> dict:
    """Each step of the answer path timed separately, per question."""
    from rag.answer import extract
    from rag.retrieval import bm25_search, dense_search, fuse
    from rag.text import tokenize

    data, cfg = assistant.data, assistant.retrieval
    steps: dict[str, list[float]] = {"encode": [], "dense": [], "bm25": [], "fuse": [], "extract": []}
    for _ in range(rounds):
        for q, _history in qs:
            t0 = time.perf_counter()
            query = assistant.embedder.inner.encode_query(q)
            t1 = time.perf_counter()
            dense = dense_search(data, query, cfg.candidates)
            t2 = time.perf_counter()
            bm25 = bm25_search(data, tokenize(q), cfg.candidates)
            t3 = time.perf_counter()
            hits = fuse(dense, bm25, cfg)
            t4 = time.perf_counter()
            extract(data, hits, query, q, q, assistant.answering, assistant.scorer)
            t5 = time.perf_counter()
            for name, dt in zip(steps, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
                steps[name].append(dt)
    return {name: pct(values) for name, values in steps.items()}


def omp_single_query(data, queries: np.ndarray, k: int, rounds: int) -> dict:
    """Dense search one query at a time with FAISS's OpenMP team on all cores, then on one
    thread (what ``rag.retrieval.dense_search`` uses for a single query), then all again."""
    import faiss

    before = faiss.omp_get_max_threads()
    cores = os.cpu_count() or 1
    out = {}
    for label, threads in (("all_cores", cores), ("one", 1), ("all_cores_again", cores)):
        faiss.omp_set_num_threads(threads)
        times = []
        for _ in range(rounds):
            for q in queries:
                t0 = time.perf_counter()
                data.faiss.search(q[None, :], k)
                times.append(time.perf_counter() - t0)
        out[label] = pct(times)
    faiss.omp_set_num_threads(before)
    out["cores"] = cores
    return out


def main() -> None:
    started = time.time()
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", required=True)
    parser.add_argument("--questions", nargs="+", required=True)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    import psutil

    boot = time.time() - psutil.Process().create_time()  # interpreter start to here
    report: dict = {"rss_start_mb": rss_mb()}
    sampler = PeakSampler().__enter__()
    t0 = time.perf_counter()
    from rag import Assistant, SentenceTransformerEmbedder

    embedder = CachingEmbedder(SentenceTransformerEmbedder())
    assistant = Assistant(args.index, embedder=embedder)
    report["import_s"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    assistant.embedder.load()
    report["model_load_s"] = time.perf_counter() - t1
    report["rss_after_model_mb"] = rss_mb()
    t2 = time.perf_counter()
    assistant.load()
    report["index_load_s"] = time.perf_counter() - t2
    report["rss_after_index_mb"] = rss_mb()
    report["rss_after_index_split_mb"] = rss_split_mb()
    qs = questions(args.questions)
    t3 = time.perf_counter()
    assistant.ask(*qs[0])
    report["first_answer_s"] = time.perf_counter() - t3
    report["process_start_to_first_answer_s"] = boot + (time.perf_counter() - t0)
    data = assistant.data
    report["faiss"] = data.manifest["faiss"]
    report["chunks"] = data.manifest["counts"]["chunks"]

    for q, h in qs:  # warm-up: caches, page faults of mmapped files, question vectors
        assistant.ask(q, h)

    from rag.answer import AnswerConfig, AnswerStrategy

    # The default strategy (the reader: ~100 ms a read, so fewer rounds), then the linear scorer.
    report["strategy"] = assistant.answering.strategy.value
    report.update(answer_times(assistant, embedder, qs, max(1, args.rounds // 2)))
    linear = assistant.variant(AnswerConfig(strategy=AnswerStrategy.LINEAR))
    report["linear"] = answer_times(linear, embedder, qs, args.rounds)
    report["stages"] = stage_times(assistant, qs, max(1, args.rounds // 2))
    vectors = np.concatenate([embedder.cache[q] for q, _ in qs if q in embedder.cache])
    report["omp_single_query_search"] = omp_single_query(data, vectors, assistant.retrieval.candidates, args.rounds)
    report["questions"] = len(qs)
    sampler.__exit__()
    report["rss_end_mb"] = rss_mb()
    report["rss_end_split_mb"] = rss_split_mb()
    report["peak_anon_mb"] = sampler.peak_anon_mb
    report["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report["rss_by_file_mb"] = smaps_by_file()
    report["probe_wall_s"] = time.time() - started
    print(json.dumps(report))


if __name__ == "__main__":
    main()

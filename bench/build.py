"""Build one index in a fresh process, timing each phase; optionally time raw encoding of
the same sentence texts with the same (warm) model right after.

Run by ``bench/run.py``; prints one JSON object on the last line of stdout.
"""

from __future__ import annotations

import argparse
import functools
import importlib
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
from stats import PeakSampler  # noqa: E402

# module of rag.index and the name it calls the phase by -> label
PHASES = {
    "build._untouched": "no-change check",
    "build.parse_source": "read + clean + split (corpus.py, chunking.py)",
    "build._sentence_vectors": "encode sentences",
    "write.tables": "offset tables",
    "write.chunk_token_ids": "tokenize chunks (text.py) to vocabulary ids",
    "write.chunk_vectors": "chunk vectors",
    "write.build_faiss": "FAISS build (+ nprobe calibration)",
    "write.build_bm25": "BM25 build",
}


def instrument(timings: dict) -> None:
    """Wrap the build's phases so their time is recorded (the engine is not modified)."""
    for name in PHASES:
        module_name, attribute = name.split(".")
        module = importlib.import_module(f"rag.index.{module_name}")
        original = getattr(module, attribute)

        @functools.wraps(original)
        def timed(*args, __original=original, __name=name, **kwargs):
            start = time.perf_counter()
            try:
                return __original(*args, **kwargs)
            finally:
                timings[__name] = timings.get(__name, 0.0) + time.perf_counter() - start

        setattr(module, attribute, timed)


def make_embedder(kind: str, seeds: Path, cache: Path):
    from rag import SentenceTransformerEmbedder

    real = SentenceTransformerEmbedder()
    if kind == "real":
        return real.load()
    from synthetic import SyntheticEmbedder

    from rag.chunking import document_sentences
    from rag.corpus import load_corpus

    texts = [s.text for d in load_corpus(seeds) for s in document_sentences(d)]
    return SyntheticEmbedder.from_texts(texts, real, cache)


def sample_texts(index: str, share: float) -> list[str]:
    """The texts of a fixed random share of the index's sentences (all of them at share 1)."""
    from rag.index import load_index

    data = load_index(index, check_files=False)
    n = len(data.sentences)
    take = max(1, int(round(n * min(share, 1.0))))
    rows = np.arange(n) if take >= n else np.sort(np.random.default_rng(0).choice(n, take, replace=False))
    return [data.sentence_text(int(i)) for i in rows]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", required=True)
    parser.add_argument("--index", required=True)
    parser.add_argument("--embedder", choices=["real", "synthetic"], default="real")
    parser.add_argument("--seeds", default="seeds")
    parser.add_argument("--wordtable", default=None, help="cache file for the synthetic embedder's word table")
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--raw-encode", type=float, default=0.0, help="share of sentences to re-encode raw (0: none)")
    parser.add_argument("--repeat", type=int, default=1, help="builds (and raw encodings) to take the median of")
    args = parser.parse_args()

    from rag.index import build_index, load_index

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    embedder = make_embedder(args.embedder, Path(args.seeds), Path(args.wordtable) if args.wordtable else None)
    setup = time.perf_counter() - t0
    instrument(timings)
    builds, raw_runs, texts = [], [], None
    with PeakSampler() as sampler:
        for _ in range(max(1, args.repeat)):  # builds and raw encodings interleaved: drift hits both
            timings.clear()
            t1 = time.perf_counter()
            report = build_index(args.source, args.index, embedder, full=args.full)
            builds.append(time.perf_counter() - t1)
            if args.raw_encode > 0:
                if texts is None:
                    texts = sample_texts(args.index, args.raw_encode)
                t2 = time.perf_counter()
                embedder.encode(texts)
                raw_runs.append(time.perf_counter() - t2)
    build_s = float(np.median(builds))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {
        "embedder": args.embedder,
        "model_setup_s": setup,
        "build_s": build_s,
        "build_runs_s": builds,
        "report": {k: (len(v) if isinstance(v, list) else v) for k, v in report.__dict__.items()},
        "phases_s": {PHASES[k]: round(v, 3) for k, v in timings.items()},
        "peak_rss_mb": peak,
        "peak_anon_mb": sampler.peak_anon_mb,
    }
    data = load_index(args.index, check_files=False)
    out["faiss"] = data.manifest["faiss"]
    out["chunks"] = int(data.manifest["counts"]["chunks"])
    out["sentences"] = int(data.manifest["counts"]["sentences"])
    out["documents"] = int(data.manifest["counts"]["documents"])
    if report.rebuilt:
        out["chunks_per_s"] = out["chunks"] / build_s
        encode = timings.get("build._sentence_vectors", 0.0)
        out["chunks_per_s_excluding_encoding"] = out["chunks"] / max(build_s - encode, 1e-9)
    if raw_runs:
        raw_s = float(np.median(raw_runs))
        per_chunk = out["sentences"] / max(1, out["chunks"])
        out["raw_encode"] = {
            "sentences": len(texts),
            "share": len(texts) / out["sentences"],
            "seconds": raw_s,
            "runs_s": raw_runs,
            "sentences_per_s": len(texts) / raw_s,
            "chunks_per_s": len(texts) / raw_s / per_chunk,
        }
        if "chunks_per_s" in out:
            out["indexing_over_raw_encoding"] = out["chunks_per_s"] / out["raw_encode"]["chunks_per_s"]
    print(json.dumps(out))


if __name__ == "__main__":
    main()

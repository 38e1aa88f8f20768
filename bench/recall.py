"""Recall@10 of the index's FAISS search against exact search, in a fresh process.

Queries: the eval questions encoded with the real model, and fresh generated sentences
encoded with the embedder the index was built with (real or synthetic). Exact top 10 comes
from brute force over the chunk vectors rebuilt from the stored sentence vectors. For an
IVF index the nprobe sweep is recorded too; for a flat index (exact by construction) the
IVF index the engine would build at this size is built and measured on the same vectors,
so the approximate index is also checked on real embeddings.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import numpy as np  # noqa: E402
from stats import pct  # noqa: E402


def eval_questions(paths: list[str]) -> list[str]:
    out = []
    for path in paths:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append(json.loads(line)["question"])
    return out


def measure(index, vectors: np.ndarray, sets: dict[str, np.ndarray], nprobes: list[int | None]) -> list[dict]:
    import faiss

    from rag.index import RECALL_K, faiss_threads, recall_at_k

    exact = {name: faiss.knn(q, vectors, RECALL_K, metric=faiss.METRIC_INNER_PRODUCT)[0] for name, q in sets.items()}
    rows = []
    for nprobe in nprobes:
        if nprobe is not None:
            index.nprobe = nprobe
        row: dict = {"nprobe": nprobe}
        for name, queries in sets.items():
            _, found = index.search(queries, RECALL_K)
            row[f"recall_at_10_{name}"] = round(recall_at_k(vectors, queries, found, exact[name]), 4)
        times = []
        with faiss_threads(1):
            for q in sets["questions"]:
                t = time.perf_counter()
                index.search(q[None, :], 50)
                times.append(time.perf_counter() - t)
        row["single_query_k50"] = pct(times)
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", required=True)
    parser.add_argument("--embedder", choices=["real", "synthetic"], default="real")
    parser.add_argument("--seeds", default="seeds")
    parser.add_argument("--wordtable", default=None)
    parser.add_argument("--questions", nargs="+", required=True)
    parser.add_argument("--fresh", type=int, default=200, help="generated sentences used as extra queries")
    args = parser.parse_args()

    import gen
    from build import make_embedder

    from rag import SentenceTransformerEmbedder
    from rag.index import IVF_NPROBES, build_faiss, chunk_vectors, load_index
    from rag.index.dense import sample_queries

    data = load_index(args.index, check_files=False)
    spec = data.manifest["faiss"]
    t0 = time.perf_counter()
    vectors = chunk_vectors(data.sentence_vectors, data.chunks)
    rebuild_s = time.perf_counter() - t0
    real = SentenceTransformerEmbedder().load()
    sets = {"questions": real.encode(eval_questions(args.questions))}
    encoder = real if args.embedder == "real" else make_embedder("synthetic", Path(args.seeds), Path(args.wordtable))
    sets["fresh_sentences"] = encoder.encode(gen.fresh_sentences(Path(args.seeds), args.fresh))
    out = {
        "chunks": len(vectors),
        "faiss": spec,
        "vectors": args.embedder,
        "queries": {k: len(v) for k, v in sets.items()},
        "chunk_vectors_rebuild_s": rebuild_s,
    }
    if spec["type"] == "ivf":
        sweep = sorted({p for p in IVF_NPROBES if p <= spec["nlist"]} | {spec["nprobe"]})
        out["as_built"] = measure(data.faiss, vectors, sets, [spec["nprobe"]])[0]
        out["nprobe_sweep"] = measure(data.faiss, vectors, sets, sweep)
        data.faiss.nprobe = spec["nprobe"]
    else:
        out["as_built"] = measure(data.faiss, vectors, sets, [None])[0]
        if len(vectors) >= 2000:
            t1 = time.perf_counter()
            ivf = build_faiss(vectors, sample_queries(np.asarray(data.sentence_vectors)), flat_max=0)
            ivf_spec = ivf.spec.to_json()
            build_s = time.perf_counter() - t1
            sweep = sorted({p for p in IVF_NPROBES if p <= ivf_spec["nlist"]} | {ivf_spec["nprobe"]})
            out["ivf_on_these_vectors"] = {
                "spec": ivf_spec,
                "build_s": build_s,
                "as_calibrated": measure(ivf, vectors, sets, [ivf_spec["nprobe"]])[0],
                "nprobe_sweep": measure(ivf, vectors, sets, sweep),
            }
    print(json.dumps(out))


if __name__ == "__main__":
    main()

"""Parsing speed: seconds per MB for normal text, one-line text and pathological inputs.

    .venv/bin/python bench/parse.py                # 1 MB of each kind: parse, then index with a stub embedder
    .venv/bin/python bench/parse.py --kb 100 200   # sizes in KB (quadratic code shows as a growing s/MB)

"Parse" is what indexing does to a file before embedding: decode, classify lines, split
sentences, group chunks. "Index" is ``build_index`` over a folder holding only that file,
with a stub embedder (a hash of each sentence: microseconds) so the figure is the cost of
everything but the model; real embedding time grows with the number of sentences and is
measured by ``bench/run.py``. The bar: a 1 MB single-line file and a 1 MB run of dots
index in under 5 s. Prints one JSON row per kind and size.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.chunking import ChunkingConfig, chunk_sentences, document_sentences  # noqa: E402
from rag.corpus import parse_document  # noqa: E402
from rag.index import build_index  # noqa: E402

SEEDS = ROOT / "seeds"
DIMENSION = 32


def _seed_text() -> str:
    return "\n\n".join(p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt")))


def _repeat(unit: str, size: int) -> str:
    return (unit * (size // max(1, len(unit)) + 1))[:size]


KINDS: dict[str, Callable[[int], str]] = {
    "normal": lambda size: _repeat(_seed_text() + "\n\n", size),
    "one-line": lambda size: _repeat(" ".join(_seed_text().split()) + " ", size),
    "dot-run": lambda size: "The report ends here" + "." * (size - 40) + " and more follows.",
    "initialisms": lambda size: _repeat("Officials of the U.S. Army met the U.N. envoy. ", size),
}


class StubEmbedder:
    """Duck-types :class:`rag.embedding.Embedder` for ``build_index``: a vector per sentence hash."""

    name = "stub-hash"
    dimension = DIMENSION

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        out = np.empty((len(texts), DIMENSION), dtype=np.float32)
        for i, text in enumerate(texts):
            seed = int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")
            out[i] = np.random.default_rng(seed).standard_normal(DIMENSION)
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        return out


def parse_seconds(text: str) -> tuple[float, float, int]:
    """Wall and CPU seconds (CPU time is what to compare when other jobs share the machine)."""
    wall, cpu = time.perf_counter(), time.process_time()
    doc = parse_document("bench.txt", text)
    sentences = document_sentences(doc)
    chunk_sentences(doc, sentences, 0, ChunkingConfig())
    return time.perf_counter() - wall, time.process_time() - cpu, len(sentences)


def index_seconds(text: str) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "src"
        source.mkdir()
        (source / "bench.txt").write_text(text, encoding="utf-8")
        wall, cpu = time.perf_counter(), time.process_time()
        build_index(source, Path(tmp) / "index", StubEmbedder())
        return time.perf_counter() - wall, time.process_time() - cpu


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kb", type=int, nargs="+", default=[1024], help="sizes in KB (default 1024)")
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=list(KINDS))
    parser.add_argument("--no-index", action="store_true", help="time parsing only")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    for kind in args.kinds:
        for kb in args.kb:
            text = KINDS[kind](kb * 1024)
            mb = len(text.encode("utf-8")) / 2**20
            seconds, cpu, n = parse_seconds(text)
            row = {"kind": kind, "mb": round(mb, 3), "sentences": n, "parse_s": round(seconds, 3),
                   "parse_s_per_mb": round(seconds / mb, 3), "parse_cpu_s_per_mb": round(cpu / mb, 3)}
            if not args.no_index:
                wall, cpu = index_seconds(text)
                row["index_s_stub_embedder"], row["index_cpu_s_stub_embedder"] = round(wall, 3), round(cpu, 3)
            sys.stdout.write(json.dumps(row) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()

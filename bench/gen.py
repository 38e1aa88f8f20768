"""Generated corpora for scale benchmarks: articles made of spliced seed sentences.

Each generated sentence joins the first part of one seed sentence to the last part of
another, so the text has the seeds' vocabulary and sentence lengths but (almost) every
sentence is new: real embeddings of it are diverse, and BM25 posting lists look like a
corpus on the same topics (a pessimistic one: the vocabulary is small, so common terms
have very long posting lists).

Files look like the seeds: a title line, then paragraphs of 1-3 sentences separated by
blank lines. Generation is deterministic for a given seed and size.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

from rag.chunking import ChunkingConfig, chunk_sentences, document_sentences
from rag.corpus import load_corpus
from rag.types import Section

GEN_VERSION = 1
SENTENCES_PER_DOC = (25, 55)


def seed_sentences(seeds: Path) -> list[list[str]]:
    """Word lists of the seeds' article sentences long enough to splice."""
    out = []
    for doc in load_corpus(seeds):
        for s in document_sentences(doc):
            words = s.text.split()
            if s.section is Section.ARTICLE and len(words) >= 8:
                out.append(words)
    return out


class Splicer:
    """Makes new sentences, titles and articles from seed sentences."""

    def __init__(self, seeds: Path, seed: int = 0) -> None:
        self.pool = seed_sentences(seeds)
        self.rng = random.Random(seed)

    def sentence(self) -> str:
        rng = self.rng
        a, b = rng.choice(self.pool), rng.choice(self.pool)
        cut_a = rng.randint(max(2, len(a) // 4), max(3, (3 * len(a)) // 4))
        cut_b = rng.randint(max(1, len(b) // 4), max(2, (3 * len(b)) // 4))
        words = a[:cut_a] + b[cut_b:]
        text = " ".join(words)
        text = text[0].upper() + text[1:]
        if text[-1] not in ".!?\"”’":
            text += "."
        return text

    def title(self) -> str:
        words = self.rng.choice(self.pool)[: self.rng.randint(5, 9)]
        return " ".join(words).rstrip(".,;:!?\"“”’'")

    def article(self) -> str:
        rng = self.rng
        n = rng.randint(*SENTENCES_PER_DOC)
        paragraphs, i = [], 0
        while i < n:
            k = rng.randint(1, 3)
            paragraphs.append(" ".join(self.sentence() for _ in range(min(k, n - i))))
            i += k
        return self.title() + "\n\n" + "\n\n".join(paragraphs) + "\n"


def chunks_per_doc(seeds: Path, sample: int = 200, seed: int = 12345) -> float:
    """Average chunks per generated article (parsed with the real chunker)."""
    from rag.corpus import parse_document

    splicer = Splicer(seeds, seed)
    total = 0
    for i in range(sample):
        doc = parse_document(f"s{i}.txt", splicer.article())
        total += len(chunk_sentences(doc, document_sentences(doc), 0, ChunkingConfig()))
    return total / sample


def generate(seeds: Path, out: Path, target_chunks: int, seed: int = 0) -> dict:
    """Write about ``target_chunks`` chunks worth of articles into ``out`` (reused when the
    folder already holds the same generation). Returns the generation record."""
    per_doc = chunks_per_doc(seeds)
    n_docs = max(1, round(target_chunks / per_doc))
    record = {"version": GEN_VERSION, "target_chunks": target_chunks, "seed": seed, "documents": n_docs}
    marker = out / ".generated.json"
    if marker.is_file() and json.loads(marker.read_text()) == record:
        return record
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    splicer = Splicer(seeds, seed)
    width = len(str(n_docs))
    for i in range(n_docs):
        (out / f"gen_{i:0{width}d}.txt").write_text(splicer.article(), encoding="utf-8")
    marker.write_text(json.dumps(record), encoding="utf-8")
    return record


def fresh_sentences(seeds: Path, n: int, seed: int = 999) -> list[str]:
    """Sentences from the same generator but another random stream (queries not in a corpus)."""
    splicer = Splicer(seeds, seed)
    return [splicer.sentence() for _ in range(n)]

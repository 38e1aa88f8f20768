"""Engine code for large corpora: FAISS index choice, lazy texts, fast no-change builds.

Small synthetic data and a hashing embedder, so these run in seconds without the model.
No timing thresholds here: speed is measured by ``make bench``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import faiss
import numpy as np
import pytest

import rag.config
import rag.corpus
import rag.index.build
from rag import HashingEmbedder
from rag.index import (
    Texts,
    build_faiss,
    build_index,
    check_freshness,
    chunk_vectors,
    ivf_nlist,
    load_index,
    read_manifest,
    recall_at_k,
)
from rag.retrieval import dense_search

ROOT = Path(__file__).resolve().parent.parent


class HashEmbedder(HashingEmbedder):
    """The hashing embedder, narrow (small FAISS indexes), counting its calls."""

    def __init__(self) -> None:
        super().__init__(dimension=32)
        self.calls = 0

    def encode(self, texts, progress=False, on_block=None):
        self.calls += 1
        return super().encode(texts, progress, on_block)


WORDS = (
    "minister alliance tariff election missile summit treaty islands defense budget trade coast guard "
    "parliament currency drills export rice harbor vote reactor satellite border envoy pact"
).split()


def write_corpus(folder: Path, n_docs: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for d in range(n_docs):
        lines = [f"Report number {d} on regional affairs today"]
        for _ in range(6):
            words = rng.choice(WORDS, size=12)
            lines.append("The " + " ".join(words) + f" were discussed in session {rng.integers(1000)}.")
        (folder / f"doc_{d:03d}.txt").write_text("\n\n".join(lines) + "\n", encoding="utf-8")


def clustered(n: int, dim: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((24, dim))
    x = centres[rng.integers(0, 24, n)] + 0.6 * rng.standard_normal((n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def brute_force(vectors: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    scores = queries @ vectors.T
    ids = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(scores, ids, axis=1), ids


# --------------------------------------------------------------------------- FAISS choice


def test_flat_index_matches_brute_force():
    vectors, queries = clustered(500, 16), clustered(20, 16, seed=1)
    index = build_faiss(vectors, queries, flat_max=1000)
    spec = index.spec.to_json()
    assert spec == {"type": "flat", "metric": "inner_product"}
    scores, ids = index.search(queries, 10)
    exact_scores, exact_ids = brute_force(vectors, queries, 10)
    np.testing.assert_allclose(scores, exact_scores, atol=1e-5)
    assert recall_at_k(vectors, queries, ids, exact_scores) == 1.0


def test_ivf_above_the_threshold_reaches_the_recall_target_against_brute_force():
    vectors = clustered(6000, 32)
    probes, queries = clustered(200, 32, seed=2), clustered(100, 32, seed=3)
    index = build_faiss(vectors, probes, flat_max=1000)
    spec = index.spec.to_json()
    assert spec["type"] == "ivf" and spec["storage"] == "fp16"
    assert spec["nlist"] == ivf_nlist(6000) == 64
    assert 1 <= spec["nprobe"] <= spec["nlist"]
    assert spec["calibration"]["recall_at_10"] >= spec["calibration"]["target"]
    index.nprobe = spec["nprobe"]
    _, ids = index.search(queries, 10)  # queries the calibration never saw
    exact_scores, _ = brute_force(vectors, queries, 10)
    assert recall_at_k(vectors, queries, ids, exact_scores) >= 0.95


def test_ivf_nlist_grows_with_the_square_root_and_keeps_training_points_per_list():
    assert ivf_nlist(1) == 1
    assert ivf_nlist(100) == 2  # 10 would leave too few training points per list
    assert ivf_nlist(100_000) == 256
    assert ivf_nlist(1_000_000) == 1024


def test_recall_counts_ties_as_found():
    vectors = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    queries = np.array([[1.0, 0.0]], dtype=np.float32)
    exact_scores = np.array([[1.0]], dtype=np.float32)
    assert recall_at_k(vectors, queries, np.array([[1]]), exact_scores) == 1.0  # the duplicate of id 0
    assert recall_at_k(vectors, queries, np.array([[2]]), exact_scores) == 0.0
    assert recall_at_k(vectors, queries, np.array([[-1]]), exact_scores) == 0.0


def test_built_ivf_index_is_recorded_and_searched_like_brute_force(tmp_path):
    write_corpus(tmp_path / "src", 30)
    build_index(tmp_path / "src", tmp_path / "idx", HashEmbedder(), faiss_flat_max=10)
    spec = read_manifest(tmp_path / "idx")["faiss"]
    assert spec["type"] == "ivf" and spec["nprobe"] >= 1
    data = load_index(tmp_path / "idx")
    assert data.faiss.nprobe == spec["nprobe"]
    vectors = chunk_vectors(np.asarray(data.sentence_vectors), data.chunks)
    queries = np.asarray(data.sentence_vectors[::7], dtype=np.float32)
    exact_scores, _ = brute_force(vectors, queries, 10)
    found = np.array([dense_search(data, q[None, :], 10).ids for q in queries])
    assert recall_at_k(vectors, queries, found, exact_scores) >= 0.95


def test_single_query_search_leaves_faiss_thread_count_alone(tmp_path):
    write_corpus(tmp_path / "src", 3)
    build_index(tmp_path / "src", tmp_path / "idx", HashEmbedder())
    data = load_index(tmp_path / "idx")
    before = faiss.omp_get_max_threads()
    ranking = dense_search(data, np.asarray(data.sentence_vectors[:1], dtype=np.float32), 5)
    assert len(ranking.ids) == 5
    assert faiss.omp_get_max_threads() == before


# --------------------------------------------------------------------------- vectors


@pytest.mark.parametrize("block", [65_536, 3, 1])
def test_chunk_vectors_are_normalised_means_of_their_sentences(monkeypatch, block):
    """Whatever the block the chunks are pooled in (a bound on memory), the same vectors."""
    monkeypatch.setattr(rag.config, "CHUNK_VECTOR_BLOCK", block)
    rng = np.random.default_rng(0)
    sentences = rng.standard_normal((10, 8)).astype(np.float32)
    chunks = np.zeros(4, dtype=[("first", "<i4"), ("count", "<i4")])
    chunks["first"], chunks["count"] = [0, 3, 4, 8], [3, 1, 4, 2]
    got = chunk_vectors(sentences, chunks)
    assert got.dtype == np.float32 and got.shape == (4, 8)
    for row, (first, count) in zip(got, chunks):
        mean = sentences[first : first + count].mean(axis=0)
        np.testing.assert_allclose(row, mean / np.linalg.norm(mean), atol=1e-6)
    assert chunk_vectors(sentences, chunks[:0]).shape == (0, 8)


# --------------------------------------------------------------------------- texts on disk


def test_texts_are_read_on_demand_with_and_without_offsets(tmp_path):
    docs = ["first “quoted” text\nwith a newline", "", "third — ünïcode ✓"]
    path = tmp_path / "texts.jsonl"
    lines = [(json.dumps(d) + "\n").encode("ascii") for d in docs]
    path.write_bytes(b"".join(lines))
    offsets = np.concatenate([[0], np.cumsum([len(x) for x in lines])])
    for texts in (Texts(path, offsets), Texts(path)):
        assert len(texts) == 3
        assert list(texts) == docs
        assert texts[np.int32(2)] == docs[2] and texts[-1] == docs[2]
        assert texts[0:2] == docs[0:2]
        with pytest.raises(IndexError):
            texts[3]
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    assert len(Texts(empty)) == 0


def test_loaded_index_quotes_match_the_source_files(tmp_path):
    write_corpus(tmp_path / "src", 4)
    build_index(tmp_path / "src", tmp_path / "idx", HashEmbedder())
    data = load_index(tmp_path / "idx")
    assert (data.version / "texts.offsets.npy").is_file()
    for i in range(len(data.sentences)):
        row = data.sentences[i]
        raw = (tmp_path / "src" / data.docs[row["doc"]].id).read_text(encoding="utf-8")
        assert data.sentence_text(i) == raw[row["start"] : row["end"]]
    assert data.doc_ids() == {d.id: i for i, d in enumerate(data.docs)}


# --------------------------------------------------------------------------- incremental builds


def test_unchanged_corpus_is_not_read_or_embedded_again(tmp_path, monkeypatch):
    write_corpus(tmp_path / "src", 5)
    embedder = HashEmbedder()
    first = build_index(tmp_path / "src", tmp_path / "idx", embedder)
    assert first.rebuilt and embedder.calls == 1
    def no_parsing(*args, **kwargs):
        raise AssertionError("an unchanged corpus must not be parsed")

    monkeypatch.setattr(rag.index.build, "parse_source", no_parsing)
    again = build_index(tmp_path / "src", tmp_path / "idx", embedder)
    assert not again.rebuilt and embedder.calls == 1
    assert sorted(again.unchanged) == sorted(d["id"] for d in read_manifest(tmp_path / "idx")["files"])
    assert again.chunks == first.chunks and again.documents == 5


def test_touched_or_changed_files_go_through_the_full_check(tmp_path):
    write_corpus(tmp_path / "src", 5)
    embedder = HashEmbedder()
    build_index(tmp_path / "src", tmp_path / "idx", embedder)
    path = tmp_path / "src" / "doc_001.txt"
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    touched = build_index(tmp_path / "src", tmp_path / "idx", embedder)
    assert not touched.rebuilt and embedder.calls == 1  # same content: stats refreshed, nothing embedded
    assert build_index(tmp_path / "src", tmp_path / "idx", embedder).unchanged  # and fast again
    path.write_text(path.read_text(encoding="utf-8") + "\nA new closing sentence was added here.\n", encoding="utf-8")
    changed = build_index(tmp_path / "src", tmp_path / "idx", embedder)
    assert changed.rebuilt and changed.changed == ["doc_001.txt"] and embedder.calls == 2
    (tmp_path / "src" / "doc_002.txt").unlink()
    removed = build_index(tmp_path / "src", tmp_path / "idx", embedder)
    assert removed.rebuilt and removed.removed == ["doc_002.txt"]


def age(folder: Path, seconds: int = 60) -> None:
    """Move the folders' mtimes into the past, as if the corpus had been written a while ago."""
    past = time.time_ns() - seconds * 10**9
    for top, _dirs, _files in os.walk(folder):
        os.utime(top, ns=(past, past))


class Listings:
    """Counts how often the corpus folder is listed."""

    def __init__(self, monkeypatch) -> None:
        self.count = 0
        original = rag.corpus.corpus_files

        def counting(source):
            self.count += 1
            return original(source)

        monkeypatch.setattr(rag.corpus, "corpus_files", counting)


def test_stamped_folders_spare_the_listing_when_nothing_changed(tmp_path, monkeypatch):
    src = tmp_path / "src"
    write_corpus(src, 4)
    (src / "sub").mkdir()
    (src / "sub" / "more.txt").write_text((src / "doc_000.txt").read_text(encoding="utf-8"), encoding="utf-8")
    age(src)
    embedder = HashEmbedder()
    build_index(src, tmp_path / "idx", embedder)
    manifest = read_manifest(tmp_path / "idx")
    assert set(manifest["folders"]["mtimes"]) == {"", "sub"}
    listings = Listings(monkeypatch)
    assert check_freshness(manifest).fresh
    again = build_index(src, tmp_path / "idx", embedder)
    assert not again.rebuilt and again.documents == 5 and embedder.calls == 1
    assert listings.count == 0


@pytest.mark.parametrize("change", ["add", "add_in_subfolder", "remove", "edit", "hidden"])
def test_changes_are_seen_despite_the_stamps(tmp_path, change):
    src = tmp_path / "src"
    write_corpus(src, 4)
    (src / "sub").mkdir()
    (src / "sub" / "more.txt").write_text((src / "doc_000.txt").read_text(encoding="utf-8"), encoding="utf-8")
    age(src)
    build_index(src, tmp_path / "idx", HashEmbedder())
    text = "A brand new article about the harbor and the treaty was published today.\n"
    if change == "add":
        (src / "new.txt").write_text(text, encoding="utf-8")
    elif change == "add_in_subfolder":
        (src / "sub" / "new.txt").write_text(text, encoding="utf-8")
    elif change == "remove":
        (src / "doc_002.txt").unlink()
    elif change == "edit":
        (src / "doc_001.txt").write_text(text, encoding="utf-8")
    else:
        (src / ".draft.txt").write_text(text, encoding="utf-8")
    fresh = check_freshness(read_manifest(tmp_path / "idx"))
    expected = {
        "add": (["new.txt"], [], []),
        "add_in_subfolder": (["sub/new.txt"], [], []),
        "remove": ([], [], ["doc_002.txt"]),
        "edit": ([], ["doc_001.txt"], []),
        "hidden": ([], [], []),
    }[change]
    assert (fresh.added, fresh.changed, fresh.removed) == expected
    assert build_index(src, tmp_path / "idx", HashEmbedder()).rebuilt == (change != "hidden")


def test_folders_changed_just_before_stamping_are_listed_until_stamped_again(tmp_path, monkeypatch):
    src = tmp_path / "src"
    write_corpus(src, 3)  # just written: its folder's mtime is too recent to trust
    build_index(src, tmp_path / "idx", HashEmbedder())
    listings = Listings(monkeypatch)
    assert check_freshness(read_manifest(tmp_path / "idx")).fresh
    assert listings.count == 1
    age(src)
    assert not build_index(src, tmp_path / "idx", HashEmbedder()).rebuilt  # lists, then stamps again
    assert listings.count == 2
    assert check_freshness(read_manifest(tmp_path / "idx")).fresh
    assert not build_index(src, tmp_path / "idx", HashEmbedder()).rebuilt
    assert listings.count == 2


# --------------------------------------------------------------------------- cold start


def test_rag_info_does_not_import_torch_or_faiss(tmp_path):
    write_corpus(tmp_path / "src", 2)
    build_index(tmp_path / "src", tmp_path / "idx", HashEmbedder())
    code = (
        "import sys\n"
        "from rag.cli import main\n"
        f"sys.argv = ['rag', 'info', '--json', '--index', {str(tmp_path / 'idx')!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('torch', 'faiss', 'sentence_transformers', 'bm25s') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    lines = out.stdout.strip().splitlines()
    assert json.loads(lines[0])["chunks"] > 0
    assert lines[-1] == "[]"

"""rag.index's typed parts without the model: the manifest's JSON round trip, the FAISS
vector store against brute force, and IndexData's queries by document offset."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rag import IndexCorruptError, Section
from rag.index import FaissStore, Manifest, build_faiss, build_index, load_index, read_manifest

ARTICLES = {
    "a.txt": "Alliance talks in Tokyo\n\nTokyo and Washington agreed to deepen their alliance on Monday. "
    "The talks lasted two hours.\n\nOfficials said a joint statement would follow.\n",
    "b.txt": "Exports rise\n\nThe finance ministry said exports rose 5% in March. Analysts expected less.\n\n"
    "Comments\n\nGreat news for the harbour towns.\n",
}


@pytest.fixture
def index(tmp_path, hash_embedder) -> Path:
    source = tmp_path / "src"
    source.mkdir()
    for name, text in ARTICLES.items():
        (source / name).write_text(text, encoding="utf-8")
    build_index(source, tmp_path / "idx", hash_embedder)
    return tmp_path / "idx"


def _manifest_json(root: Path) -> dict:
    version = root / (root / "CURRENT").read_text().strip()
    return json.loads((version / "manifest.json").read_text(encoding="utf-8"))


def test_manifest_reads_and_writes_the_same_json(index):
    raw = _manifest_json(index)
    again = Manifest.from_json(raw).to_json()
    assert again == raw and list(again) == list(raw)
    manifest = read_manifest(index)
    assert manifest.counts.documents == 2 and manifest.model.name == "hashing"
    assert manifest["counts"] == raw["counts"] and manifest.get("no-such-key", 7) == 7


def test_manifest_keeps_what_it_does_not_know():
    raw = {
        "format_version": 2, "built_at": "2025-01-01T00:00:00+00:00", "source": "/nowhere",
        "model": {"name": "m", "dimension": 4, "normalized": True}, "chunking": {"max_chars": 500},
        "faiss": {"type": "hnsw", "metric": "inner_product", "M": 32, "efSearch": 64},
        "bm25": {"library": "bm25s", "k1": 1.2, "b": 0.75, "unit": "chunk"},
        "counts": {"documents": 0, "sentences": 0, "chunks": 0}, "files": [], "skipped": [], "folders": None,
        "later": {"added": "by a newer version"},
    }
    assert Manifest.from_json(raw).to_json() == raw


@pytest.mark.parametrize("missing", ["model", "counts", "files"])
def test_a_manifest_without_a_field_is_a_damaged_index(index, missing):
    version = index / (index / "CURRENT").read_text().strip()
    raw = _manifest_json(index)
    del raw[missing]
    (version / "manifest.json").write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(IndexCorruptError, match=rf"has no '{missing}'.*rag index --full --index"):
        read_manifest(index)


@pytest.mark.parametrize("flat_max", [10_000, 0])
def test_vector_store_search_matches_brute_force(flat_max):
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((3000, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    store: FaissStore = build_faiss(vectors, vectors[:200], flat_max=flat_max)
    assert store.spec.type == ("flat" if flat_max else "ivf") and store.ntotal == 3000
    queries = vectors[:5] + 0.01
    among = np.arange(0, 3000, 3)
    if flat_max:
        assert store.nprobe is None  # an exact index scans everything
        _, ids = store.search(queries, 10)
        expected = np.argsort(-(queries @ vectors.T), axis=1, kind="stable")[:, :10]
        assert ids.tolist() == expected.tolist()
    else:
        store.nprobe = store.spec.nlist  # every list: exact
    _, ids = store.search(queries, 10, among=among)
    expected = among[np.argsort(-(queries @ vectors[among].T), axis=1, kind="stable")[:, :10]]
    assert ids.tolist() == expected.tolist()


def test_queries_by_offset_agree_with_the_tables(index):
    data = load_index(index)
    for i, row in enumerate(data.sentences):
        doc_id, start, end = data.docs[int(row["doc"])].id, int(row["start"]), int(row["end"])
        assert data.section_at(doc_id, start) is data.section_of_sentence(i)
        chunk = data.chunk_at(doc_id, start, end)
        assert chunk is not None and chunk.start <= start < end <= chunk.end
        assert chunk.text == data.text(doc_id)[chunk.start : chunk.end] == data.chunk_text(int(row["chunk"]))
    comment = data.text("b.txt").index("Great news")
    assert data.section_at("b.txt", comment) is Section.COMMENT
    assert data.chunk_at("nowhere.txt", 0) is None and data.section_at("a.txt", 10**6) is None
    assert data.document("a.txt").title == "Alliance talks in Tokyo"
    assert data.idf("harbour") > data.idf("tokyo") > 0

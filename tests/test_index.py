"""Manifest, staleness, incremental rebuilds, corruption and the atomic swap (hashing embedder)."""

import json
import os
import re

import numpy as np
import pytest

from rag import Assistant, build_index, load_index, read_manifest
from rag.errors import CorpusError, IndexCorruptError, IndexMissingError, IndexStaleError
from rag.index import EMBED_END

ARTICLES = {
    "a.txt": "Tokyo and Washington agreed to deepen their alliance on Monday. The talks lasted two hours.",
    "b.md": "The finance ministry said exports rose 5% in March. Analysts expected a smaller rise.",
    "c.txt": "Heavy snow closed schools in Sapporo on Tuesday. Trains were delayed for hours.",
}


@pytest.fixture
def corpus(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name, text in ARTICLES.items():
        (src / name).write_text(text, encoding="utf-8")
    return src


def test_manifest_records_how_it_was_built(corpus, tmp_path, hash_embedder):
    root = tmp_path / "idx"
    report = build_index(corpus, root, hash_embedder)
    assert sorted(report.added) == sorted(ARTICLES) and report.rebuilt
    manifest = read_manifest(root)
    assert manifest["format_version"] == 2
    assert manifest["model"] == {"name": "hashing", "dimension": 384, "normalized": True}
    assert manifest["chunking"] == {"max_chars": 500, "max_sentences": 4, "max_sentence_chars": 400}
    assert manifest["source"] == str(corpus.resolve())
    assert {f["id"] for f in manifest["files"]} == set(ARTICLES)
    assert all(len(f["sha256"]) == 64 for f in manifest["files"])
    assert manifest["built_at"] and manifest["faiss"]["type"] == "flat"


def test_stored_arrays_need_no_pickle(corpus, tmp_path, hash_embedder):
    root = tmp_path / "idx"
    build_index(corpus, root, hash_embedder)
    version = root / (root / "CURRENT").read_text().strip()
    for path in version.rglob("*.npy"):
        np.load(path, allow_pickle=False)
    json.loads((version / "manifest.json").read_text())


def test_incremental_rebuild_embeds_only_what_changed(corpus, tmp_path, hash_embedder):
    root = tmp_path / "idx"
    build_index(corpus, root, hash_embedder)
    again = build_index(corpus, root, hash_embedder)
    assert not again.rebuilt and again.embedded_sentences == 0 and len(again.unchanged) == 3

    (corpus / "a.txt").write_text(ARTICLES["a.txt"] + " A joint statement followed.", encoding="utf-8")
    (corpus / "c.txt").unlink()
    (corpus / "d.txt").write_text("The central bank kept rates unchanged on Friday.", encoding="utf-8")
    report = build_index(corpus, root, hash_embedder)
    assert report.changed == ["a.txt"] and report.removed == ["c.txt"] and report.added == ["d.txt"]
    assert report.unchanged == ["b.md"]
    assert report.embedded_sentences == 3 + 1  # a.txt's three sentences and d.txt's one

    fresh = load_index(root)
    full_root = tmp_path / "full"
    build_index(corpus, full_root, hash_embedder, full=True)
    full = load_index(full_root)
    assert np.allclose(np.asarray(fresh.sentence_vectors), np.asarray(full.sentence_vectors), atol=1e-5)


def test_build_reports_progress(corpus, tmp_path, hash_embedder):
    steps = []
    build_index(corpus, tmp_path / "idx", hash_embedder, progress=lambda fraction, desc: steps.append((fraction, desc)))
    fractions = [f for f, _ in steps]
    assert fractions == sorted(fractions) and 0 < fractions[0] and fractions[-1] == EMBED_END
    assert any(d == "embedded 6 of 6 sentences" for _, d in steps)


def test_full_rebuild_reembeds_everything(corpus, tmp_path, hash_embedder):
    root = tmp_path / "idx"
    build_index(corpus, root, hash_embedder)
    report = build_index(corpus, root, hash_embedder, full=True)
    assert report.rebuilt and report.embedded_sentences == 6


def test_touching_a_file_without_changing_it_is_not_stale(corpus, tmp_path, hash_embedder):
    root = tmp_path / "idx"
    build_index(corpus, root, hash_embedder)
    os.utime(corpus / "a.txt", ns=(1, 1))
    load_index(root)
    assert not build_index(corpus, root, hash_embedder).rebuilt


def test_moved_checkout_finds_its_corpus_again(corpus, tmp_path, hash_embedder):
    """A repository moved (or cloned) elsewhere keeps working: the source is found relative to the index."""
    build_index(corpus, tmp_path / "idx", hash_embedder)
    moved = tmp_path / "moved"
    moved.mkdir()
    for name in ("src", "idx"):
        (tmp_path / name).rename(moved / name)
    assert read_manifest(moved / "idx")["source"] == str((moved / "src").resolve())
    assert len(load_index(moved / "idx").docs) == len(ARTICLES)
    assert not build_index(moved / "src", moved / "idx", hash_embedder).rebuilt


@pytest.mark.parametrize("change", ["edit", "add", "remove"])
def test_stale_index_names_the_fix(corpus, tmp_path, hash_embedder, change):
    root = tmp_path / "idx"
    build_index(corpus, root, hash_embedder)
    if change == "edit":
        (corpus / "a.txt").write_text("Completely different text about the weather.", encoding="utf-8")
    elif change == "add":
        (corpus / "e.txt").write_text("A new article about rice prices in Japan.", encoding="utf-8")
    else:
        (corpus / "b.md").unlink()
    command = f"rag index --source {corpus.resolve()} --index {root}"
    with pytest.raises(IndexStaleError, match=rf"stale: .*1 (changed|added|removed).*run `{re.escape(command)}`$"):
        load_index(root)


def test_model_mismatch_asks_for_full_rebuild(corpus, tmp_path, hash_embedder):
    root = tmp_path / "idx"
    build_index(corpus, root, hash_embedder)
    with pytest.raises(IndexStaleError, match=r"built with model 'hashing', not 'other-model'.*--full"):
        load_index(root, model="other-model")


def test_missing_index_names_the_fix(tmp_path):
    with pytest.raises(IndexMissingError, match=r"no index in .*; build it with `rag index --index"):
        load_index(tmp_path / "nowhere")


@pytest.mark.parametrize("victim", ["sentence_vectors.npy", "chunks.faiss", "manifest.json", "texts.jsonl"])
def test_corrupt_index_names_the_fix(corpus, tmp_path, hash_embedder, victim):
    root = tmp_path / "idx"
    build_index(corpus, root, hash_embedder)
    version = root / (root / "CURRENT").read_text().strip()
    (version / victim).write_bytes(b"\x00garbage")
    with pytest.raises(IndexCorruptError, match=r"rag index --full --index"):
        load_index(root)


def test_empty_source_is_an_error(tmp_path, hash_embedder):
    (tmp_path / "src").mkdir()
    with pytest.raises(CorpusError, match="no readable articles"):
        build_index(tmp_path / "src", tmp_path / "idx", hash_embedder)
    with pytest.raises(CorpusError, match="does not exist"):
        build_index(tmp_path / "missing", tmp_path / "idx", hash_embedder)


def test_rebuild_swaps_while_readers_keep_their_snapshot(corpus, tmp_path, hash_embedder):
    root = tmp_path / "idx"
    build_index(corpus, root, hash_embedder)
    assistant = Assistant(root, embedder=hash_embedder).load()
    old = assistant.data
    (corpus / "d.txt").write_text("The central bank kept interest rates unchanged on Friday.", encoding="utf-8")
    report = assistant.rebuild()
    assert report.added == ["d.txt"]
    assert assistant.data is not old and assistant.data.manifest["counts"]["documents"] == 4
    assert old.sentence_text(0)  # the old snapshot still reads
    answer = assistant.ask("Did the central bank change interest rates?")
    assert answer.answered and answer.citations[0].source == "d.txt"
    assert not list(root.glob(".tmp-*"))

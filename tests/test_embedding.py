"""The Embedder protocol and its two implementations: the model-free hashing embedder, and the
sentence-transformers one (here on a tiny randomly initialised model: its batching, not its quality)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rag import (
    Assistant,
    ConfigError,
    Embedder,
    HashingEmbedder,
    IndexStaleError,
    SentenceTransformerEmbedder,
    build_index,
    load_index,
    make_embedder,
    read_manifest,
)
from rag.embedding import MODEL_ENV, resolve_model_path

TEXTS = [
    "Japan pledged to raise its investment in the U.S. to $1 trillion.",
    "How much did Japan pledge to invest in the U.S.?",
    "Heavy snow closed schools in Sapporo on Tuesday.",
]


# --------------------------------------------------------------------------- the hashing embedder


def test_hashing_embedder_is_an_embedder_of_normalised_vectors():
    embedder = HashingEmbedder()
    assert isinstance(embedder, Embedder) and embedder.load() is embedder
    done = []
    vectors = embedder.encode(TEXTS + ["", "..."], on_block=lambda n, total: done.append((n, total)))
    assert vectors.shape == (5, 384) and vectors.dtype == np.float32 and done == [(5, 5)]
    np.testing.assert_allclose(np.linalg.norm(vectors[:3], axis=1), 1.0, rtol=1e-6)
    assert not vectors[3:].any()  # no words: the zero vector
    np.testing.assert_array_equal(embedder.encode_query(TEXTS[1]), vectors[1:2])
    assert embedder.encode([]).shape == (0, 384)


def test_texts_sharing_words_or_word_forms_are_closer():
    embedder = HashingEmbedder()
    pledge, question, snow = embedder.encode(TEXTS)
    assert pledge @ question > 0.3 > abs(pledge @ snow)
    invest, investments, investor, weather = embedder.encode(["invest", "investments", "investor", "weather"])
    assert invest @ investments > 0.9  # one stem
    assert invest @ investor > 0.1 > abs(invest @ weather)  # shared trigrams


def test_hashing_vectors_are_the_same_in_every_process():
    """Not Python's salted hash(): an index built in one process is queried from another."""
    code = f"import sys, rag; sys.stdout.write(rag.HashingEmbedder().encode({TEXTS!r}).tobytes().hex())"
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    other = np.frombuffer(bytes.fromhex(out), dtype=np.float32).reshape(len(TEXTS), -1)
    np.testing.assert_array_equal(other, HashingEmbedder().encode(TEXTS))


@pytest.mark.parametrize(("name", "dimension"), [("hashing", 384), ("hashing-64", 64), (" hashing-16 ", 16)])
def test_make_embedder_picks_the_hashing_embedder_by_name(name, dimension):
    embedder = make_embedder(name)
    assert isinstance(embedder, HashingEmbedder) and embedder.dimension == dimension
    assert embedder.encode(TEXTS).shape == (3, dimension)


def test_make_embedder_takes_the_environment_and_any_other_name_is_a_model(monkeypatch):
    monkeypatch.setenv(MODEL_ENV, "hashing")
    assert make_embedder().name == "hashing"
    monkeypatch.delenv(MODEL_ENV)
    real = make_embedder()
    assert type(real) is SentenceTransformerEmbedder and real.name == "all-MiniLM-L6-v2"  # not loaded yet
    assert make_embedder("some/local-model").name == "some/local-model"


def test_the_old_constructor_call_still_gives_an_embedder():
    """``Embedder(model)`` was the sentence-transformers class before it became the protocol."""
    assert type(Embedder()) is SentenceTransformerEmbedder
    assert type(Embedder("hashing")) is HashingEmbedder


def test_a_dimension_too_small_is_refused():
    with pytest.raises(ConfigError, match="dimension=4"):
        HashingEmbedder(4)


# --------------------------------------------------------------------------- the manifest names the embedder


def test_an_index_opens_only_with_the_embedder_it_was_built_with(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text(" ".join(TEXTS), encoding="utf-8")
    build_index(src, tmp_path / "idx", HashingEmbedder())
    assert read_manifest(tmp_path / "idx")["model"] == {"name": "hashing", "dimension": 384, "normalized": True}
    answer = Assistant(tmp_path / "idx", embedder=HashingEmbedder()).ask("Where did snow close schools?")
    assert answer.answered and "Sapporo" in answer.answer
    rebuild = rf"built with model 'hashing', not '{{}}'; run `rag index --full --source .* --index {tmp_path / 'idx'}`"
    with pytest.raises(IndexStaleError, match=rebuild.format("hashing-64")):
        Assistant(tmp_path / "idx", embedder=HashingEmbedder(64)).load()
    with pytest.raises(IndexStaleError, match=rebuild.format("all-MiniLM-L6-v2")):
        load_index(tmp_path / "idx", "all-MiniLM-L6-v2")


# --------------------------------------------------------------------------- the sentence-transformers embedder


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    """A sentence-transformers folder like the bundled model's, with a randomly initialised
    one-layer BERT of width 32: loads in a second, encodes like the real one."""
    import torch
    from transformers import BertConfig, BertModel

    base = Path(resolve_model_path("all-MiniLM-L6-v2"))
    folder = tmp_path_factory.mktemp("tiny-model")
    for path in base.iterdir():
        if path.is_file() and path.name not in ("model.safetensors", "config.json"):
            shutil.copy(path, folder / path.name)
    shutil.copytree(base / "1_Pooling", folder / "1_Pooling")
    pooling = json.loads((base / "1_Pooling" / "config.json").read_text())
    (folder / "1_Pooling" / "config.json").write_text(json.dumps({**pooling, "word_embedding_dimension": 32}))
    torch.manual_seed(0)
    config = BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64)
    BertModel(config).save_pretrained(folder)
    return folder


@pytest.fixture
def encode_calls(monkeypatch) -> list[int]:
    """How many texts each call into the sentence-transformers model carried."""
    from sentence_transformers import SentenceTransformer

    calls: list[int] = []
    original = SentenceTransformer.encode

    def counting(self, texts, **kwargs):
        calls.append(len(texts))
        return original(self, texts, **kwargs)

    monkeypatch.setattr(SentenceTransformer, "encode", counting)
    return calls


@pytest.mark.slow  # torch, transformers and sentence-transformers: ~15 s of imports
def test_large_inputs_reach_the_model_in_blocks_and_come_back_in_order(tiny_model, encode_calls, monkeypatch):
    embedder = SentenceTransformerEmbedder(str(tiny_model)).load()
    texts = [f"Sentence number {i} about Tokyo." for i in range(10)]
    whole = embedder.encode(texts)
    assert encode_calls == [10] and whole.shape == (10, 32) and whole.dtype == np.float32
    monkeypatch.setattr("rag.embedding.ENCODE_BLOCK", 4)
    np.testing.assert_allclose(embedder.encode(texts), whole, atol=1e-5)
    assert encode_calls[1:] == [4, 4, 2]


@pytest.mark.slow
def test_encoding_in_progress_blocks_gives_the_same_vectors(tiny_model, encode_calls, monkeypatch):
    embedder = SentenceTransformerEmbedder(str(tiny_model))
    texts = [f"Sentence number {i} about Tokyo." for i in range(5)]
    whole = embedder.encode(texts)
    monkeypatch.setattr("rag.embedding.PROGRESS_BLOCK", 2)
    done = []
    blocks = embedder.encode(texts, on_block=lambda n, total: done.append((n, total)))
    assert done == [(2, 5), (4, 5), (5, 5)] and encode_calls == [5, 2, 2, 1]
    np.testing.assert_allclose(blocks, whole, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(blocks, axis=1), 1.0, rtol=1e-5)


@pytest.mark.slow
def test_a_model_that_cannot_be_loaded_names_itself(tmp_path):
    with pytest.raises(ConfigError, match=r"cannot load embedding model '.*nothing-here' offline"):
        SentenceTransformerEmbedder(str(tmp_path / "nothing-here")).load()

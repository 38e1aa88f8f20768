"""Sentences and chunks keep offsets: raw[start:end] == text, always."""

from pathlib import Path

import pytest

from rag.chunking import ChunkingConfig, chunk_sentences, document_sentences, split_sentences
from rag.corpus import load_corpus, parse_document
from rag.errors import ConfigError

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("He met the U.S. envoy. It rained.", ["He met the U.S. envoy.", "It rained."]),
        (
            "Relations with the U.S. In particular, trade grew.",
            ["Relations with the U.S.", "In particular, trade grew."],
        ),
        (
            "The U.S. President spoke on Jan. 24 at 3 p.m. today.",
            ["The U.S. President spoke on Jan. 24 at 3 p.m. today."],
        ),
        ("Mr. Smith said “Go.” Then he left!", ["Mr. Smith said “Go.”", "Then he left!"]),
        ("Energy markets grew.[1] Another point followed.", ["Energy markets grew.", "Another point followed."]),
        ("Is it? Yes", ["Is it?", "Yes"]),
        ("It was very meaningful...the alliance holds.", ["It was very meaningful...the alliance holds."]),
    ],
)
def test_split_sentences(text, expected):
    assert [text[a:b] for a, b in split_sentences(text, 0, len(text))] == expected


@pytest.mark.parametrize("path", sorted(SEEDS.glob("*.txt")), ids=lambda p: p.name)
def test_offsets_rebuild_seed_text(path):
    doc = load_corpus(SEEDS)[[d.id for d in load_corpus(SEEDS)].index(path.name)]
    raw = path.read_bytes().decode("utf-8")
    assert doc.raw == raw
    sentences = document_sentences(doc)
    for s in sentences:
        assert raw[s.start : s.end] == s.text
    chunks = chunk_sentences(doc, sentences, 0, ChunkingConfig())
    for c in chunks:
        assert raw[c.start : c.end] == c.text
        members = sentences[c.first_sentence : c.first_sentence + c.n_sentences]
        assert members[0].start == c.start and members[-1].end == c.end
        assert len({m.section for m in members}) == 1
    assert sum(c.n_sentences for c in chunks) == len(sentences)


def test_offsets_with_crlf_bom_and_unicode():
    raw = "\ufeffTitle line about the summit talks\r\n\r\nThe café’s owner said “yes.” The talks ended.\r\n"
    doc = parse_document("x.txt", raw)
    for s in document_sentences(doc):
        assert raw[s.start : s.end] == s.text
        assert "\r" not in s.text


@pytest.mark.parametrize(
    "max_chars, max_sentences, sizes",
    [(200, 3, [3] * 6 + [2]), (100, 4, [2] * 10)],  # sentences of ~44 characters: 2 fit in 100
    ids=["sentence-limit", "char-limit"],
)
def test_chunks_respect_limits(max_chars, max_sentences, sizes):
    raw = " ".join(f"Sentence number {i} talks about the alliance." for i in range(20))
    doc = parse_document("x.txt", raw)
    sentences = document_sentences(doc)
    chunks = chunk_sentences(doc, sentences, 0, ChunkingConfig(max_chars=max_chars, max_sentences=max_sentences))
    assert [c.n_sentences for c in chunks] == sizes  # each as full as the limits allow, every sentence once
    assert all(c.n_sentences <= max_sentences and len(c.text) <= max_chars for c in chunks)


@pytest.mark.parametrize(
    "kwargs, match", [({"max_chars": 10}, "max_chars=10"), ({"max_sentences": 0}, "max_sentences=0")]
)
def test_config_is_checked(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        ChunkingConfig(**kwargs)

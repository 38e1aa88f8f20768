"""Shared fixtures: the real model and an index of seeds/, built once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from rag import Assistant, Embedder, build_index  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
EVAL = ROOT / "eval"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real embedding model, loaded once."""
    return Embedder().load()


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory, embedder) -> Path:
    """An index of the seed articles in a temporary folder."""
    root = tmp_path_factory.mktemp("seed-index")
    build_index(SEEDS, root, embedder)
    return root


@pytest.fixture(scope="session")
def assistant(seed_index, embedder) -> Assistant:
    return Assistant(seed_index, embedder=embedder).load()


@pytest.fixture(scope="session")
def mixed_corpus(tmp_path_factory) -> Path:
    """The seed articles plus an HTML page, a two-page PDF, a DOCX and a dated text file."""
    import shutil

    from formats_data import write_corpus

    folder = write_corpus(tmp_path_factory.mktemp("mixed-corpus"))
    for path in SEEDS.glob("*.txt"):
        shutil.copy(path, folder / path.name)
    return folder


@pytest.fixture(scope="session")
def mixed_index(mixed_corpus, tmp_path_factory, embedder) -> Path:
    root = tmp_path_factory.mktemp("mixed-index")
    build_index(mixed_corpus, root, embedder)
    return root


@pytest.fixture(scope="session")
def mixed_assistant(mixed_index, embedder) -> Assistant:
    return Assistant(mixed_index, embedder=embedder).load()

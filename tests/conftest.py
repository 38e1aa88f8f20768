"""Shared fixtures, built once per session.

Two kinds of embedder, and indexes of seeds/ (and of seeds/ plus one file of each format) built
with each:

- ``hash_embedder``, ``hash_seed_index``, ``hash_assistant``, ``hash_mixed_index``,
  ``hash_mixed_assistant``: the deterministic :class:`rag.HashingEmbedder` (no model, built in
  about a second). Unit tests use these: anything about offsets, formats, the index files,
  filters, the CLI and app contracts, errors.
- ``embedder``, ``seed_index``, ``assistant``, ``mixed_index``, ``mixed_assistant``: the real
  model, for tests of answer quality (the answers the model gives on the seed questions).
  A test that uses one of them, directly or through another fixture, is marked ``slow`` at
  collection (``pytest_collection_modifyitems`` below), so ``pytest -m "not slow"`` (``make
  test-fast``) never loads the model.

The CLI picks its embedder by name: ``hash_cli_env`` (``RAG_MODEL=hashing``) makes ``rag``
commands open the hashing indexes.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from rag import Assistant, HashingEmbedder, SentenceTransformerEmbedder, build_index  # noqa: E402
from rag.embedding import MODEL_ENV  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
EVAL = ROOT / "eval"
# The browser tests drive Debian's chromium. `make test` installs it when it can (root + apt-get);
# without it they are skipped with one loud line, unless REQUIRE_BROWSER_ENV is set (CI: .ci/run),
# where a missing browser fails them. CHROMIUM_ENV points elsewhere (tests of the missing case).
CHROMIUM_ENV = "RAG_CHROMIUM"
REQUIRE_BROWSER_ENV = "RAG_REQUIRE_BROWSER"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
# The fixtures that load the real model: a test using any of them is a slow test.
REAL_MODEL_FIXTURES = frozenset({"embedder", "seed_index", "assistant", "mixed_index", "mixed_assistant"})


def chromium_path() -> Path:
    return Path(os.environ.get(CHROMIUM_ENV) or DEFAULT_CHROMIUM)


def _browser_missing_line() -> str | None:
    path = chromium_path()
    if path.exists():
        return None
    if os.environ.get(REQUIRE_BROWSER_ENV):
        return f"{path} is missing and {REQUIRE_BROWSER_ENV} is set: the browser tests FAIL (see .ci/run)"
    return (
        f"{path} is missing: the browser tests are SKIPPED (`make test` as root installs Debian's chromium; "
        f"set {REQUIRE_BROWSER_ENV}=1 to make this an error)"
    )


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects
def pytest_collection_modifyitems(items) -> None:
    """Mark ``slow`` every test that uses the real model, whether or not its module says so."""
    for item in items:
        if REAL_MODEL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


# --------------------------------------------------------------------------- the deterministic embedder


@pytest.fixture(scope="session")
def hash_embedder() -> HashingEmbedder:
    """The model-free embedder: hashed words and trigrams (rag/hashing.py)."""
    return HashingEmbedder()


@pytest.fixture(scope="session")
def hash_seed_index(tmp_path_factory, hash_embedder) -> Path:
    """An index of the seed articles built with the hashing embedder."""
    root = tmp_path_factory.mktemp("hash-seed-index")
    build_index(SEEDS, root, hash_embedder)
    return root


@pytest.fixture(scope="session")
def hash_assistant(hash_seed_index, hash_embedder) -> Assistant:
    return Assistant(hash_seed_index, embedder=hash_embedder).load()


@pytest.fixture(scope="session")
def hash_mixed_index(mixed_corpus, tmp_path_factory, hash_embedder) -> Path:
    root = tmp_path_factory.mktemp("hash-mixed-index")
    build_index(mixed_corpus, root, hash_embedder)
    return root


@pytest.fixture(scope="session")
def hash_mixed_assistant(hash_mixed_index, hash_embedder) -> Assistant:
    return Assistant(hash_mixed_index, embedder=hash_embedder).load()


@pytest.fixture
def hash_cli_env(monkeypatch, hash_embedder) -> str:
    """``$RAG_MODEL`` naming the hashing embedder, so ``rag`` commands (and app.main) use it."""
    monkeypatch.setenv(MODEL_ENV, hash_embedder.name)
    return hash_embedder.name


# --------------------------------------------------------------------------- the real model (slow tests)


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    """The real embedding model, loaded once."""
    return SentenceTransformerEmbedder().load()


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


@pytest.fixture(scope="session")
def chromium() -> Path:
    """The browser executable: skips (or, with $RAG_REQUIRE_BROWSER, fails) the test when it is missing."""
    path = chromium_path()
    if not path.exists():
        message = _browser_missing_line()
        if os.environ.get(REQUIRE_BROWSER_ENV):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return path


def pytest_terminal_summary(terminalreporter) -> None:
    """One loud line when the browser tests could not run."""
    line = _browser_missing_line()
    if line:
        terminalreporter.write_line(f"WARNING: {line}", yellow=True, bold=True)

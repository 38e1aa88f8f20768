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
# The browser tests drive Debian's chromium. `make test` installs it when it can (root + apt-get);
# without it they are skipped with one loud line, unless REQUIRE_BROWSER_ENV is set (CI: .ci/run),
# where a missing browser fails them. CHROMIUM_ENV points elsewhere (tests of the missing case).
CHROMIUM_ENV = "RAG_CHROMIUM"
REQUIRE_BROWSER_ENV = "RAG_REQUIRE_BROWSER"
DEFAULT_CHROMIUM = "/usr/bin/chromium"


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

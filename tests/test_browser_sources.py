"""The source list in real Chromium: search, tick sources, upload a PDF by the file input,
ask about it, remove it. The source list's screenshot (test-output/sources.png) is the README's
docs/sources.png."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from formats_data import pdf_bytes, write_corpus
from playwright.sync_api import Page, expect
from test_browser import OUT, browser, open_page, serve  # noqa: F401 - browser is a fixture

from rag import Assistant, build_index

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore:.*no_silent_downcasting:Warning", "ignore:The copy keyword:Warning"),
]

ROOT = Path(__file__).resolve().parent.parent
TYPHOON = "How many residents were evacuated when Typhoon Shanshan made landfall?"
UPLOAD_MS = 120_000


@pytest.fixture(scope="module")
def library(tmp_path_factory, embedder) -> tuple[Path, Assistant]:
    corpus = write_corpus(tmp_path_factory.mktemp("library") / "corpus")
    (corpus / "typhoon.pdf").unlink()  # uploaded in the test
    shutil.copy(ROOT / "seeds" / "001_f14a05f1355ea57a.txt", corpus)
    index = corpus.parent / "index"
    build_index(corpus, index, embedder)
    return corpus, Assistant(index, embedder=embedder).load()


@pytest.fixture(scope="module")
def library_server(library) -> Iterator[str]:
    yield from serve(library[1])


@pytest.fixture
def page(browser, library_server) -> Iterator[Page]:  # noqa: F811 - the fixture, not the import
    page = open_page(browser, library_server)
    yield page
    page.close()


ITEM = "#rag-source-list label:has-text(' — ')"  # the "select all" box has no details


def ask(page: Page, question: str) -> str:
    """Send a question and return the new assistant message (generous wait: a busy machine)."""
    bots = page.locator('#rag-chat [data-testid="bot"]')
    before = bots.count()
    page.fill("#rag-question textarea", question)
    page.press("#rag-question textarea", "Enter")
    expect(bots).to_have_count(before + 1, timeout=UPLOAD_MS)
    return bots.nth(before).inner_text()


def source_labels(page: Page) -> list[str]:
    return [t.strip() for t in page.locator(ITEM).all_inner_texts()]


def test_source_list_search_and_ticks(page):
    labels = source_labels(page)
    assert any(x.startswith("Japan lifts defence budget to record level — Harbour Times · 21 Jan 2025") for x in labels)
    assert len(labels) == 4
    page.fill("#rag-source-search textarea", "harbour times")
    expect(page.locator(ITEM)).to_have_count(1)
    page.locator("#rag-source-list label", has_text="budget.html").click()
    page.fill("#rag-source-search textarea", "")
    expect(page.locator(ITEM)).to_have_count(4)
    reply = ask(page, "How much did Japan pledge to invest in the U.S.?")
    assert "could not find" in reply  # only the ticked defence-budget page is searched
    passages = page.locator("#rag-panel .rag-retrieved .rag-meta").all_inner_texts()
    assert passages and all("budget.html" in p for p in passages)
    OUT.mkdir(exist_ok=True)
    page.locator("#rag-sources-panel").screenshot(path=str(OUT / "sources.png"))  # docs/sources.png is a copy


def test_upload_ask_and_remove(page, library, tmp_path):
    corpus, _ = library
    upload = tmp_path / "Typhoon report (final).pdf"
    upload.write_bytes(pdf_bytes())
    page.locator("#rag-upload input[type=file]").set_input_files(str(upload))
    note = page.locator("#rag-source-note")
    expect(note).to_contain_text("Added and indexed: Typhoon-report-final.pdf", timeout=UPLOAD_MS)
    assert (corpus / "Typhoon-report-final.pdf").is_file()
    expect(page.locator("#rag-source-list label", has_text="Typhoon-report-final.pdf")).to_have_count(1)
    reply = ask(page, TYPHOON)
    assert "four million residents" in reply and "Typhoon-report-final.pdf" in reply and "p. 1" in reply
    OUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUT / "uploaded.png"), full_page=True)

    page.locator("#rag-remove-choice input").click()
    page.locator("#rag-remove-choice input").fill("Typhoon")
    page.get_by_role("option", name="Typhoon-report-final.pdf", exact=False).first.click()
    page.click("#rag-remove")
    expect(note).to_contain_text("Removed Typhoon-report-final.pdf", timeout=UPLOAD_MS)
    assert not (corpus / "Typhoon-report-final.pdf").exists()
    assert any(p.name.endswith("Typhoon-report-final.pdf") for p in (corpus / ".trash").iterdir())
    expect(page.locator("#rag-source-list label", has_text="Typhoon-report-final.pdf")).to_have_count(0)
    assert "could not find" in ask(page, TYPHOON)


def test_refused_upload_says_why(page, tmp_path):
    bad = tmp_path / "scan.pdf"
    bad.write_bytes(pdf_bytes([[]]))
    page.locator("#rag-upload input[type=file]").set_input_files(str(bad))
    expect(page.locator("#rag-source-note")).to_contain_text("no text layer", timeout=UPLOAD_MS)

"""End to end: the chat app served on a free localhost port, driven in headless Chromium
(through the ``playwright`` package, with the system's /usr/bin/chromium) and through
``gradio_client``. One server per module; screenshots go to ``test-output/``."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import psutil
import pytest
from gradio_client import Client
from playwright.sync_api import Browser, Page, expect, sync_playwright

import app
from rag import Assistant, build_index

pytestmark = [
    pytest.mark.browser,
    # gradio's queue calls pandas options that pandas 3 deprecates; not ours to fix
    pytest.mark.filterwarnings("ignore:.*no_silent_downcasting:Warning", "ignore:The copy keyword:Warning"),
]

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
OUT = ROOT / "test-output"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]
TRAVEL = "Where is Ishiba planning to travel in the coming weeks?"
TRAVEL_SOURCES = {"000_76599d89af1a5866.txt", "001_f14a05f1355ea57a.txt"}
TIMEOUT_MS = 30_000

XSS_SCRIPT = "<script>window.__pwned=1</script>"
XSS_IMG = '<img src=x onerror="window.__pwned=1">'
EVIL_DOC = f"""{XSS_IMG} Harbour festival draws record crowds
The harbour festival drew a record crowd of 12,000 visitors on Saturday {XSS_SCRIPT} according to the organisers.
The mayor said the fireworks display {XSS_IMG} was paid for by a local bakery this year.
Organisers printed **bold claims**, a [prize link](javascript:window.__pwned=1) and $$x^2$$ in the festival programme.
"""
EVIL_QUESTION = f"How many visitors came to the harbour festival? {XSS_SCRIPT} {XSS_IMG} **now**"


# --------------------------------------------------------------------------- servers and browser


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(assistant: Assistant) -> Iterator[str]:
    demo = app.build_app(assistant)
    port = free_port()
    app.launch(demo, "127.0.0.1", port, block=False)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


@pytest.fixture(scope="module")
def server(assistant) -> Iterator[str]:
    """The app over the session's seed index."""
    yield from serve(assistant)


@pytest.fixture(scope="module")
def evil_corpus(tmp_path_factory) -> Path:
    """A corpus whose article holds script and markup (and one seed article)."""
    corpus = tmp_path_factory.mktemp("evil") / "corpus"
    corpus.mkdir()
    (corpus / "evil.txt").write_text(EVIL_DOC, encoding="utf-8")
    shutil.copy(SEEDS / "002_9e7f3e763ff0b01e.txt", corpus)
    return corpus


@pytest.fixture(scope="module")
def evil_server(evil_corpus, embedder) -> Iterator[str]:
    """The app over ``evil_corpus``, with its own index (so rebuilding it touches nothing shared)."""
    index = evil_corpus.parent / "index"
    build_index(evil_corpus, index, embedder)
    yield from serve(Assistant(index, embedder=embedder).load())


@pytest.fixture(scope="module")
def browser(chromium) -> Iterator[Browser]:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def open_page(browser: Browser, url: str) -> Page:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    page.wait_for_selector("#rag-question textarea")
    expect(page.locator("#rag-status")).to_contain_text("documents")
    return page


@pytest.fixture
def page(browser, server) -> Iterator[Page]:
    page = open_page(browser, server)
    yield page
    page.close()


def shot(page: Page, name: str) -> None:
    OUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)


def ask(page: Page, question: str, *, click: bool = False) -> str:
    """Type a question, send it, and return the text of the new assistant message."""
    bots = page.locator('#rag-chat [data-testid="bot"]')
    before = bots.count()
    page.fill("#rag-question textarea", question)
    if click:
        page.click("#rag-send")
    else:
        page.press("#rag-question textarea", "Enter")
    expect(bots).to_have_count(before + 1)
    return bots.nth(before).inner_text()


def cited(page: Page) -> list[tuple[str, int, int, str]]:
    """(document, start, end, highlighted text) of each citation card in the panel."""
    out = []
    for card in page.locator("#rag-panel .rag-card[data-n]").all():
        _, source, start, end = card.locator("a.rag-open").get_attribute("href").split(":")
        out.append((unquote(source), int(start), int(end), card.locator("mark.rag-quote").inner_text()))
    return out


# --------------------------------------------------------------------------- the chat


def test_answer_with_citation_panel(page, assistant):
    reply = ask(page, TRAVEL)
    assert "Washington" in reply
    expect(page.locator('#rag-chat [data-testid="bot"] strong.rag-short').first).to_have_text("Washington")
    expect(page.locator('#rag-chat [data-testid="user"]')).to_have_text(TRAVEL)
    cards = cited(page)
    assert cards, "no citation in the panel"
    source, start, end, quote = cards[0]
    assert source in TRAVEL_SOURCES
    assert (SEEDS / source).read_text(encoding="utf-8")[start:end] == quote
    assert quote in reply and "Washington" in quote
    panel = page.locator("#rag-panel")
    expect(panel).to_contain_text(source)
    expect(panel).to_contain_text("dense rank")
    expect(panel).to_contain_text("BM25 rank")
    expect(panel).to_contain_text("fused score")
    expect(panel.locator(".rag-card[data-n] strong.rag-short").first).to_have_text("Washington")
    shot(page, "answer")


def test_follow_up_uses_the_conversation(page):
    first = ask(page, "What did Ishiba say in his policy speech?")
    assert "could not find" not in first
    reply = ask(page, "Which countries did he visit recently?", click=True)
    assert "Indonesia" in reply and "Malaysia" in reply
    assert "read as" in reply and "Ishiba" in reply
    assert all(source in TRAVEL_SOURCES for source, *_ in cited(page))
    shot(page, "follow-up")


def test_unanswerable_question_says_so(page):
    reply = ask(page, "Who wrote the novel Norwegian Wood?")
    assert "could not find the answer" in reply
    panel = page.locator("#rag-panel")
    expect(panel).to_contain_text("No answer found")
    assert panel.locator(".rag-retrieved").count() >= 1
    assert panel.locator("mark.rag-quote").count() == 0
    shot(page, "not-found")


def test_citation_opens_the_article_at_the_quote(page):
    ask(page, TRAVEL)
    source, start, end, quote = cited(page)[0]
    viewer = page.locator("#rag-viewer")
    expect(viewer.locator("mark.rag-target")).to_have_count(0)
    page.locator("#rag-panel .rag-card[data-n] a.rag-open").first.click()
    target = viewer.locator("mark.rag-target")
    expect(target).to_have_text(quote)
    expect(viewer.locator(".rag-viewer")).to_have_attribute("data-doc", source)
    article = (SEEDS / source).read_text(encoding="utf-8")
    assert viewer.locator(".rag-article").inner_text().strip() == article.strip()
    assert article[start:end] == quote
    expect(target).to_be_in_viewport()
    in_box = target.evaluate(
        """m => { const box = m.closest('.rag-article').getBoundingClientRect(), r = m.getBoundingClientRect();
                  return r.top >= box.top - 1 && r.bottom <= box.bottom + 1; }"""
    )
    assert in_box, "the highlighted span is not scrolled into the viewer"
    shot(page, "source-viewer")


def test_chat_markers_open_the_source_too(page):
    ask(page, "What did Ishiba say in his policy speech?")
    ask(page, "What did Nakatani say about the strength of the alliance?")
    first = page.locator('#rag-chat [data-testid="bot"]').first.locator("a.rag-marker").first
    _, source, start, end = first.get_attribute("href").split(":")
    first.click()
    viewer = page.locator("#rag-viewer .rag-viewer")
    expect(viewer).to_have_attribute("data-doc", unquote(source))
    expected = (SEEDS / unquote(source)).read_text(encoding="utf-8")[int(start) : int(end)]
    expect(page.locator("#rag-viewer mark.rag-target")).to_have_text(expected)


def test_example_click_asks_and_clear_resets(page):
    page.locator("#rag-examples").get_by_text(TRAVEL).click()
    expect(page.locator('#rag-chat [data-testid="bot"]')).to_have_count(1)
    expect(page.locator('#rag-chat [data-testid="bot"]')).to_contain_text("Washington")
    page.click("#rag-clear")
    expect(page.locator('#rag-chat [data-testid="bot"]')).to_have_count(0)
    expect(page.locator("#rag-panel .rag-card")).to_have_count(0)
    # after clearing, a pronoun has nothing to refer to
    reply = ask(page, "What did Ishiba say in his policy speech?")
    assert "read as" not in reply


def test_rebuild_button_updates_the_index(browser, evil_server, evil_corpus):
    page = open_page(browser, evil_server)
    status = page.locator("#rag-status")
    expect(status).to_contain_text("2 documents")
    expect(status).to_contain_text("up to date")
    assert "could not find" in ask(page, "What did the two leaders pledge regarding China?")
    shutil.copy(SEEDS / "004_0e83dc79f4f4794c.txt", evil_corpus)
    page.reload()
    expect(status).to_contain_text("stale")
    page.click("#rag-rebuild")
    expect(status).to_contain_text("1 added")
    expect(status).to_contain_text("3 documents")
    expect(status).to_contain_text("up to date")
    assert "common alliance against China" in ask(page, "What did the two leaders pledge regarding China?")
    shot(page, "rebuilt")
    page.close()


def test_empty_question_shows_an_error(page):
    page.click("#rag-send")
    expect(page.get_by_text("question is empty")).to_be_visible()
    expect(page.locator('#rag-chat [data-testid="bot"]')).to_have_count(0)


# --------------------------------------------------------------------------- injection


def test_markup_in_articles_and_questions_renders_literally(browser, evil_server):
    page = open_page(browser, evil_server)
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    reply = ask(page, EVIL_QUESTION)
    assert "12,000" in reply
    user = page.locator('#rag-chat [data-testid="user"]')
    expect(user).to_contain_text(XSS_SCRIPT)
    expect(user).to_contain_text(XSS_IMG)
    expect(user).to_contain_text("**now**")
    page.locator("#rag-panel .rag-card[data-n] a.rag-open").first.click()
    viewer = page.locator("#rag-viewer .rag-article")
    expect(viewer).to_contain_text(XSS_SCRIPT)
    expect(viewer).to_contain_text(XSS_IMG)
    expect(viewer).to_contain_text("**bold claims**, a [prize link](javascript:window.__pwned=1) and $$x^2$$")
    panel = page.locator("#rag-panel")
    expect(panel).to_contain_text(XSS_SCRIPT)
    assert XSS_SCRIPT in reply
    expect(panel).to_contain_text(XSS_IMG)  # the title, in the card header
    page.wait_for_timeout(500)  # give any injected handler time to fire
    for root in ("#rag-chat", "#rag-panel", "#rag-viewer"):
        assert page.locator(f"{root} script, {root} img, {root} a[href^='javascript']").count() == 0
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert not dialogs
    shot(page, "injection")
    page.close()


# --------------------------------------------------------------------------- the real entry point


@pytest.mark.slow  # app.py in a subprocess loads the real model
def test_python_app_py_builds_a_missing_index_and_serves_on_localhost(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEEDS / "000_76599d89af1a5866.txt", corpus)
    port = free_port()
    log = open(tmp_path / "app.log", "w+", encoding="utf-8")  # closed in the finally below
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "--port", str(port), "--index", str(tmp_path / "index"),
         "--source", str(corpus)],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, (tmp_path / "app.log").read_text(encoding="utf-8")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, "app.py did not start serving"
                time.sleep(0.5)
        listening = {c.laddr.ip for c in psutil.Process(proc.pid).net_connections() if c.status == "LISTEN"}
        assert listening == {"127.0.0.1"}
        assert (tmp_path / "index" / "CURRENT").is_file()
        out = Client(f"http://127.0.0.1:{port}/", verbose=False).predict(TRAVEL, [], api_name=f"/{app.API_NAME}")
        assert "Washington" in out["answer"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


# --------------------------------------------------------------------------- API


def test_api_from_gradio_client(server, assistant):
    client = Client(server, verbose=False)
    out = client.predict(TRAVEL, [], api_name=f"/{app.API_NAME}")
    assert out == json.loads(json.dumps(assistant.ask(TRAVEL).to_json()))
    follow = client.predict("Which countries did he visit recently?", ["What did Ishiba say in his policy speech?"],
                            api_name=f"/{app.API_NAME}")
    assert "Indonesia" in follow["answer"]
    assert list(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == [f"/{app.API_NAME}"]


def test_eight_clients_at_once(server):
    rows = [json.loads(line) for line in (ROOT / "eval" / "dev_qa.jsonl").read_text(encoding="utf-8").splitlines()]
    rows = [r for r in rows if r.get("answers")][:8]
    assert len(rows) == 8
    clients = [Client(server, verbose=False) for _ in rows]
    barrier = threading.Barrier(len(rows))
    results: dict[str, object] = {}

    def run(client: Client, row: dict) -> None:
        barrier.wait()
        started = time.perf_counter()
        try:
            results[row["id"]] = (client.predict(row["question"], [], api_name=f"/{app.API_NAME}"),
                                  time.perf_counter() - started)
        except Exception as exc:  # any failure is what the test looks for
            results[row["id"]] = exc

    threads = [threading.Thread(target=run, args=(c, r)) for c, r in zip(clients, rows)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    failures = {k: v for k, v in results.items() if isinstance(v, Exception)}
    assert not failures and len(results) == 8
    for row in rows:
        out, _ = results[row["id"]]
        assert out["answered"], row
        assert any(a in out["answer"] for a in row["answers"]), (row, out["answer"])
        assert out["citations"][0]["source"] in row["sources"], row

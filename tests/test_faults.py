"""Fault injection: each finding of the hardening issue (#10), reproduced and checked fixed.

Numbers in test names follow the issue: 1 browser tests on a bare machine, 2 undecodable
file names, 3 quadratic parsing, 4 edits during a read, 5 the stale-index advice, 6 batch
lines, 7 index integrity, 8 the smaller ones (lock, leftovers, vanishing files, sentence
cap, symlinks, control characters, uploads, BOM, a vanished source folder).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pytest
from click.testing import CliRunner

import app
import rag.config
import rag.corpus
from rag import (
    Assistant,
    ChunkingConfig,
    CorpusError,
    HashingEmbedder,
    IndexCorruptError,
    QuestionError,
    build_index,
    check_freshness,
    load_index,
    read_manifest,
)
from rag.chunking import document_sentences, split_sentences
from rag.cli import main
from rag.corpus import corpus_files, parse_document
from rag.embedding import MODEL_ENV
from rag.errors import IndexBusyError
from rag.index import build_lock
from rag.text import printable

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = {
    "a.txt": "Tokyo and Washington agreed to deepen their alliance on Monday. The talks lasted two hours.",
    "b.txt": "The finance ministry said exports rose 5% in March. Analysts expected a smaller rise.",
}
BAD_NAME = os.fsdecode(b"caf\xe9.txt")  # not valid UTF-8: Python holds it with a lone surrogate


@pytest.fixture
def corpus(tmp_path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    for name, text in ARTICLES.items():
        (src / name).write_text(text, encoding="utf-8")
    return src


@pytest.fixture
def hang_guard():
    """Turns a hang into a failure: the quadratic splitter took hours on these inputs; the
    linear one takes well under a second. Not a speed test (bench/parse.py measures that)."""
    def on_alarm(signum, frame):
        raise TimeoutError("sentence splitting did not finish in 120 s: it is not linear")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(120)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def cli(*args: str, stdin: str | bytes | None = None):
    """``rag ...`` on indexes built with the hashing embedder (named by ``$RAG_MODEL``)."""
    return CliRunner(env={MODEL_ENV: HashingEmbedder().name}).invoke(main, list(args), input=stdin)


# --------------------------------------------------------------------------- 1 bare machine


def test_1_browser_tests_skip_loudly_without_chromium_and_fail_when_required(tmp_path):
    """The browser tests' ``chromium`` fixture, with chromium pointed at a missing path."""
    env = {**os.environ, "RAG_CHROMIUM": str(tmp_path / "no-chromium"), "HF_HUB_OFFLINE": "1"}
    env.pop("RAG_REQUIRE_BROWSER", None)
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_chromium.py"]
    skipped = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert skipped.returncode == 0, skipped.stdout
    assert "1 skipped" in skipped.stdout
    assert "WARNING: " + str(tmp_path / "no-chromium") + " is missing: the browser tests are SKIPPED" in skipped.stdout
    required = subprocess.run(cmd, cwd=ROOT, env={**env, "RAG_REQUIRE_BROWSER": "1"}, capture_output=True,
                              text=True, timeout=600)
    assert required.returncode == 1 and "1 error" in required.stdout
    assert "RAG_REQUIRE_BROWSER is set: the browser tests FAIL" in required.stdout


# --------------------------------------------------------------------------- 2 undecodable names


def test_2_undecodable_file_name_is_skipped_with_a_warning(corpus, tmp_path, hash_embedder, caplog):
    (corpus / BAD_NAME).write_text("The mayor opened a new library in Nagoya on Friday afternoon.", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="rag"):
        report = build_index(corpus, tmp_path / "idx", hash_embedder)
    assert report.skipped == ["caf\\xe9.txt"]
    assert "skipping caf\\xe9.txt: its name is not valid UTF-8" in caplog.text
    manifest_bytes = next((tmp_path / "idx").glob("v-*/manifest.json")).read_bytes()
    manifest_bytes.decode("utf-8")  # strict: no surrogates were written
    assert check_freshness(read_manifest(tmp_path / "idx")).fresh
    result = cli("ask", "--json", "Who opened a library in Nagoya?", "--index", str(tmp_path / "idx"))
    assert result.exit_code == 0, result.output
    result.stdout_bytes.decode("utf-8")
    out = json.loads(result.stdout)
    assert out["passages"] and all(x["source"] in ARTICLES for x in out["citations"] + out["passages"])


def test_2_questions_with_lone_surrogates_are_refused_not_crashed(corpus, tmp_path, hash_embedder):
    build_index(corpus, tmp_path / "idx", hash_embedder)
    result = cli("ask", "--json", "Where did \udce9 go?", "--index", str(tmp_path / "idx"))
    result.stdout_bytes.decode("utf-8")
    out = json.loads(result.stdout)
    assert out["answered"] is False and "not valid Unicode" in out["error"]


# --------------------------------------------------------------------------- 3 linear-time parsing

PATHOLOGICAL = {
    "one line of prose": "Officials met on Monday and talked for hours about trade " * 8_000,
    "run of dots": "The report ends here" + "." * 400_000 + " and more follows.",
    "initialisms": "Officials of the U.S. Army met the U.N. envoy. " * 8_000,
    "footnote marks": "[1]" * 100_000 + " tail",
}


@pytest.mark.parametrize("text", PATHOLOGICAL.values(), ids=PATHOLOGICAL.keys())
def test_3_long_lines_split_in_linear_time_into_capped_sentences(text, hang_guard):
    config = ChunkingConfig()
    spans = split_sentences(text, 0, len(text))
    assert spans and all(0 < b - a <= config.max_sentence_chars for a, b in spans)
    assert all(text[a:b] == text[a:b].strip() for a, b in spans)
    covered = "".join(text[a:b] for a, b in spans)
    assert covered.replace(" ", "") == text[: spans[-1][1]].replace(" ", "")[: len(covered.replace(" ", ""))]


# --------------------------------------------------------------------------- 4 edited during the read


def test_4_file_edited_while_it_is_read_shows_as_stale(corpus, tmp_path, hash_embedder, monkeypatch):
    """The edit lands after the bytes were read and before anything else looks at the file."""
    original = rag.corpus.parse_rendition
    edited = []

    def parse_then_edit(doc_id, rendition, sha256):
        if doc_id == "a.txt" and not edited:
            (corpus / "a.txt").write_text(rendition.text + " An edit made during the read.", encoding="utf-8")
            edited.append(doc_id)
        return original(doc_id, rendition, sha256)

    monkeypatch.setattr(rag.corpus, "parse_rendition", parse_then_edit)
    build_index(corpus, tmp_path / "idx", hash_embedder)
    freshness = check_freshness(read_manifest(tmp_path / "idx"))
    assert edited and freshness.changed == ["a.txt"]


def test_8_file_removed_mid_build_is_skipped_with_a_warning(corpus, tmp_path, hash_embedder, monkeypatch, caplog):
    listed = rag.corpus.corpus_files

    def list_then_remove(source, skipped=None):
        files = listed(source, skipped)
        (corpus / "b.txt").unlink()
        return files

    monkeypatch.setattr(rag.corpus, "corpus_files", list_then_remove)
    with caplog.at_level(logging.WARNING, logger="rag"):
        report = build_index(corpus, tmp_path / "idx", hash_embedder)
    assert report.skipped == ["b.txt"] and report.documents == 1
    assert "skipping b.txt: it was removed while the index was being built" in caplog.text


def test_8_file_removed_after_its_read_does_not_crash_the_build(corpus, tmp_path, hash_embedder, monkeypatch):
    original = rag.corpus.parse_rendition

    def parse_then_remove(doc_id, rendition, sha256):
        (corpus / doc_id).unlink(missing_ok=True)
        return original(doc_id, rendition, sha256)

    monkeypatch.setattr(rag.corpus, "parse_rendition", parse_then_remove)
    report = build_index(corpus, tmp_path / "idx", hash_embedder)
    assert report.documents == 2
    assert sorted(check_freshness(read_manifest(tmp_path / "idx")).removed) == ["a.txt", "b.txt"]


# --------------------------------------------------------------------------- 8 sentence cap


def test_8_a_long_line_gives_answers_within_max_chars(tmp_path, hash_embedder):
    src = tmp_path / "src"
    src.mkdir()
    line = "the committee kept talking about the harbour budget and the new bridge " * 150  # 11 KB
    (src / "long.txt").write_text("Harbour committee report\n\n" + line + "\n", encoding="utf-8")
    build_index(src, tmp_path / "idx", hash_embedder)
    answer = Assistant(tmp_path / "idx", embedder=hash_embedder).load().ask("What did the committee talk about?")
    assert answer.citations and all(len(c.quote) <= 400 for c in answer.citations)
    assert len(answer.answer) <= 450


@pytest.mark.parametrize("limit", [20, 60, 400])
def test_8_sentences_are_cut_at_whitespace_within_the_cap(limit):
    head = "A headline for the report\n\n"
    doc = parse_document("x.txt", head + "word " * 500 + "end.")
    sentences = document_sentences(doc, ChunkingConfig(max_sentence_chars=limit))
    assert all(len(s.text) <= limit and s.text == doc.raw[s.start : s.end] for s in sentences)
    body = [s.text for s in sentences if s.start >= len(head)]
    assert " ".join(body) == " ".join(["word"] * 500 + ["end."])  # cut only at whitespace, nothing lost


# --------------------------------------------------------------------------- 8 symbolic links


def test_8_links_out_of_the_source_are_not_followed_for_files_or_folders(corpus, tmp_path, caplog):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("Secret text that must not be indexed at all.", encoding="utf-8")
    (corpus / "inner").mkdir()
    (corpus / "inner" / "c.txt").write_text("Inner article about the harbour.", encoding="utf-8")
    (corpus / "file-link.txt").symlink_to(outside / "secret.txt")
    (corpus / "folder-link").symlink_to(outside, target_is_directory=True)
    (corpus / "inner-link.txt").symlink_to(corpus / "a.txt")
    (corpus / "inner-folder").symlink_to(corpus / "inner", target_is_directory=True)
    (corpus / "inner" / "loop").symlink_to(corpus, target_is_directory=True)
    skipped: list[str] = []
    with caplog.at_level(logging.WARNING, logger="rag"):
        names = [p.relative_to(corpus).as_posix() for p in corpus_files(corpus, skipped)]
    assert sorted(names) == ["a.txt", "b.txt", "inner-link.txt", "inner/c.txt"]  # inner-folder: listed once
    assert sorted(skipped) == ["file-link.txt", "folder-link"]
    assert "symbolic link out of the source folder" in caplog.text


# --------------------------------------------------------------------------- 8 control characters


@pytest.mark.parametrize(
    "text, shown",
    [("a\x1b[31mred", "a\\x1b[31mred"), ("line\rover", "line\\x0dover"), ("rtl\u202eevil", "rtl\\u202eevil"),
     ("caf\udce9", "caf\\udce9"), ("plain café “quoted”", "plain café “quoted”")],
)
def test_8_control_characters_are_escaped_for_the_terminal(text, shown):
    assert printable(text) == shown


def test_8_control_characters_in_names_and_text_do_not_reach_the_terminal(tmp_path, hash_embedder):
    src = tmp_path / "src"
    src.mkdir()
    text = "Harbour report\n\nThe harbour \x1b[2J festival drew 12,000 visitors on Saturday, the organisers said.\n"
    (src / "evil\x1b[31m.txt").write_text(text, encoding="utf-8")
    build_index(src, tmp_path / "idx", hash_embedder)
    result = cli("ask", "How many visitors came to the harbour festival?", "--index", str(tmp_path / "idx"))
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "evil\\x1b[31m.txt" in result.output


# --------------------------------------------------------------------------- 5 the stale-index advice


def test_5_index_without_source_keeps_the_folder_it_was_built_from(corpus, tmp_path, hash_embedder, monkeypatch):
    root = tmp_path / "idx"
    build_index(corpus, root, hash_embedder)
    elsewhere = tmp_path / "cwd"
    (elsewhere / "seeds").mkdir(parents=True)
    (elsewhere / "seeds" / "other.txt").write_text("A different corpus about volcanoes erupting.", encoding="utf-8")
    monkeypatch.chdir(elsewhere)
    (corpus / "a.txt").write_text(ARTICLES["a.txt"] + " A statement followed on Tuesday.", encoding="utf-8")
    info = cli("info", "--index", str(root))
    command = f"rag index --source {corpus.resolve()} --index {root}"
    assert f"run `{command}`" in info.output
    result = cli("index", "--index", str(root))
    assert result.exit_code == 0, result.output
    manifest = read_manifest(root)
    assert manifest["source"] == str(corpus.resolve()) and {f["id"] for f in manifest["files"]} == set(ARTICLES)
    assert check_freshness(manifest).fresh


# --------------------------------------------------------------------------- 6 batch lines

BATCH_LINES = [
    b"\xef\xbb\xbf" + json.dumps({"question": "Who is the U.S. defense secretary?"}).encode(),  # BOM first
    b"[" * 100_000 + b"]" * 100_000,  # deeply nested: RecursionError
    b'{"question": "Where did \\ud800 go?"}',  # a lone surrogate from a JSON escape
    b'{"question": "caf\xe9?"}',  # not UTF-8
    json.dumps({"question": "Who is the U.S. defense secretary?", "history": ["\udce9".encode(
        "utf-8", "surrogatepass").decode("utf-8", "replace")]}).encode(),
    json.dumps({"question": "How much did Japan pledge to invest in the U.S.?"}).encode(),
]


def test_6_every_batch_line_is_isolated_and_a_bom_is_accepted(hash_seed_index):
    result = cli("ask", "--json", "-", "--index", str(hash_seed_index), stdin=b"\n".join(BATCH_LINES) + b"\n")
    assert result.exit_code == 0, result.output
    text = result.stdout_bytes.decode("utf-8")  # strict: valid UTF-8 throughout
    outs = [json.loads(line) for line in text.splitlines()]
    assert len(outs) == len(BATCH_LINES)
    assert outs[0]["answered"] and "Hegseth" in outs[0]["answer"]
    assert outs[1]["line"] == 2 and "invalid JSON on line 2" in outs[1]["error"]
    assert outs[2]["line"] == 3 and "not valid Unicode" in outs[2]["error"]
    assert outs[3]["line"] == 4 and "not valid UTF-8" in outs[3]["error"]
    assert outs[4]["answered"]
    assert outs[5]["answered"] and "$1 trillion" in outs[5]["answer"]


def test_6_an_unexpected_failure_stays_on_its_line(hash_seed_index, monkeypatch):
    def explode(self, question, history=None, sources=None):
        if "explode" in question:
            raise RuntimeError("simulated failure")
        return original(self, question, history, sources)

    original = Assistant.ask
    monkeypatch.setattr(Assistant, "ask", explode)
    lines = [json.dumps({"question": "please explode"}), json.dumps({"question": "Who is the U.S. defense secretary?"})]
    result = cli("ask", "--json", "-", "--index", str(hash_seed_index), stdin="\n".join(lines) + "\n")
    outs = [json.loads(line) for line in result.stdout.splitlines()]
    assert outs[0] == {"line": 1, "error": "line 1 could not be answered (RuntimeError: simulated failure)",
                       "answered": False}
    assert outs[1]["answered"]


# --------------------------------------------------------------------------- 7 index integrity


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, hash_embedder) -> tuple[Path, Path]:
    """(source, index) built once; each damage test works on a copy of the index."""
    base = tmp_path_factory.mktemp("pristine")
    src = base / "src"
    src.mkdir()
    for name, text in ARTICLES.items():
        (src / name).write_text(text, encoding="utf-8")
    build_index(src, base / "idx", hash_embedder)
    return src, base / "idx"


def _index_files(root: Path) -> list[str]:
    version = (root / "CURRENT").read_text().strip()
    files = sorted(read_manifest(root)["integrity"]["files"])
    return ["CURRENT", f"{version}/manifest.json"] + [f"{version}/{name}" for name in files]


def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif how == "zero":
        path.write_bytes(b"")
    else:  # same size, random bytes (seeded): only a hash can tell
        path.write_bytes(np.random.default_rng(len(data)).integers(0, 256, len(data), dtype=np.uint8).tobytes())


def _all_damage_cases() -> list[tuple[str, str]]:
    names = ["CURRENT", "manifest.json", "documents.json", "texts.jsonl", "texts.offsets.npy", "sentences.npy",
             "chunks.npy", "sentence_vectors.npy", "chunks.faiss", "terms.json", "bm25/*"]
    return [(name, how) for name in names for how in ("truncate", "zero", "same-size")]


@pytest.mark.parametrize("name, how", _all_damage_cases())
def test_7_any_damaged_index_file_gives_the_one_line_error(pristine, tmp_path, name, how):
    _, original = pristine
    root = tmp_path / "idx"
    shutil.copytree(original, root)
    victims = [f for f in _index_files(root) if f.endswith(name) or (name == "bm25/*" and "/bm25/" in f)]
    assert victims, name
    for victim in victims:
        copy = tmp_path / f"copy-{len(list(tmp_path.iterdir()))}"
        shutil.copytree(root, copy)
        _damage(copy / victim, how)
        with pytest.raises(IndexCorruptError) as caught:
            load_index(copy)
        message = str(caught.value)
        assert "\n" not in message and message.endswith(f"rebuild it with `rag index --full --index {copy}`")
        result = cli("info", "--verify", "--index", str(copy))
        assert result.exit_code == 1 and "Traceback" not in result.output and "Aborted" not in result.output
        assert result.output.count("\n") == 1 and "rag index --full --index" in result.output


def test_7_zero_length_vectors_give_the_error_not_aborted(pristine, tmp_path):
    _, original = pristine
    shutil.copytree(original, tmp_path / "idx")
    version = (tmp_path / "idx" / "CURRENT").read_text().strip()
    (tmp_path / "idx" / version / "sentence_vectors.npy").write_bytes(b"")
    result = cli("ask", "Who agreed to deepen the alliance?", "--index", str(tmp_path / "idx"))
    assert result.exit_code == 1 and "Aborted" not in result.output
    assert result.output.startswith("Error: index in") and "sentence_vectors.npy is 0 bytes" in result.output


def test_7_verify_reports_what_it_hashed(pristine):
    _, root = pristine
    result = cli("info", "--verify", "--index", str(root))
    assert result.exit_code == 0, result.output
    assert f"integrity  ok: {len(_index_files(root)) - 2} files" in result.output


def test_7_a_damaged_previous_index_is_not_reused_by_an_incremental_build(pristine, tmp_path, hash_embedder):
    src, original = pristine
    shutil.copytree(original, tmp_path / "idx")
    version = (tmp_path / "idx" / "CURRENT").read_text().strip()
    _damage(tmp_path / "idx" / version / "sentence_vectors.npy", "same-size")
    (src / "c.txt").write_text("Heavy snow closed schools in Sapporo on Tuesday.", encoding="utf-8")
    try:
        report = build_index(src, tmp_path / "idx", hash_embedder)
    finally:
        (src / "c.txt").unlink()
    assert report.embedded_sentences == report.sentences  # nothing taken from the damaged vectors
    load_index(tmp_path / "idx", check_files=False, verify=True)


# --------------------------------------------------------------------------- 8 lock, leftovers, vanished source


def test_8_a_second_concurrent_build_stops_with_a_clear_message(corpus, tmp_path, hash_embedder, monkeypatch):
    root = tmp_path / "idx"
    monkeypatch.setattr(rag.config, "BUILD_LOCK_WAIT_S", 0.0)
    with build_lock(root):
        with pytest.raises(IndexBusyError, match=rf"another build of the index in .* is running \(pid {os.getpid()}\)"):
            build_index(corpus, root, hash_embedder)
    assert build_index(corpus, root, hash_embedder).documents == 2  # free again


def test_8_left_over_temporary_folders_are_removed_by_the_next_build(corpus, tmp_path, hash_embedder):
    root = tmp_path / "idx"
    build_index(corpus, root, hash_embedder)
    killed = root / ".tmp-v-20250101T000000000000-99999"
    killed.mkdir()
    (killed / "sentence_vectors.npy").write_bytes(b"\0" * 1000)
    (root / ".CURRENT-99999").write_text("v-x\n")
    build_index(corpus, root, hash_embedder)
    assert not killed.exists() and not (root / ".CURRENT-99999").exists()


def test_8_an_index_whose_source_folder_is_gone_is_served_read_only(corpus, tmp_path, hash_embedder):
    root = tmp_path / "idx"
    build_index(corpus, root, hash_embedder)
    shutil.rmtree(corpus)
    assistant = Assistant(root, embedder=hash_embedder).load()
    assert "Washington" in assistant.ask("Who agreed to deepen their alliance?").answer
    info = cli("info", "--index", str(root))
    assert "up to date (source folder" in info.output and "is gone; the index is served read-only" in info.output
    with pytest.raises(CorpusError, match="does not exist or is not a folder; pass the articles' folder with --source"):
        build_index(corpus, root, hash_embedder)


def test_8_the_app_shows_a_read_only_banner_when_the_source_is_gone(corpus, tmp_path, hash_embedder):
    root = tmp_path / "idx"
    build_index(corpus, root, hash_embedder)
    shutil.rmtree(corpus)
    assistant = Assistant.open(root, build=True, embedder=hash_embedder)
    status = app.index_status(assistant)
    assert 'id="rag-read-only"' in status and "is gone" in status
    assert "Washington" in app.api_ask(assistant, "Who agreed to deepen their alliance?")["answer"]


def test_8_the_app_rebuilds_a_damaged_index_before_serving(corpus, tmp_path, hash_embedder):
    root = tmp_path / "idx"
    build_index(corpus, root, hash_embedder)
    version = root / (root / "CURRENT").read_text().strip()
    _damage(version / "sentence_vectors.npy", "same-size")
    assistant = Assistant.open(root, build=True, embedder=hash_embedder)
    assert assistant.data.version != version
    load_index(root, verify=True)


def test_8_the_app_refuses_questions_with_lone_surrogates(hash_assistant):
    with pytest.raises(QuestionError, match="not valid Unicode"):
        app.api_ask(hash_assistant, "Where did \udce9 go?")


def test_8_uploads_above_the_limit_are_refused(hash_assistant):
    demo = app.build_app(hash_assistant)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app.launch(demo, "127.0.0.1", port, block=False)
    try:
        url = f"http://127.0.0.1:{port}/gradio_api/upload"
        big = httpx.post(url, files={"files": ("big.txt", b"x" * (app.MAX_UPLOAD_BYTES + 1))}, timeout=120)
        small = httpx.post(url, files={"files": ("small.txt", b"A short article.")}, timeout=120)
    finally:
        demo.close()
    assert big.status_code == 413 and small.status_code == 200

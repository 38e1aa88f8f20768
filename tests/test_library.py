"""Uploads and removals: safe names, type/size/readability checks, the trash, and the app's
handlers (source list with search, upload then ask, remove) without a browser."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from formats_data import HTML_PAGE, docx_bytes, pdf_bytes

import app
from rag import Assistant, build_index
from rag.errors import FilterError, UploadError
from rag.library import MAX_UPLOAD_BYTES, TRASH, move_to_trash, safe_name, save_upload

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


@pytest.mark.parametrize(
    ("client", "saved"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("C:\\Users\\me\\Desktop\\Budget 2025 (final).DOCX", "Budget-2025-final.docx"),
        (".hidden.html", "hidden.html"),
        ("Ünïcödé résumé.md", "Unicode-resume.md"),
        ("x" * 300 + ".htm", "x" * 96 + ".htm"),
    ],
)
def test_safe_name_keeps_only_a_clean_file_name(client, saved):
    assert safe_name(client) == saved


@pytest.mark.parametrize("client", ["script.exe", "noext", "", None, "archive.tar.gz"])
def test_safe_name_refuses_other_types(client):
    with pytest.raises(UploadError, match="supported|no name"):
        safe_name(client)


def test_save_upload_never_overwrites(tmp_path):
    upload = tmp_path / "in.html"
    upload.write_text(HTML_PAGE, encoding="utf-8")
    folder = tmp_path / "corpus"
    folder.mkdir()
    first = save_upload(folder, upload, "page.html")
    second = save_upload(folder, upload, "page.html")
    assert (first.name, second.name) == ("page.html", "page-2.html")
    assert first.parent == second.parent == folder


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("scan.pdf", pdf_bytes([[]]), "no text layer"),
        ("cut.docx", docx_bytes()[:400], "damaged or truncated"),
        ("big.txt", b"a" * (MAX_UPLOAD_BYTES + 1), "the limit is"),
    ],
)
def test_save_upload_refuses_unreadable_or_large_files(tmp_path, name, data, message):
    upload = tmp_path / "upload.bin"
    upload.write_bytes(data)
    (tmp_path / "corpus").mkdir()
    with pytest.raises(UploadError, match=message):
        save_upload(tmp_path / "corpus", upload, name)
    assert not list((tmp_path / "corpus").iterdir())


@pytest.mark.parametrize("doc_id", ["../outside.txt", ".trash/old.txt", "missing.txt", "", None])
def test_trash_refuses_paths_outside_the_corpus(tmp_path, doc_id):
    (tmp_path / "outside.txt").write_text("not part of the corpus", encoding="utf-8")
    folder = tmp_path / "corpus"
    (folder / TRASH).mkdir(parents=True)
    (folder / TRASH / "old.txt").write_text("trashed", encoding="utf-8")
    with pytest.raises(UploadError):
        move_to_trash(folder, doc_id)
    assert (tmp_path / "outside.txt").exists()


@pytest.fixture()
def library(tmp_path, hash_embedder):
    """A small corpus (two seed articles) with its own index and assistant."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    for path in sorted(SEEDS.glob("*.txt"))[:2]:
        shutil.copy(path, folder / path.name)
    build_index(folder, tmp_path / "index", hash_embedder)
    return folder, Assistant(tmp_path / "index", embedder=hash_embedder).load()


def test_upload_then_ask_then_remove(library, tmp_path):
    folder, assistant = library
    upload = tmp_path / "Typhoon report.pdf"
    upload.write_bytes(pdf_bytes())
    note = app.upload(assistant, folder, [str(upload)])
    assert note == "Added and indexed: Typhoon-report.pdf."
    question = "How many residents were evacuated when Typhoon Shanshan made landfall?"
    answer = app.ask(assistant, question)
    assert answer.answered and answer.citations[0].source == "Typhoon-report.pdf"
    assert answer.citations[0].page == 1
    labels = dict((v, k) for k, v in app.source_choices(assistant, "typhoon"))
    assert list(labels) == ["Typhoon-report.pdf"]
    assert "Typhoon Shanshan report — outlet unknown · 3 Sep 2024" in labels["Typhoon-report.pdf"]
    app.remove(assistant, folder, "Typhoon-report.pdf")
    assert not (folder / "Typhoon-report.pdf").exists()
    assert [p.name.endswith("Typhoon-report.pdf") for p in (folder / TRASH).iterdir()] == [True]
    assert "Typhoon-report.pdf" not in assistant.data.doc_ids()
    assert not app.ask(assistant, question).answered


def test_upload_reports_refused_files_and_keeps_the_others(library, tmp_path):
    folder, assistant = library
    good, bad = tmp_path / "festival.docx", tmp_path / "notes.exe"
    good.write_bytes(docx_bytes())
    bad.write_bytes(b"MZ")
    note = app.upload(assistant, folder, [str(good), str(bad)])
    assert "Added and indexed: festival.docx." in note and "'notes.exe': .exe is not supported" in note


def test_ticked_sources_limit_the_conversation(library):
    folder, assistant = library
    first, second = sorted(assistant.data.doc_ids())
    question = "What did Ishiba say?"
    for ticked in ([first], [second]):
        answer = app.ask(assistant, question, [], ticked)
        assert {p.source for p in answer.passages} == set(ticked)
    with pytest.raises(FilterError, match="no source matches"):
        app.ask(assistant, question, [], ["removed.txt"])


def test_questions_keep_working_during_uploads(library, tmp_path):
    folder, assistant = library
    errors, answers = [], []
    uploads = []
    for i in range(3):
        path = tmp_path / f"page{i}.html"
        path.write_text(HTML_PAGE.replace("8.7 trillion", f"{i + 1}.5 trillion"), encoding="utf-8")
        uploads.append(path)

    def add(path):
        try:
            app.upload(assistant, folder, [str(path)])
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    def question():
        try:
            for _ in range(3):
                answers.append(app.ask(assistant, "What did Ishiba say in his policy speech?").answered)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(p,)) for p in uploads] + [threading.Thread(target=question)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and answers == [True, True, True]
    assert {"page0.html", "page1.html", "page2.html"} <= set(assistant.data.doc_ids())

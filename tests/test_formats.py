"""Formats: HTML, PDF and DOCX become canonical texts whose offsets, sections and metadata hold."""

from __future__ import annotations

import logging

import pytest
from formats_data import (
    DOCX_FACTS,
    HTML_FACTS,
    HTML_PAGE,
    NAVIGATION,
    PDF_FACTS,
    PDF_PAGES,
    docx_bytes,
    pdf_bytes,
    write_corpus,
)

from rag.corpus import corpus_files, load_corpus, read_document, warn_unsupported
from rag.errors import FormatError
from rag.formats import render
from rag.formats.pdf import reflow
from rag.types import Section

CASES = {
    "budget.html": HTML_FACTS,
    "typhoon.pdf": PDF_FACTS,
    "festival.docx": DOCX_FACTS,
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = write_corpus(tmp_path_factory.mktemp("formats"))
    return {doc.id: doc for doc in load_corpus(folder)}


def test_every_format_is_read(corpus):
    assert set(corpus) == {"budget.html", "typhoon.pdf", "festival.docx", "ferry.txt"}
    assert {d.format for d in corpus.values()} == {"html", "pdf", "docx", "text"}


@pytest.mark.parametrize("name", ["budget.html", "typhoon.pdf", "festival.docx", "ferry.txt"])
def test_offsets_point_into_the_canonical_text(corpus, name):
    doc = corpus[name]
    assert doc.spans, name
    for span in doc.spans:
        piece = doc.raw[span.start : span.end]
        assert piece and piece == piece.strip()
    for key, found in doc.meta.items():
        evidence = doc.raw[found.start : found.end]
        assert evidence, key
        if key != "published":
            assert found.value in evidence, (key, found, evidence)
    for page in doc.pages:
        assert 0 <= page.start <= page.end <= len(doc.raw)


@pytest.mark.parametrize(("name", "key"), [(n, k) for n, facts in CASES.items() for k in facts])
def test_metadata(corpus, name, key):
    assert corpus[name].meta[key].value == CASES[name][key]


def test_html_drops_navigation_and_labels_comments(corpus):
    doc = corpus["budget.html"]
    for furniture in NAVIGATION:
        assert furniture in HTML_PAGE and furniture not in doc.raw
    sections = {doc.raw[s.start : s.end]: s.section for s in doc.spans}
    assert sections["I think the budget is far too small for the threats we face today."] is Section.COMMENT
    assert sections[HTML_FACTS["title"]] is Section.TITLE
    assert any(s is Section.ARTICLE and "8.7 trillion yen" in t for t, s in sections.items())
    assert "By Jane Doe" not in sections  # the byline is metadata, not article text


def test_pdf_pages_are_sections(corpus):
    doc = corpus["typhoon.pdf"]
    assert [p.number for p in doc.pages] == [1, 2]
    first, second = (doc.raw[p.start : p.end] for p in doc.pages)
    assert "four million residents" in first and "bullet train" in second
    assert "bullet train" not in first


def test_txt_metadata_from_text(corpus):
    doc = corpus["ferry.txt"]
    assert doc.meta["published"].value == "2024-07-02"
    assert doc.raw[doc.meta["published"].start : doc.meta["published"].end] == "July 2, 2024"


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("scan.pdf", pdf_bytes([[], []]), "no text layer"),
        ("cut.pdf", pdf_bytes()[:300], "PDF"),
        ("cut.docx", docx_bytes()[:500], "damaged or truncated Word file"),
        ("empty.html", b"   ", "empty"),
        ("latin1.txt", "caf\xe9 au lait".encode("latin-1"), "not valid UTF-8"),
    ],
)
def test_broken_files_are_skipped_with_a_warning(tmp_path, caplog, name, data, reason):
    write_corpus(tmp_path)
    (tmp_path / name).write_bytes(data)
    with caplog.at_level(logging.WARNING, logger="rag"):
        docs = load_corpus(tmp_path)
    assert len(docs) == 4  # nothing else is lost
    assert any(name in r.getMessage() and reason in r.getMessage() for r in caplog.records), caplog.text


def test_a_page_without_text_warns_but_keeps_the_others(tmp_path, caplog):
    path = tmp_path / "half.pdf"
    path.write_bytes(pdf_bytes([PDF_PAGES[0], []]))
    with caplog.at_level(logging.WARNING, logger="rag"):
        doc = read_document(tmp_path, path)
    assert doc is not None and "four million" in doc.raw
    assert "page 2 has no text layer" in caplog.text


def test_unknown_files_in_the_folder_are_named(tmp_path, caplog):
    write_corpus(tmp_path)
    (tmp_path / "notes.rtf").write_bytes(b"{\\rtf1 hello}")
    with caplog.at_level(logging.WARNING, logger="rag"):
        assert [p.name for p in warn_unsupported(tmp_path)] == ["notes.rtf"]
    assert "notes.rtf: unsupported file type '.rtf'" in caplog.text


def test_unknown_type_is_refused_with_the_supported_list():
    with pytest.raises(FormatError, match=r"unsupported file type '\.rtf'.*\.pdf"):
        render(".rtf", b"{\\rtf1}")


def test_trash_and_hidden_folders_are_not_read(tmp_path):
    write_corpus(tmp_path)
    (tmp_path / ".trash").mkdir()
    (tmp_path / ".trash" / "old.html").write_text(HTML_PAGE, encoding="utf-8")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "draft.txt").write_text("A draft article that is not ready yet.", encoding="utf-8")
    names = sorted(p.relative_to(tmp_path).as_posix() for p in corpus_files(tmp_path))
    assert names == ["budget.html", "ferry.txt", "festival.docx", "typhoon.pdf"]


@pytest.mark.parametrize(
    ("text", "paragraphs"),
    [
        ("A line that wraps\nonto the next one.\nNew one.", ["A line that wraps onto the next one.", "New one."]),
        ("a broken exam-\nple word.", ["a broken example word."]),
        ("One.\n\nTwo", ["One.", "Two"]),
    ],
)
def test_reflow_joins_wrapped_lines(text, paragraphs):
    assert reflow(text) == paragraphs

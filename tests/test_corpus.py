"""Cleaning keeps reporting, labels comments and captions, drops furniture, keeps offsets."""

import logging

import pytest

from rag.corpus import load_corpus, parse_document
from rag.types import Section

PAGE = """News Site
A man walks past a screen in Tokyo on Monday. Image: AP/Jane Doe
world

Leaders agree to deepen ties at the summit

3 Comments

TOKYO — (AP) — The two leaders agreed on Monday, March 3, 2025, to deepen their alliance in the region.

Officials said the talks would continue next month in Washington.

© KYODO

3 Comments
Login to comment

This is a terrible idea and everyone knows it.

-9 ( +11 / -20 )

I think the leaders did well today.

2 ( +7 / -5 )

Login to leave a comment

Facebook users

Use your Facebook account to login or register with NewsSite.

A mix of what's trending on our other sites
"""


def sections(doc):
    return [(s.section, doc.raw[s.start : s.end]) for s in doc.spans]


def test_page_sections_and_metadata():
    doc = parse_document("page.txt", PAGE)
    found = sections(doc)
    assert (Section.TITLE, "Leaders agree to deepen ties at the summit") in found
    assert (Section.CAPTION, "A man walks past a screen in Tokyo on Monday. Image: AP/Jane Doe") in found
    article = [t for s, t in found if s is Section.ARTICLE]
    assert article == [
        "TOKYO — (AP) — The two leaders agreed on Monday, March 3, 2025, to deepen their alliance in the region.",
        "Officials said the talks would continue next month in Washington.",
    ]
    comments = [t for s, t in found if s is Section.COMMENT]
    assert comments == ["This is a terrible idea and everyone knows it.", "I think the leaders did well today."]
    assert doc.title == "Leaders agree to deepen ties at the summit"
    assert doc.outlet == "News Site"
    assert doc.date == "March 3, 2025"


@pytest.mark.parametrize(
    "furniture",
    [
        "-9 ( +11 / -20 )",
        "3 Comments",
        "Login to comment",
        "© KYODO",
        "Facebook users",
        "2 ( +7 / -5 )",
        "Login to leave a comment",
        "Use your Facebook account to login or register with NewsSite.",
        "A mix of what's trending on our other sites",
    ],
)
def test_furniture_is_never_searchable(furniture):
    assert furniture in PAGE.splitlines()  # a line of the page, which cleaning drops
    doc = parse_document("page.txt", PAGE)
    assert doc.spans and all(doc.raw[s.start : s.end] != furniture for s in doc.spans)


def test_spans_point_into_raw_text():
    doc = parse_document("page.txt", PAGE)
    assert len(doc.spans) == 6
    for span in doc.spans:
        text = doc.raw[span.start : span.end]
        assert text == text.strip() and text


def test_references_are_labelled():
    raw = "The meeting went well, officials in both capitals said on Friday.[1]\n[1] “Summit report”, The Paper, https://x.example/1.\n"
    doc = parse_document("r.txt", raw)
    assert [s.section for s in doc.spans] == [Section.ARTICLE, Section.REFERENCE]


def test_bad_files_are_skipped_with_a_warning(tmp_path, caplog):
    (tmp_path / "good.txt").write_text(
        "The minister said the talks were productive and would continue.", encoding="utf-8"
    )
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe\x00broken \x81\x82")
    (tmp_path / "empty.md").write_text("  \n", encoding="utf-8")
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    with caplog.at_level(logging.WARNING, logger="rag.corpus"):
        docs = load_corpus(tmp_path)
    assert [d.id for d in docs] == ["good.txt"]
    assert "bad.txt" in caplog.text and "not valid UTF-8" in caplog.text
    assert "empty.md" in caplog.text and "empty" in caplog.text


def test_seed_comments_are_labelled():
    docs = {d.id: d for d in load_corpus("seeds")}
    page = docs["003_db39fb9482dc13f4.txt"]
    comment_text = [page.raw[s.start : s.end] for s in page.spans if s.section is Section.COMMENT]
    assert "Learn how to grovel" in comment_text
    assert not any("( +" in page.raw[s.start : s.end] for s in page.spans)
    reporting = " ".join(page.raw[s.start : s.end] for s in page.spans if s.section.is_reporting)
    assert "grovel" not in reporting and "Login" not in reporting

"""IndexData's queries by document offset (what the app asks of the index) against its arrays."""

from __future__ import annotations

from rag import Section


def test_chunk_at_and_section_at_agree_with_every_sentence(hash_assistant):
    data = hash_assistant.data
    for i, row in enumerate(data.sentences):
        doc, start, end = int(row["doc"]), int(row["start"]), int(row["end"])
        doc_id = data.docs[doc].id
        assert data.section_at(doc_id, start) == data.section_of_sentence(i)
        assert data.section_at(doc_id, end - 1) == data.section_of_sentence(i)
        chunk = data.chunk_at(doc_id, start, end)
        assert chunk.doc == doc_id and chunk.start <= start < end <= chunk.end
        assert chunk.text == data.texts[doc][chunk.start : chunk.end]
        assert chunk.text[start - chunk.start : end - chunk.start] == data.sentence_text(i)
        assert data.chunk_at(doc_id, start) == chunk or data.chunk_at(doc_id, start).start <= start


def test_queries_outside_the_index_find_nothing(hash_assistant):
    data = hash_assistant.data
    doc_id = data.docs[0].id
    length = len(data.texts[0])
    assert data.chunk_at("../pyproject.toml", 0, 5) is None and data.section_at("no-such.txt", 0) is None
    assert data.chunk_at(doc_id, length, length + 5) is None and data.section_at(doc_id, length) is None
    assert data.chunk_at(doc_id, 0, length + 1) is None
    assert isinstance(data.section_at(doc_id, int(data.sentences[0]["start"])), Section)

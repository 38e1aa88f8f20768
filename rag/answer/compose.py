"""Composing the answer: the chosen sentences verbatim with [n] markers, their citations,
the short answer, the retrieved passages as the "why this answer" trace, or an abstention."""

from __future__ import annotations

import numpy as np

from ..index import IndexData
from ..types import Answer, Citation, Hit, Passage
from .config import AnswerConfig
from .features import Candidate, analyse
from .scoring import SentenceScorer

NOT_FOUND = "I could not find the answer to this question in the articles."


def citation(data: IndexData, n: int, cand: Candidate) -> Citation:
    row = data.sentences[cand.sentence]
    doc = data.docs[row["doc"]]
    return Citation(
        n,
        doc.id,
        doc.title,
        data.section_of_sentence(cand.sentence),
        int(row["start"]),
        int(row["end"]),
        data.sentence_text(cand.sentence),
        round(cand.score, 4),
    )


def passages(data: IndexData, hits: list[Hit], limit: int) -> list[Passage]:
    """The ranked retrieved chunks, as the "why this answer" trace."""
    out = []
    for hit in hits[:limit]:
        row = data.chunks[hit.chunk]
        doc = data.docs[row["doc"]]
        out.append(
            Passage(
                doc.id,
                doc.title,
                int(row["start"]),
                int(row["end"]),
                data.chunk_text(hit.chunk),
                data.section_of_chunk(hit.chunk),
                hit.dense_rank,
                hit.bm25_rank,
                hit.score,
            )
        )
    return out


def answer_text(citations: list[Citation]) -> str:
    """Verbatim sentences, each followed by its marker."""
    return " ".join(f"{c.quote} [{c.n}]" for c in citations)


def extract(
    data: IndexData,
    hits: list[Hit],
    query: np.ndarray,
    question: str,
    asked: str,
    config: AnswerConfig,
    scorer: SentenceScorer,
    context: frozenset[int] = frozenset(),
) -> Answer:
    """Build the answer for ``question`` (the resolved form of what was ``asked``). ``context``
    holds the documents the previous turn of a follow-up was answered from."""
    q = analyse(data, question)
    ranked = scorer.rank(data, hits, query, q, config, context)
    found = passages(data, hits, config.passages)
    resolved = question if question != asked else None
    if not ranked:
        return Answer(asked, NOT_FOUND, False, 0.0, None, [], found, resolved)
    conf = scorer.confidence(ranked, q)
    if conf < scorer.threshold(config):
        return Answer(asked, NOT_FOUND, False, conf, None, [], found, resolved)
    chosen = scorer.choose(data, ranked, config)
    citations = [citation(data, n, c) for n, c in enumerate(chosen, 1)]
    short = scorer.short_answer(data, chosen, q)
    return Answer(asked, answer_text(citations), True, conf, short, citations, found, resolved)

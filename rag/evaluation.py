"""Evaluate the assistant on question sets, next to textbook baselines in the same run.

Question files are JSON Lines. A record with ``answers`` is answerable (any answer string
appearing in the answer counts); one without is unanswerable; one with ``history`` is a
follow-up.
"""

from __future__ import annotations

import json
import re
import string
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .answer import AnswerStrategy
from .config import BM25_B, BM25_K1
from .errors import RagError
from .index import IndexData
from .pipeline import Assistant
from .retrieval import FusionStrategy, RetrievalConfig, retrieve
from .text import tokenize
from .types import Answer, Section

DEFAULT_FILES = ("eval/dev_qa.jsonl", "eval/dev_unanswerable.jsonl", "eval/dev_followups.jsonl")


@dataclass(frozen=True)
class Item:
    id: str
    question: str
    answers: tuple[str, ...]
    sources: tuple[str, ...]
    history: tuple[str, ...]

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


def load_items(paths: Sequence[str | Path]) -> list[Item]:
    items = []
    for path in paths:
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise RagError(f"cannot read question file {str(path)!r}: {exc.strerror}") from exc
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
                items.append(
                    Item(
                        str(r.get("id", f"{Path(path).stem}:{n}")),
                        r["question"],
                        tuple(r.get("answers", ())),
                        tuple(r.get("sources", ())),
                        tuple(r.get("history", ())),
                    )
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise RagError(f"{path}:{n}: not a question record ({exc})") from exc
    return items


def _norm(text: str) -> str:
    return " ".join(text.lower().replace("’", "'").replace("“", '"').replace("”", '"').split())


def answer_hit(answer_text: str, answers: tuple[str, ...]) -> bool:
    text = _norm(answer_text)
    return any(_norm(a) in text for a in answers)


def _squad_tokens(text: str) -> list[str]:
    """SQuAD v1.1's answer normalisation (lower case, no punctuation, no articles)."""
    text = "".join(ch for ch in text.lower() if ch not in string.punctuation)
    return re.sub(r"\b(a|an|the)\b", " ", text).split()


def squad_em(prediction: str, answers: tuple[str, ...]) -> float:
    return float(any(_squad_tokens(prediction) == _squad_tokens(a) for a in answers))


def squad_f1(prediction: str, answers: tuple[str, ...]) -> float:
    """Best token-overlap F1 against any gold answer (the official SQuAD v1.1 definition)."""
    pred = _squad_tokens(prediction)
    best = 0.0
    for answer in answers:
        gold = _squad_tokens(answer)
        common = sum((Counter(pred) & Counter(gold)).values())
        if common:
            precision, recall = common / len(pred), common / len(gold)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def calibration_error(confidences: list[float], right: list[bool], bins: int = 10) -> float:
    """Expected calibration error: |accuracy - mean confidence| per equal-width bin,
    weighted by the bin's share of items (Guo et al., 2017)."""
    conf, ok = np.asarray(confidences, dtype=float), np.asarray(right, dtype=float)
    if not len(conf):
        return 0.0
    which = np.minimum((conf * bins).astype(int), bins - 1)
    return float(sum(abs(ok[which == b].mean() - conf[which == b].mean()) * (which == b).mean()
                     for b in range(bins) if (which == b).any()))


@dataclass
class Outcome:
    """One system's result on one item."""

    item: Item
    answered: bool
    text: str
    first_source: str | None
    confidence: float
    verbatim: bool
    comment_as_reporting: bool
    seconds: float
    short: str | None = None


@dataclass
class Scores:
    name: str
    outcomes: list[Outcome] = field(default_factory=list)

    def _rate(self, flags: list[bool]) -> float | None:
        return round(sum(flags) / len(flags), 3) if flags else None

    def table_row(self) -> dict:
        qa = [o for o in self.outcomes if o.item.answerable and not o.item.history]
        fu = [o for o in self.outcomes if o.item.history]
        un = [o for o in self.outcomes if not o.item.answerable]
        lat = [o.seconds * 1000 for o in self.outcomes]
        short = [(o.short or "") if o.answered else "" for o in qa]
        return {
            "system": self.name,
            "answer_hit": self._rate([o.answered and answer_hit(o.text, o.item.answers) for o in qa]),
            "source_hit": self._rate([o.first_source in o.item.sources for o in qa]),
            "abstention": self._rate([not o.answered for o in un]),
            "false_abstention": self._rate([not o.answered for o in qa + fu]),
            "followup_hit": self._rate([o.answered and answer_hit(o.text, o.item.answers) for o in fu]),
            "followup_answered": self._rate([o.answered for o in fu]),
            "short_em": _mean([squad_em(s, o.item.answers) for s, o in zip(short, qa)]),
            "short_f1": _mean([squad_f1(s, o.item.answers) for s, o in zip(short, qa)]),
            "verbatim": self._rate([o.verbatim for o in self.outcomes if o.answered]),
            "comment_as_reporting": sum(o.comment_as_reporting for o in self.outcomes),
            "p50_ms": round(float(np.percentile(lat, 50)), 1) if lat else None,
            "p95_ms": round(float(np.percentile(lat, 95)), 1) if lat else None,
        }

    def calibration(self) -> dict:
        """How confidence tracks correctness: an outcome is right when an answerable question
        gets a hit, wrong when it misses or when an unanswerable one is answered."""
        right = [o.confidence for o in self.outcomes if o.item.answerable and answer_hit(o.text, o.item.answers)]
        wrong = [o.confidence for o in self.outcomes if not (o.item.answerable and answer_hit(o.text, o.item.answers))]
        return {
            "system": self.name,
            "mean_conf_right": _mean(right),
            "mean_conf_wrong": _mean(wrong),
            "auroc_right_vs_wrong": _auroc([(c, True) for c in right] + [(c, False) for c in wrong]),
            "ece": round(calibration_error(right + wrong, [True] * len(right) + [False] * len(wrong)), 3),
            "right": len(right),
            "wrong": len(wrong),
        }


def _mean(values: list[float]) -> float | None:
    return round(float(np.mean(values)), 3) if values else None


def _auroc(pairs: list[tuple[float, bool]]) -> float | None:
    """Chance that a right outcome gets higher confidence than a wrong one."""
    pos = [c for c, a in pairs if a]
    neg = [c for c, a in pairs if not a]
    if not pos or not neg:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return round(wins / (len(pos) * len(neg)), 3)


def _verbatim(data: IndexData, answer: Answer) -> bool:
    """Every citation quote is exactly the raw text at its offsets, and the answer is made of them."""
    ids = data.doc_ids()
    for c in answer.citations:
        if c.source not in ids or data.texts[ids[c.source]][c.start : c.end] != c.quote or c.quote not in answer.answer:
            return False
    return bool(answer.citations) or not answer.answered


def run_assistant(assistant: Assistant, items: list[Item]) -> Scores:
    scores = Scores(f"ours: {assistant.scorer.strategy.value}")
    data = assistant.data
    for item in items:
        t0 = time.perf_counter()
        ans = assistant.ask(item.question, list(item.history))
        seconds = time.perf_counter() - t0
        comment = any(c.section == Section.COMMENT and "reader comment" not in ans.answer for c in ans.citations)
        scores.outcomes.append(
            Outcome(
                item,
                ans.answered,
                ans.answer,
                ans.citations[0].source if ans.citations else None,
                ans.confidence,
                _verbatim(data, ans),
                comment,
                seconds,
                ans.short_answer.text if ans.short_answer else None,
            )
        )
    return scores


def run_baseline(assistant: Assistant, items: list[Item], method: str) -> Scores:
    """Top-1 sentence over the whole corpus by dense similarity or by BM25 alone (never abstains)."""
    import bm25s

    data = assistant.data
    n = len(data.sentences)
    texts = [data.sentence_text(i) for i in range(n)]
    bm25: Any = None  # a bm25s.BM25 over sentences (no type stubs)
    if method == "bm25":
        bm25 = bm25s.BM25(k1=BM25_K1, b=BM25_B)
        bm25.index([tokenize(t) or [""] for t in texts], show_progress=False)
    scores = Scores(f"baseline: {method} top-1 sentence")
    for item in items:
        question = " ".join([*item.history, item.question]) if item.history else item.question
        t0 = time.perf_counter()
        if method == "dense":
            sims = np.asarray(data.sentence_vectors) @ assistant.embedder.encode_query(question)[0]
            best = int(np.argmax(sims))
        else:
            tokens = [t for t in tokenize(question) if t in bm25.vocab_dict]
            best = int(np.argmax(bm25.get_scores(tokens))) if tokens else 0
        seconds = time.perf_counter() - t0
        doc = data.docs[data.sentences[best]["doc"]].id
        comment = data.section_of_sentence(best) is Section.COMMENT
        scores.outcomes.append(Outcome(item, True, texts[best], doc, 1.0, True, comment, seconds))
    return scores


FUSION_SWEEP = (
    RetrievalConfig(fusion=FusionStrategy.DENSE),
    RetrievalConfig(fusion=FusionStrategy.BM25),
    RetrievalConfig(fusion=FusionStrategy.RRF, rrf_k=5),
    RetrievalConfig(fusion=FusionStrategy.RRF, rrf_k=20),
    RetrievalConfig(fusion=FusionStrategy.RRF, rrf_k=60),
    RetrievalConfig(fusion=FusionStrategy.WEIGHTED, dense_weight=0.3),
    RetrievalConfig(fusion=FusionStrategy.WEIGHTED, dense_weight=0.5),
    RetrievalConfig(fusion=FusionStrategy.WEIGHTED, dense_weight=0.7),
)


def _relevant(data: IndexData, chunk: int, item: Item) -> bool:
    """A chunk is relevant when it is reporting from an accepted source and holds an answer string."""
    source = data.docs[data.chunks[chunk]["doc"]].id
    return source in item.sources and answer_hit(data.chunk_text(chunk), item.answers)


def fusion_row(assistant: Assistant, items: list[Item], config: RetrievalConfig) -> dict:
    """Chunk-retrieval quality of one fusion setting: MRR and recall@1/5 of the first relevant chunk."""
    data = assistant.data
    ranks = []
    for item in (i for i in items if i.answerable and not i.history):
        query = assistant.embedder.encode_query(item.question)
        hits = retrieve(data, query, tokenize(item.question), config)
        ranks.append(next((r for r, h in enumerate(hits, 1) if _relevant(data, h.chunk, item)), None))
    n = max(len(ranks), 1)
    name = config.fusion.value
    if config.fusion is FusionStrategy.RRF:
        name += f" k={config.rrf_k}"
    elif config.fusion is FusionStrategy.WEIGHTED:
        name += f" dense={config.dense_weight}"
    return {
        "fusion": name,
        "mrr": round(sum(1 / r for r in ranks if r) / n, 3),
        "recall@1": round(sum(1 for r in ranks if r and r <= 1) / n, 3),
        "recall@3": round(sum(1 for r in ranks if r and r <= 3) / n, 3),
        "recall@5": round(sum(1 for r in ranks if r and r <= 5) / n, 3),
        "questions": len(ranks),
    }


def evaluate(assistant: Assistant, paths: Sequence[str | Path], baselines: bool = False) -> list[Scores]:
    items = load_items(paths)
    runs = [run_assistant(assistant, items)]
    if baselines:
        other = next(s for s in AnswerStrategy if s is not assistant.answering.strategy)
        variant = assistant.variant(replace(assistant.answering, strategy=other))
        if variant.scorer.strategy is other:  # not when the reader's files are missing
            runs.append(run_assistant(variant, items))
    if baselines:
        runs += [run_baseline(assistant, items, "dense"), run_baseline(assistant, items, "bm25")]
    return runs


def format_table(rows: list[dict]) -> str:
    """A plain-text table, one row per system."""
    cols = list(rows[0])
    cells = [[("-" if r[c] is None else str(r[c])) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    line = lambda vals: "  ".join(v.ljust(w) for v, w in zip(vals, widths))  # noqa: E731
    return "\n".join([line(cols), line(["-" * w for w in widths]), *(line(r) for r in cells)])

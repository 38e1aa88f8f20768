"""The assistant: one object that answers questions from a loaded index.

It holds the embedding model and an immutable index snapshot; a rebuild loads a new
snapshot and swaps the reference, so questions asked meanwhile finish on the old one.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections import OrderedDict
from collections.abc import Hashable
from pathlib import Path

from .about import answer_about_sources
from .answer import AnswerConfig, SentenceScorer, extract, make_scorer
from .chunking import ChunkingConfig
from .config import ANSWER_CACHE_SIZE, DECISIVE_CONFIDENCE, MAX_HISTORY, MAX_QUESTION_CHARS
from .embedding import Embedder, make_embedder
from .errors import IndexCorruptError, IndexStaleError, QuestionError
from .followup import Turn, needs_context, readings
from .index import BuildReport, IndexData, Progress, build_index, index_dir, load_index, verify_index
from .retrieval import RetrievalConfig, retrieve
from .sources import SourceFilter, active_filter, attach_metadata, only_sources
from .startup import prepare_index, rebuild_damaged
from .text import tokenize
from .types import Answer

logger = logging.getLogger(__name__)


def clean_question(question: object) -> tuple[str, list[str]]:
    """Validate a question; over-long ones are cut (with a note) rather than refused."""
    if not isinstance(question, str):
        raise QuestionError(f"question must be a string, got {type(question).__name__}")
    text = " ".join(question.split())
    if not text:
        raise QuestionError("question is empty; type a question about the articles")
    if len(text) > MAX_QUESTION_CHARS:
        cut = text[:MAX_QUESTION_CHARS].rsplit(" ", 1)[0]
        return cut, [f"question was {len(text)} characters; only the first {len(cut)} were used"]
    return text, []


class AnswerCache:
    """The most recent answers, each tied to the index snapshot it was answered from.

    An entry only counts for the very snapshot it came from (held, so its id cannot be
    reused), so a rebuild never serves an answer from the old index. Copies go in and out:
    callers add notes and metadata to the answers they get."""

    def __init__(self, size: int = ANSWER_CACHE_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, tuple[IndexData, Answer]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, data: IndexData, key: Hashable) -> Answer | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is None or hit[0] is not data:
                return None
            self._items.move_to_end(key)
            return copy.deepcopy(hit[1])

    def put(self, data: IndexData, key: Hashable, answer: Answer) -> None:
        with self._lock:
            self._items[key] = (data, copy.deepcopy(answer))
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


class Assistant:
    """Answers questions with verbatim, cited sentences from an index."""

    def __init__(
        self,
        index: str | Path | None = None,
        model: str | None = None,
        retrieval: RetrievalConfig | None = None,
        answering: AnswerConfig | None = None,
        embedder: Embedder | None = None,
        scorer: SentenceScorer | None = None,
        reader: str | Path | None = None,
    ) -> None:
        self.root = index_dir(index)
        self.embedder = embedder or make_embedder(model)
        self.retrieval = retrieval or RetrievalConfig()
        self.answering = answering or AnswerConfig()
        self._data: IndexData | None = None
        self._build_lock = threading.Lock()
        self._scorer = scorer
        self._reader_path = reader
        self._scorer_lock = threading.Lock()
        self._answers = AnswerCache()

    @classmethod
    def open(
        cls,
        index: str | Path | None = None,
        model: str | None = None,
        *,
        answering: AnswerConfig | None = None,
        source: str | Path | None = None,
        build: bool = False,
        embedder: Embedder | None = None,
    ) -> Assistant:
        """A loaded assistant over the index in ``index`` (default ``$RAG_INDEX``, else ``index/``),
        with the CLI's meaning for each argument (``--index``, ``--model``, ``--source``).

        ``build=False`` (``rag ask``, ``rag eval``): only load; a missing, stale or corrupt index
        raises an error naming the command that fixes it. ``build=True`` (the app): build a
        missing index from ``source`` (else ``seeds/``), update a stale one, hash every file
        before serving and rebuild a damaged one; with its source folder gone the index is
        served read-only (see :func:`rag.startup.prepare_index`).
        """
        assistant = cls(index, model, answering=answering, embedder=embedder)
        if not build:
            return assistant.load()
        prepare_index(assistant.root, source, assistant.embedder)
        try:
            assistant.load()
            verify_index(assistant.root)  # every file hashed before serving (loading hashes only the small ones)
        except (IndexStaleError, IndexCorruptError) as exc:
            rebuild_damaged(assistant.root, source, assistant.embedder, exc)
            assistant.load()
        return assistant

    def forget(self) -> None:
        """Drop the remembered answers (after a new index snapshot; benchmarks, to time every
        answer from scratch)."""
        self._answers = AnswerCache(self._answers.size)

    @property
    def scorer(self) -> SentenceScorer:
        """The sentence scorer of the configured strategy (the reader loads on first use; when
        its files are missing the linear scorer stands in, with a warning)."""
        with self._scorer_lock:
            if self._scorer is None:
                self._scorer = make_scorer(self.answering.strategy, self._reader_path)
            return self._scorer

    @property
    def data(self) -> IndexData:
        if self._data is None:
            self.load()
        assert self._data is not None  # load() sets it or raises
        return self._data

    def variant(self, answering: AnswerConfig, scorer: SentenceScorer | None = None) -> Assistant:
        """A sibling answering with other settings (or another scorer) over the same index and
        model, to compare strategies in one run."""
        other = Assistant(
            self.root, self.embedder.name, self.retrieval, answering, self.embedder, scorer, self._reader_path
        )
        other._data = self.data
        return other

    def load(self, check_files: bool = True) -> Assistant:
        """Load (or reload) the index and the model; errors name the command that fixes them."""
        self._data = load_index(self.root, self.embedder.name, check_files=check_files)
        self.forget()  # entries would keep the old snapshot in memory
        self.embedder.load()
        _ = self.scorer
        return self

    def rebuild(
        self,
        source: str | Path | None = None,
        full: bool = False,
        chunking: ChunkingConfig | None = None,
        progress: Progress | None = None,
    ) -> BuildReport:
        """Incrementally rebuild from ``source`` (default: the folder the index was built from)
        and swap the new index in. One rebuild at a time; questions keep being answered.
        ``progress`` as for :func:`build_index`."""
        with self._build_lock:
            if source is None:
                source = self.data.manifest.source
            report = build_index(source, self.root, self.embedder, chunking, full=full, progress=progress)
            self._data = load_index(self.root, self.embedder.name, check_files=False)
            self.forget()
            return report

    def ask(self, question: str, history: list[str] | None = None, sources: SourceFilter | None = None) -> Answer:
        """Answer one question; ``history`` holds the earlier questions of the conversation;
        ``sources`` restricts the sources used (inside retrieval). Questions about a source
        itself (its date, outlet, author) are answered from its metadata. Citations carry
        their source's outlet, date and PDF page."""
        text, _ = clean_question(question)
        data = self.data
        with only_sources(sources):
            answer = answer_about_sources(data, self.embedder, text) or self._ask(data, question, history)
        return attach_metadata(answer, data)

    def _ask(self, data: IndexData, question: str, history: list[str] | None) -> Answer:
        text, notes = clean_question(question)
        past = [h for h in (history or []) if isinstance(h, str) and h.strip()]
        turns = self._turns(data, past) if past and needs_context(text) else []
        answer = self._best_reading(data, readings(text, turns), text, turns[-1] if turns else None)
        answer.notes.extend(notes)
        return answer

    def _best_reading(self, data: IndexData, options: list[str], asked: str, previous: Turn | None) -> Answer:
        """Answer each reading of a follow-up and keep the most confident (the first on ties).

        An answer ranks above an abstention; among answers, one that only repeats what the
        previous turn already said ranks below the others: a follow-up asks for something new
        (but the previous sentence may well hold it, when nothing else does).

        Readings are answered in order, and the rest skipped once one answers decisively
        (``DECISIVE_CONFIDENCE``) with something new. Answers are remembered
        (:class:`AnswerCache`): a follow-up replays the question before it, which was usually
        just answered. The key holds everything the answer depends on.
        """
        key = (id(data), tuple(options), asked, previous, active_filter())
        remembered = self._answers.get(data, key)
        if remembered is not None:
            return remembered
        said: tuple[str, ...] = ()
        context: frozenset[int] = frozenset()
        if previous is not None:
            ids = data.doc_ids()
            said, context = previous.quotes, frozenset(ids[s] for s in previous.sources if s in ids)
        answers = []
        for option in options:
            answer = self._answer(data, option, asked, context)
            answers.append(answer)
            if answer.answered and answer.confidence >= DECISIVE_CONFIDENCE and not _repeats(answer, said):
                break  # later readings are tried only while none is decisive
        best = max(answers, key=lambda a: (a.answered, not _repeats(a, said), a.confidence))
        self._answers.put(data, key, best)
        return best

    def _answer(self, data: IndexData, question: str, asked: str, context: frozenset[int]) -> Answer:
        query = self.embedder.encode_query(question)
        hits = retrieve(data, query, tokenize(question), self.retrieval)
        return extract(data, hits, query, question, asked, self.answering, self.scorer, context)

    def _turns(self, data: IndexData, history: list[str]) -> list[Turn]:
        """Replay the recent history, resolving each question against the ones before it."""
        turns: list[Turn] = []
        recent = history[-MAX_HISTORY:]
        for i, past in enumerate(recent):
            past = " ".join(past.split())[:MAX_QUESTION_CHARS]
            options = readings(past, turns)
            turn = Turn(past, options[0])
            # Only the last turn's answer can be referred to; earlier ones only need resolving.
            if i == len(recent) - 1 or len(options) > 1:
                answer = self._best_reading(data, options, past, turns[-1] if turns else None)
                short = answer.short_answer
                turn = Turn(
                    past,
                    answer.resolved_question or past,
                    short.text if short else None,
                    short.kind if short else None,
                    tuple(c.quote for c in answer.citations),
                    tuple(dict.fromkeys(c.source for c in answer.citations)),
                )
            turns.append(turn)
        return turns


def _repeats(answer: Answer, said: tuple[str, ...]) -> bool:
    return bool(answer.citations) and answer.citations[0].quote in said

"""Fit the reader's combiner and abstention threshold on validation articles (``make fit-combiner``).

The corpus is the part-A validation articles (every 4th article of
squad-v1.1-dev-part-a, the ones models/train_reader.py leaves out), one file per article.
Answerable items: their questions. Unanswerable items: questions of the training articles,
asked of this corpus, which cannot answer them (off topic), and questions of the validation
articles asked of a copy whose answer sentence was removed (on topic). Every span the reader proposes becomes a
row (features, "its sentence holds a gold answer"); a logistic regression over the
standardised rows is the combiner. Figures are cross-validated by article (each article's
questions scored by a model fitted without them); the shipped combiner is then fitted on all.
The threshold is the highest that keeps false abstention on answerable questions (CV) at or
under ``--max-false-abstention``.

A third corpus copy gives one question per paragraph a restatement of itself as the
paragraph's lead (``with_leads``): the issue's failure (news restates the event in its lead
and answers later) measured on validation articles, reported as ``part_a_restated``; scored
by the cross-validated combiners and, with ``--fit-restated``, fitted on too.

``--extra`` scores other questions, each file its own corpus, with the shipped combiner and
threshold, as a second validation figure: SQuAD's questions were written while reading the
answer sentence, and a user's are not, like the Natural Questions dev queries (searches typed
before any text was seen). They stay out of the fit: fitting the combiner on them as well
moved neither part A nor the blind news set (models/reader/README.md).

    python models/fit_combiner.py --reader models/reader --work /tmp/combiner-work
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_reader import drop_answer_sentence, read_squad, restate, split_articles  # noqa: E402

from rag import Assistant, build_index  # noqa: E402
from rag.answer import AnswerConfig, AnswerStrategy, Features, analyse, best_spans, read  # noqa: E402
from rag.evaluation import answer_hit, calibration_error, squad_f1  # noqa: E402
from rag.reader import COMBINER_FILE, Combiner, Reader, write_checksums  # noqa: E402
from rag.retrieval import retrieve  # noqa: E402
from rag.text import tokenize  # noqa: E402

logger = logging.getLogger("fit_combiner")


@dataclass
class Row:
    question: int
    group: int
    answerable: bool
    label: bool
    x: list[float]
    span: str
    answers: tuple[str, ...]
    evidence: dict


def save_rows(rows: list[Row], questions: list, path: Path) -> None:
    """The collected rows as JSON (reading is the slow part; ``--reuse-rows`` refits from them)."""
    payload = {"features": list(Features.NAMES), "questions": questions, "rows": [asdict(r) for r in rows]}
    path.write_text(json.dumps(payload), encoding="utf-8")


def load_rows(path: Path) -> tuple[list[Row], list]:
    payload = json.loads(path.read_text(encoding="utf-8"))
    if tuple(payload["features"]) != Features.NAMES:
        raise SystemExit(f"{path} holds other features than the code computes; run without --reuse-rows")
    rows = [Row(**{**r, "answers": tuple(r["answers"])}) for r in payload["rows"]]
    return rows, [(q, tuple(a), g, name) for q, a, g, name in payload["questions"]]


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_")


def write_corpus(articles: list[dict], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for article in articles:
        title = article["title"].replace("_", " ")
        body = "\n\n".join(p["context"] for p in article["paragraphs"])
        (folder / f"{_safe(title)}.txt").write_text(f"{title}\n\n{body}\n", encoding="utf-8")


PART_A = "part_a"
RESTATED = "part_a_restated"


def questions_of(articles: list[dict], groups: int, name: str) -> list[tuple[str, tuple, int, str]]:
    """(question, answers, group, set) for every question; article i is in fold i % groups."""
    return [
        (qa["question"], tuple(dict.fromkeys(a["text"] for a in qa["answers"])), i % groups, name)
        for i, article in enumerate(articles)
        for p in article["paragraphs"]
        for qa in p["qas"]
    ]


def items(valid: list[dict], train: list[dict], n_unanswerable: int, seed: int) -> list[tuple[str, tuple, int, str]]:
    """The validation articles' questions, one fold per article, and unanswerable ones (no
    answers) spread over the folds round-robin so every fold has some."""
    out = questions_of(valid, len(valid), PART_A)
    others = [qa["question"] for a in train for p in a["paragraphs"] for qa in p["qas"]]
    random.Random(seed).shuffle(others)
    return out + [(q, (), i % len(valid), PART_A) for i, q in enumerate(others[:n_unanswerable])]


def write_eval_sets(questions: list, valid: list[dict], work: Path) -> None:
    """The same questions as `rag eval` files (qa.jsonl, unanswerable.jsonl) in ``work``."""
    names = [f"{_safe(a['title'].replace('_', ' '))}.txt" for a in valid]
    with open(work / "qa.jsonl", "w", encoding="utf-8") as qa, open(work / "unanswerable.jsonl", "w") as un:
        for n, (question, answers, group, _) in enumerate(questions):
            if answers:
                row = {"id": f"v{n}", "question": question, "answers": list(answers), "sources": [names[group]]}
                qa.write(json.dumps(row, ensure_ascii=False) + "\n")
            else:
                un.write(json.dumps({"id": f"u{n}", "question": question}, ensure_ascii=False) + "\n")


def editable_copy(articles: list[dict]) -> list[dict]:
    """The articles with paragraphs of their own, so a corpus variant can edit their text."""
    return [{**a, "paragraphs": [dict(p) for p in a["paragraphs"]]} for a in articles]


def without_answers(valid: list[dict], n: int, seed: int) -> tuple[list[dict], list[tuple[str, tuple, int, str]]]:
    """The validation articles with the answer sentence of ``n`` questions removed (at most
    one per paragraph), and those questions, now unanswerable: the on-topic kind of
    unanswerable question (the article is about the right thing but never says it)."""
    rng = random.Random(seed)
    picks = []
    for g, article in enumerate(valid):
        for i, p in enumerate(article["paragraphs"]):
            if p["qas"]:
                picks.append((g, i, rng.choice(p["qas"])))
    rng.shuffle(picks)
    articles = editable_copy(valid)
    removed = []
    for g, i, qa in picks[:n]:
        ans = qa["answers"][0]
        paragraph = articles[g]["paragraphs"][i]
        rest = drop_answer_sentence(paragraph["context"], ans["answer_start"], ans["text"])
        if rest is None:
            continue
        paragraph["context"] = rest
        removed.append((qa, g))
    questions = []
    for qa, g in removed:
        text = " ".join(p["context"] for p in articles[g]["paragraphs"]).lower()
        if not any(a["text"].lower() in text for a in qa["answers"]):
            questions.append((qa["question"], (), g, PART_A))
    return articles, questions


def with_leads(valid: list[dict], seed: int) -> tuple[list[dict], list[tuple[str, tuple, int, str]]]:
    """The validation articles with, before each paragraph, a restatement of one of its
    questions (``train_reader.restate``), and those questions: news's restating lead, the
    issue's failure, measured on validation articles (the sentence quoting the question's
    words is not the one answering it)."""
    rng = random.Random(seed)
    articles = editable_copy(valid)
    questions = []
    for g, article in enumerate(articles):
        for paragraph in article["paragraphs"]:
            if not paragraph["qas"]:
                continue
            qa = rng.choice(paragraph["qas"])
            lead = restate(qa["question"])
            answers = tuple(dict.fromkeys(a["text"] for a in qa["answers"]))
            if lead and not any(a.lower() in lead.lower() for a in answers):
                paragraph["context"] = f"{lead} {paragraph['context']}"
                questions.append((qa["question"], answers, g, RESTATED))
    return articles, questions


def collect(assistant: Assistant, reader: Reader, questions: list, config: AnswerConfig, first: int = 0) -> list[Row]:
    """Rows for ``questions``, numbered from ``first``."""
    data = assistant.data
    rows = []
    for n, (question, answers, group, _) in enumerate(questions, first):
        query = assistant.embedder.encode_query(question)
        hits = retrieve(data, query, tokenize(question), assistant.retrieval)
        readings = read(data, hits, query, analyse(data, question), config, reader)
        spans = best_spans(readings)  # the short answer shown if the sentence is cited
        for r in readings:
            sentence = data.sentence_text(r.candidate.sentence)
            a, b = spans[r.candidate.sentence] or (0, 0)
            span = data.texts[int(data.sentences[r.candidate.sentence]["doc"])][a:b]
            label = bool(answers) and answer_hit(sentence, answers)
            rows.append(Row(n, group, bool(answers), label, r.features.vector(), span, answers, asdict(r.evidence)))
        if (n + 1) % 200 == 0:
            logger.info("%d questions read", n + 1)
    return rows


def fit(rows: list[Row]) -> tuple[np.ndarray, np.ndarray, LogisticRegression]:
    x = np.array([r.x for r in rows])
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    model = LogisticRegression(C=1.0, max_iter=2000)
    model.fit((x - mean) / scale, np.array([r.label for r in rows]))
    return mean, scale, model


def as_combiner(mean, scale, model, threshold: float) -> Combiner:
    return Combiner(Features.NAMES, mean, scale, model.coef_[0], float(model.intercept_[0]), threshold)


def best_per_question(rows: list[Row], probs: np.ndarray, n_questions: int) -> list[tuple[float, Row | None]]:
    best: list[tuple[float, Row | None]] = [(0.0, None)] * n_questions
    for r, p in zip(rows, probs):
        if best[r.question][1] is None or p > best[r.question][0]:
            best[r.question] = (float(p), r)
    return best


def cross_validate(
    fitted: list[Row], scored: list[Row], questions: list, groups: int
) -> list[tuple[float, Row | None]]:
    """Each scored question's best candidate under a combiner fitted, on the ``fitted``
    rows, without its article."""
    picks: list[tuple[float, Row | None]] = [(0.0, None)] * len(questions)
    for g in range(groups):
        train = [r for r in fitted if r.group != g]
        test = [r for r in scored if r.group == g]
        mean, scale, model = fit(train)
        probs = as_combiner(mean, scale, model, 0.5).predict(np.array([r.x for r in test]))
        for i, pick in enumerate(best_per_question(test, probs, len(questions))):
            if pick[1] is not None:
                picks[i] = pick
    return picks


def choose_threshold(picks, questions, max_false: float) -> float:
    answerable = sorted(p for (p, _), q in zip(picks, questions) if q[1])
    k = int(max_false * len(answerable))
    return float(answerable[k]) if answerable else 0.5


def score_extra(combiner: Combiner, rows: list[Row], questions: list, picks: list) -> list:
    """``picks`` with the questions of the ``--extra`` sets scored by the fitted combiner."""
    extra = [r for r in rows if questions[r.question][3] not in (PART_A, RESTATED)]
    if not extra:
        return picks
    best = best_per_question(extra, combiner.predict(np.array([r.x for r in extra])), len(questions))
    return [b if b[1] is not None else p for p, b in zip(picks, best)]


def by_set(picks, questions, threshold: float) -> dict:
    """Each question set's figures under the one threshold (part A cross-validated, ``--extra``
    sets scored by the shipped combiner)."""
    names = dict.fromkeys(q[3] for q in questions)
    return {
        name: report(*zip(*[(p, q) for p, q in zip(picks, questions) if q[3] == name]), threshold) for name in names
    }


def report(picks, questions, threshold: float) -> dict:
    ans = [(p, r, q) for (p, r), q in zip(picks, questions) if q[1]]
    un = [p for (p, _), q in zip(picks, questions) if not q[1]]
    hits = [r is not None and p >= threshold and r.label for p, r, _ in ans]
    f1 = [squad_f1(r.span, q[1]) if r is not None and p >= threshold else 0.0 for p, r, q in ans]
    conf = [p for p, _ in picks]
    right = [r is not None and r.label for p, r in picks]
    return {
        "answerable": len(ans),
        "unanswerable": len(un),
        "answer_hit": round(float(np.mean(hits)), 3),
        "answer_hit_no_abstention": round(float(np.mean([r is not None and r.label for _, r, _ in ans])), 3),
        "short_f1": round(float(np.mean(f1)), 3),
        "abstention": round(float(np.mean([p < threshold for p in un])), 3) if un else None,
        "false_abstention": round(float(np.mean([p < threshold for p, _, _ in ans])), 3),
        "ece": round(calibration_error(conf, right), 3),
        "threshold": round(threshold, 4),
    }


def open_index(path: Path) -> Assistant:
    """An assistant for its index, embedder and retrieval only: the reader being fitted is
    passed to :func:`collect` apart, so the default strategy's reader (the shipped one) is
    not loaded."""
    return Assistant(path, answering=AnswerConfig(strategy=AnswerStrategy.LINEAR)).load(check_files=False)


def collect_all(args: argparse.Namespace, train: list[dict], valid: list[dict], work: Path) -> tuple[list[Row], list]:
    """Rows of every validation question, off-topic and on-topic unanswerable ones included."""
    write_corpus(valid, work / "corpus")
    build_index(work / "corpus", work / "index")
    reader = Reader(args.reader).load()
    assistant = open_index(work / "index")
    config = AnswerConfig()
    questions = items(valid, train, args.unanswerable, args.seed)
    write_eval_sets(questions, valid, work)
    rows = collect(assistant, reader, questions, config)
    if args.removed:
        articles, on_topic = without_answers(valid, args.removed, args.seed)
        write_corpus(articles, work / "corpus-removed")
        build_index(work / "corpus-removed", work / "index-removed")
        other = open_index(work / "index-removed")
        rows += collect(other, reader, on_topic, config, len(questions))
        questions += on_topic
    articles, led = with_leads(valid, args.seed)
    write_corpus(articles, work / "corpus-restated")
    build_index(work / "corpus-restated", work / "index-restated")
    rows += collect(open_index(work / "index-restated"), reader, led, config, len(questions))
    questions += led
    for path in args.extra:
        name = Path(path).name.split(".")[0]
        articles = read_squad([path])
        write_corpus(articles, work / f"corpus-{name}")
        build_index(work / f"corpus-{name}", work / f"index-{name}")
        extra = questions_of(articles, len(valid), name)
        assistant = open_index(work / f"index-{name}")
        rows += collect(assistant, reader, extra, config, len(questions))
        questions += extra
    return rows, questions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="../shared/data/squad-v1.1-dev-part-a.json.gz")
    parser.add_argument("--reader", default="models/reader")
    parser.add_argument("--work", default="/tmp/combiner-work")
    parser.add_argument("--validation-every", type=int, default=4)
    parser.add_argument("--unanswerable", type=int, default=400)
    parser.add_argument(
        "--removed", type=int, default=300, help="on-topic unanswerable questions (see without_answers)"
    )
    parser.add_argument("--max-false-abstention", type=float, default=0.04)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--extra", nargs="*", default=[], help="SQuAD-format files of other validation questions")
    parser.add_argument("--reuse-rows", action="store_true", help="refit from the rows a previous run saved in --work")
    parser.add_argument(
        "--fit-restated",
        action="store_true",
        help="fit on the questions with a restating lead too (with_leads), not only score them",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    train, valid = split_articles(read_squad([args.data]), args.validation_every)
    work = Path(args.work)
    cache = work / "rows.json"
    write_checksums(Path(args.reader))  # the weights as exported by train_reader.py
    if args.reuse_rows and cache.exists():
        rows, questions = load_rows(cache)
    else:
        rows, questions = collect_all(args, train, valid, work)
        save_rows(rows, questions, cache)
    fitted_sets = (PART_A, RESTATED) if args.fit_restated else (PART_A,)
    fitted = [r for r in rows if questions[r.question][3] in fitted_sets]
    scored = [r for r in rows if questions[r.question][3] in (PART_A, RESTATED)]
    picks = cross_validate(fitted, scored, questions, len(valid))
    part_a = [(pick, q) for pick, q in zip(picks, questions) if q[3] == PART_A]
    threshold = choose_threshold(*zip(*part_a), args.max_false_abstention)
    mean, scale, model = fit(fitted)
    combiner = as_combiner(mean, scale, model, threshold)
    sets = by_set(score_extra(combiner, rows, questions, picks), questions, threshold)
    cv = sets[PART_A]
    source = (
        f"models/fit_combiner.py: logistic regression on {len(fitted)} reader spans of "
        f"{cv['answerable'] + cv['unanswerable']} questions "
        f"({cv['answerable']} answerable from {len(valid)} part-A validation articles; {cv['unanswerable']} "
        "unanswerable: questions of training articles, and questions whose answer sentence was removed"
        f"{'; and the questions given a restating lead' if args.fit_restated else ''}); "
        f"threshold keeps cross-validated false abstention <= {args.max_false_abstention}"
    )
    out = Path(args.reader)
    (out / COMBINER_FILE).write_text(json.dumps(combiner.to_json(source), indent=2) + "\n", encoding="utf-8")
    figures = {"cross_validated": cv, "by_set": sets}
    (out / "validation.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    write_checksums(out)
    print(json.dumps(sets, indent=2))


if __name__ == "__main__":
    main()

"""Convert Natural Questions short answers on QED's paragraphs to SQuAD v1.1 JSON.

Reproduces ``models/data/nq_qed_train.json.gz`` and ``nq_qed_dev.json.gz`` (see
``SOURCES.md``) from a local git mirror of GitHub ``google-research-datasets/QED``: train from
the shards of its initial check-in (commit 71e19e0, ``nq-train-0[0-5]-qed.jsonlines``; the
merged train file is too large to fetch here), dev from ``qed-dev.jsonlines`` at HEAD:

    python models/data/convert_qed.py --repo /path/to/QED.git --split train --out models/data/nq_qed_train.json.gz
    python models/data/convert_qed.py --repo /path/to/QED.git --split dev --out models/data/nq_qed_dev.json.gz

Kept: answers that are one non-empty span matching its text (train: the one annotation;
dev: every NQ annotator's single-span answer, as alternatives). Questions on the same
paragraph share a paragraph, paragraphs of the same Wikipedia page an article, in file
order (so ``FILE:N`` caps in ``train_reader.py`` take the same first questions as before).
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import subprocess
from pathlib import Path

SHARDS = {
    "train": [("71e19e0", f"nq-train-0{i}-qed.jsonlines") for i in range(6)],
    "dev": [("HEAD", "qed-dev.jsonlines")],
}
log = logging.getLogger("convert_qed")


def read_shard(repo: Path, commit: str, name: str) -> list[dict]:
    """One shard's examples, read from the mirror at ``commit``."""
    text = subprocess.run(
        ["git", "--git-dir", str(repo), "show", f"{commit}:{name}"],
        check=True, capture_output=True, text=True,
    ).stdout
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _span(context: str, start: int, end: int, text: str) -> dict | None:
    if not text.strip() or context[start:end] != text:
        return None
    return {"text": text, "answer_start": start}


def answers(example: dict) -> list[dict]:
    """The clean single-span answers: train's one annotation (``answer_spans``), or dev's
    NQ annotations (``original_nq_answers``, one list of spans per annotator)."""
    context = example["paragraph_text"]
    if "original_nq_answers" in example:
        found = [
            _span(context, spans[0]["start"], spans[0]["end"], spans[0]["string"])
            for spans in example["original_nq_answers"]
            if len(spans) == 1
        ]
    else:
        spans, texts = example.get("answer_spans") or [], example.get("answer_text") or []
        found = [_span(context, *spans[0], texts[0])] if len(spans) == 1 and len(texts) == 1 else []
    return list({a["text"]: a for a in found if a is not None}.values())


def convert(examples: list[dict], split: str) -> dict:
    """SQuAD v1.1 JSON, grouped by page title then paragraph, in first-seen order."""
    articles: dict[str, dict[str, list[dict]]] = {}
    for example in examples:
        gold = answers(example)
        if not gold:
            continue
        paragraphs = articles.setdefault(example["title_text"], {})
        paragraphs.setdefault(example["paragraph_text"], []).append(
            {"id": f"qed_{split}_{example['example_id']}", "question": example["question_text"], "answers": gold}
        )
    return {
        "version": f"nq-qed-{split}-squad-format",
        "data": [
            {"title": f"nq_qed_{title}", "paragraphs": [{"context": c, "qas": q} for c, q in paragraphs.items()]}
            for title, paragraphs in articles.items()
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", type=Path, required=True, help="git dir of a QED mirror")
    parser.add_argument("--split", choices=sorted(SHARDS), default="train")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    examples = [e for commit, name in SHARDS[args.split] for e in read_shard(args.repo, commit, name)]
    data = convert(examples, args.split)
    questions = sum(len(p["qas"]) for a in data["data"] for p in a["paragraphs"])
    log.info("%d examples -> %d articles, %d questions", len(examples), len(data["data"]), questions)
    with gzip.open(args.out, "wt", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False)


if __name__ == "__main__":
    main()

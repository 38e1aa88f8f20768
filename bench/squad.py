"""Turn a SQuAD-format file into a corpus and `rag eval` question sets: an out-of-domain check.

    .venv/bin/python bench/squad.py dev-v1.1.json /tmp/squad --articles 2 --per paragraph
    .venv/bin/rag index --source /tmp/squad/corpus --index /tmp/squad/index
    .venv/bin/rag eval --index /tmp/squad/index --baselines /tmp/squad/qa.jsonl /tmp/squad/unanswerable.jsonl

The first ``--articles`` articles become the corpus: one file per article (title, then its
paragraphs) or one per paragraph, which makes source hit a test of retrieval among many
similar short texts. Every question on them is an answerable item (acceptable answers:
SQuAD's answer spans). Unanswerable items are SQuAD 2.0's impossible questions on those
articles, or, for SQuAD 1.1, the first ``--unanswerable`` questions of the next article,
which is left out of the corpus. The data is not committed: bring your own copy.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_")


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def convert(data: dict, out: Path, articles: int, per: str, unanswerable: int) -> tuple[int, int, int]:
    """Write ``out/corpus``, ``out/qa.jsonl`` and ``out/unanswerable.jsonl``; return the counts
    of corpus files, answerable and unanswerable questions."""
    corpus = out / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    kept, rest = data["data"][:articles], data["data"][articles:]
    answerable, impossible, files = [], [], 0
    for article in kept:
        title = article["title"].replace("_", " ")
        paragraphs = article["paragraphs"]
        if per == "article":
            name = _safe(title) + ".txt"
            (corpus / name).write_text(title + "\n\n" + "\n\n".join(p["context"] for p in paragraphs) + "\n", "utf-8")
            names = [name] * len(paragraphs)
        else:
            names = [f"{_safe(title)}_{i:03d}.txt" for i in range(len(paragraphs))]
            for name, p in zip(names, paragraphs):
                (corpus / name).write_text(p["context"] + "\n", "utf-8")
        files += len(set(names))
        for name, p in zip(names, paragraphs):
            for qa in p["qas"]:
                if qa.get("is_impossible"):
                    impossible.append({"id": qa["id"], "question": qa["question"]})
                    continue
                answers = list(dict.fromkeys(a["text"] for a in qa["answers"]))
                answerable.append({"id": qa["id"], "question": qa["question"], "answers": answers, "sources": [name]})
    if not impossible and rest:  # SQuAD 1.1: questions about an article left out of the corpus
        left_out = [qa for p in rest[0]["paragraphs"] for qa in p["qas"]][:unanswerable]
        impossible = [{"id": qa["id"], "question": qa["question"]} for qa in left_out]
    _write_jsonl(out / "qa.jsonl", answerable)
    _write_jsonl(out / "unanswerable.jsonl", impossible[:unanswerable])
    return files, len(answerable), len(impossible[:unanswerable])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("squad_json", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--articles", type=int, default=2, help="how many articles make the corpus (default 2)")
    parser.add_argument("--per", choices=["article", "paragraph"], default="article", help="one file per ...")
    parser.add_argument("--unanswerable", type=int, default=40, help="at most this many unanswerable questions")
    args = parser.parse_args()
    data = json.loads(args.squad_json.read_text(encoding="utf-8"))
    files, qa, un = convert(data, args.out, args.articles, args.per, args.unanswerable)
    print(f"{files} corpus files, {qa} answerable and {un} unanswerable questions under {args.out}")


if __name__ == "__main__":
    main()

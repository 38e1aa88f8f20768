"""Convert TyDi QA GoldP (English), Quoref and MLQA (English) to the SQuAD JSON ``train_reader.py`` reads.

Reproduces ``models/data/{tydiqa_en_train,quoref_dev,mlqa_en_dev}.json.gz``
(origins, commits and licences in ``SOURCES.md``) from local git mirrors of the GitHub
repositories that hold copies small enough to fetch here (the official releases are
4 MB or more):

    python models/data/convert_extra.py --repo /path/to/MESH.git --set tydiqa_en_train \
        --out models/data/tydiqa_en_train.json.gz

Every kept answer is non-empty and matches its context at its offset. An answer whose
offset is wrong but whose text occurs exactly once in the context is moved there (Quoref
v0.1 has 40 offsets shifted, a Unicode bug: 31 are moved, 9 dropped); other mismatches,
empty answers and questions with several answer spans (list answers, which a single-span
reader cannot give) are dropped and counted. Articles without
a title (TyDi: one passage each) are named by their first question's id, so training can
split and draw negatives by document.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Origin:
    commit: str
    path: str
    prefix: str  # of the article titles in the converted file


SETS = {
    "tydiqa_en_train": Origin(
        "8325b2bc0c537c553864742ce6aec6b6fded2964",
        "data/tydiqa/tydiqa-goldp-v1.1-train/tydiqa.goldp.en.train.json",
        "tydiqa_en",
    ),
    "quoref_dev": Origin("dab12f986007f27baf19f0a18f54bc9f9e33579c", "data/quoref/quoref-dev-v0.1.json", "quoref"),
    "mlqa_en_dev": Origin(
        "68f82e29e71a4e425069ff398a61387c24c0f30d", "data/mlqa/MLQA_V1/dev/dev-context-en-question-en.json", "mlqa_en"
    ),
}
log = logging.getLogger("convert_extra")


def read(repo: Path, origin: Origin) -> list[dict]:
    text = subprocess.run(
        ["git", "--git-dir", str(repo), "show", f"{origin.commit}:{origin.path}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(text)["data"]


def single_span(qa: dict, context: str, counts: Counter) -> dict | None:
    """The question with one answer span that matches its context, or None (counted why)."""
    spans = {(a["text"], a["answer_start"]) for a in qa["answers"]}
    if len({text for text, _ in spans}) != 1:
        counts["several answer spans"] += 1
        return None
    text, start = min(spans, key=lambda s: s[1])
    if not text.strip():  # the answer withheld (that repository's copy of TyDi dev blanks them all)
        counts["empty answer"] += 1
        return None
    if context[start : start + len(text)] != text:
        if context.count(text) != 1:
            counts["offset wrong, text not unique"] += 1
            return None
        start = context.index(text)
        counts["offset moved to the only occurrence"] += 1
    counts["kept"] += 1
    return {"id": qa["id"], "question": qa["question"], "answers": [{"text": text, "answer_start": start}]}


def convert(articles: list[dict], prefix: str) -> tuple[list[dict], Counter]:
    counts: Counter = Counter()
    out = []
    for article in articles:
        paragraphs = []
        for paragraph in article["paragraphs"]:
            qas = [q for q in (single_span(qa, paragraph["context"], counts) for qa in paragraph["qas"]) if q]
            if qas:
                paragraphs.append({"context": paragraph["context"], "qas": qas})
        if paragraphs:
            name = article.get("title") or paragraphs[0]["qas"][0]["id"]
            out.append({"title": f"{prefix}_{name}", "paragraphs": paragraphs})
    return out, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", type=Path, required=True, help="git directory of the mirror holding the set")
    parser.add_argument("--set", choices=sorted(SETS), required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    origin = SETS[args.set]
    data, counts = convert(read(args.repo, origin), origin.prefix)
    with gzip.GzipFile(args.out, "wb", mtime=0) as f:
        f.write(json.dumps({"version": f"{args.set} ({origin.commit[:7]})", "data": data}, ensure_ascii=False).encode())
    log.info("%s: %d articles; %s -> %s", args.set, len(data), dict(counts), args.out)


if __name__ == "__main__":
    main()

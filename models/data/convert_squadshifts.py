"""Convert SQuADShifts' Reddit and Amazon-review sets to the SQuAD JSON ``train_reader.py`` reads.

Reproduces ``models/data/squadshifts_reddit.json.gz`` and ``squadshifts_amazon.json.gz``
(see ``SOURCES.md``) from a local git mirror of GitHub ``albertvillanova/squadshifts-website``
(a fork of ``modestyachts/squadshifts-website``), files ``datasets/reddit_v1.0.json`` and
``datasets/amazon_reviews_v1.0.json``:

    python models/data/convert_squadshifts.py --repo /path/to/squadshifts-website.git \
        --set reddit --out models/data/squadshifts_reddit.json.gz

The Reddit file holds one pseudo-article of 2,035 posts; each post becomes its own article
(``squadshifts_reddit_NNNN``) so that training can split and draw negatives by document.
Amazon articles (one product each) keep their grouping. Every answer is checked against its
context; a mismatch stops the conversion.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import subprocess
from pathlib import Path

FILES = {"reddit": "datasets/reddit_v1.0.json", "amazon": "datasets/amazon_reviews_v1.0.json"}
log = logging.getLogger("convert_squadshifts")


def read(repo: Path, name: str) -> list[dict]:
    text = subprocess.run(
        ["git", "--git-dir", str(repo), "show", f"HEAD:{name}"], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(text)["data"]


def check(paragraph: dict) -> None:
    for qa in paragraph["qas"]:
        for answer in qa["answers"]:
            start, text = answer["answer_start"], answer["text"]
            if paragraph["context"][start : start + len(text)] != text:
                raise SystemExit(f"answer {text!r} of question {qa['id']} does not match its context at {start}")


def convert(articles: list[dict], name: str) -> list[dict]:
    """Articles with SQuADShifts titles; Reddit's single pseudo-article split per post."""
    if name == "reddit":
        posts = [p for a in articles for p in a["paragraphs"]]
        return [{"title": f"squadshifts_reddit_{i:04d}", "paragraphs": [p]} for i, p in enumerate(posts)]
    return [{"title": f"squadshifts_amazon_{a['title']}", "paragraphs": a["paragraphs"]} for a in articles]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", type=Path, required=True, help="git directory of the squadshifts-website mirror")
    parser.add_argument("--set", choices=sorted(FILES), required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    data = convert(read(args.repo, FILES[args.set]), args.set)
    for article in data:
        for paragraph in article["paragraphs"]:
            check(paragraph)
    questions = sum(len(p["qas"]) for a in data for p in a["paragraphs"])
    with gzip.GzipFile(args.out, "wb", mtime=0) as f:
        f.write(json.dumps({"version": "squadshifts-v1.0", "data": data}, ensure_ascii=False).encode())
    log.info("%s: %d articles, %d questions -> %s", args.set, len(data), questions, args.out)


if __name__ == "__main__":
    main()

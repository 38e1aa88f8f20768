#!/usr/bin/env python3
"""Sanity check for the heldout_news set: answers occur verbatim (case-insensitive) in their sources."""

import json
import os
import sys
from collections import Counter

here = os.path.dirname(os.path.abspath(__file__))
corpus = os.path.join(here, "corpus")
docs = {
    f: open(os.path.join(corpus, f), encoding="utf-8").read() for f in sorted(os.listdir(corpus)) if f.endswith(".txt")
}
bad = 0
for f, t in docs.items():
    lines = t.split("\n")
    n = len(t.split())
    if not (350 <= n <= 700) or not lines[0].strip() or lines[1].strip():
        print("FORMAT/LENGTH", f, n)
        bad += 1


def load(name):
    return [json.loads(line) for line in open(os.path.join(here, name), encoding="utf-8") if line.strip()]


qa, un, fu = load("qa.jsonl"), load("unanswerable.jsonl"), load("followups.jsonl")
for item in qa + fu:
    for s in item["sources"]:
        if s not in docs:
            print("MISSING SOURCE", item["id"], s)
            bad += 1
            continue
        for a in item["answers"]:
            if a.lower() not in docs[s].lower():
                print("ANSWER NOT FOUND", item["id"], repr(a), s)
                bad += 1
ids = [x["id"] for x in qa + un + fu]
if len(ids) != len(set(ids)):
    print("DUPLICATE IDS")
    bad += 1
per = Counter(s for x in qa for s in x["sources"])
print(f"docs={len(docs)} qa={len(qa)} unanswerable={len(un)} followups={len(fu)} per-doc={sorted(per.values())}")
print("OK" if not bad else f"{bad} problems")
sys.exit(1 if bad else 0)

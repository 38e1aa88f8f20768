#!/usr/bin/env python3
"""Sanity checks for the heldout_news3 evaluation set (standard library only).

Checks:
  * every corpus article: headline on line 1, blank line 2, text on line 3,
    first paragraph starts with a dateline "... (Wire) — ", 350-700 words;
  * qa.jsonl / followups.jsonl: required fields, every source file exists,
    every answer string occurs verbatim (case-insensitive) in a source;
  * unanswerable.jsonl: required fields;
  * ids unique across all three files, with prefixes n3_/u3_/f3_;
  * counts: 16 articles, 96 qa (6 per article), 32 unanswerable,
    16 followups (1 per article).
Prints problems and exits non-zero if there are any.
"""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
MIN_WORDS, MAX_WORDS = 350, 700
DATELINE = re.compile(r"^[A-Z][A-Z .,'-]*(, [A-Za-z .]+)?, [A-Z][a-z]+ \d{1,2} \(Wire\) — \S")
NAME = re.compile(r"^\d{2}_[a-z0-9_]+\.txt$")
EXPECTED = {"articles": 16, "qa.jsonl": 96, "unanswerable.jsonl": 32, "followups.jsonl": 16}
PER_ARTICLE = {"qa.jsonl": 6, "followups.jsonl": 1}
PREFIX = {"qa.jsonl": "n3_", "unanswerable.jsonl": "u3_", "followups.jsonl": "f3_"}

problems = []


def problem(msg):
    problems.append(msg)


def load_jsonl(name):
    rows = []
    path = os.path.join(HERE, name)
    if not os.path.exists(path):
        problem(f"{name}: missing")
        return rows
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                problem(f"{name}:{i}: invalid JSON ({e})")
    return rows


# --- corpus -----------------------------------------------------------------
texts = {}
files = sorted(os.listdir(CORPUS)) if os.path.isdir(CORPUS) else []
if not files:
    problem("corpus/: missing or empty")
for fn in files:
    path = os.path.join(CORPUS, fn)
    if not NAME.match(fn):
        problem(f"corpus/{fn}: file name does not match NN_slug.txt")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    texts[fn] = text
    lines = text.split("\n")
    if len(lines) < 3 or not lines[0].strip():
        problem(f"corpus/{fn}: first line must be a non-empty headline")
    elif lines[1].strip() != "":
        problem(f"corpus/{fn}: second line must be blank")
    elif not lines[2].strip():
        problem(f"corpus/{fn}: third line must start the first paragraph")
    elif not DATELINE.match(lines[2]):
        problem(f"corpus/{fn}: first paragraph lacks a dateline like 'OSLO, March 3 (Wire) — '")
    n = len(text.split())
    if not MIN_WORDS <= n <= MAX_WORDS:
        problem(f"corpus/{fn}: {n} words, outside {MIN_WORDS}-{MAX_WORDS}")
    print(f"  {fn}: {n} words")

# --- question files -----------------------------------------------------------
qa = load_jsonl("qa.jsonl")
unans = load_jsonl("unanswerable.jsonl")
fups = load_jsonl("followups.jsonl")

seen = {}
for fname, rows in (("qa.jsonl", qa), ("unanswerable.jsonl", unans), ("followups.jsonl", fups)):
    for r in rows:
        rid = r.get("id")
        if not rid:
            problem(f"{fname}: row without id: {r}")
            continue
        if rid in seen:
            problem(f"{fname}: duplicate id {rid} (also in {seen[rid]})")
        seen[rid] = fname
        if not str(rid).startswith(PREFIX[fname]):
            problem(f"{fname}: id {rid} does not start with {PREFIX[fname]}")
        if not isinstance(r.get("question"), str) or not r["question"].strip():
            problem(f"{fname}:{rid}: missing question")


def check_answerable(fname, rows, need_history=False):
    for r in rows:
        rid = r.get("id", "?")
        if need_history:
            h = r.get("history")
            if not isinstance(h, list) or not h or not all(isinstance(x, str) and x.strip() for x in h):
                problem(f"{fname}:{rid}: history must be a non-empty list of strings")
        answers = r.get("answers")
        sources = r.get("sources")
        if not isinstance(answers, list) or not answers:
            problem(f"{fname}:{rid}: answers must be a non-empty list")
            answers = []
        if not isinstance(sources, list) or not sources:
            problem(f"{fname}:{rid}: sources must be a non-empty list")
            sources = []
        src_text = ""
        for s in sources:
            if s not in texts:
                problem(f"{fname}:{rid}: source file corpus/{s} does not exist")
            else:
                src_text += "\n" + texts[s].lower()
        for a in answers:
            if not isinstance(a, str) or not a.strip():
                problem(f"{fname}:{rid}: empty/non-string answer {a!r}")
            elif src_text and a.lower() not in src_text:
                problem(f"{fname}:{rid}: answer {a!r} not found verbatim in {sources}")


check_answerable("qa.jsonl", qa)
check_answerable("followups.jsonl", fups, need_history=True)

# --- counts -------------------------------------------------------------------
if len(texts) != EXPECTED["articles"]:
    problem(f"corpus/: {len(texts)} articles, expected {EXPECTED['articles']}")
for fname, rows in (("qa.jsonl", qa), ("unanswerable.jsonl", unans), ("followups.jsonl", fups)):
    if len(rows) != EXPECTED[fname]:
        problem(f"{fname}: {len(rows)} rows, expected {EXPECTED[fname]}")
for fname, rows in (("qa.jsonl", qa), ("followups.jsonl", fups)):
    per = {fn: 0 for fn in texts}
    for r in rows:
        for s in r.get("sources") or []:
            if s in per:
                per[s] += 1
    for fn, n in sorted(per.items()):
        if n != PER_ARTICLE[fname]:
            problem(f"{fname}: {n} items cite {fn}, expected {PER_ARTICLE[fname]}")

print(f"articles={len(texts)} qa={len(qa)} unanswerable={len(unans)} followups={len(fups)}")
if problems:
    print(f"{len(problems)} problem(s):")
    for p in problems:
        print("  - " + p)
    sys.exit(1)
print("OK: no problems found")

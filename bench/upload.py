"""Upload to answerable: how long a 5-page PDF article takes from upload to a cited answer.

    .venv/bin/python bench/upload.py [--runs 3] [--pages 5] [--json bench/RESULTS-upload.json]

The article is generated (fpdf2, a text layer, about 450 words per page, a made-up fact on
its last page); the corpus it joins is a copy of seeds/ with its index already built, as
in the app. Measured per run, in one warm process (the model loaded, as in a running
app): checking and saving the upload (rag.library.save_upload: type, size, parsing), the
incremental index update and swap (Assistant.rebuild), and the first question about the
new article. The bar is under 10 s from upload to answer. As a reference for how busy the
machine is, each run also times encoding the article's sentences alone and records the
load average.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from fpdf import FPDF  # noqa: E402

from rag import Assistant, SentenceTransformerEmbedder, build_index  # noqa: E402
from rag.chunking import document_sentences  # noqa: E402
from rag.corpus import parse_rendition  # noqa: E402
from rag.formats import render  # noqa: E402
from rag.library import save_upload  # noqa: E402

FACT = "The Kestrel Bay desalination plant will deliver 140,000 cubic metres of water a day from March 2027."
QUESTION = "How much water will the Kestrel Bay desalination plant deliver a day?"
FILLER = (
    "Officials from the regional water authority said the project had been discussed for more than a decade. "
    "Residents attended public hearings in several towns along the coast during the planning stage. "
    "Engineers studied the effect of the intake pipes on fish stocks and on the seabed near the harbour. "
    "The regional council approved the budget after a long debate about electricity prices and tariffs. "
)


def article_pdf(pages: int) -> bytes:
    pdf = FPDF()
    pdf.set_title("Kestrel Bay water plant approved")
    pdf.set_author("Bench Writer")
    pdf.set_font("helvetica", size=11)
    for n in range(pages):
        pdf.add_page()
        for i in range(5):
            text = FILLER.replace("decade", f"decade ({n}.{i})")
            if n == pages - 1 and i == 4:
                text += FACT
            pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
    return bytes(pdf.output())


def one_run(assistant: Assistant, corpus: Path, data: bytes, n: int) -> dict:
    upload = corpus.parent / f"upload-{n}.pdf"
    upload.write_bytes(data)
    t0 = time.perf_counter()
    saved = save_upload(corpus, upload, f"kestrel-{n}.pdf")
    t1 = time.perf_counter()
    report = assistant.rebuild(corpus)
    t2 = time.perf_counter()
    answer = assistant.ask(QUESTION)
    t3 = time.perf_counter()
    top = answer.citations[0] if answer.citations else None
    ok = bool(answer.answered and top and top.source == saved.name and "140,000" in top.quote)
    saved.unlink()  # the next run uploads the same article again
    assistant.rebuild(corpus)
    sentences = [q.text for q in document_sentences(parse_rendition("x.pdf", render(".pdf", data), ""))]
    t4 = time.perf_counter()
    assistant.embedder.encode(sentences)
    reference = time.perf_counter() - t4
    return {"reference_encode_s": reference, "load_average_1m": os.getloadavg()[0],
            "save_s": t1 - t0, "index_s": t2 - t1, "answer_s": t3 - t2, "total_s": t3 - t0, "answered": ok,
            "page": top.page if top else None, "embedded_sentences": report.embedded_sentences}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pages", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    data = article_pdf(args.pages)
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        shutil.copytree(ROOT / "seeds", corpus)
        embedder = SentenceTransformerEmbedder().load()
        build_index(corpus, Path(tmp) / "index", embedder)
        assistant = Assistant(Path(tmp) / "index", embedder=embedder).load()
        runs = [one_run(assistant, corpus, data, n) for n in range(args.runs)]
    summary = {
        "pages": args.pages, "pdf_bytes": len(data), "runs": runs,
        "median_total_s": round(statistics.median(r["total_s"] for r in runs), 3),
        "max_total_s": round(max(r["total_s"] for r in runs), 3),
        "all_answered": all(r["answered"] for r in runs),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }
    for r in runs:
        print(f"save {r['save_s']:.2f}s  index {r['index_s']:.2f}s  answer {r['answer_s']:.2f}s  "
              f"total {r['total_s']:.2f}s  answered={r['answered']} page={r['page']} "
              f"sentences embedded={r['embedded_sentences']}  (reference: encoding them alone "
              f"{r['reference_encode_s']:.2f}s; load average {r['load_average_1m']:.1f})")
    print(f"upload -> answer, {args.pages}-page PDF: median {summary['median_total_s']:.2f}s, "
          f"max {summary['max_total_s']:.2f}s (bar: < 10 s)")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

"""Benchmarks: answer latency, cold start, indexing throughput, memory, growth to 1M chunks.

    make bench                                   # seeds + 10k (real embeddings) + 100k + 1M chunks
    .venv/bin/python bench/run.py --sizes 10000  # pick sizes; --real-max N embeds for real up to N chunks
    .venv/bin/python bench/run.py --help

Every figure is measured next to its reference in the same run (answer latency next to
question encoding, cold start next to a bare import of the same libraries, indexing next
to raw encoding of the same texts), each heavy measurement in a fresh process so memory
figures belong to it alone. Corpora beyond the seeds are generated (``bench/gen.py``:
spliced seed sentences); above ``--real-max`` chunks their vectors are synthetic
(``bench/synthetic.py``) because embedding millions of sentences on 2 cores takes hours;
recall of the approximate index is then also measured on real embeddings at the largest
real size. Prints a table, writes JSON (default ``bench/results/latest.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

import gen  # noqa: E402
from stats import wait_rusage  # noqa: E402

PY = sys.executable
RAG = str(Path(PY).with_name("rag"))
DEV = [str(p) for p in sorted((ROOT / "eval").glob("dev_*.jsonl"))]
ALL_QUESTIONS = [str(p) for p in sorted((ROOT / "eval").glob("*.jsonl"))]
SEEDS = ROOT / "seeds"
QUESTION = "Where is Ishiba planning to travel in the coming weeks?"
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(cmd: list[str], timeout: float = 3600) -> dict:
    """Run a command in a fresh process: wall time, its own peak RSS (wait4), exit code, output."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=ENV, text=True, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            code, peak = wait_rusage(proc)
        finally:
            timer.cancel()
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        return {"wall_s": wall, "code": code, "peak_rss_mb": peak, "stdout": out.read(), "stderr": err.read()}


def last_json(result: dict, what: str) -> dict:
    if result["code"] != 0:
        raise RuntimeError(f"{what} failed ({result['code']}): {result['stderr'][-2000:]}")
    return json.loads(result["stdout"].strip().splitlines()[-1])


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


# --------------------------------------------------------------------------- pieces


def build(source: Path, index: Path, embedder: str, work: Path, raw_encode: float = 0.0, repeat: int = 1) -> dict:
    cmd = [PY, str(BENCH / "build.py"), "--source", str(source), "--index", str(index), "--full",
           "--embedder", embedder, "--seeds", str(SEEDS), "--wordtable", str(work / "wordtable"),
           "--raw-encode", str(raw_encode), "--repeat", str(repeat)]
    result = run(cmd)
    out = last_json(result, f"build of {source}")
    out["process_wall_s"] = result["wall_s"]
    out["process_peak_rss_mb"] = result["peak_rss_mb"]
    return out


def no_change(source: Path, index: Path, repeats: int) -> dict:
    walls, reports = [], []
    for _ in range(repeats):
        result = run([RAG, "index", "--source", str(source), "--index", str(index), "--json"])
        reports.append(last_json(result, "rag index (no change)"))
        walls.append(result["wall_s"])
    return {"cli_wall_s": median(walls), "runs_s": walls, "rebuilt": any(r["rebuilt"] for r in reports),
            "in_process_s": median([r["seconds"] for r in reports]), "peak_rss_mb": result["peak_rss_mb"]}


def info_imports(index: Path) -> list[str]:
    code = (
        "import sys\nfrom rag.cli import main\n"
        f"sys.argv = ['rag', 'info', '--json', '--index', {str(index)!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(json.dumps(sorted(m for m in ('torch', 'faiss', 'sentence_transformers', 'bm25s', 'transformers')"
        " if m in sys.modules)))\n"
    )
    result = run([PY, "-c", "import json\n" + code])
    return json.loads(result["stdout"].strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_ready(index: Path, questions: int = 0, timeout: float = 180) -> dict:
    """Start ``python app.py`` and time it until its page answers HTTP 200; optionally ask a
    few questions through its API, then read its memory and stop it."""
    import psutil

    if not (ROOT / "app.py").is_file():
        return {"measured": False, "reason": "app.py does not exist"}
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([PY, "app.py", "--host", "127.0.0.1", "--port", str(port), "--index", str(index)],
                                cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL)
        ready = None
        try:
            while time.perf_counter() - start < timeout and proc.poll() is None:
                try:
                    with urllib.request.urlopen(url, timeout=2) as response:
                        if response.status == 200:
                            ready = time.perf_counter() - start
                            break
                except OSError:
                    time.sleep(0.05)
            if ready is None:
                err.seek(0)
                reason = "exited" if proc.poll() is not None else f"not serving after {timeout:.0f} s"
                return {"measured": False, "reason": f"{reason}: {err.read()[-800:]}"}
            rss = psutil.Process(proc.pid).memory_info().rss / 2**20
            out = {"measured": True, "ready_s": ready, "rss_ready_mb": rss}
            if questions:
                out.update(_ask_app(url, questions))
                out["rss_after_questions_mb"] = psutil.Process(proc.pid).memory_info().rss / 2**20
        finally:
            proc.terminate()
            try:
                code, peak = wait_rusage(proc)
            except ChildProcessError:
                peak = None
        if ready is not None:
            out["peak_rss_mb"] = peak
        return out


def _ask_app(url: str, n: int) -> dict:
    try:
        from gradio_client import Client
    except ImportError:
        return {"api": "gradio_client not installed"}
    try:
        client = Client(url, verbose=False)
        qs = [json.loads(line)["question"] for p in DEV for line in Path(p).read_text().splitlines() if line.strip()]
        times = []
        for q in (qs * 10)[:n]:
            t = time.perf_counter()
            client.predict(q, [], api_name="/ask")
            times.append(time.perf_counter() - t)
        return {"api_questions": len(times), "api_p50_ms": 1000 * median(times)}
    except Exception as exc:  # the app is someone else's; report, do not fail the run
        return {"api": f"failed: {type(exc).__name__}: {exc}"[:300]}


def probe(index: Path, rounds: int) -> dict:
    result = run([PY, str(BENCH / "probe.py"), "--index", str(index), "--questions", *DEV,
                       "--rounds", str(rounds)])
    out = last_json(result, f"probe of {index}")
    out["process_peak_rss_mb"] = result["peak_rss_mb"]
    return out


def recall(index: Path, embedder: str, work: Path) -> dict:
    result = run([PY, str(BENCH / "recall.py"), "--index", str(index), "--embedder", embedder,
                       "--seeds", str(SEEDS), "--wordtable", str(work / "wordtable"), "--questions", *ALL_QUESTIONS])
    return last_json(result, f"recall of {index}")


def cold(index: Path, repeats: int, with_app: bool) -> dict:
    """Process start to result, interleaved so drifting machine load hits all alike."""
    series: dict[str, list[float]] = {"bare_import": [], "rag_info": [], "rag_ask": []}
    app_runs: list[dict] = []
    for r in range(repeats):
        series["bare_import"].append(run([PY, "-c", "import sentence_transformers, faiss"])["wall_s"])
        info = run([RAG, "info", "--index", str(index)])
        if info["code"] != 0:
            raise RuntimeError(f"rag info failed: {info['stderr'][-500:]}")
        series["rag_info"].append(info["wall_s"])
        ask = run([RAG, "ask", QUESTION, "--index", str(index), "--json"])
        answer = last_json(ask, "rag ask")
        series["rag_ask"].append(ask["wall_s"])
        if with_app:
            app_runs.append(app_ready(index, questions=20 if r == 0 else 0))
    out: dict = {name: {"median_s": median(v), "runs_s": v} for name, v in series.items()}
    out["rag_ask_answered"] = answer.get("answered")
    out["rag_ask_over_bare_import"] = out["rag_ask"]["median_s"] / out["bare_import"]["median_s"]
    out["rag_info_imports"] = info_imports(index)
    if with_app:
        ok = [a for a in app_runs if a.get("measured")]
        if ok:
            out["app"] = {**ok[0], "ready_median_s": median([a["ready_s"] for a in ok]),
                          "ready_runs_s": [a["ready_s"] for a in ok]}
            out["app_ready_over_bare_import"] = out["app"]["ready_median_s"] / out["bare_import"]["median_s"]
        else:
            out["app"] = app_runs[0] if app_runs else {"measured": False, "reason": "skipped"}
    return out


def cold_at_scale(index: Path, repeats: int) -> dict:
    infos = [run([RAG, "info", "--index", str(index)])["wall_s"] for _ in range(repeats)]
    ask = run([RAG, "ask", QUESTION, "--index", str(index), "--json"])
    last_json(ask, "rag ask at scale")
    return {"rag_info_s": median(infos), "rag_ask_first_answer_s": ask["wall_s"]}


# --------------------------------------------------------------------------- the run


def seed_section(work: Path, args) -> dict:
    index = work / "index-seed"
    shutil.rmtree(index, ignore_errors=True)
    log("seed corpus: build (x3) and raw encoding of the same sentences (x3)")
    out: dict = {"build": build(SEEDS, index, "real", work, raw_encode=1.0, repeat=3)}
    log("seed corpus: `rag index --full` as a process (startup, model load, build)")
    full = run([RAG, "index", "--source", str(SEEDS), "--index", str(index), "--full", "--json"])
    last_json(full, "rag index --full")
    out["cli_index_full"] = {"wall_s": full["wall_s"], "peak_rss_mb": full["peak_rss_mb"]}
    log("seed corpus: `rag index` with nothing changed")
    out["no_change"] = no_change(SEEDS, index, args.repeats)
    if not args.skip_cold:
        log("seed corpus: cold starts (bare import, rag info, rag ask, app.py)")
        out["cold"] = cold(index, args.repeats, with_app=not args.skip_app)
    log("seed corpus: warm server (Assistant.ask over the dev questions)")
    out["server"] = probe(index, args.rounds)
    return out


def size_section(n: int, work: Path, args) -> dict:
    embedder = "real" if n <= args.real_max else "synthetic"
    source, index = work / f"corpus-{n}", work / f"index-{n}"
    log(f"{n} chunks: generating the corpus")
    t = time.perf_counter()
    generated = gen.generate(SEEDS, source, n)
    out: dict = {"target_chunks": n, "vectors": embedder, "generated": generated, "generate_s": time.perf_counter() - t}
    log(f"{n} chunks: building the index ({embedder} vectors)")
    out["build"] = build(source, index, embedder, work, raw_encode=args.raw_share if embedder == "real" else 0.0)
    log(f"{n} chunks: `rag index` with nothing changed, cold `rag info` and `rag ask`")
    out["no_change"] = no_change(source, index, args.repeats)
    out["cold"] = cold_at_scale(index, args.repeats)
    log(f"{n} chunks: warm server")
    out["server"] = probe(index, args.rounds)
    log(f"{n} chunks: recall against exact search")
    out["recall"] = recall(index, embedder, work)
    if not args.keep:
        shutil.rmtree(index, ignore_errors=True)
    return out


def strategies(server: dict) -> list[tuple[str, dict]]:
    """The answer timings of a probe per strategy: the default's, then the linear scorer's
    (runs saved before both were timed hold the default's only)."""
    out = [(server.get("strategy", "default"), server)]
    return out + ([("linear", server["linear"])] if "linear" in server else [])


def bars(results: dict) -> list[dict]:
    rows = []

    def bar(name, value, limit, met, unit=""):
        rows.append({"bar": name, "value": value, "limit": limit, "met": bool(met), "unit": unit})

    seed = results.get("seed")
    if seed:
        srv = seed["server"]
        for label, figures in strategies(srv):
            bar(f"seed warm answer p50 / question encoding p50 ({label})", figures["ratio_p50_ask_over_encode"],
                "<= 1.5", figures["ratio_p50_ask_over_encode"] <= 1.5, "x")
        if "cold" in seed:
            c = seed["cold"]
            bar("cold `rag info`", c["rag_info"]["median_s"], "< 1 s, no torch",
                c["rag_info"]["median_s"] < 1 and "torch" not in c["rag_info_imports"], "s")
            bar("cold `rag ask` first answer / bare import", c["rag_ask_over_bare_import"], "<= 1.5",
                c["rag_ask_over_bare_import"] <= 1.5, "x")
        b = seed["build"]
        bar("seed indexing / raw encoding throughput", b["indexing_over_raw_encoding"], ">= 0.8",
            b["indexing_over_raw_encoding"] >= 0.8, "x")
        bar("seed `rag index`, nothing changed", seed["no_change"]["cli_wall_s"], "< 2 s",
            seed["no_change"]["cli_wall_s"] < 2 and not seed["no_change"]["rebuilt"], "s")
    for s in results.get("sizes", []):
        n = s["build"]["chunks"]
        if "indexing_over_raw_encoding" in s["build"]:
            bar(f"{n} chunks indexing / raw encoding throughput", s["build"]["indexing_over_raw_encoding"], ">= 0.8",
                s["build"]["indexing_over_raw_encoding"] >= 0.8, "x")
        bar(f"{n} chunks `rag index`, nothing changed", s["no_change"]["cli_wall_s"], "< 2 s",
            s["no_change"]["cli_wall_s"] < 2 and not s["no_change"]["rebuilt"], "s")
        rec = s["recall"]["as_built"]["recall_at_10_questions"]
        for label, figures in strategies(s["server"]):
            p50 = figures["ask_without_encoding"]["p50_ms"]
            bar(f"{n} chunks answer p50 excluding encoding ({label})", p50, "< 50 ms", p50 < 50, "ms")
        bar(f"{n} chunks dense recall@10 vs exact (questions)", rec, ">= 0.95", rec >= 0.95)
    return rows


def table(results: dict) -> str:
    lines = []

    def row(*cells):
        lines.append(" | ".join(str(c) for c in cells))

    def ms(x):
        return f"{x:.1f} ms" if x >= 1 else f"{x:.3f} ms"

    seed = results.get("seed")
    if seed:
        srv, b = seed["server"], seed["build"]
        row("seed corpus", f"{b['chunks']} chunks, {b['sentences']} sentences")
        row("  warm answer p50 / p95", ms(srv["ask"]["p50_ms"]), ms(srv["ask"]["p95_ms"]))
        row("  question encoding p50 / p95", ms(srv["encode"]["p50_ms"]), ms(srv["encode"]["p95_ms"]))
        row("  answer / encoding (p50)", f"{srv['ratio_p50_ask_over_encode']:.2f}x")
        row("  answer without encoding p50", ms(srv["ask_without_encoding"]["p50_ms"]))
        if "linear" in srv:
            lin = srv["linear"]
            row("  linear scorer: answer p50 / p95, without encoding p50", ms(lin["ask"]["p50_ms"]),
                ms(lin["ask"]["p95_ms"]), ms(lin["ask_without_encoding"]["p50_ms"]))
        row("  stages p50", ", ".join(f"{k} {v['p50_ms']:.2f}" for k, v in srv["stages"].items()) + " ms")
        omp = srv["omp_single_query_search"]
        row("  FAISS single query p50: all cores / 1 thread", ms(omp["all_cores"]["p50_ms"]), ms(omp["one"]["p50_ms"]))
        if "cold" in seed:
            c = seed["cold"]
            row("  cold bare import (sentence_transformers, faiss)", f"{c['bare_import']['median_s']:.2f} s")
            heavy = c["rag_info_imports"] or "no heavy libraries"
            row("  cold `rag info`", f"{c['rag_info']['median_s']:.2f} s", f"imports: {heavy}")
            row("  cold `rag ask` first answer", f"{c['rag_ask']['median_s']:.2f} s",
                f"{c['rag_ask_over_bare_import']:.2f}x bare import")
            app = c.get("app", {})
            if app.get("measured"):
                row("  cold `python app.py` ready", f"{app['ready_median_s']:.2f} s",
                    f"{c['app_ready_over_bare_import']:.2f}x bare import",
                    f"RSS ready {app['rss_ready_mb']:.0f} MB",
                    f"after questions {app.get('rss_after_questions_mb', 0):.0f} MB")
            else:
                row("  cold `python app.py` ready", "not measured", app.get("reason", "")[:120])
        row("  indexing (model loaded)", f"{b['chunks_per_s']:.1f} chunks/s",
            f"raw encoding {b['raw_encode']['chunks_per_s']:.1f} chunks/s",
            f"ratio {b['indexing_over_raw_encoding']:.2f}")
        row("  `rag index --full` process", f"{seed['cli_index_full']['wall_s']:.2f} s",
            f"peak RSS {seed['cli_index_full']['peak_rss_mb']:.0f} MB")
        row("  `rag index` nothing changed", f"{seed['no_change']['cli_wall_s']:.2f} s")
        row("  server RSS after load / peak / peak anonymous", f"{srv['rss_after_index_mb']:.0f} MB",
            f"{srv['peak_rss_mb']:.0f} MB", f"{srv['peak_anon_mb']:.0f} MB")
    for s in results.get("sizes", []):
        b, srv, rc = s["build"], s["server"], s["recall"]
        row(f"{b['chunks']} chunks", f"{b['documents']} docs, {b['sentences']} sentences, {s['vectors']} vectors",
            f"FAISS {b['faiss']['type']}" + (f" nlist {b['faiss']['nlist']} nprobe {b['faiss']['nprobe']}"
                                             if b["faiss"]["type"] == "ivf" else ""))
        line = [f"  build {b['build_s']:.1f} s", f"{b['chunks_per_s']:.0f} chunks/s",
                f"{b['chunks_per_s_excluding_encoding']:.0f} chunks/s excluding encoding"]
        if "raw_encode" in b:
            line.append(f"raw encoding {b['raw_encode']['chunks_per_s']:.1f} chunks/s, ratio "
                        f"{b['indexing_over_raw_encoding']:.2f}")
        row(*line, f"peak RSS {b['process_peak_rss_mb']:.0f} MB (anonymous {b['peak_anon_mb']:.0f} MB)")
        row("  phases", ", ".join(f"{k} {v:.1f}s" for k, v in b["phases_s"].items()))
        row("  `rag index` nothing changed", f"{s['no_change']['cli_wall_s']:.2f} s",
            f"cold `rag info` {s['cold']['rag_info_s']:.2f} s",
            f"cold `rag ask` {s['cold']['rag_ask_first_answer_s']:.2f} s")
        row("  answer p50 / p95", ms(srv["ask"]["p50_ms"]), ms(srv["ask"]["p95_ms"]),
            f"encoding p50 {ms(srv['encode']['p50_ms'])}",
            f"without encoding p50 {ms(srv['ask_without_encoding']['p50_ms'])} p95 "
            f"{ms(srv['ask_without_encoding']['p95_ms'])}",
            *[f"{label} without encoding p50 {ms(f['ask_without_encoding']['p50_ms'])}"
              for label, f in strategies(srv)[1:]])
        row("  stages p50", ", ".join(f"{k} {v['p50_ms']:.2f}" for k, v in srv["stages"].items()) + " ms")
        omp = srv["omp_single_query_search"]
        row("  FAISS single query p50: all cores / 1 thread", ms(omp["all_cores"]["p50_ms"]), ms(omp["one"]["p50_ms"]))
        split = srv["rss_end_split_mb"]
        row("  server RSS after model / after index / peak", f"{srv['rss_after_model_mb']:.0f} MB",
            f"{srv['rss_after_index_mb']:.0f} MB", f"{srv['peak_rss_mb']:.0f} MB",
            f"at end: anonymous {split.get('RssAnon', 0):.0f} MB + file-backed {split.get('RssFile', 0):.0f} MB")
        row("  resident by mapping (MB)", ", ".join(f"{k} {v:.0f}" for k, v in srv["rss_by_file_mb"].items()))
        ab = rc["as_built"]
        row("  dense recall@10 vs exact", f"questions {ab['recall_at_10_questions']:.3f}",
            f"fresh sentences {ab['recall_at_10_fresh_sentences']:.3f}",
            f"single query k=50 p50 {ms(ab['single_query_k50']['p50_ms'])}")
        if "ivf_on_these_vectors" in rc:
            iv = rc["ivf_on_these_vectors"]
            cal = iv["as_calibrated"]
            row(f"  IVF on these real vectors (nlist {iv['spec']['nlist']}, nprobe {iv['spec']['nprobe']})",
                f"questions {cal['recall_at_10_questions']:.3f}",
                f"fresh sentences {cal['recall_at_10_fresh_sentences']:.3f}", f"built in {iv['build_s']:.1f} s")
    lines.append("")
    for b in results.get("bars", []):
        value = b["value"]
        shown = f"{value:.3f}" if isinstance(value, float) else value
        lines.append(f"{'MET ' if b['met'] else 'MISS'}  {b['bar']}: {shown}{b['unit']} (bar {b['limit']})")
    return "\n".join(lines)


def markdown(results: dict) -> str:
    """The headline figures as a Markdown table, one column per corpus."""
    cols = []
    if results.get("seed"):
        seed = results["seed"]
        cols.append(("seed", seed["build"], seed["server"], seed["no_change"], None, None, "real"))
    for s in results.get("sizes", []):
        cols.append((f"{s['build']['chunks']:,}", s["build"], s["server"], s["no_change"], s["cold"], s["recall"],
                     s["vectors"]))

    def faiss(b):
        f = b["faiss"]
        return "flat (exact)" if f["type"] == "flat" else f"IVF {f['nlist']} lists, nprobe {f['nprobe']}"

    def f1(x):
        return f"{x:.1f}" if x >= 1 else f"{x:.2f}"

    def linear(server):
        if "linear" not in server:
            return "-"
        lin = server["linear"]
        return f"{f1(lin['ask']['p50_ms'])}, {f1(lin['ask_without_encoding']['p50_ms'])} ms"

    rows = [
        ("chunks / documents", lambda c: f"{c[1]['chunks']:,} / {c[1]['documents']:,}"),
        ("vectors", lambda c: c[6]),
        ("FAISS index", lambda c: faiss(c[1])),
        ("answer p50 / p95 (full pipeline)", lambda c: f"{f1(c[2]['ask']['p50_ms'])} / {f1(c[2]['ask']['p95_ms'])} ms"),
        ("question encoding p50 (same run)", lambda c: f"{f1(c[2]['encode']['p50_ms'])} ms"),
        ("answer p50 / p95 excluding encoding", lambda c: f"{f1(c[2]['ask_without_encoding']['p50_ms'])} / "
                                                         f"{f1(c[2]['ask_without_encoding']['p95_ms'])} ms"),
        ("  linear scorer: answer p50, excluding encoding", lambda c: linear(c[2])),
        ("  dense / BM25 / extraction p50", lambda c: " / ".join(f1(c[2]["stages"][k]["p50_ms"])
                                                               for k in ("dense", "bm25", "extract")) + " ms"),
        ("dense recall@10 vs exact (65 questions)",
         lambda c: "1 (exact)" if c[5] is None else f"{c[5]['as_built']['recall_at_10_questions']:.3f}"),
        ("indexing, chunks/s", lambda c: f"{c[1]['chunks_per_s']:.0f}" + (
            f" (raw encoding {c[1]['raw_encode']['chunks_per_s']:.0f})" if "raw_encode" in c[1] else
            " (synthetic vectors)")),
        ("indexing peak RSS (anonymous)", lambda c: f"{c[1]['process_peak_rss_mb']:,.0f} MB "
                                                    f"({c[1]['peak_anon_mb']:,.0f} MB)"),
        ("`rag index`, nothing changed", lambda c: f"{c[3]['cli_wall_s']:.2f} s"),
        ("cold `rag info` / `rag ask`", lambda c: "see below" if c[4] is None else
         f"{c[4]['rag_info_s']:.2f} s / {c[4]['rag_ask_first_answer_s']:.1f} s"),
        ("server RSS: anonymous + file-backed", lambda c: f"{c[2]['rss_end_split_mb']['RssAnon']:,.0f} + "
                                                          f"{c[2]['rss_end_split_mb']['RssFile']:,.0f} MB"),
    ]
    lines = ["| | " + " | ".join(c[0] for c in cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for label, cell in rows:
        lines.append(f"| {label} | " + " | ".join(cell(c) for c in cols) + " |")
    return "\n".join(lines)


def meta(args) -> dict:
    import faiss
    import numpy

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "faiss": faiss.__version__,
        "commit": commit.stdout.strip(),
        "load_average_start": os.getloadavg(),
        "args": vars(args),
        "command": " ".join([Path(PY).name, "bench/run.py", *sys.argv[1:]]),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000", help="chunks of generated corpora ('' for none)")
    parser.add_argument("--real-max", type=int, default=10_000, help="embed for real up to this many chunks")
    parser.add_argument("--raw-share", type=float, default=0.25,
                        help="share of a generated corpus's sentences re-encoded to time raw encoding")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each cold-start measurement (median)")
    parser.add_argument("--rounds", type=int, default=5, help="passes over the dev questions when timing answers")
    parser.add_argument("--skip-seed", action="store_true")
    parser.add_argument("--skip-cold", action="store_true")
    parser.add_argument("--skip-app", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep generated indexes in the work folder")
    parser.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "rag-bench"),
                        help="generated corpora and indexes (reused between runs)")
    parser.add_argument("--out", default=str(BENCH / "results" / "latest.json"))
    parser.add_argument("--show", metavar="JSON", help="print the table of an earlier run (no measuring)")
    parser.add_argument("--markdown", action="store_true", help="with --show: the README's Markdown table")
    args = parser.parse_args(argv)
    if args.show:
        results = json.loads(Path(args.show).read_text(encoding="utf-8"))
        print(markdown(results) if args.markdown else table(results))
        return
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results: dict = {"meta": meta(args)}
    if not args.skip_seed:
        results["seed"] = seed_section(work, args)
    results["sizes"] = []
    for n in [int(x) for x in args.sizes.split(",") if x.strip()]:
        results["sizes"].append(size_section(n, work, args))
        _save(results, args.out)  # partial results survive a long run being stopped
    results["bars"] = bars(results)
    results["meta"]["load_average_end"] = os.getloadavg()
    results["meta"]["wall_s"] = time.perf_counter() - started
    _save(results, args.out)
    print(table(results))
    print(f"\nwritten to {args.out} in {results['meta']['wall_s'] / 60:.1f} min")


def _save(results: dict, path: str) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()

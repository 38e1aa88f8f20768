"""Small measuring helpers shared by the benchmark scripts (standard library + numpy only)."""

from __future__ import annotations

import os
import time
from collections import defaultdict

import numpy as np


def pct(seconds: list[float]) -> dict:
    """p50/p95/mean of a list of durations, in milliseconds."""
    if not seconds:
        return {"n": 0}
    ms = np.asarray(seconds) * 1000.0
    return {
        "n": len(ms),
        "p50_ms": round(float(np.percentile(ms, 50)), 3),
        "p95_ms": round(float(np.percentile(ms, 95)), 3),
        "mean_ms": round(float(ms.mean()), 3),
    }


def rss_mb(pid: int | str = "self") -> float:
    """Resident set size now, from /proc."""
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def rss_split_mb(pid: int | str = "self") -> dict:
    """Resident memory split into anonymous (heap: not reclaimable without swap) and file-backed
    (mapped files and libraries: page cache the kernel can drop and re-read)."""
    out = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            key = line.split(":", 1)[0]
            if key in ("VmRSS", "RssAnon", "RssFile", "RssShmem", "VmHWM"):
                out[key] = round(int(line.split()[1]) / 1024, 1)
    return out


class PeakSampler:
    """Samples anonymous and total RSS in a background thread; the kernel keeps only the
    total's peak (VmHWM), which counts memory-mapped files too."""

    def __init__(self, interval: float = 0.05) -> None:
        import threading

        self.interval = interval
        self.peak_anon_mb = 0.0
        self.peak_rss_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            split = rss_split_mb()
            self.peak_anon_mb = max(self.peak_anon_mb, split.get("RssAnon", 0.0))
            self.peak_rss_mb = max(self.peak_rss_mb, split.get("VmRSS", 0.0))
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def smaps_by_file(pid: int | str = "self", top: int = 8) -> dict:
    """Resident memory grouped by what maps it: anonymous (heap, FAISS, numpy, Python objects)
    versus each mapped file (shared libraries, memory-mapped index files)."""
    groups: dict[str, int] = defaultdict(int)
    name = "?"
    with open(f"/proc/{pid}/smaps", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            first = line.split(None, 1)[0]
            if not first.endswith(":"):  # a mapping header: "start-end perms offset dev inode [path]"
                parts = line.split()
                name = parts[5] if len(parts) >= 6 else "[anonymous]"
                if name.endswith((".so", ".so.1", ".so.2")) or ".so." in name:
                    name = "[shared libraries]"
                elif "/v-" in name:  # a file of an index version folder
                    parts = name.split("/")
                    name = "mmap:" + ("/".join(parts[-2:]) if parts[-2] == "bm25" else parts[-1])
                elif not name.startswith("["):
                    name = "[other files]"
                continue
            if first == "Rss:":
                groups[name] += int(line.split()[1])
    ranked = sorted(groups.items(), key=lambda kv: -kv[1])
    out = {k: round(v / 1024, 1) for k, v in ranked[:top]}
    rest = sum(v for _, v in ranked[top:])
    if rest:
        out["[rest]"] = round(rest / 1024, 1)
    return out


def wait_rusage(proc) -> tuple[int, float]:
    """Wait for a Popen child; return (exit code, its peak RSS in MB) via wait4."""
    _, status, usage = os.wait4(proc.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code
    return code, usage.ru_maxrss / 1024


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start

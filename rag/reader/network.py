"""Running the reader network: PyTorch, or ONNX Runtime on a graph exported from the same
weights.

ONNX Runtime gives the same logits (within 1e-4, checked at export) and, on this 2-core
CPU, answers 1.1-1.2x faster and 1.4-1.55x as many questions per second with 8 clients
(bench/reader.py, README "Benchmarks"); with its idle threads spinning it was no faster, as
they took the cores from the question encoder. The graph is derived from the
verified ``model.safetensors``, not shipped: in fp32 it would be 90 MB, against the
repository's 50 MB budget for weights. It is exported on first use (a few seconds), kept
in a cache folder under a name holding the weights' SHA-256, and checked against its own
recorded SHA-256 whenever it is loaded; a damaged one is exported again.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import warnings
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .checksums import file_digest

logger = logging.getLogger(__name__)

INPUTS = ("input_ids", "attention_mask", "token_type_ids")
# Largest difference allowed between the exported graph's logits and PyTorch's on the probe:
# fp32 kernels differ in summation order (measured ~1e-5 on the shipped reader); a span's score
# is a sum of two logits, and spans closer than this are ties either way.
MAX_EXPORT_DIFF = 1e-3
PROBE = (
    "Which judge rejected the bid?",
    "A court has rejected a bid by the shipping firm. Judge Maria Alvarez said the firm had waited too long.",
)


class ReaderRuntime(str, Enum):
    """What runs the reader network."""

    ONNX = "onnx"  # ONNX Runtime on the exported graph (default; PyTorch stands in without it)
    TORCH = "torch"  # PyTorch (also the only runtime for int8 dynamic quantisation)


class Network(Protocol):
    """Start and end logits per token, for a batch of encoded (question, passage) pairs."""

    def __call__(self, batch: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]: ...


class TorchNetwork:
    def __init__(self, model: Any) -> None:
        self.model = model

    def __call__(self, batch: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        import torch

        with torch.inference_mode():
            start, end = self.model(*(torch.from_numpy(batch[k]) for k in INPUTS))
        return start.float().numpy(), end.float().numpy()


class OnnxNetwork:
    def __init__(self, session: Any) -> None:
        self.session = session

    def __call__(self, batch: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        start, end = self.session.run(None, {k: batch[k] for k in INPUTS})
        return start, end


def cache_dir(reader_path: Path) -> Path:
    """``cache/`` beside the weights when writable (git ignores it), else the user's cache."""
    beside = reader_path / "cache"
    try:
        beside.mkdir(exist_ok=True)
        if os.access(beside, os.W_OK):
            return beside
    except OSError:
        pass
    home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rag" / "reader"
    home.mkdir(parents=True, exist_ok=True)
    return home


def onnx_network(reader_path: Path, weights_digest: str, model: Callable[[], Any], tokenizer: Any) -> OnnxNetwork:
    """The cached graph for these weights, exported first when missing or damaged.
    ``model`` builds the PyTorch network (eager attention), only called to export and check."""
    import onnxruntime as ort

    folder = cache_dir(reader_path)
    graph = folder / f"reader-{weights_digest[:16]}.onnx"
    if not _intact(graph):
        _export(model(), tokenizer, graph)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # see the module docstring
    session = ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
    logger.info("reader runs on ONNX Runtime (%s)", graph)
    return OnnxNetwork(session)


def _record(graph: Path) -> Path:
    return graph.with_suffix(".json")


def _intact(graph: Path) -> bool:
    try:
        recorded = json.loads(_record(graph).read_text(encoding="utf-8"))["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    if graph.is_file() and file_digest(graph) == recorded:
        return True
    logger.warning("reader graph %s is damaged or incomplete; exporting it again", graph)
    return False


def _export(model: Any, tokenizer: Any, graph: Path) -> None:
    """Export to a temporary file, check it against PyTorch on a probe, then move it in place
    (a concurrent reader process sees the old state or the new, never half a file)."""
    import onnxruntime as ort
    import torch

    probe = {k: v.astype(np.int64) for k, v in tokenizer(*PROBE, return_tensors="np").items() if k in INPUTS}
    args = tuple(torch.from_numpy(probe[k]) for k in INPUTS)
    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "start", "end")}
    fd, tmp = tempfile.mkstemp(suffix=".onnx", dir=graph.parent)
    os.close(fd)
    try:
        logger.info("exporting the reader to ONNX (once per weights): %s", graph)
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")  # the tracer's notes on Python control flow in transformers
            torch.onnx.export(
                model,
                args,
                tmp,
                input_names=list(INPUTS),
                output_names=["start", "end"],
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,
            )
            expected = TorchNetwork(model)(probe)
        got = OnnxNetwork(ort.InferenceSession(tmp, providers=["CPUExecutionProvider"]))(probe)
        diff = max(float(np.abs(a - b).max()) for a, b in zip(expected, got))
        if diff > MAX_EXPORT_DIFF:
            raise RuntimeError(f"exported reader differs from PyTorch by {diff:.2g} (limit {MAX_EXPORT_DIFF})")
        record = {"sha256": file_digest(Path(tmp)), "max_diff": diff, "torch": torch.__version__}
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide it from other users of a shared cache
        os.replace(tmp, graph)
        _record(graph).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    finally:
        Path(tmp).unlink(missing_ok=True)

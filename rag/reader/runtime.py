"""Loading and running the shipped reader: offline, by path, checked by SHA-256.

The reader gets (question, passage) pairs and returns, per passage, its best answer spans
(character offsets into the passage) with their scores and the passage's "no answer" score.
"""

from __future__ import annotations

import logging
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError
from .checksums import CHECKSUMS, verify
from .network import INPUTS, Network, ReaderRuntime, TorchNetwork, onnx_network

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReaderConfig:
    """How passages are cut and spans picked.

    ``max_tokens``/``stride`` match training (models/train_reader.py); longer questions are
    cut to ``max_question_tokens`` (64, as in the BERT SQuAD script) so the passage always
    has room; ``max_answer_tokens``
    is the usual SQuAD limit (Devlin et al., 2019 use 30); ``top_tokens`` bounds the start x
    end candidates searched per window (20 in the reference BERT SQuAD script); ``n_best``
    spans per window go to the combiner (5: the answer is among them for 0.892 of the part-A
    validation questions against 0.879 with 3, and the answer hit gains 0.002)."""

    max_tokens: int = 256
    max_question_tokens: int = 64
    stride: int = 96
    max_answer_tokens: int = 30
    top_tokens: int = 20
    n_best: int = 5
    # fp32: int8 dynamic quantisation of the linear layers answers faster with this reader
    # (bench/reader.py: single questions p50 79 against 123 ms) but loses accuracy (stage 2, part-A
    # validation: answer hit 0.777 against 0.806, short F1 0.576 against 0.631; model card).
    # The combiner (combiner.json) is fitted on the fp32 outputs, so switching means refitting
    # it (make fit-combiner). PyTorch only.
    quantize: bool = False
    # What runs the network (rag/reader/network.py): ONNX Runtime gives the same answers
    # 1.1-1.2x faster here (1.4-1.55x the throughput); PyTorch stands in, with a warning,
    # where onnxruntime or onnx is missing.
    runtime: ReaderRuntime = ReaderRuntime.ONNX

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "runtime", ReaderRuntime(self.runtime))
        except ValueError:
            options = ", ".join(r.value for r in ReaderRuntime)
            raise ConfigError(f"runtime={self.runtime!r} is not a reader runtime; use one of: {options}") from None
        if self.quantize and self.runtime != ReaderRuntime.TORCH:
            raise ConfigError("quantize=True needs runtime='torch' (dynamic int8 quantisation is PyTorch's)")
        if not 64 <= self.max_tokens <= 512:
            raise ConfigError(f"max_tokens={self.max_tokens!r} is out of range; use 64..512")
        if not 0 <= self.stride < self.max_tokens // 2:
            raise ConfigError(f"stride={self.stride!r} must be in [0, max_tokens/2)")
        if not 1 <= self.n_best <= 20 or not 1 <= self.max_answer_tokens <= 100:
            raise ConfigError("n_best must be in 1..20 and max_answer_tokens in 1..100")


@dataclass(frozen=True)
class Span:
    """An answer span found by the reader in one passage."""

    passage: int
    start: int  # character offsets into the passage text
    end: int
    score: float  # start logit + end logit
    null: float  # the [CLS] "no answer" score of the token window the span came from


def default_path() -> Path:
    """``models/reader`` beside the package (the repository layout)."""
    return Path(__file__).resolve().parents[2] / "models" / "reader"


class Reader:
    """The span reader; loads on first use, thread-safe to call."""

    def __init__(self, path: str | Path | None = None, config: ReaderConfig | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.config = config or ReaderConfig()
        self._network: Network | None = None
        self._tokenizer: Any = None  # the fast tokenizer once loaded (its library's types are not checked)
        self._lock = threading.Lock()
        self._read_lock = threading.Lock()

    def available(self) -> bool:
        return (self.path / "model.safetensors").is_file()

    @property
    def runtime(self) -> ReaderRuntime:
        """What runs the network once loaded (the configured runtime, unless PyTorch stood in)."""
        self.load()
        return ReaderRuntime.TORCH if isinstance(self._network, TorchNetwork) else ReaderRuntime.ONNX

    def load(self) -> Reader:
        with self._lock:
            if self._network is None:
                from transformers import AutoTokenizer

                digests = verify(self.path)
                self._tokenizer = AutoTokenizer.from_pretrained(self.path)
                self._network = self._load_network(digests.get("model.safetensors"))
                logger.info("reader loaded from %s", self.path)
        return self

    def _load_network(self, weights_digest: str | None) -> Network:
        """``weights_digest`` (the verified SHA-256 of the weights) names the exported graph."""
        if self.config.runtime == ReaderRuntime.ONNX:
            try:
                if weights_digest is None:
                    raise ConfigError(f"{CHECKSUMS} does not list model.safetensors")
                return onnx_network(self.path, weights_digest, lambda: self._torch_model(eager=True), self._tokenizer)
            except Exception as exc:  # a missing package, a failed export: the same answers, slower
                logger.warning(
                    "reader: ONNX Runtime unavailable (%s: %s); running it with PyTorch, slower (bench/reader.py). "
                    "Install the project's dependencies (`make install`) to restore it",
                    type(exc).__name__,
                    exc,
                )
        return TorchNetwork(self._torch_model())

    def _torch_model(self, eager: bool = False):
        """The network in PyTorch; ``eager`` attention exports to a graph ONNX Runtime fuses."""
        import torch
        from safetensors.torch import load_file
        from transformers import BertConfig

        from .model import SpanReader

        model = SpanReader(BertConfig.from_pretrained(self.path))
        state = {k: v.float() for k, v in load_file(self.path / "model.safetensors").items()}
        model.load_state_dict(state)
        if eager:
            model.bert.set_attn_implementation("eager")
        model.eval()
        if self.config.quantize:
            # int8 weights for the linear layers (see ``ReaderConfig.quantize``). The pinned
            # torch warns that this API moves to torchao; it works as documented here.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", (DeprecationWarning, UserWarning))
                model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        return model

    def read(self, question: str, passages: list[str]) -> list[Span]:
        """The ``n_best`` spans of every passage (several token windows when one is long)."""
        if not passages:
            return []
        self.load()
        # One read at a time: the fast tokenizer keeps its truncation and padding settings
        # on a shared object, so concurrent calls garble each other's batches (found with 8
        # concurrent clients), and on 2 cores parallel reads gain nothing.
        with self._read_lock:
            start, end, enc = self._run(question, passages)
        spans = []
        for w, passage in enumerate(enc["overflow_to_sample_mapping"].tolist()):
            context = np.array([k == 1 for k in enc.sequence_ids(w)])
            offsets = enc["offset_mapping"][w]
            spans += self._best(start[w], end[w], context, offsets, passage)
        return spans

    def _run(self, question: str, passages: list[str]):
        cfg = self.config
        ids = self._tokenizer(question, add_special_tokens=False)["input_ids"][: cfg.max_question_tokens]
        question = self._tokenizer.decode(ids)
        enc = self._tokenizer(
            [question] * len(passages),
            passages,
            truncation="only_second",
            max_length=cfg.max_tokens,
            stride=cfg.stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            padding="longest",
            return_tensors="np",
        )
        assert self._network is not None  # load() sets it
        start, end = self._network({k: np.asarray(enc[k], dtype=np.int64) for k in INPUTS})
        return start, end, enc

    def _best(self, start: np.ndarray, end: np.ndarray, context: np.ndarray, offsets: np.ndarray, passage: int):
        """Top spans of one token window: start <= end, both in the passage, short enough."""
        cfg = self.config
        null = float(start[0] + end[0])
        s_top = [i for i in np.argsort(-start)[: cfg.top_tokens] if context[i]]
        e_top = [i for i in np.argsort(-end)[: cfg.top_tokens] if context[i]]
        pairs = sorted(
            ((float(start[s] + end[e]), s, e) for s in s_top for e in e_top if s <= e < s + cfg.max_answer_tokens),
            reverse=True,
        )
        out, used = [], set()
        for score, s, e in pairs:
            a, b = int(offsets[s][0]), int(offsets[e][1])
            if (a, b) in used or b <= a:
                continue
            used.add((a, b))
            out.append(Span(passage, a, b, score, null))
            if len(out) >= cfg.n_best:
                break
        return out

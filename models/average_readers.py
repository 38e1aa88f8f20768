"""Average the weights of readers fine-tuned from the same start ("model soup").

WiSE-FT (Wortsman et al., "Robust fine-tuning of zero-shot models", CVPR 2022) and model
soups (Wortsman et al., ICML 2022): interpolating two fine-tunings of one starting point
keeps much of what each learned, where further training on new data forgets the old. Here:
stage 3 and stage 6 (stage 3 trained on more varied questions), which lost Natural Questions
accuracy while gaining on news. Every tensor is averaged elementwise with ``--weights``
(default equal) in fp32 and written as fp16 safetensors; config and tokenizer files come
from the first reader. The combiner is then refitted (``fit_combiner.py``) as for any stage.

    python models/average_readers.py models/reader /tmp/reader-stage6 --out /tmp/reader-soup
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

logger = logging.getLogger("average_readers")
WEIGHTS_FILE = "model.safetensors"
COPIED = ("config.json", "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt")


def average(states: list[dict[str, torch.Tensor]], weights: list[float]) -> dict[str, torch.Tensor]:
    """The weighted mean of state dicts with the same keys and shapes, as fp16."""
    keys = set(states[0])
    for state in states[1:]:
        if set(state) != keys:
            differ = sorted(keys ^ set(state))[:5]
            raise ValueError(f"readers differ in tensors: {differ}; average readers of one architecture")
    total = sum(weights)
    return {
        k: (sum(w * s[k].float() for w, s in zip(weights, states, strict=True)) / total).to(torch.float16).contiguous()
        for k in sorted(keys)
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("readers", nargs="+", type=Path)
    parser.add_argument("--weights", nargs="+", type=float)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    weights = args.weights or [1.0] * len(args.readers)
    if len(weights) != len(args.readers):
        parser.error(f"{len(weights)} weights for {len(args.readers)} readers; give one per reader")
    states = [load_file(r / WEIGHTS_FILE) for r in args.readers]
    args.out.mkdir(parents=True, exist_ok=True)
    save_file(average(states, weights), args.out / WEIGHTS_FILE, metadata={"format": "pt"})
    for name in COPIED:
        shutil.copy(args.readers[0] / name, args.out / name)
    record = {
        "average_of": [json.loads((r / "training.json").read_text()) for r in args.readers],
        "weights": weights,
    }
    (args.out / "training.json").write_text(json.dumps(record, indent=2) + "\n")
    logger.info("wrote %s", args.out)


if __name__ == "__main__":
    main()

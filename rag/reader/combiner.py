"""The combiner: a logistic model over the reader's span scores and the retrieval evidence,
giving the probability that a candidate sentence answers the question.

Fitted by ``models/fit_combiner.py`` on held-apart validation articles (never on the seed
development questions) and stored as JSON beside the reader, with the abstention threshold
chosen on the same data. Standardised features, so the coefficients are comparable.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ConfigError

COMBINER_FILE = "combiner.json"


@dataclass(frozen=True)
class Combiner:
    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    threshold: float
    # Logit added for a follow-up's candidate from the article the conversation is about.
    # Not fitted (the validation data has no conversations): the linear scorer's CONTEXT_Z.
    context_logit: float = 1.0

    def logits(self, x: np.ndarray, in_context: np.ndarray | None = None) -> np.ndarray:
        z = ((x - self.mean) / self.scale) @ self.coef + self.intercept
        if in_context is not None:
            z = z + self.context_logit * in_context.astype(float)
        return z

    def predict(self, x: np.ndarray, in_context: np.ndarray | None = None) -> np.ndarray:
        """Probabilities in [0, 1], increasing in the logit."""
        return 1.0 / (1.0 + np.exp(-np.clip(self.logits(x, in_context), -30, 30)))

    def to_json(self, source: str) -> dict:
        return {
            "features": list(self.features),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coef": self.coef.tolist(),
            "intercept": self.intercept,
            "threshold": self.threshold,
            "context_logit": self.context_logit,
            "source": source,
        }

    @classmethod
    def load(cls, path: Path, expected: tuple[str, ...]) -> Combiner:
        """Read ``combiner.json``; its feature names must be the ones the code computes."""
        try:
            raw = json.loads((path / COMBINER_FILE).read_text(encoding="utf-8"))
            combiner = cls(
                tuple(raw["features"]),
                np.asarray(raw["mean"], dtype=float),
                np.asarray(raw["scale"], dtype=float),
                np.asarray(raw["coef"], dtype=float),
                float(raw["intercept"]),
                float(raw["threshold"]),
                float(raw.get("context_logit", 1.0)),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"combiner {str(path / COMBINER_FILE)!r} cannot be read ({exc})") from exc
        if combiner.features != expected:
            raise ConfigError(
                f"combiner {str(path / COMBINER_FILE)!r} was fitted on features {combiner.features}, "
                f"the code computes {expected}; refit with `make fit-combiner`"
            )
        return combiner

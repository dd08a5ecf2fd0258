"""Failure-focused sampling for ``generate --focus-failures P``: spend a generation budget where a policy fails.

Each adaptable range of a config (``randomization.adaptive.adaptable_ranges``, at its configured width) is cut into
``bins`` equal bins, each with a Beta(1 + failures, 1 + successes) posterior of the policy's *failure* probability.
For every episode and every range, one failure probability is drawn per bin from its posterior (Thompson
sampling) and the bin with the largest draw is chosen; the parameter is then uniform within that bin. After the
policy's rollout, the chosen bin of every range records the outcome. Bins where the policy fails keep being drawn;
bins where it succeeds are drawn less and less, but never excluded (an untested bin keeps a wide posterior).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from randomization.adaptive import adaptable_ranges, config_node


class FocusState:
    """Per-bin failure posteriors over the ranges of a config."""

    def __init__(self, config: dict[str, Any], bins: int):
        self.base = {k: v for k, v in config.items() if k != "adaptive"}
        self.ranges = adaptable_ranges(self.base, 1.0)
        self.bins = bins
        self.failures = np.zeros((len(self.ranges), bins), dtype=np.int64)
        self.successes = np.zeros((len(self.ranges), bins), dtype=np.int64)

    def edges(self, k: int) -> np.ndarray:
        """Return the bin edges of range ``k``."""
        r = self.ranges[k]
        return np.linspace(r.initial[0], r.initial[1], self.bins + 1)

    def episode_config(self, rng: np.random.Generator) -> tuple[dict[str, Any], dict[str, int]]:
        """Return (the config one episode samples from, the chosen bin of every range), drawn with ``rng``."""
        data = copy.deepcopy(self.base)
        chosen: dict[str, int] = {}
        for k, r in enumerate(self.ranges):
            draws = rng.beta(1 + self.failures[k], 1 + self.successes[k])
            b = int(np.argmax(draws))
            lo, hi = self.edges(k)[b : b + 2]
            node = config_node(data, r.path)
            node["low"], node["high"] = float(lo), float(hi)
            chosen[r.name] = b
        return data, chosen

    def update(self, chosen: dict[str, int], success: bool) -> None:
        """Record one rollout of the policy in the chosen bin of every range."""
        for k, r in enumerate(self.ranges):
            (self.successes if success else self.failures)[k, chosen[r.name]] += 1

    def posterior(self) -> dict[str, dict[str, list[float] | list[int]]]:
        """Return per range: bin edges, failures and successes so far, and the posterior mean failure rate."""
        out: dict[str, dict[str, list[float] | list[int]]] = {}
        for k, r in enumerate(self.ranges):
            f, s = self.failures[k], self.successes[k]
            out[r.name] = {"edges": [float(e) for e in self.edges(k)], "failures": [int(x) for x in f],
                           "successes": [int(x) for x in s],
                           "failure_mean": [float(x) for x in (1 + f) / (2 + f + s)]}
        return out

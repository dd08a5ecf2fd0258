"""Adaptive domain randomization (ADR, OpenAI et al. 2019, "Solving Rubik's Cube with a Robot Hand"): the pure
state machine behind ``generate --adaptive`` (docs/randomization.md, "Adaptive randomization").

Every scalar ``uniform`` parameter and every ``scale`` with a scalar ``low``/``high`` factor of a config is an
adaptable range [lo, hi] that starts at its configured (initial) range. A share ``boundary_fraction`` of the
episodes pins one randomly chosen bound: that parameter takes exactly ``lo`` (or ``hi``) while every other
parameter is drawn from its current range. Each bound keeps a queue of its boundary episodes' outcomes; once it
holds ``queue`` of them, a success rate >= ``high`` moves the bound outward by ``step`` x the initial width (up to
the envelope: the initial range widened ``envelope`` times, clipped to the parameter's physical limits), a rate <=
``low`` moves it inward (never inside the initial range), and the queue empties. Episodes run in batches of
``batch``: all episodes of a batch are drawn from the same ranges, and the updates of a batch are applied in
episode order after it, so the ranges are a function of (seed, outcomes) only.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np

from randomization.adaptive_settings import AdaptiveSettings
from randomization.heldout import LIMITS, UNBOUNDED, envelope


@dataclass
class AdaptiveRange:
    """One adaptable scalar parameter: where it is in the config, its initial range, envelope and current range."""

    path: tuple[str, ...]
    initial: tuple[float, float]
    limit: tuple[float, float]
    lo: float
    hi: float

    @property
    def name(self) -> str:
        """Return the parameter's path in the config, e.g. ``physical.objects.*.mass``."""
        return ".".join(self.path)


def _scalar_range(node: dict[str, Any]) -> tuple[float, float] | None:
    if node.get("dist") not in ("uniform", "scale") or "factor" in node:
        return None
    lo, hi = node.get("low"), node.get("high")
    if not isinstance(lo, (int, float)) or not isinstance(hi, (int, float)) or hi <= lo:
        return None
    return float(lo), float(hi)


def adaptable_ranges(data: dict[str, Any], widen: float, path: tuple[str, ...] = ()) -> list[AdaptiveRange]:
    """Return the adaptable ranges of a config dict (``RandomizationConfig.to_dict()``), in config order."""
    out: list[AdaptiveRange] = []
    for key, node in data.items():
        if not isinstance(node, dict) or key == "adaptive":
            continue
        rng = _scalar_range(node) if "dist" in node else None
        if rng is not None:
            limits = (0.0, np.inf, True) if node["dist"] == "scale" else LIMITS.get(key, UNBOUNDED)
            out.append(AdaptiveRange((*path, key), rng, envelope(*rng, limits, widen=widen), *rng))
        elif "dist" not in node:
            out.extend(adaptable_ranges(node, widen, (*path, key)))
    return out


def config_node(data: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    """Return the node of a config dict at ``path`` (a distribution mapping, changed in place by callers)."""
    for key in path:
        data = data[key]
    return data


class AdaptiveState:
    """The current ranges and per-bound success queues of an adaptive run."""

    def __init__(self, config: dict[str, Any], settings: AdaptiveSettings):
        self.base = {k: v for k, v in config.items() if k != "adaptive"}
        self.settings = settings
        self.ranges = adaptable_ranges(self.base, settings.envelope)
        self.queues: dict[tuple[int, str], list[bool]] = {}

    def current(self) -> dict[str, list[float]]:
        """Return {parameter: [lo, hi]} of every adaptable range now."""
        return {r.name: [r.lo, r.hi] for r in self.ranges}

    def episode_config(self, rng: np.random.Generator) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """Return (the config dict one episode samples from, its pinned bound or None), drawn with ``rng``."""
        data = copy.deepcopy(self.base)
        for r in self.ranges:
            node = config_node(data, r.path)
            node["low"], node["high"] = r.lo, r.hi
        if not self.ranges or rng.random() >= self.settings.boundary_fraction:
            return data, None
        k = int(rng.integers(len(self.ranges)))
        side = "low" if rng.random() < 0.5 else "high"
        r = self.ranges[k]
        value = r.lo if side == "low" else r.hi
        node = config_node(data, r.path)
        node["low"] = node["high"] = value
        return data, {"parameter": r.name, "index": k, "side": side, "value": value}

    def update(self, boundary: dict[str, Any] | None, success: bool) -> None:
        """Add one episode's outcome to its bound's queue; move the bound when the queue is full."""
        if boundary is None:
            return
        key = (int(boundary["index"]), str(boundary["side"]))
        queue = self.queues.setdefault(key, [])
        queue.append(bool(success))
        if len(queue) < self.settings.queue:
            return
        rate = sum(queue) / len(queue)
        queue.clear()
        r = self.ranges[key[0]]
        if self.settings.low < rate < self.settings.high:
            return
        move = self.settings.step * (r.initial[1] - r.initial[0]) * (1 if rate >= self.settings.high else -1)
        if key[1] == "low":
            r.lo = _snap(min(r.initial[0], max(r.limit[0], r.lo - move)), (r.limit[0], r.initial[0]))
        else:
            r.hi = _snap(max(r.initial[1], min(r.limit[1], r.hi + move)), (r.initial[1], r.limit[1]))


def _snap(value: float, ends: tuple[float, float]) -> float:
    """Return ``value``, or the end of its interval it equals up to float rounding (so the envelope is reached)."""
    for end in ends:
        if abs(value - end) <= 1e-9 * max(1.0, abs(end)):
            return end
    return value

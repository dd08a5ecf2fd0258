"""Held-out randomization: the same parameters as a training config, sampled *outside* their training ranges.

``heldout_config(cfg, spec)`` rewrites every numeric distribution of a config into an ``outside`` distribution
(uniform on an envelope minus the training range), the way Kubric's and LIBERO-PRO's held-out splits test
generalisation. Per parameter (docs/randomization.md, "Held-out splits"):

- the training range of a component is the support of its distribution: [low, high] of ``uniform`` and
  ``loguniform``, the truncation interval of ``normal`` (mean +- 3 std on an untruncated side), [min, max] of a
  numeric ``choice``, and the factor's range of ``scale``;
- the envelope is that range widened ``HELDOUT_WIDEN`` times about its centre, then clipped to the parameter's
  physical limits (``LIMITS``); strictly positive quantities (masses, scale factors, gains, ...) are widened in
  log space, so the envelope stays positive (a factor range [0.5, 2] becomes [0.25, 4]);
- whole-number parameters (``latency``, distractor ``count``) are held out on whole numbers, at least one step
  beyond the training range where the limits allow;
- held-out values are uniform on the envelope minus the training range (never inside it), whatever the
  training law; a component that training holds constant stays constant; string choices (texture kinds, ...)
  and placement regions are kept as they are.

A parameter whose envelope leaves nothing outside its training range (e.g. restitution already on [0, 1]) is an
error naming it: it cannot be held out.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import ValidationError

from randomization.config import RandomizationConfig, format_error
from randomization.distributions import Choice, LogUniform, Normal, Outside, Scale, Uniform, parse_distribution
from randomization.scene_checks import SENSOR_BOUNDS, check_against_scene
from scenes.spec import SceneSpec
from sim.errors import SceneError

HELDOUT_WIDEN = 2.0  # envelope width / training width (in log space for positive parameters)
HELDOUT_PREFIX = "heldout:"
POSITIVE = (0.0, math.inf, True)  # (low, high, strictly positive): scale factors
# Physical limits by field name: (low, high, strictly positive -> widened in log space). Others are unbounded.
LIMITS: dict[str, tuple[float, float, bool]] = {
    "rgba": (0.0, 1.0, False), "rgb1": (0.0, 1.0, False), "rgb2": (0.0, 1.0, False), "diffuse": (0.0, 1.0, False),
    "ambient": (0.0, 1.0, False), "repeat": (0.0, 100.0, True), "mass": (0.0, 1000.0, True),
    "friction": (0.0, 10.0, False), "restitution": (0.0, 1.0, False), "joint_damping": (0.0, 100.0, True),
    "gravity_jitter": (-20.0, 20.0, False), "gain_scale": (0.0, 10.0, True), "noise_std": (0.0, 1.0, False),
    "latency": (0.0, 10.0, False), "init_qpos_noise": (-3.2, 3.2, False), "count": (0.0, 50.0, False),
    "size": (0.0, 10.0, True), **{k: (lo, hi, pos) for k, (lo, hi, pos) in SENSOR_BOUNDS.items()},
}
INTEGER_FIELDS = ("latency", "count")
UNBOUNDED = (-math.inf, math.inf, False)


def _training_range(d: Any) -> tuple[list[float], list[float]] | None:
    """Return per-component (lows, highs) of a distribution's training range, None when not numeric."""
    if isinstance(d, (Uniform, LogUniform)):
        n = d.dim
        return _vec(d.low, n), _vec(d.high, n)
    if isinstance(d, Normal):
        n = d.dim
        mean, std = _vec(d.mean, n), _vec(d.std, n)
        lo = _vec(d.low, n) if d.low is not None else [m - 3 * s for m, s in zip(mean, std, strict=True)]
        hi = _vec(d.high, n) if d.high is not None else [m + 3 * s for m, s in zip(mean, std, strict=True)]
        return lo, hi
    if isinstance(d, Choice) and not isinstance(d.values[0], str):
        cols = [v if isinstance(v, list) else [v] for v in d.values]
        return [min(c) for c in zip(*cols, strict=True)], [max(c) for c in zip(*cols, strict=True)]
    return None


def _vec(p: Any, n: int | None) -> list[float]:
    if isinstance(p, list):
        return [float(x) for x in p]
    return [float(p)] * (n or 1)


def envelope(lo: float, hi: float, limits: tuple[float, float, bool], integer: bool = False,
             widen: float = HELDOUT_WIDEN) -> tuple[float, float]:
    """Return the envelope of one component's training range [lo, hi]: ``widen`` times as wide about its centre (in
    log space for positive quantities; whole steps for integers), clipped to the limits (low, high, positive)."""
    lim_lo, lim_hi, positive = limits
    if integer:
        step = max(1.0, math.ceil((hi - lo) * (widen - 1) / 2))
        return max(lim_lo, lo - step), min(lim_hi, hi + step)
    if positive and lo > 0:
        c, half = (math.log(lo) + math.log(hi)) / 2, (math.log(hi) - math.log(lo)) * widen / 2
        return max(lim_lo, math.exp(c - half)), min(lim_hi, math.exp(c + half))
    c, half = (lo + hi) / 2, (hi - lo) * widen / 2
    return max(lim_lo, c - half), min(lim_hi, c + half)


def heldout_distribution(d: Any, field: str, path: str = "randomization") -> Any:
    """Return the held-out version of distribution ``d`` of parameter ``field`` (SceneError if impossible)."""
    if isinstance(d, Outside):
        return d
    if isinstance(d, Scale):
        factor = d.factor if d.factor is not None else Uniform(low=d.low, high=d.high)
        return Scale(factor=heldout_distribution(factor, "", path))
    rng = _training_range(d)
    if rng is None:
        return d
    limits = POSITIVE if field == "" else LIMITS.get(field, UNBOUNDED)
    integer = field in INTEGER_FIELDS or (isinstance(d, Choice) and all(
        float(x).is_integer() for v in d.values for x in (v if isinstance(v, list) else [v])))
    los, his = rng
    env = [envelope(lo, hi, limits, integer) for lo, hi in zip(los, his, strict=True)]
    log = limits[2] and not integer and min(los) > 0
    scalar = d.dim is None
    pick = (lambda xs: xs[0]) if scalar else (lambda xs: list(xs))  # noqa: E731
    try:
        return Outside(low=pick([e[0] for e in env]), high=pick([e[1] for e in env]), inner_low=pick(los),
                       inner_high=pick(his), log=log, integer=integer)
    except ValidationError as exc:
        reason = str(exc.errors()[0].get("msg", "invalid")).removeprefix("Value error, ")
        raise SceneError(f"{path}: cannot hold out this parameter ({reason})") from None


def _walk(node: Any, field: str, path: str) -> Any:
    if isinstance(node, dict) and "dist" in node:
        return heldout_distribution(parse_distribution(node), field, path).model_dump(mode="json", exclude_none=True)
    if isinstance(node, dict):
        return {k: _walk(v, k, f"{path}.{k}") for k, v in node.items()}
    return node


def heldout_config(cfg: RandomizationConfig, spec: SceneSpec, prefix: str = "randomization") -> RandomizationConfig:
    """Return the held-out split of ``cfg``: every numeric parameter sampled outside its training range."""
    try:
        out = RandomizationConfig.model_validate(_walk(cfg.to_dict(), "", prefix))
    except ValidationError as err:  # pragma: no cover - every rewritten distribution is valid by construction
        raise SceneError(format_error(err, prefix)) from None
    check_against_scene(out, spec, f"{prefix} (held out)")
    return out

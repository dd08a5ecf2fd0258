"""Scalar samplers behind the distributions: an exact truncated standard normal, and held-out draws outside a
training range (``draw_outside``). Pure functions of an explicit Generator."""

from __future__ import annotations

import math

import numpy as np

MAX_REJECTION_TRIES = 100_000


def std_truncnorm(rng: np.random.Generator, a: float, b: float) -> float:
    """Return one exact draw of a standard normal truncated to [a, b] (a <= b, may be infinite).

    Rejection with proposals whose acceptance rate is bounded below for every interval:
    a normal proposal for wide intervals around 0, a uniform proposal for narrow ones, and the
    (truncated) exponential proposal of Robert (1995) for one-sided tails.
    """
    if a > b:
        raise ValueError(f"empty interval [{a}, {b}]")
    if a == b:
        return a
    if a >= 0:
        return _tail(rng, a, b)
    if b <= 0:
        return -_tail(rng, -b, -a)
    for _ in range(MAX_REJECTION_TRIES):
        if b - a < 2.0:
            z = a + (b - a) * rng.random()
            if rng.random() <= math.exp(-0.5 * z * z):
                return z
        else:
            z = float(rng.standard_normal())
            if a <= z <= b:
                return z
    raise RuntimeError("truncated normal rejection did not terminate")  # pragma: no cover


def _tail(rng: np.random.Generator, a: float, b: float) -> float:
    alpha = 0.5 * (a + math.sqrt(a * a + 4.0))
    mass = -math.expm1(-alpha * (b - a)) if math.isfinite(b) else 1.0
    for _ in range(MAX_REJECTION_TRIES):
        z = a - math.log1p(-rng.random() * mass) / alpha
        if z <= b and rng.random() <= math.exp(-0.5 * (z - alpha) ** 2):
            return z
    raise RuntimeError("truncated normal rejection did not terminate")  # pragma: no cover


def _outside_integers(low: float, high: float, inner_low: float, inner_high: float) -> list[int]:
    return [k for k in range(math.ceil(low), math.floor(high) + 1) if k < inner_low or k > inner_high]


def draw_outside(rng: np.random.Generator | None, low: float, high: float, inner_low: float, inner_high: float,
                 log: bool = False, integer: bool = False) -> float:
    """Return one draw uniform on [low, high] minus [inner_low, inner_high] (in log space when ``log``; whole
    numbers only when ``integer``). A component that training holds constant (all four equal) stays that constant.
    ValueError when nothing lies outside; with ``rng`` None only that is checked."""
    if low == high == inner_low == inner_high:
        return float(low)
    if integer:
        cands = _outside_integers(low, high, inner_low, inner_high)
        if not cands:
            raise ValueError(f"no whole number in [{low:g}, {high:g}] outside [{inner_low:g}, {inner_high:g}]")
        return 0.0 if rng is None else float(cands[int(rng.integers(len(cands)))])
    f = math.log if log else float
    a, b, c, d = f(low), f(inner_low), f(inner_high), f(high)
    left, right = max(0.0, b - a), max(0.0, d - c)
    if left + right <= 0.0:
        raise ValueError(f"[{low:g}, {high:g}] leaves nothing outside [{inner_low:g}, {inner_high:g}]")
    if rng is None:
        return 0.0
    for _ in range(MAX_REJECTION_TRIES):
        u = float(rng.random()) * (left + right)
        x = a + u if u < left else c + (u - left)
        v = math.exp(x) if log else x
        if (v < inner_low or v > inner_high) and low <= v <= high:  # rejects float rounding onto the edges
            return v
    raise RuntimeError("held-out rejection did not terminate")  # pragma: no cover

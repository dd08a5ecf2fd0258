"""Statistics of evaluation: Wilson intervals, the two-proportion z-test of a cross-engine gap, and the sim-to-real
correlation metrics of SIMPLER (Pearson r, MMRV). Pure Python; docs/evaluate.md gives the formulas."""

from __future__ import annotations

import math
from collections.abc import Sequence

Z95 = 1.959963984540054  # two-sided 95 % normal quantile


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Return the Wilson score interval (low, high) of ``successes`` out of ``n`` (95 % by default; (0, 1) if n=0)."""
    if n <= 0:
        return 0.0, 1.0
    p, z2 = successes / n, z * z
    d = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / d
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / d
    lo = 0.0 if successes <= 0 else max(0.0, centre - half)
    hi = 1.0 if successes >= n else min(1.0, centre + half)
    return lo, hi


def two_proportion_test(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float]:
    """Return (z, two-sided p-value) of the pooled two-proportion z-test of k1/n1 against k2/n2.

    With equal rates (including both 0 or both 1, where the pooled variance is 0) z is 0 and p is 1.
    """
    if n1 <= 0 or n2 <= 0:
        raise ValueError("both samples need at least one episode")
    pooled = (k1 + k2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    diff = k1 / n1 - k2 / n2
    if se == 0.0:
        return 0.0, 1.0
    z = diff / se
    return z, math.erfc(abs(z) / math.sqrt(2.0))


def pearson_r(a: Sequence[float], b: Sequence[float]) -> float:
    """Return Pearson's correlation of two equally long sequences (NaN when either is constant)."""
    if len(a) != len(b) or len(a) < 2:
        raise ValueError("Pearson r needs two sequences of the same length >= 2")
    ma, mb = sum(a) / len(a), sum(b) / len(b)
    cov = sum((x - ma) * (y - mb) for x, y in zip(a, b, strict=True))
    va = sum((x - ma) ** 2 for x in a)
    vb = sum((y - mb) ** 2 for y in b)
    if va == 0.0 or vb == 0.0:
        return math.nan
    return cov / math.sqrt(va * vb)


def mmrv(real: Sequence[float], sim: Sequence[float]) -> float:
    """Return SIMPLER's Mean Maximum Rank Violation of ``sim`` against ``real`` (Li et al. 2024, eq. 1).

    MMRV = 1/N sum_i max_j |R_i - R_j| * 1[(S_i < S_j) != (R_i < R_j)], with R the real (reference) success
    rates and S the simulated ones: for each policy i, the largest real-rate gap to a policy j whose order the
    simulation gets wrong. Ties count as an order (a tie on one side and a strict order on the other is a
    violation). 0 = every pairwise order preserved; identical orderings give 0.
    """
    if len(real) != len(sim) or not real:
        raise ValueError("MMRV needs two sequences of the same length >= 1")
    n = len(real)
    total = 0.0
    for i in range(n):
        worst = 0.0
        for j in range(n):
            if (sim[i] < sim[j]) != (real[i] < real[j]):
                worst = max(worst, abs(real[i] - real[j]))
        total += worst
    return total / n

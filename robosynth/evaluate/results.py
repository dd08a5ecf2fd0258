"""The results of an evaluation as one JSON-ready dict (``--out results.json``); the CLI prints only from it.

Layout (docs/evaluate.md): top-level ``scene``, ``policy``, ``seed``, ``evaluation_seed``, ``episodes``,
``max_steps``; one key per engine name (``"mujoco": {"rate", "ci95", "successes", "n", "mean_length",
"failures", "randomizations": {label: cell stats}}``, pooled over its randomizations); ``cells`` (every engine x
randomization with its episodes and throughput); ``gaps`` (per randomization and engine pair: difference of
rates, z and the two-sided p-value of the two-proportion z-test).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from typing import Any

from robosynth.evaluate.rollout import FAILURE_KINDS, CellResult, Outcome
from robosynth.evaluate.stats import two_proportion_test, wilson_interval


def summary(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """Return success rate, Wilson 95 % CI, mean episode length and failure counts of some episodes."""
    n = len(outcomes)
    k = sum(o.success for o in outcomes)
    lo, hi = wilson_interval(k, n)
    kinds = Counter(o.failure_kind for o in outcomes if not o.success)
    return {
        "n": n, "successes": k, "rate": k / n if n else 0.0, "ci95": [lo, hi],
        "mean_length": sum(o.steps for o in outcomes) / n if n else 0.0,
        "failures": {kind: kinds.get(kind, 0) for kind in FAILURE_KINDS},
    }


def cell_entry(cell: CellResult) -> dict[str, Any]:
    """Return one cell's stats, its episodes and its throughput."""
    steps = sum(o.steps for o in cell.outcomes)
    return {
        "backend": cell.backend, "randomization": cell.randomization, **summary(cell.outcomes),
        "seconds": cell.seconds,
        "episodes_per_second": len(cell.outcomes) / cell.seconds if cell.seconds > 0 else 0.0,
        "steps_per_second": steps / cell.seconds if cell.seconds > 0 else 0.0,
        "failure_reasons": dict(Counter(o.failure_reason for o in cell.outcomes if not o.success).most_common()),
        "episodes": [{"index": o.index, "success": o.success, "steps": o.steps, "failure_reason": o.failure_reason}
                     for o in cell.outcomes],
    }


def gap_entries(cells: Sequence[CellResult]) -> list[dict[str, Any]]:
    """Return the cross-engine gap of every randomization and engine pair (two-proportion z-test)."""
    out = []
    labels = list(dict.fromkeys(c.randomization for c in cells))
    for label in labels:
        same = [c for c in cells if c.randomization == label and c.outcomes]
        for a, b in itertools.combinations(same, 2):
            ka, na = sum(o.success for o in a.outcomes), len(a.outcomes)
            kb, nb = sum(o.success for o in b.outcomes), len(b.outcomes)
            z, p = two_proportion_test(ka, na, kb, nb)
            out.append({"randomization": label, "a": a.backend, "b": b.backend,
                        "difference": ka / na - kb / nb, "z": z, "p_value": p})
    return out


def build_results(meta: dict[str, Any], cells: Sequence[CellResult]) -> dict[str, Any]:
    """Return the whole results dict: ``meta`` (scene, policy, seeds, ...), engines, cells and gaps."""
    results: dict[str, Any] = dict(meta)
    for backend in dict.fromkeys(c.backend for c in cells):
        mine = [c for c in cells if c.backend == backend]
        pooled = summary([o for c in mine for o in c.outcomes])
        pooled["randomizations"] = {c.randomization: summary(c.outcomes) for c in mine}
        results[backend] = pooled
    results["cells"] = [cell_entry(c) for c in cells]
    results["gaps"] = gap_entries(cells)
    return results

"""``robosynth evaluate --compare A B``: how well one set of per-policy success rates predicts another.

Each file holds one success rate in [0, 1] per policy name (docs/evaluate.md, "Comparing success rates"):

- CSV with a header row naming a ``policy`` column and a ``rate`` column (other columns are ignored);
- JSON: an object ``{"policy name": rate, ...}`` or ``{"policy name": {"rate": r, ...}, ...}`` (a robosynth
  results.json engine entry has that shape), optionally wrapped as ``{"policies": {...}}``.

A is the reference (e.g. real-robot rates), B the predictor (e.g. a simulator); policies are matched by name.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

from robosynth.evaluate.stats import mmrv, pearson_r
from sim.errors import InputError


def _rate(path: Path, name: str, value: Any) -> float:
    if isinstance(value, dict):
        value = value.get("rate")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
        raise InputError(f"{path}: policy '{name}': the success rate must be a number in [0, 1], got {value!r}")
    return float(value)


def _read_json(path: Path) -> dict[str, float]:
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a readable JSON file ({exc})") from None
    if isinstance(data, dict) and set(data) == {"policies"}:
        data = data["policies"]
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected an object {{policy: rate}}, got {type(data).__name__}")
    return {str(k): _rate(path, str(k), v) for k, v in data.items()}


def _read_csv(path: Path) -> dict[str, float]:
    try:
        rows = list(csv.DictReader(path.read_text().splitlines()))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path}: not a readable CSV file ({exc})") from None
    if not rows or "policy" not in rows[0] or "rate" not in rows[0]:
        raise InputError(f"{path}: a CSV needs a header with 'policy' and 'rate' columns and one row per policy")
    out: dict[str, float] = {}
    for row in rows:
        name = (row["policy"] or "").strip()
        try:
            value: Any = float(row["rate"] or "")
        except ValueError:
            value = row["rate"]
        if name in out:
            raise InputError(f"{path}: policy '{name}' appears twice")
        out[name] = _rate(path, name, value)
    return out


def read_rates(path: Path) -> dict[str, float]:
    """Return {policy: success rate} from a CSV or JSON file (InputError with one line otherwise)."""
    if not path.is_file():
        raise InputError(f"--compare: no file '{path}'")
    return _read_csv(path) if path.suffix.lower() == ".csv" else _read_json(path)


def compare_rates(reference: dict[str, float], other: dict[str, float]) -> dict[str, Any]:
    """Return Pearson r and MMRV of ``other`` against ``reference`` over the policies both name."""
    missing = sorted(set(reference) ^ set(other))
    if missing:
        raise InputError(f"--compare: policy '{missing[0]}' is in only one of the two files (both must name the "
                         f"same policies)")
    names = sorted(reference)
    if len(names) < 2:
        raise InputError("--compare needs at least two policies in each file")
    ref, oth = [reference[n] for n in names], [other[n] for n in names]
    r = pearson_r(ref, oth)
    return {"policies": names, "reference": ref, "other": oth,
            "pearson_r": None if math.isnan(r) else r, "mmrv": mmrv(ref, oth)}


def compare_files(a: Path, b: Path) -> dict[str, Any]:
    """Return the comparison of file ``b`` against the reference file ``a`` (with their paths)."""
    return {"reference_file": str(a), "other_file": str(b), **compare_rates(read_rates(a), read_rates(b))}

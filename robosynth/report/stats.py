"""Report statistics: per-episode records, Wilson intervals, parameter flattening, image statistics and
cross-engine pairing (pure numpy; used by robosynth.report)."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from robosynth.report import plots

Z95 = 1.959963984540054  # two-sided 95 % normal quantile
MAX_PARAM_PLOTS = 40
DEPTH_BINS = 8192  # depth histogram over [0, far] for the median (resolution far / 8192)
META_KEYS = frozenset({"dataset_seed", "episode_index", "version"})  # randomization entries that are not sampled


def plots_slug(text: str) -> str:
    """Return ``text`` reduced to a file-name-safe slug."""
    return "".join(ch if ch.isalnum() else "_" for ch in text).strip("_")[:60] or "x"


@dataclass
class Episode:
    """What the report keeps of one demo: attributes, initial object position, eef path, flat parameters."""

    backend: str
    scene: str
    seed: int
    index: int
    steps: int
    success: bool
    failure_reason: str
    file: str
    demo: str
    object0: np.ndarray | None
    eef: np.ndarray | None
    params_digest: str  # of the episode's randomization JSON: equal on both engines for the same seed/index


@dataclass
class Collected:
    """Everything gathered in one streaming pass over the demos."""

    episodes: list[Episode] = field(default_factory=list)
    params: dict[str, list[float | str]] = field(default_factory=dict)  # leaf path -> values (column store)
    cams: dict[tuple[str, str], CamStats] = field(default_factory=dict)  # (camera, backend or "*")
    grid: dict[str, list[tuple[str, dict[str, dict[str, np.ndarray]], dict[str, float | None]]]] = \
        field(default_factory=dict)  # backend -> [(label, {cam: {suffix: frame}}, {cam: far})]
    adaptive: dict[str, list[tuple[int, float, float]]] = field(default_factory=dict)  # range -> (episode, lo, hi)


# ------------------------------------------------------------------------------------------ statistics


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """Return the Wilson score interval (lo, hi) of a binomial proportion (95 % by default), None if n == 0."""
    if n <= 0:
        return None
    p, z2 = successes / n, z * z
    d = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / d
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / d
    lo = 0.0 if successes <= 0 else max(0.0, centre - half)  # exact bounds at the ends, not 1e-17 rounding
    hi = 1.0 if successes >= n else min(1.0, centre + half)
    return lo, hi


def numeric_summary(values: Any) -> dict[str, Any]:
    """Return n, min, mean, std, max of numbers (None entries when there are none)."""
    v = np.asarray(values, np.float64).ravel()
    if not v.size:
        return {"n": 0, "min": None, "mean": None, "std": None, "max": None}
    return {"n": int(v.size), "min": float(v.min()), "mean": float(v.mean()), "std": float(v.std()),
            "max": float(v.max())}


def flatten_params(tree: Any, prefix: str = "") -> dict[str, float | str]:
    """Return {leaf path: value} of an EpisodeParams dict: ``physical.mass.cube``, ``visual.rgba.cube[0]``.

    Numbers become floats, strings and booleans stay categorical (str); lists of mappings also give
    ``<path>.count``; the top-level bookkeeping keys (dataset_seed, episode_index, version) are skipped.
    """
    out: dict[str, float | str] = {}
    if isinstance(tree, Mapping):
        for k in sorted(tree, key=str):
            if not (prefix == "" and k in META_KEYS):
                out.update(flatten_params(tree[k], f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(tree, (list, tuple)):
        if not tree or any(isinstance(v, Mapping) for v in tree):
            out[f"{prefix}.count"] = float(len(tree))
        for i, v in enumerate(tree):
            out.update(flatten_params(v, f"{prefix}[{i}]"))
    elif isinstance(tree, (bool, str)):
        out[prefix] = str(tree)
    elif isinstance(tree, (int, float)) and math.isfinite(tree):
        out[prefix] = float(tree)
    return out


class CamStats:
    """Streaming image statistics of one camera: RGB moments, depth range/median/holes, class pixel counts."""

    def __init__(self) -> None:
        self.frames = 0
        self.shapes: set[tuple[int, int]] = set()  # (width, height) of the frames seen
        self.rgb_n, self.rgb_sum, self.rgb_sq = 0, np.zeros(3), np.zeros(3)
        self.depth_n, self.depth_zero, self.depth_far = 0, 0, 0
        self.depth_min, self.depth_max = math.inf, -math.inf
        self.hist, self.hist_hi = np.zeros(DEPTH_BINS, np.int64), 0.0
        self.seg_n = 0
        self.seg: Counter[str] = Counter()  # segmentation pixels per class name

    def add(self, imgs: Mapping[str, np.ndarray], far: float | None, seg_ids: Mapping[int, Any]) -> None:
        """Accumulate sampled frames {suffix: (F, H, W, C)} of one episode camera."""
        first = next(iter(imgs.values()))
        self.frames += first.shape[0]
        self.shapes.add((first.shape[2], first.shape[1]))
        if (rgb := imgs.get("_image")) is not None:
            x = rgb.reshape(-1, 3).astype(np.float64)
            self.rgb_n += len(x)
            self.rgb_sum += x.sum(axis=0)
            self.rgb_sq += np.square(x).sum(axis=0)
        if (depth := imgs.get("_depth")) is not None:
            self._add_depth(depth.ravel().astype(np.float64), far)
        if (seg := imgs.get("_segmentation")) is not None:
            ids, counts = np.unique(seg, return_counts=True)
            for i, c in zip(ids.tolist(), counts.tolist(), strict=True):
                self.seg["background" if i == 0 else str(seg_ids.get(i, {}).get("class", "unknown"))] += c
            self.seg_n += seg.size

    def _add_depth(self, d: np.ndarray, far: float | None) -> None:
        """Accumulate depth values: zeros (no return), far-plane pixels, range and the median histogram."""
        self.depth_n += d.size
        self.depth_zero += int(np.count_nonzero(d == 0))
        if far is not None:
            self.depth_far += int(np.count_nonzero(d >= far * (1 - 1e-5)))
        v = d[d > 0]
        if not v.size:
            return
        self.depth_min, self.depth_max = min(self.depth_min, v.min()), max(self.depth_max, v.max())
        self.hist_hi = self.hist_hi or (far or 2 * float(v.max())) * (1 + 1e-5)
        self.hist += np.bincount(np.clip((v / self.hist_hi * DEPTH_BINS).astype(np.int64), 0, DEPTH_BINS - 1),
                                 minlength=DEPTH_BINS)

    def to_json(self) -> dict[str, Any]:
        """Return the statistics as plain numbers."""
        out: dict[str, Any] = {"frames_sampled": self.frames, "resolutions": sorted(f"{w}x{h}" for w, h in self.shapes)}
        if self.rgb_n:
            mean = self.rgb_sum / self.rgb_n
            std = np.sqrt(np.maximum(self.rgb_sq / self.rgb_n - mean**2, 0.0))
            out["rgb"] = {"mean": mean.tolist(), "std": std.tolist(), "pixels": self.rgb_n}
        if self.depth_n:
            total, median = int(self.hist.sum()), None
            if total:
                b = int(np.searchsorted(np.cumsum(self.hist), total / 2))
                median = float(np.clip((b + 0.5) * self.hist_hi / DEPTH_BINS, self.depth_min, self.depth_max))
            out["depth"] = {"min": self.depth_min if total else None, "median": median,
                            "max": self.depth_max if total else None, "zero_fraction": self.depth_zero / self.depth_n,
                            "far_fraction": self.depth_far / self.depth_n, "pixels": self.depth_n,
                            "median_resolution": self.hist_hi / DEPTH_BINS}
        if self.seg_n:
            out["segmentation_class_fraction"] = {k: c / self.seg_n for k, c in self.seg.most_common()}
        return out


def _round_robin(paths: Sequence[str], k: int) -> list[str]:
    """Return up to ``k`` paths taken in turn from each top-level group (visual, camera, physical, ...)."""
    groups: dict[str, list[str]] = {}
    for p in paths:
        groups.setdefault(p.split(".")[0].split("[")[0], []).append(p)
    picked = [p for p in itertools.chain.from_iterable(itertools.zip_longest(*groups.values())) if p]
    return sorted(picked[:k])


def parameter_section(columns: Mapping[str, list[float | str]], images: dict[str, np.ndarray]) -> dict[str, Any]:
    """Return per-path statistics of the randomized parameters; draws a histogram per varying path (capped)."""
    entries: dict[str, dict[str, Any]] = {}
    for path in sorted(columns):
        vals = columns[path]
        if all(isinstance(v, float) for v in vals):
            arr = np.asarray(vals, np.float64)
            spread = float(arr.max() - arr.min())
            e = {"kind": "numeric", **numeric_summary(arr), "constant": spread <= 1e-12 * max(1.0, abs(arr).max())}
            if not e["constant"]:
                counts, edges = np.histogram(arr, bins=min(20, max(5, int(math.sqrt(arr.size)))))
                e["histogram"] = {"edges": edges.tolist(), "counts": counts.tolist()}
        else:
            counts_c = Counter(str(v) for v in vals)
            e = {"kind": "categorical", "n": len(vals), "counts": dict(counts_c.most_common()),
                 "constant": len(counts_c) == 1}
        entries[path] = e
    varying = [p for p, e in entries.items() if not e["constant"]]
    for i, path in enumerate(_round_robin(varying, MAX_PARAM_PLOTS)):
        e, name = entries[path], f"param_{i:02d}_{plots_slug(path)}.png"
        if e["kind"] == "numeric":
            hist = e["histogram"]
            images[name] = plots.histogram(hist["edges"], {"episodes": hist["counts"]}, path, "value")
        else:
            images[name] = plots.bars(list(e["counts"]), list(e["counts"].values()), path)
        e["plot"] = name
    return {"count": len(entries), "varying": len(varying), "constant": len(entries) - len(varying),
            "plotted": sum("plot" in e for e in entries.values()), "max_plots": MAX_PARAM_PLOTS, "paths": entries}


def _pair(ea: Episode, eb: Episode) -> tuple[dict[str, Any], np.ndarray | None]:
    """Return the comparison of one episode recorded on two engines and its per-step eef distance."""
    pair: dict[str, Any] = {"scene": ea.scene, "seed": ea.seed, "episode_index": ea.index,
                            "backends": [ea.backend, eb.backend], "steps": [ea.steps, eb.steps],
                            "success": [ea.success, eb.success], "success_agree": ea.success == eb.success,
                            "params_identical": ea.params_digest == eb.params_digest,
                            "object_initial_distance_m": None, "eef_distance_m": None}
    if ea.object0 is not None and eb.object0 is not None:
        pair["object_initial_distance_m"] = float(np.linalg.norm(ea.object0 - eb.object0))
    dist = None
    if ea.eef is not None and eb.eef is not None and min(len(ea.eef), len(eb.eef)):
        n = min(len(ea.eef), len(eb.eef))
        dist = np.linalg.norm(ea.eef[:n].astype(np.float64) - eb.eef[:n], axis=1)
        pair["eef_distance_m"] = {"common_steps": n, "max": float(dist.max()), "mean": float(dist.mean()),
                                  "final": float(dist[-1])}
    return pair, dist


def cross_engine(eps: Sequence[Episode], images: dict[str, np.ndarray]) -> dict[str, Any]:
    """Return the agreement of episodes with the same (scene, seed, episode_index) on different backends."""
    backends = sorted({e.backend for e in eps})
    if len(backends) < 2:
        return {"status": "single backend", "backends": backends, "pairs": 0}
    by_key: dict[tuple[str, int, int], dict[str, Episode]] = {}
    for e in eps:
        by_key.setdefault((e.scene, e.seed, e.index), {}).setdefault(e.backend, e)
    pairs, curves = [], []
    for _, group in sorted(by_key.items()):
        for a, b in itertools.combinations(sorted(group), 2):
            pair, dist = _pair(group[a], group[b])
            pairs.append(pair)
            if dist is not None:
                curves.append(dist)
    paired = Counter(b for g in by_key.values() if len(g) > 1 for b in g)
    out: dict[str, Any] = {"status": "compared" if pairs else "no common (scene, seed, episode_index)",
                           "backends": backends, "pairs": len(pairs),
                           "unpaired": {b: n - paired[b] for b, n in Counter(e.backend for e in eps).items()}}
    if not pairs:
        return out
    agree = sum(p["success_agree"] for p in pairs)
    eef = [p["eef_distance_m"] for p in pairs if p["eef_distance_m"]]
    out.update({
        "success_agreement": {"agree": agree, "rate": agree / len(pairs),
                              "ci95": list(wilson_interval(agree, len(pairs)) or ())},
        "params_identical_fraction": sum(p["params_identical"] for p in pairs) / len(pairs),
        "object_initial_distance_m": numeric_summary([p["object_initial_distance_m"] for p in pairs
                                                      if p["object_initial_distance_m"] is not None]),
        "eef_mean_distance_m": numeric_summary([d["mean"] for d in eef]),
        "eef_max_distance_m": numeric_summary([d["max"] for d in eef]),
        "pair_list": pairs,
    })
    if curves:
        images["cross_engine_eef.png"] = plots.lines(curves[:50], "end-effector distance between engines",
                                                     "step", "distance (m)")
        out["plot"] = "cross_engine_eef.png"
    return out


# ------------------------------------------------------------------------------------------ inputs


def adaptive_section(series: Mapping[str, list[tuple[int, float, float]]],
                     images: dict[str, np.ndarray]) -> dict[str, Any] | None:
    """Return how each adaptive range evolved (generate --adaptive: per episode, its batch's ranges) and its plot."""
    if not series:
        return None
    ranges = {name: sorted(set(points)) for name, points in sorted(series.items())}
    images["adaptive_ranges.png"] = plots.range_bands(ranges, "adaptive ranges (generate --adaptive)")
    return {"plot": "adaptive_ranges.png",
            "ranges": {n: {"first": list(p[0][1:]), "last": list(p[-1][1:]), "episodes": len(p)}
                       for n, p in ranges.items()}}

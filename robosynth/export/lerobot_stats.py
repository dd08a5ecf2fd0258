"""LeRobot's feature statistics (``meta/stats.json`` and the per-episode ``stats/*`` columns), in numpy.

The same definitions as LeRobot v3.0's ``compute_stats``: per episode, ``min``, ``max``, ``mean``, ``std``,
``count`` and the quantiles ``q01 q10 q50 q90 q99`` of every numeric feature along the frame axis; images and
videos per channel (shape ``(C, 1, 1)``) over a sample of frames (LeRobot's sample size, frames larger than 300 px
strided down to about 150 px), RGB divided by 255 into [0, 1], depth maps left in their unit (metres).
The dataset statistics aggregate the episodes the way LeRobot does: count-weighted mean, pooled variance,
min of minima, max of maxima, and for quantiles the lowest (q <= 50) or highest (q > 50) episode value.
Quantiles are exact per episode (LeRobot estimates them from a histogram).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

QUANTILES = (0.01, 0.10, 0.50, 0.90, 0.99)
QUANTILE_KEYS = tuple(f"q{int(round(q * 100)):02d}" for q in QUANTILES)
Stats = dict[str, np.ndarray]


def estimate_num_samples(n: int, min_samples: int = 100, max_samples: int = 10_000, power: float = 0.75) -> int:
    """Return how many frames of an ``n``-frame episode LeRobot samples for image statistics."""
    if n < min_samples:
        min_samples = n
    return max(min_samples, min(int(n**power), max_samples))


def sample_indices(n: int) -> np.ndarray:
    """Return the evenly spaced frame indices LeRobot samples from an ``n``-frame episode."""
    return np.round(np.linspace(0, n - 1, estimate_num_samples(n))).astype(int)


def downsample(frames: np.ndarray, target: int = 150, threshold: int = 300) -> np.ndarray:
    """Stride (N, H, W, C) frames down to about ``target`` px when their larger side reaches ``threshold``."""
    h, w = frames.shape[1:3]
    if max(h, w) < threshold:
        return frames
    step = int(max(h, w) / target)
    return frames[:, ::step, ::step]


def _summary(values: np.ndarray, axis: int | tuple[int, ...], count: int, keepdims: bool) -> Stats:
    values = values.astype(np.float64, copy=False)
    out = {
        "min": np.min(values, axis=axis, keepdims=keepdims),
        "max": np.max(values, axis=axis, keepdims=keepdims),
        "mean": np.mean(values, axis=axis, keepdims=keepdims),
        "std": np.std(values, axis=axis, keepdims=keepdims),
        "count": np.array([count], dtype=np.int64),
    }
    qs = np.quantile(values, QUANTILES, axis=axis, keepdims=keepdims)
    for key, q in zip(QUANTILE_KEYS, qs, strict=True):
        out[key] = q
    return out


def vector_stats(values: np.ndarray) -> Stats:
    """Return the statistics of a (T, ...) feature along the frame axis ((T,) gives shape (1,) stats)."""
    values = np.asarray(values)
    if values.ndim == 1:
        return _summary(values, 0, len(values), keepdims=True)
    return _summary(values, 0, len(values), keepdims=False)


def image_stats(frames: np.ndarray, scale: float) -> Stats:
    """Return per-channel (C, 1, 1) statistics of (T, H, W, C) frames over LeRobot's sample, divided by ``scale``."""
    sample = downsample(frames[sample_indices(len(frames))])
    if sample.dtype == np.uint8:
        stats = _uint8_summary(sample.reshape(-1, sample.shape[-1]), len(sample))
    else:
        chw = np.moveaxis(sample, -1, 1)  # (N, C, H, W), LeRobot's channel-first layout
        stats = {k: v if k == "count" else np.squeeze(v, axis=0)
                 for k, v in _summary(chw, (0, 2, 3), len(sample), keepdims=True).items()}
    return {k: v if k == "count" else v.reshape(-1, 1, 1) / scale for k, v in stats.items()}


def _uint8_summary(pixels: np.ndarray, count: int) -> Stats:
    """Return the per-channel statistics of (P, C) uint8 pixels from 256-bin histograms (the same values as
    sorting, including numpy's linearly interpolated quantiles, in O(P))."""
    levels = np.arange(256, dtype=np.float64)
    out: dict[str, list[float]] = {k: [] for k in ("min", "max", "mean", "std", *QUANTILE_KEYS)}
    for c in range(pixels.shape[1]):
        hist = np.bincount(pixels[:, c], minlength=256).astype(np.float64)
        n = hist.sum()
        mean = float((hist * levels).sum() / n)
        present = np.flatnonzero(hist)
        out["min"].append(float(present[0]))
        out["max"].append(float(present[-1]))
        out["mean"].append(mean)
        out["std"].append(float(np.sqrt((hist * (levels - mean) ** 2).sum() / n)))
        cum = np.cumsum(hist)
        for key, q in zip(QUANTILE_KEYS, QUANTILES, strict=True):
            pos = q * (n - 1)  # numpy's "linear" method: interpolate between order statistics floor(pos), ceil(pos)
            lo, hi = np.searchsorted(cum, np.floor(pos) + 1), np.searchsorted(cum, np.ceil(pos) + 1)
            out[key].append(float(lo + (hi - lo) * (pos - np.floor(pos))))
    stats: Stats = {k: np.asarray(v) for k, v in out.items()}
    stats["count"] = np.array([count], dtype=np.int64)
    return stats


def aggregate(per_episode: Iterable[Stats]) -> Stats:
    """Aggregate one feature's per-episode statistics into dataset statistics (LeRobot's rule)."""
    items = list(per_episode)
    means = np.stack([s["mean"] for s in items])
    variances = np.stack([s["std"] ** 2 for s in items])
    counts = np.stack([s["count"] for s in items]).astype(np.float64)
    total = counts.sum(axis=0)
    while counts.ndim < means.ndim:
        counts = np.expand_dims(counts, -1)
    mean = (means * counts).sum(axis=0) / total
    variance = ((variances + (means - mean) ** 2) * counts).sum(axis=0) / total
    out = {"min": np.min(np.stack([s["min"] for s in items]), axis=0),
           "max": np.max(np.stack([s["max"] for s in items]), axis=0),
           "mean": mean, "std": np.sqrt(variance), "count": total.astype(np.int64)}
    for key in QUANTILE_KEYS:
        values = np.stack([s[key] for s in items])
        out[key] = values.min(axis=0) if int(key[1:]) <= 50 else values.max(axis=0)
    return out


def to_json(stats: dict[str, Stats]) -> dict[str, dict[str, list]]:
    """Return ``{feature: {stat: nested list}}`` for ``meta/stats.json``."""
    return {key: {name: np.asarray(v).tolist() for name, v in s.items()} for key, s in stats.items()}


def flatten(stats: dict[str, Stats]) -> dict[str, list]:
    """Return the episode-row columns ``stats/<feature>/<stat>`` (nested lists) LeRobot keeps per episode."""
    return {f"stats/{key}/{name}": np.asarray(v).tolist() for key, s in stats.items() for name, v in s.items()}

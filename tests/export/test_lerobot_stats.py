"""LeRobot statistics: the uint8 histogram path equals numpy's sort-based statistics, and aggregating episodes
gives the statistics of the concatenated data (mean, std, min, max, count) and LeRobot's quantile envelope."""

from __future__ import annotations

import numpy as np

from robosynth.export import lerobot_stats as st


def test_uint8_histogram_stats_equal_numpy() -> None:
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (23, 40, 30, 3)).astype(np.uint8)
    frames[..., 1] //= 7  # a skewed channel
    frames[..., 2] = 200  # a constant channel
    got = st.image_stats(frames, 255.0)
    chw = np.moveaxis(frames, -1, 1).astype(np.float64)
    assert got["count"].tolist() == [23]
    for key, want in (("min", chw.min((0, 2, 3))), ("max", chw.max((0, 2, 3))), ("mean", chw.mean((0, 2, 3))),
                      ("std", chw.std((0, 2, 3)))):
        assert got[key].shape == (3, 1, 1) and np.allclose(got[key].ravel(), want / 255.0, rtol=0, atol=1e-12), key
    flat = np.moveaxis(chw, 1, 0).reshape(3, -1)
    for key, q in zip(st.QUANTILE_KEYS, st.QUANTILES, strict=True):
        assert np.allclose(got[key].ravel(), np.quantile(flat, q, axis=1) / 255.0, rtol=0, atol=1e-12), key


def test_depth_stats_keep_units_and_sample_large_episodes() -> None:
    rng = np.random.default_rng(1)
    depth = rng.uniform(0.1, 3.0, (700, 8, 8, 1)).astype(np.float32)
    got = st.image_stats(depth, 1.0)
    n = st.estimate_num_samples(700)
    assert got["count"].tolist() == [n] and 100 < n < 700  # LeRobot's sample: 700**0.75 frames
    assert got["max"].shape == (1, 1, 1) and 0.1 <= got["min"].item() and got["max"].item() <= 3.0


def test_aggregate_equals_concatenated_data() -> None:
    rng = np.random.default_rng(2)
    episodes = [rng.normal(i, 1 + i, (n, 4)) for i, n in enumerate((5, 17, 40))]
    per_episode = [st.vector_stats(e) for e in episodes]
    agg = st.aggregate(per_episode)
    all_rows = np.concatenate(episodes)
    assert agg["count"].tolist() == [62]
    assert np.allclose(agg["mean"], all_rows.mean(0)) and np.allclose(agg["std"], all_rows.std(0))
    assert np.array_equal(agg["min"], all_rows.min(0)) and np.array_equal(agg["max"], all_rows.max(0))
    assert np.array_equal(agg["q01"], np.min([s["q01"] for s in per_episode], axis=0))
    assert np.array_equal(agg["q99"], np.max([s["q99"] for s in per_episode], axis=0))
    scalar = st.vector_stats(np.arange(10.0))
    assert scalar["mean"].shape == (1,) and scalar["count"].tolist() == [10]

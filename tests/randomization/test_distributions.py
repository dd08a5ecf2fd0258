"""Distributions: laws (KS / chi-square on 10,000 samples), shapes, validation messages, bounds."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from scipy import stats

from randomization.distributions import (
    Choice,
    LogUniform,
    Normal,
    Scale,
    Uniform,
    parse_distribution,
    std_truncnorm,
)

N = 10_000
P_MIN = 1e-3


def draws(dist, seed: int = 0, nominal=None, n: int = N) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.array([dist.sample(rng, nominal) for _ in range(n)], dtype=float)


def test_uniform_law():
    x = draws(parse_distribution({"dist": "uniform", "low": -2.0, "high": 3.0}))
    assert x.min() >= -2.0 and x.max() <= 3.0
    assert stats.kstest(x, stats.uniform(loc=-2.0, scale=5.0).cdf).pvalue > P_MIN


def test_loguniform_law():
    x = draws(parse_distribution({"dist": "loguniform", "low": 0.01, "high": 10.0}))
    assert stats.kstest(x, stats.loguniform(0.01, 10.0).cdf).pvalue > P_MIN


def test_normal_law():
    x = draws(Normal(mean=1.5, std=0.3))
    assert stats.kstest(x, stats.norm(1.5, 0.3).cdf).pvalue > P_MIN


@pytest.mark.parametrize(
    "mean,std,low,high",
    [
        (0.0, 1.0, -1.0, 2.0),  # around the mode, wide
        (0.0, 1.0, -0.1, 0.05),  # around the mode, narrow
        (1.0, 0.5, 1.5, None),  # one-sided upper tail
        (0.0, 1.0, None, -1.5),  # one-sided lower tail
        (0.0, 1.0, 2.0, 3.0),  # two-sided, in the tail
        (0.0, 1.0, 4.0, 6.0),  # far tail
        (0.0, 0.02, -0.06, 0.06),  # the joint-noise preset
    ],
)
def test_truncated_normal_matches_scipy_truncnorm(mean, std, low, high):
    d = Normal(mean=mean, std=std, low=low, high=high)
    x = draws(d, seed=3)
    a = -np.inf if low is None else (low - mean) / std
    b = np.inf if high is None else (high - mean) / std
    ref = stats.truncnorm(a, b, loc=mean, scale=std)
    assert stats.kstest(x, ref.cdf).pvalue > P_MIN
    assert (low is None or x.min() >= low) and (high is None or x.max() <= high)


def test_std_truncnorm_extreme_tail_is_exact():
    rng = np.random.default_rng(1)
    x = np.array([std_truncnorm(rng, 8.0, math.inf) for _ in range(N)])
    assert x.min() >= 8.0
    assert stats.kstest(x, stats.truncnorm(8.0, np.inf).cdf).pvalue > P_MIN


def test_choice_frequencies_chi_square():
    d = parse_distribution({"dist": "choice", "values": [0, 1, 2], "p": [0.2, 0.5, 0.3]})
    x = draws(d, seed=5).astype(int)
    counts = np.bincount(x, minlength=3)
    assert stats.chisquare(counts, N * np.array([0.2, 0.5, 0.3])).pvalue > P_MIN


def test_choice_keeps_types_and_lists():
    rng = np.random.default_rng(0)
    ints = Choice(values=[0, 1])
    assert all(type(ints.sample(rng)) is int for _ in range(20))
    words = Choice(values=["checker", "noise"])
    assert {words.sample(rng) for _ in range(50)} == {"checker", "noise"}
    vecs = Choice(values=[[1, 0, 0], [0, 1, 0]])
    assert vecs.dim == 3 and vecs.sample(rng) in ([1.0, 0.0, 0.0], [0.0, 1.0, 0.0])


def test_scale_multiplies_nominal_uniform_factor():
    x = draws(parse_distribution({"dist": "scale", "low": 0.5, "high": 2.0}), nominal=0.2)
    assert stats.kstest(x, stats.uniform(loc=0.1, scale=0.3).cdf).pvalue > P_MIN


def test_scale_wrapping_loguniform_factor():
    d = parse_distribution({"dist": "scale", "factor": {"dist": "loguniform", "low": 0.5, "high": 2.0}})
    x = draws(d, nominal=3.0)
    assert stats.kstest(x, stats.loguniform(1.5, 6.0).cdf).pvalue > P_MIN


def test_scale_scalar_factor_is_one_draw_vector_factor_is_per_component():
    rng = np.random.default_rng(2)
    nominal = [0.2, 0.4, 0.6]
    one = Scale(low=0.5, high=1.5).sample(rng, nominal)
    ratios = np.array(one) / np.array(nominal)
    assert np.allclose(ratios, ratios[0])
    per = Scale(low=[0.5] * 3, high=[1.5] * 3).sample(rng, nominal)
    assert len(set(np.round(np.array(per) / np.array(nominal), 12))) == 3
    with pytest.raises(ValueError, match="nominal"):
        Scale(low=0.5, high=1.5).sample(rng)


def test_vector_parameters_and_broadcast():
    rng = np.random.default_rng(0)
    d = Uniform(low=[0.0, 10.0, 20.0], high=[1.0, 11.0, 21.0])
    x = np.array([d.sample(rng) for _ in range(2000)])
    assert x.shape == (2000, 3)
    for i in range(3):
        assert x[:, i].min() >= 10 * i and x[:, i].max() <= 10 * i + 1
        assert stats.kstest(x[:, i] - 10 * i, "uniform").pvalue > P_MIN
    b = Uniform(low=-1.0, high=1.0).sample(rng, [0.0] * 4)  # scalar params fill the nominal's length
    assert isinstance(b, list) and len(b) == 4 and len(set(b)) == 4
    with pytest.raises(ValueError, match="3 components but the value has 4"):
        d.sample(rng, [0.0] * 4)


def test_samples_are_plain_json_values():
    rng = np.random.default_rng(0)
    for d in (Uniform(low=0, high=1), LogUniform(low=1, high=2), Normal(std=1, low=-1, high=1),
              Choice(values=[1.5, 2.5]), Uniform(low=[0, 0], high=[1, 1])):
        v = d.sample(rng)
        assert type(v) in (float, int, list)
        assert json.loads(json.dumps(v)) == v
    assert all(type(x) is float for x in Scale(low=1, high=2).sample(rng, [1.0, 2.0]))


def _msg(data) -> str:
    with pytest.raises(ValidationError) as exc:
        parse_distribution(data)
    return str(exc.value)


def test_validation_messages():
    assert "low > high" in _msg({"dist": "uniform", "low": 2, "high": 1})
    assert "low > high" in _msg({"dist": "uniform", "low": [0, 2], "high": [1, 1]})
    assert "std must be >= 0" in _msg({"dist": "normal", "mean": 0, "std": -0.1})
    assert "p must sum to 1" in _msg({"dist": "choice", "values": [1, 2], "p": [0.5, 0.6]})
    assert "p has 3 entries but values has 2" in _msg({"dist": "choice", "values": [1, 2], "p": [0.2, 0.3, 0.5]})
    assert "mismatched lengths" in _msg({"dist": "uniform", "low": [0, 0], "high": [1, 1, 1]})
    assert "mismatched lengths" in _msg({"dist": "choice", "values": [[1, 2], [1, 2, 3]]})
    assert "low must be > 0" in _msg({"dist": "loguniform", "low": 0, "high": 1})
    assert "scale needs low and high" in _msg({"dist": "scale", "low": 0.5})
    assert "not both" in _msg({"dist": "scale", "low": 0.5, "high": 1, "factor": {"dist": "uniform", "low": 0,
                                                                                   "high": 1}})
    assert "finite" in _msg({"dist": "uniform", "low": 0, "high": float("inf")})
    assert "Extra inputs" in _msg({"dist": "uniform", "low": 0, "high": 1, "hgih": 2})
    assert "mean lies outside" in _msg({"dist": "normal", "mean": 5, "std": 0, "low": 0, "high": 1})


def test_models_are_frozen():
    d = Uniform(low=0, high=1)
    with pytest.raises(ValidationError):
        d.low = 3  # type: ignore[misc]


finite = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(a=finite, b=finite, seed=st.integers(0, 2**32 - 1))
def test_property_samples_within_bounds(a, b, seed):
    lo, hi = min(a, b), max(a, b)
    rng = np.random.default_rng(seed)
    u = Uniform(low=lo, high=hi).sample(rng)
    assert lo <= u <= hi
    mean = lo + (hi - lo) * 0.3
    t = Normal(mean=mean, std=abs(hi - lo) + 0.1, low=lo, high=hi).sample(rng)
    assert lo <= t <= hi
    tail = Normal(mean=0.0, std=1.0, low=lo, high=hi).sample(rng)  # may sit far out in a tail
    assert lo <= tail <= hi
    if lo > 0:
        g = LogUniform(low=lo, high=hi).sample(rng)
        assert lo * (1 - 1e-12) <= g <= hi * (1 + 1e-12)
    s = Scale(low=0.5, high=2.0).sample(rng, mean)
    sup = Scale(low=0.5, high=2.0).support(mean)
    assert sup[0] - 1e-9 <= s <= sup[1] + 1e-9

"""Evaluation statistics against hand-computed values: Wilson, two-proportion z-test, Pearson r, SIMPLER's MMRV."""

from __future__ import annotations

import math

import pytest

from robosynth.evaluate.compare import compare_rates
from robosynth.evaluate.stats import mmrv, pearson_r, two_proportion_test, wilson_interval
from sim.errors import InputError


def test_wilson_matches_the_intervals_quoted_in_issue_16():
    lo, hi = wilson_interval(18, 30)  # "60 % [42, 75]"
    assert (round(100 * lo), round(100 * hi)) == (42, 75)
    lo, hi = wilson_interval(3, 30)  # "10 % [3, 26]"
    assert (round(100 * lo), round(100 * hi)) == (3, 26)
    assert wilson_interval(0, 5)[0] == 0.0 and wilson_interval(5, 5)[1] == 1.0
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_two_proportion_test_by_hand():
    # 6/10 vs 2/10: pooled p = 0.4, se = sqrt(0.4 * 0.6 * (1/10 + 1/10)) = sqrt(0.048), z = 0.4 / se
    z, p = two_proportion_test(6, 10, 2, 10)
    assert z == pytest.approx(0.4 / math.sqrt(0.048))
    assert z == pytest.approx(1.8257418583505538)
    assert p == pytest.approx(0.0678891548, abs=1e-9)  # 2 * (1 - Phi(1.8257))
    assert two_proportion_test(5, 5, 5, 5) == (0.0, 1.0)  # equal rates (pooled variance 0): no evidence of a gap
    assert two_proportion_test(0, 7, 0, 3) == (0.0, 1.0)
    with pytest.raises(ValueError):
        two_proportion_test(1, 0, 1, 2)


def test_pearson_by_hand():
    # R = (0.9, 0.5, 0.1), S = (0.8, 0.6, 0.2): deviations (0.4, 0, -0.4) and (4/15, 1/15, -5/15);
    # cov = 0.4 * 4/15 + 0.4 * 5/15 = 0.24, var R = 0.32, var S = 42/225 = 0.18667
    assert pearson_r([0.9, 0.5, 0.1], [0.8, 0.6, 0.2]) == pytest.approx(0.24 / math.sqrt(0.32 * 42 / 225))
    assert pearson_r([0.1, 0.2, 0.3], [0.3, 0.5, 0.7]) == pytest.approx(1.0)  # identical orderings, linear
    assert pearson_r([0.1, 0.2, 0.3], [0.7, 0.5, 0.3]) == pytest.approx(-1.0)
    assert math.isnan(pearson_r([0.5, 0.5], [0.1, 0.9]))  # a constant column has no correlation


def test_mmrv_identical_orderings_is_zero():
    assert mmrv([0.9, 0.5, 0.1], [0.8, 0.6, 0.2]) == 0.0
    assert mmrv([0.2, 0.4], [0.2, 0.4]) == 0.0


def test_mmrv_reversed_order_by_hand():
    # R = (0.9, 0.5, 0.1), S reversed: policy 0's worst violated pair is (0, 2) with |R0 - R2| = 0.8, policy 1's
    # 0.4 (both partners flip), policy 2's 0.8: MMRV = (0.8 + 0.4 + 0.8) / 3
    assert mmrv([0.9, 0.5, 0.1], [0.2, 0.6, 0.8]) == pytest.approx(2.0 / 3.0)


def test_mmrv_ties():
    # A tie in the prediction S against a strict order in R is a violation for the policy whose order flips:
    # i = 1: (S1 < S0) is False but (R1 < R0) is True -> |0.9 - 0.5| = 0.4; i = 0 has none; MMRV = 0.4 / 2
    assert mmrv([0.9, 0.5], [0.4, 0.4]) == pytest.approx(0.2)
    # A tie in the reference costs nothing (|R_i - R_j| = 0) whatever the prediction does
    assert mmrv([0.5, 0.5, 0.1], [0.3, 0.4, 0.2]) == 0.0
    # One swapped pair among three: (0.6, 0.5) swapped in S -> policies 0 and 1 each pay 0.1; policy 2 nothing
    assert mmrv([0.6, 0.5, 0.1], [0.4, 0.5, 0.0]) == pytest.approx(0.2 / 3)


def test_compare_rates_matches_policies_by_name_and_refuses_mismatches():
    res = compare_rates({"a": 0.9, "b": 0.5, "c": 0.1}, {"c": 0.8, "b": 0.6, "a": 0.2})
    assert res["policies"] == ["a", "b", "c"] and res["mmrv"] == pytest.approx(2.0 / 3.0)
    assert res["pearson_r"] == pytest.approx(pearson_r([0.9, 0.5, 0.1], [0.2, 0.6, 0.8]))
    with pytest.raises(InputError, match="only one of the two files"):
        compare_rates({"a": 0.1, "b": 0.2}, {"a": 0.1, "x": 0.2})
    with pytest.raises(InputError, match="at least two policies"):
        compare_rates({"a": 0.1}, {"a": 0.1})
    assert compare_rates({"a": 0.5, "b": 0.5}, {"a": 0.1, "b": 0.9})["pearson_r"] is None

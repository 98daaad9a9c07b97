"""Unit tests of dln.conditions: the closed-form conditions and bounds against the
solver."""

import numpy as np
import pytest

import dln


def _solve(stats, width, gw, gu, s2):
    return dln.global_minimum(stats, depth=1, width=width, gamma=[gw, gu], sigma2=s2)


def _whitened(d, s2x, exy, noise=0.3):
    exy = np.asarray(exy, dtype=float)
    return dln.DataStats(s2x * np.eye(d), exy, float(exy @ exy / s2x) + noise)


@pytest.mark.parametrize("gw, gu", [(0.1, 0.1), (0.05, 0.8), (2.0, 0.01)])
def test_threshold_matches_solver_just_above_and_below(gw, gu):
    crit = dln.two_layer_critical_signal(gw, gu)
    assert crit == pytest.approx(np.sqrt(gw * gu))
    for factor, trivial in [(0.999, True), (1.001, False)]:
        st = dln.random_stats(4, seed=2, cond=50, signal=factor * crit)
        assert dln.two_layer_is_trivial(st, gw, gu) is trivial
        assert _solve(st, 3, gw, gu, 0.5).is_trivial is trivial
        assert (dln.two_layer_curvature_at_origin(st, 3, gw, gu) > 0) is trivial


def test_curvature_matches_finite_difference_of_profile():
    st = dln.random_stats(3, seed=5, cond=10, signal=1.3)
    gw, gu, d1, s2 = 0.4, 0.7, 5, 0.6
    h = 1e-4
    L = dln.profile_loss(
        np.array([0.0, h, 2 * h]), st, depth=1, width=d1, gamma=[gw, gu], sigma2=s2
    )
    # L(b) = L(0) + L''(0) b^2 / 2 + O(b^4): the one-sided difference (L(h) - L(0)) * 2
    # / h^2 is exact to O(h^2)
    fd = 2 * (L[1] - L[0]) / h**2
    assert fd == pytest.approx(
        dln.two_layer_curvature_at_origin(st, d1, gw, gu), rel=1e-5
    )


@pytest.mark.parametrize(
    "seed, cond, d1, gw, gu, s2",
    [
        (0, 1.0, 2, 0.1, 0.1, 0.5),
        (1, 1e3, 6, 0.05, 0.3, 1.0),
        (2, 1e8, 3, 0.2, 0.02, 0.0),
        (3, 30.0, 9, 0.01, 1.0, 4.0),
    ],
)
def test_b_bounds_contain_solver_b(seed, cond, d1, gw, gu, s2):
    st = dln.random_stats(5, seed=seed, cond=cond, signal=3.0 * np.sqrt(gw * gu))
    sol = _solve(st, d1, gw, gu, s2)
    lo, hi = dln.two_layer_b_bounds(st, d1, gw, gu, s2)
    lo2, hi2 = dln.two_layer_b_bounds(st, d1, gw, gu, s2, signal_support=True)
    assert not sol.is_trivial
    assert lo * (1 - 1e-12) <= sol.b <= hi * (1 + 1e-12)
    assert lo <= lo2 and hi2 <= hi


def test_b_bounds_trivial_and_singular():
    st = dln.random_stats(3, seed=0, signal=0.05)
    assert dln.two_layer_b_bounds(st, 2, 0.1, 0.1, 0.5) == (0.0, 0.0)
    sing = dln.DataStats(np.diag([0.0, 2.0]), np.array([0.0, 1.0]), 1.0)
    lo, hi = dln.two_layer_b_bounds(sing, 2, 0.1, 0.1, 0.5)
    assert hi == np.inf and lo > 0
    lo2, hi2 = dln.two_layer_b_bounds(sing, 2, 0.1, 0.1, 0.5, signal_support=True)
    # the signal lives on one eigenvalue: the two bounds meet at b*
    b = _solve(sing, 2, 0.1, 0.1, 0.5).b
    assert lo2 == pytest.approx(b, rel=1e-10) and hi2 == pytest.approx(b, rel=1e-10)


@pytest.mark.parametrize(
    "d, d1, s2x, gw, gu, s2",
    [
        (3, 4, 1.0, 0.1, 0.1, 0.5),
        (6, 2, 0.3, 0.02, 0.5, 2.0),
        (1, 7, 5.0, 1.0, 0.05, 0.0),
    ],
)
def test_whitened_closed_form_matches_solver(d, d1, s2x, gw, gu, s2):
    rng = np.random.default_rng(d)
    exy = rng.standard_normal(d)
    st = _whitened(d, s2x, 2.5 * np.sqrt(gw * gu) * exy / np.linalg.norm(exy))
    sol = _solve(st, d1, gw, gu, s2)
    assert dln.two_layer_whitened_b(st, d1, gw, gu, s2) == pytest.approx(
        sol.b, rel=1e-10
    )
    v = dln.two_layer_whitened_row(st, d1, gw, gu, s2)
    W, U = sol.weights
    assert np.all(U > 0)
    np.testing.assert_allclose(W, np.tile(v, (d1, 1)), rtol=1e-9, atol=1e-14)
    lo, hi = dln.two_layer_b_bounds(st, d1, gw, gu, s2)
    assert lo == pytest.approx(sol.b, rel=1e-12) and hi == pytest.approx(
        sol.b, rel=1e-12
    )


def test_whitened_below_threshold_is_zero():
    st = _whitened(2, 1.0, [0.01, 0.02])
    assert dln.two_layer_whitened_b(st, 3, 0.1, 0.1, 0.5) == 0.0
    assert np.all(dln.two_layer_whitened_row(st, 3, 0.1, 0.1, 0.5) == 0.0)


def test_bad_inputs_raise():
    st = dln.random_stats(3, seed=0, cond=10)
    with pytest.raises(ValueError, match="gamma_w"):
        dln.two_layer_critical_signal(0.0, 0.1)
    with pytest.raises(ValueError, match="gamma_u"):
        dln.two_layer_is_trivial(st, 0.1, -1.0)
    with pytest.raises(ValueError, match="gamma_u"):
        dln.two_layer_critical_signal(0.1, np.nan)
    with pytest.raises(ValueError, match="stats"):
        dln.two_layer_is_trivial(np.eye(3), 0.1, 0.1)
    with pytest.raises(ValueError, match="width"):
        dln.two_layer_b_bounds(st, 0, 0.1, 0.1, 0.5)
    with pytest.raises(ValueError, match="width"):
        dln.two_layer_curvature_at_origin(st, 2.5, 0.1, 0.1)
    with pytest.raises(ValueError, match="sigma2"):
        dln.two_layer_b_bounds(st, 2, 0.1, 0.1, -0.5)
    with pytest.raises(ValueError, match="whitened"):
        dln.two_layer_whitened_b(
            st, 2, 0.1, 0.1, 0.5
        )  # cond(A0) = 10: not a multiple of I
    with pytest.raises(ValueError, match="whitened"):
        dln.two_layer_whitened_row(st, 2, 0.1, 0.1, 0.5)


# --- networks of any depth (Proposition 3, Theorem 3) --------------------------------


@pytest.mark.parametrize("depth", [2, 3, 5])
@pytest.mark.parametrize("seed", [0, 1])
def test_deep_signal_thresholds_bracket_the_exact_ones(depth, seed):
    """Eq. 14's signal <= exact existence threshold <= Eq. 15's; Eq. 18's >= exact
    global threshold (the exact ones from dln.critical_signals, the solver's)."""
    stats = dln.random_stats(5, seed=seed, cond=300.0, signal=1.0)
    arch = dict(depth=depth, width=3, sigma2=0.4, gamma=0.02)
    s14, s15 = dln.deep_signal_bounds(stats, **arch)
    s18 = dln.deep_global_signal(stats, **arch)
    s_exist, s_global = dln.critical_signals(stats, **arch)
    assert s14 < s_exist < s15 and s_global < s18


@pytest.mark.parametrize("depth", [2, 4])
def test_deep_thresholds_are_exact_for_whitened_data(depth):
    stats = dln.DataStats(2.0 * np.eye(3), np.array([0.3, -0.2, 0.5]), 1.0)
    arch = dict(depth=depth, width=4, sigma2=0.5, gamma=0.05)
    s14, s15 = dln.deep_signal_bounds(stats, **arch)
    s_exist, s_global = dln.critical_signals(stats, **arch)
    np.testing.assert_allclose([s14, s15], [s_exist, s_exist], rtol=1e-10)
    assert dln.deep_global_signal(stats, **arch) == pytest.approx(s_global, rel=1e-10)


def test_deep_thresholds_at_depth_one_are_the_two_layer_threshold():
    stats = dln.random_stats(3, seed=2, cond=10.0)
    arch = dict(depth=1, width=2, sigma2=0.3, gamma=0.07)
    assert dln.deep_signal_bounds(stats, **arch) == (0.07, 0.07)
    assert dln.deep_global_signal(stats, **arch) == 0.07


@pytest.mark.parametrize("depth", [2, 3, 6])
def test_deep_b_bounds_hold_at_every_solution(depth):
    rng = np.random.default_rng(depth)
    for k in range(20):
        stats = dln.random_stats(
            4, seed=k, cond=10 ** rng.uniform(0, 4), signal=10 ** rng.uniform(-1, 1)
        )
        arch = dict(depth=depth, width=int(rng.integers(1, 5)), sigma2=0.5, gamma=0.01)
        lower, upper = dln.deep_b_bounds(stats, **arch)
        sol = dln.global_minimum(stats, **arch)
        for b in sol.roots[1:]:
            assert lower * (1 - 1e-12) <= b <= upper * (1 + 1e-12)


def test_deep_conditions_bad_input():
    stats = dln.random_stats(3, seed=0)
    arch = dict(depth=2, width=2, sigma2=0.1, gamma=0.1)
    with pytest.raises(ValueError, match="one integer"):
        dln.deep_signal_bounds(stats, **{**arch, "width": [2, 3]})
    with pytest.raises(ValueError, match="gamma"):
        dln.deep_global_signal(stats, **{**arch, "gamma": 0.0})
    with pytest.raises(ValueError, match="depth >= 2"):
        dln.deep_b_bounds(stats, **{**arch, "depth": 1})
    singular = dln.DataStats(np.diag([0.0, 1.0]), np.array([0.0, 0.5]), 1.0)
    with pytest.raises(ValueError, match="positive definite"):
        dln.deep_signal_bounds(singular, **arch)
    with pytest.raises(ValueError, match="DataStats"):
        dln.deep_b_bounds(np.eye(2), **arch)

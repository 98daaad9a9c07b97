"""Tests of :func:`dln.phase_diagram`: point by point against :func:`dln.global_minimum`
on the rescaled statistics, the meaning of the phase codes, and bad input."""

from __future__ import annotations

import numpy as np
import pytest

import dln

CASES = [
    # (data seed, d, cond, depth, width, sigma2)
    (0, 4, 10.0, 1, 3, 0.5),
    (1, 6, 100.0, 2, [3, 5], [0.2, 1.0]),
    (2, 3, 1e3, 3, [2, 4, 3], 0.3),
    (3, 8, 30.0, 4, 2, [0.0, 0.5, 0.1, 1.0]),
    (4, 2, 1e3, 2, 1, 0.0),  # d = 2 with a wide spectrum: two wells are possible
]


def _rescaled(stats, s):
    c = s / stats.signal
    return dln.DataStats(stats.A0, stats.Exy * c, stats.Ey2 * c * c)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"D{c[3]}-d{c[1]}")
def test_agrees_with_global_minimum_point_by_point(case):
    seed, d, cond, depth, width, sigma2 = case
    stats = dln.random_stats(d, seed=seed, cond=cond, signal=1.0)
    gamma = np.logspace(-5, 0, 41)
    signal = np.logspace(-3, 1, 37)
    arch = dict(depth=depth, width=width, sigma2=sigma2)
    pd = dln.phase_diagram(stats, gamma=gamma, signal=signal, **arch)
    assert pd.b.shape == pd.phase.shape == pd.gain.shape == (41, 37)
    rng = np.random.default_rng(seed)
    compared = 0
    for i, j in zip(rng.integers(0, 41, 150), rng.integers(0, 37, 150)):
        sol = dln.global_minimum(_rescaled(stats, signal[j]), gamma=gamma[i], **arch)
        gain = sol.loss - sol.stats.Ey2 if not sol.is_trivial else 0.0
        # away from exact ties: both gains are differences of terms known to ~1e-13
        # relative (eps * cond(A0) <= 2e-13 here); within 1e-9 of the fit term the
        # flag is a coin toss and is not compared
        fit = abs(gain) + sol.b**2 * depth * gamma[i] * np.atleast_1d(width)[-1]
        if abs(gain) <= 1e-9 * max(fit, 1e-300) and fit > 0:
            continue
        compared += 1
        assert pd.is_trivial[i, j] == sol.is_trivial, (i, j)
        assert pd.n_roots[i, j] == sol.roots.size - 1, (i, j, sol.roots)
        if not sol.is_trivial:
            assert abs(pd.b[i, j] - sol.b) <= 1e-10 * sol.b, (i, j, pd.b[i, j], sol.b)
            assert abs(pd.gain[i, j] - gain) <= 1e-10 * abs(gain), (i, j)
        else:
            assert pd.b[i, j] == 0 and pd.gain[i, j] == 0
    assert compared >= 140
    # the grid covers more than one phase, so the comparison is not vacuous
    assert np.unique(pd.phase).size >= 2


def test_phase_codes_mean_what_they_say():
    stats = dln.random_stats(5, seed=3, cond=50, signal=1.0)
    gamma, signal = np.logspace(-4, 0, 30), np.logspace(-3, 1, 30)
    one = dln.phase_diagram(
        stats, depth=1, width=2, sigma2=0.3, gamma=gamma, signal=signal
    )
    assert set(np.unique(one.phase)) <= {0, 3}
    # two-layer threshold (Theorem 1): nontrivial iff ||E[xy]||^2 > gamma_u gamma_w
    G, S = np.meshgrid(gamma, signal, indexing="ij")
    assert np.array_equal(one.phase == 3, S > G)
    deep = dln.phase_diagram(
        stats, depth=3, width=2, sigma2=0.3, gamma=gamma, signal=signal
    )
    assert set(np.unique(deep.phase)) == {0, 1, 2}
    assert np.array_equal(deep.phase == 0, deep.n_roots == 0)
    assert np.array_equal(deep.phase == 1, (deep.n_roots > 0) & deep.is_trivial)
    assert np.array_equal(deep.phase == 2, ~deep.is_trivial)
    assert np.all(deep.gain[~deep.is_trivial] < 0) and np.all(
        deep.b[deep.is_trivial] == 0
    )
    assert len(dln.PHASES) == 4 and "points per phase" in repr(deep)


def test_zero_signal_is_the_origin_only():
    stats = dln.random_stats(3, seed=0)
    pd = dln.phase_diagram(
        stats, depth=2, width=2, sigma2=0.1, gamma=[0.1], signal=[0.0, 1.0]
    )
    assert pd.phase[0, 0] == 0 and pd.is_trivial[0, 0] and pd.n_roots[0, 0] == 0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(gamma=[0.1, 0.0]), "gamma"),
        (dict(gamma=[-0.1]), "gamma"),
        (dict(gamma=[[0.1]]), "gamma"),
        (dict(gamma=[]), "gamma"),
        (dict(gamma=[np.nan]), "gamma"),
        (dict(signal=[-1.0]), "signal"),
        (dict(signal=[np.inf]), "signal"),
        (dict(depth=0), "depth"),
        (dict(width=[2, 2, 2]), "width"),
        (dict(sigma2=-0.1), "sigma2"),
    ],
)
def test_bad_input(kwargs, message):
    stats = dln.random_stats(3, seed=0)
    args = dict(depth=2, width=2, sigma2=0.1, gamma=[0.1], signal=[1.0])
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        dln.phase_diagram(stats, **args)


def test_bad_stats():
    args = dict(depth=2, width=2, sigma2=0.1, gamma=[0.1], signal=[1.0])
    with pytest.raises(ValueError, match="DataStats"):
        dln.phase_diagram(np.eye(2), **args)
    with pytest.raises(ValueError, match="nonzero"):
        dln.phase_diagram(dln.DataStats(np.eye(2), np.zeros(2), 1.0), **args)


def test_two_wells():
    """Where the scalar equation has four solutions b > 0 (two wells and two barriers),
    the diagram still picks the solver's global minimum."""
    a, e = np.array([0.00310392, 0.34083028]), np.array([0.01005838, 0.09727768])
    stats = dln.DataStats(np.diag(a), e, float(np.sum(e**2 / a)) + 0.1)
    gamma, signal = np.logspace(-3, -1.5, 61), np.logspace(-1.5, -0.5, 61)
    arch = dict(depth=4, width=2, sigma2=0.3)
    pd = dln.phase_diagram(stats, gamma=gamma, signal=signal, **arch)
    four = np.argwhere(pd.n_roots == 4)
    assert len(four) >= 20
    for i, j in four[:: max(1, len(four) // 20)]:
        sol = dln.global_minimum(_rescaled(stats, signal[j]), gamma=gamma[i], **arch)
        assert sol.roots.size == 5 and pd.is_trivial[i, j] == sol.is_trivial
        if not sol.is_trivial:
            assert abs(pd.b[i, j] - sol.b) <= 1e-10 * sol.b


@pytest.mark.parametrize("depth", [1, 2, 3, 5])
def test_critical_signals_are_the_solver_thresholds(depth):
    stats = dln.random_stats(5, seed=depth, cond=200.0, signal=1.0)
    arch = dict(depth=depth, width=[3, 2, 4, 2, 3][:depth], sigma2=0.4)
    gamma = np.array([1e-4, 0.03])
    s_exist, s_global = dln.critical_signals(stats, gamma=gamma, **arch)
    assert np.all(s_exist <= s_global)
    for g, se, sg in zip(gamma, s_exist, s_global):
        below, above = (
            dln.global_minimum(_rescaled(stats, s * f), gamma=g, **arch)
            for s, f in ((se, 1 - 1e-9), (se, 1 + 1e-9))
        )
        assert below.roots.size == 1 and above.roots.size > 1
        below, above = (
            dln.global_minimum(_rescaled(stats, s * f), gamma=g, **arch)
            for s, f in ((sg, 1 - 1e-9), (sg, 1 + 1e-9))
        )
        assert below.is_trivial and not above.is_trivial
    if depth == 1:  # Theorem 1: ||E[xy]||^2 > gamma_u gamma_w
        np.testing.assert_allclose(s_exist, gamma, rtol=1e-12)
        np.testing.assert_allclose(s_global, gamma, rtol=1e-12)


@pytest.mark.parametrize("depth", [1, 2, 4])
def test_scaling_symmetry_of_weight_decay_and_signal(depth):
    """(s, gamma) -> (lam s, lam^(2D/(D+1)) gamma) multiplies the gain by lam^2 and b
    by lam^(1/(D+1)) (every layer scaled by lam^(1/(D+1))); checked with the solver."""
    stats = dln.random_stats(4, seed=7, cond=30.0, signal=1.0)
    arch = dict(depth=depth, width=3, sigma2=0.3)
    for s, g in ((0.5, 0.01), (2.0, 0.3)):
        base = dln.global_minimum(_rescaled(stats, s), gamma=g, **arch)
        for lam in (0.1, 7.0):
            moved = dln.global_minimum(
                _rescaled(stats, lam * s),
                gamma=lam ** (2 * depth / (depth + 1)) * g,
                **arch,
            )
            assert moved.is_trivial == base.is_trivial
            assert moved.b == pytest.approx(
                lam ** (1 / (depth + 1)) * base.b, rel=1e-10
            )
            gain_b = base.loss - base.stats.Ey2
            gain_m = moved.loss - moved.stats.Ey2
            assert gain_m == pytest.approx(lam**2 * gain_b, rel=1e-9, abs=1e-14)


def test_critical_signals_bad_input():
    stats = dln.random_stats(3, seed=0)
    with pytest.raises(ValueError, match="gamma"):
        dln.critical_signals(stats, depth=2, width=2, sigma2=0.1, gamma=0.0)
    with pytest.raises(ValueError, match="DataStats"):
        dln.critical_signals(np.eye(2), depth=2, width=2, sigma2=0.1, gamma=0.1)

"""dln.minimize_exact: the brute-force check must reach the solver's global minimum."""

import numpy as np
import pytest

import dln


@pytest.mark.parametrize(
    "depth, width, gamma, sigma2, signal",
    [
        (1, 3, [0.05, 0.1], 0.5, 1.0),  # nontrivial two-layer minimum
        (1, 2, 0.5, 0.3, 0.2),  # below the threshold: the origin
        (2, [3, 2], [0.01, 0.02, 0.03], [0.3, 0.5], 1.5),
    ],
)
def test_reaches_the_solver(depth, width, gamma, sigma2, signal):
    stats = dln.random_stats(4, seed=3, cond=10, signal=signal)
    arch = dict(depth=depth, width=width, gamma=gamma, sigma2=sigma2)
    sol = dln.global_minimum(stats, **arch)
    bf = dln.minimize_exact(stats, **arch, n_starts=6, seed=1)
    # never below the global minimum, and reaches it (rounding of a loss of order 1)
    assert bf.loss >= sol.loss - 1e-12
    assert bf.loss <= sol.loss + 1e-9
    assert bf.gradient_norm < 1e-6
    assert bf.start_losses.shape == (6,)
    loss = dln.expected_loss(bf.weights, stats, gamma=gamma, sigma2=sigma2)
    assert np.isclose(loss, bf.loss)
    assert "loss=" in repr(bf) and "array" not in repr(bf)


def test_without_polish_is_worse_or_equal_and_can_stop_early():
    stats = dln.random_stats(3, seed=0, cond=1e4, signal=1.0)
    arch = dict(depth=1, width=2, gamma=0.01, sigma2=0.5)
    rough = dln.minimize_exact(stats, **arch, n_starts=3, max_rounds=1, polish=False)
    fine = dln.minimize_exact(stats, **arch, n_starts=3, max_rounds=1)
    assert fine.loss <= rough.loss
    assert rough.lbfgs_rounds == 1


def test_init_is_used():
    stats = dln.random_stats(3, seed=0, signal=1.0)
    arch = dict(depth=1, width=2, gamma=0.1, sigma2=0.5)
    zeros = [np.zeros((2, 2, 3)), np.zeros((2, 2))]
    # the origin is a critical point: L-BFGS and Newton stay there
    bf = dln.minimize_exact(stats, **arch, n_starts=2, init=zeros)
    assert bf.loss == pytest.approx(stats.Ey2)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n_starts=0), "n_starts"),
        (dict(polish="yes"), "polish"),
        (dict(gtol=-1.0), "gtol"),
        (dict(depth=0), "depth"),
        (dict(gamma=-0.1), "gamma"),
    ],
)
def test_bad_input(kwargs, match):
    stats = dln.random_stats(3, seed=0)
    args = dict(depth=1, width=2, gamma=0.1, sigma2=0.5) | kwargs
    with pytest.raises(ValueError, match=match):
        dln.minimize_exact(stats, **args)


def test_gain_is_resolved_near_the_threshold_with_large_Ey2():
    # cond(A0) = 1e8 makes E[y^2] ~ 1e6 while the gain over the origin, 3% above the
    # threshold, is ~ 3e-4: the loss carries only ~6 significant digits of the gain.
    # The polish minimises L - E[y^2] and must reach the solver's gain to 1e-10
    # (with the polish on L itself it stopped ~1e-6 short).
    gw, gu, s2 = 0.19, 0.3, 0.46
    stats = dln.random_stats(5, seed=5011, cond=1e8, signal=1.03 * np.sqrt(gw * gu))
    arch = dict(depth=1, width=1, gamma=[gw, gu], sigma2=s2)
    sol = dln.global_minimum(stats, **arch)
    gain_sol = dln.loss_gain(sol.weights, stats, gamma=[gw, gu], sigma2=s2)
    assert stats.Ey2 > 1e9 * gain_sol > 0
    bf = dln.minimize_exact(stats, **arch, n_starts=4, seed=11, max_rounds=3)
    assert abs(bf.gain - gain_sol) < 1e-10 * gain_sol
    assert bf.gain == pytest.approx(
        dln.loss_gain(bf.weights, stats, gamma=[gw, gu], sigma2=s2)
    )


def test_newton_step_measures_the_distance_to_the_minimiser():
    stats = dln.random_stats(3, seed=2, cond=30, signal=1.0)
    arch = dict(depth=1, width=2, gamma=[0.05, 0.1], sigma2=0.5)
    sol = dln.global_minimum(stats, **arch)
    W, U = sol.weights
    # start the polish-free brute force at the solution, moved a little
    shift = 1e-4 * np.random.default_rng(0).standard_normal(W.size + U.size)
    init = [(W + shift[: W.size].reshape(W.shape))[None], (U + shift[W.size :])[None]]
    bf = dln.minimize_exact(
        stats, **arch, n_starts=1, init=init, max_rounds=1, polish=False
    )
    dist = np.sqrt(np.sum((bf.weights[0] - W) ** 2) + np.sum((bf.weights[1] - U) ** 2))
    # 10 L-BFGS steps stop short of the minimiser (by ~3e-7 here); the Newton step
    # predicts that distance to first order in it (quadratic model)
    assert dist > 1e-9
    assert bf.newton_step == pytest.approx(dist, rel=1e-3)
    assert bf.newton_decrement >= 0

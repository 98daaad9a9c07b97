"""Tests of dln.landscape: exact gradient and Hessian of the exact loss, and the
critical-point classifier."""

import numpy as np
import pytest

import dln

STATS = dln.random_stats(3, seed=1, cond=4.0, signal=1.0, label_noise=0.2)


def _weights(rng, widths, d=3, scale=0.7):
    fan_in = [d] + list(widths)
    ws = [
        scale * rng.standard_normal((widths[i], fan_in[i])) for i in range(len(widths))
    ]
    return ws + [scale * rng.standard_normal(widths[-1])]


@pytest.mark.parametrize(
    "widths,gamma,sigma2",
    [([2], 0.0, 0.0), ([2, 3], [0.1, 0.2, 0.05], [0.5, 1.0]), ([2, 2, 2], 0.01, 0.3)],
)
def test_gradient_and_hessian_match_finite_differences(widths, gamma, sigma2):
    rng = np.random.default_rng(len(widths))
    w = _weights(rng, widths)
    theta = dln.flatten_weights(w)
    loss = lambda t: dln.expected_loss(
        dln.unflatten_weights(t, w), STATS, gamma=gamma, sigma2=sigma2
    )  # noqa
    grad = lambda t: dln.gradient(
        dln.unflatten_weights(t, w), STATS, gamma=gamma, sigma2=sigma2
    )  # noqa
    g = grad(theta)
    H = dln.hessian(w, STATS, gamma=gamma, sigma2=sigma2)
    h = 1e-5
    E = np.eye(theta.size)
    g_fd = np.array([(loss(theta + h * e) - loss(theta - h * e)) / (2 * h) for e in E])
    H_fd = np.array([(grad(theta + h * e) - grad(theta - h * e)) / (2 * h) for e in E])
    # central differences: truncation error O(h^2 * third derivative) ~ 1e-10, rounding
    # ~ 1e-16 / h ~ 1e-11
    assert np.max(np.abs(g - g_fd)) < 1e-7 * max(1.0, np.max(np.abs(g)))
    assert np.max(np.abs(H - H_fd)) < 1e-7 * max(1.0, np.max(np.abs(H)))
    assert np.array_equal(H, H.T)


def test_flatten_roundtrip():
    w = _weights(np.random.default_rng(0), [2, 4])
    back = dln.unflatten_weights(dln.flatten_weights(w), w)
    assert all(np.array_equal(a, b) for a, b in zip(w, back))


def test_origin_types():
    # one hidden layer, no decay: the origin is a strict saddle with eigenvalues
    # +-||E[xy]|| * 2 (loss without 1/2)
    w1 = [np.zeros((2, 3)), np.zeros(2)]
    cp = dln.classify_critical_point(w1, STATS, gamma=0.0, sigma2=0.0)
    assert cp.kind == "strict saddle"
    assert np.isclose(cp.min_eigenvalue, -2 * np.linalg.norm(STATS.Exy))
    # two hidden layers, no decay: zero Hessian -> degenerate
    w2 = [np.zeros((2, 3)), np.zeros((2, 2)), np.zeros(2)]
    cp = dln.classify_critical_point(w2, STATS, gamma=0.0, sigma2=0.0)
    assert cp.kind == "degenerate" and cp.n_zero == dln.flatten_weights(w2).size
    # two hidden layers with decay: a strict minimum with Hessian 2 gamma I (Proposition
    # 2)
    cp = dln.classify_critical_point(w2, STATS, gamma=0.1, sigma2=0.5)
    assert cp.kind == "minimum" and np.allclose(cp.eigenvalues, 0.2)
    # a random point is not critical
    cp = dln.classify_critical_point(
        _weights(np.random.default_rng(3), [2]), STATS, gamma=0.0, sigma2=0.0
    )
    assert cp.kind == "not critical"


def test_bad_inputs():
    w = _weights(np.random.default_rng(0), [2])
    with pytest.raises(ValueError):
        dln.hessian(
            [np.zeros((2, 4)), np.zeros(2)], STATS, gamma=0.0, sigma2=0.0
        )  # wrong input dim
    with pytest.raises(ValueError):
        dln.hessian(w, STATS, gamma=-1.0, sigma2=0.0)
    with pytest.raises(ValueError):
        dln.gradient(
            [np.full((2, 3), np.nan), np.zeros(2)], STATS, gamma=0.0, sigma2=0.0
        )
    with pytest.raises(ValueError):
        dln.gradient(
            [np.zeros((2, 3)), np.zeros(3)], STATS, gamma=0.0, sigma2=0.0
        )  # U does not chain
    with pytest.raises(ValueError):
        dln.classify_hessian(np.array([[1.0, 2.0], [0.0, 1.0]]))  # not symmetric
    with pytest.raises(ValueError):
        dln.classify_hessian(np.ones((2, 3)))
    with pytest.raises(ValueError):
        dln.classify_hessian(np.eye(2), rtol=-1.0)
    with pytest.raises(ValueError):
        dln.unflatten_weights(np.zeros(5), w)


def test_newton_step_points_back_to_the_minimiser():
    stats = dln.random_stats(3, seed=4, cond=10, signal=1.2)
    arch = dict(gamma=[0.05, 0.2], sigma2=0.7)
    sol = dln.global_minimum(stats, depth=1, width=3, **arch)
    theta = dln.flatten_weights(sol.weights)
    delta = 1e-5 * np.random.default_rng(1).standard_normal(theta.size)
    moved = dln.unflatten_weights(theta + delta, sol.weights)
    step, dec = dln.newton_step(moved, stats, **arch)
    # quadratic model: the step undoes the shift and the decrement is the excess loss,
    # both up to the cubic term, O(|delta|^2) relative to |delta|
    np.testing.assert_allclose(step, delta, rtol=0, atol=1e-3 * np.linalg.norm(delta))
    excess = dln.loss_gain(sol.weights, stats, **arch) - dln.loss_gain(
        moved, stats, **arch
    )
    assert dec == pytest.approx(excess, rel=1e-3)
    with pytest.raises(ValueError, match="gamma"):
        dln.newton_step(moved, stats, gamma=-1.0, sigma2=0.7)

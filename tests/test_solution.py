"""Unit tests of the solver at the cases named in the two-layer issue; property tests
live elsewhere."""

import numpy as np
import pytest
import torch

import dln


def _grad_norm(sol, gamma, sigma2):
    params = [
        torch.tensor(np.array(W), dtype=torch.float64, requires_grad=True)
        for W in sol.weights
    ]
    dln.expected_loss_torch(params, sol.stats, gamma=gamma, sigma2=sigma2).backward()
    return float(torch.sqrt(sum((P.grad**2).sum() for P in params)))


def _threshold_stats(signal, d=4, cond=10.0, seed=0):
    return dln.random_stats(d, seed=seed, cond=cond, signal=signal, label_noise=0.3)


@pytest.mark.parametrize("gamma_w, gamma_u", [(0.2, 0.2), (0.05, 0.8)])
def test_two_layer_threshold_just_above_and_below(gamma_w, gamma_u):
    # Theorem 1 (Eq. 4): the global minimum is the origin iff ||E[xy]||^2 <= gamma_u
    # gamma_w.
    edge = np.sqrt(gamma_u * gamma_w)
    kw = dict(depth=1, width=3, gamma=[gamma_w, gamma_u], sigma2=0.5)
    below = dln.global_minimum(_threshold_stats(edge * (1 - 1e-6)), **kw)
    above = dln.global_minimum(_threshold_stats(edge * (1 + 1e-6)), **kw)
    assert below.is_trivial and list(below.roots) == [0.0]
    assert not above.is_trivial and above.b > 0 and above.loss < above.stats.Ey2
    # just above the threshold b* is small: Eq. 8 gives b*^2 <= (sqrt(g_w/g_u)||E[xy]||
    # - g_w) / ((sigma^2+d1) a_min)
    upper = (np.sqrt(gamma_w / gamma_u) * above.stats.signal - gamma_w) / (
        (0.5 + 3) * above.stats.a_min
    )
    assert 0 < above.b**2 <= upper * (1 + 1e-9)


def test_whitened_closed_form():
    # A0 = a I: the scalar equation ||E[xy]|| / (b^2 (sigma^2 + d1) a + gamma_w) =
    # sqrt(gamma_u / gamma_w) is linear in b^2, so b*^2 = (sqrt(gamma_w / gamma_u)
    # ||E[xy]|| - gamma_w) / ((sigma^2 + d1) a)  (Appendix C).
    a, e = 2.0, np.array([0.6, -0.8, 0.0])
    st = dln.DataStats(a * np.eye(3), e, 1.0)
    gw, gu, s2, d1 = 0.1, 0.3, 0.7, 5
    sol = dln.global_minimum(st, depth=1, width=d1, gamma=[gw, gu], sigma2=s2)
    closed = (np.sqrt(gw / gu) * np.linalg.norm(e) - gw) / ((s2 + d1) * a)
    assert sol.b**2 == pytest.approx(closed, rel=1e-12)


def test_general_A0_solution_is_stationary_and_balanced():
    st = dln.random_stats(6, seed=4, cond=50, signal=1.5)
    gamma, sigma2 = [0.05, 0.4], 0.3
    sol = dln.global_minimum(st, depth=1, width=4, gamma=gamma, sigma2=sigma2)
    W, U = sol.weights
    # Lemma 1: U_j^2 = (gamma_w / gamma_u) ||W_j:||^2 ; Lemma 2: all rows equal
    np.testing.assert_allclose(
        U**2, gamma[0] / gamma[1] * np.sum(W**2, axis=1), rtol=1e-10
    )
    np.testing.assert_allclose(W, np.tile(W[0], (4, 1)))
    # zero gradient, relative to the gradient scale at a unit-norm perturbation of the
    # solution
    assert _grad_norm(sol, gamma, sigma2) < 1e-10 * max(1.0, st.Ey2)
    assert dln.expected_loss(
        sol.weights, st, gamma=gamma, sigma2=sigma2
    ) == pytest.approx(sol.loss, rel=1e-12)


def test_ill_conditioned_A0():
    # cond(A0) = 1e8, A0 diagonal so that A0 itself carries no rounding error: both
    # routes to the loss (the reduction, and the exact loss of the returned weights)
    # must then agree to near machine precision.
    a = np.logspace(-8, 0, 5)
    e = np.random.default_rng(3).standard_normal(5) * np.sqrt(a)
    st = dln.DataStats(np.diag(a), e, float(np.sum(e**2 / a)) + 0.1)
    gamma, sigma2 = [1e-3, 2e-3], 0.5
    sol = dln.global_minimum(st, depth=1, width=3, gamma=gamma, sigma2=sigma2)
    assert not sol.is_trivial
    assert dln.expected_loss(
        sol.weights, st, gamma=gamma, sigma2=sigma2
    ) == pytest.approx(sol.loss, rel=1e-12)
    # the minimiser beats every small random perturbation of itself
    rng = np.random.default_rng(0)
    for _ in range(20):
        moved = [W + 1e-4 * rng.standard_normal(np.shape(W)) for W in sol.weights]
        assert dln.expected_loss(moved, st, gamma=gamma, sigma2=sigma2) > sol.loss


def test_profile_loss_has_its_stationary_points_at_the_roots():
    st = dln.random_stats(4, seed=1, cond=20, signal=1.0)
    kw = dict(depth=2, width=[3, 5], gamma=[0.05, 0.1, 0.02], sigma2=[0.3, 1.0])
    sol = dln.global_minimum(st, **kw)
    assert len(sol.roots) == 3  # the origin, a saddle-like root and the minimum
    np.testing.assert_allclose(
        dln.profile_loss(sol.roots, st, **kw), sol.root_losses, rtol=1e-12
    )
    for b in sol.roots[1:]:
        h = 1e-6 * b
        slope = (
            dln.profile_loss(b + h, st, **kw) - dln.profile_loss(b - h, st, **kw)
        ) / (2 * h)
        assert abs(slope) < 1e-6 * st.Ey2 / b


def test_zero_signal_is_trivial_and_deep_origin_is_a_root():
    st = dln.DataStats(np.eye(2), np.zeros(2), 1.0)
    sol = dln.global_minimum(st, depth=3, width=2, gamma=0.1, sigma2=0.1)
    assert (
        sol.is_trivial and sol.loss == 1.0 and all(np.all(W == 0) for W in sol.weights)
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(depth=1, width=2, gamma=0.0, sigma2=0.1), "must be > 0"),
        (dict(depth=0, width=2, gamma=0.1, sigma2=0.1), "depth"),
        (dict(depth=2, width=[2], gamma=0.1, sigma2=0.1), "width"),
        (dict(depth=1, width=2.5, gamma=0.1, sigma2=0.1), "width"),
        (dict(depth=1, width=2, gamma=0.1, sigma2=-1.0), "sigma2"),
        (dict(depth=1, width=2, gamma=[0.1, np.inf], sigma2=0.1), "finite"),
    ],
)
def test_bad_arguments(kwargs, message):
    st = dln.random_stats(2, seed=0)
    with pytest.raises(ValueError, match=message):
        dln.global_minimum(st, **kwargs)


def test_bad_moments_passed_directly():
    with pytest.raises(ValueError, match="symmetric"):
        dln.global_minimum(
            np.array([[1.0, 2.0], [0.0, 1.0]]),
            np.zeros(2),
            1.0,
            depth=1,
            width=1,
            gamma=1,
            sigma2=1,
        )
    with pytest.raises(ValueError, match="required"):
        dln.global_minimum(np.eye(2), depth=1, width=1, gamma=1, sigma2=1)

import numpy as np
import pytest
import torch

import dln


def _random_weights(rng, d, widths):
    fan_in = [d] + list(widths)
    ws = [rng.standard_normal((widths[i], fan_in[i])) for i in range(len(widths))]
    return ws + [rng.standard_normal(widths[-1])]


def test_depth_one_matches_hand_formula():
    # D = 1: L = E(U^T W x - y)^2 + sigma^2 sum_j U_j^2 W_j A0 W_j^T + gamma_w ||W||^2 +
    # gamma_u ||U||^2
    rng = np.random.default_rng(0)
    st = dln.random_stats(3, seed=0, cond=5)
    W, U = rng.standard_normal((4, 3)), rng.standard_normal(4)
    p = W.T @ U
    hand = (
        p @ st.A0 @ p
        - 2 * p @ st.Exy
        + st.Ey2
        + 0.7 * np.sum(U**2 * np.einsum("ji,ik,jk->j", W, st.A0, W))
        + 0.1 * np.sum(W**2)
        + 0.2 * np.sum(U**2)
    )
    assert dln.expected_loss([W, U], st, gamma=[0.1, 0.2], sigma2=0.7) == pytest.approx(
        hand, rel=1e-12
    )


def test_no_noise_no_decay_is_plain_squared_error():
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((40, 3)), rng.standard_normal(40)
    ws = _random_weights(rng, 3, [2, 5, 3])
    p = dln.end_to_end(ws)
    assert dln.expected_loss(
        ws, dln.data_stats(X, y), gamma=0, sigma2=0
    ) == pytest.approx(np.mean((X @ p - y) ** 2))


def test_exact_loss_agrees_with_monte_carlo():
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((64, 3)), rng.standard_normal(64)
    ws = _random_weights(rng, 3, [3, 2])
    exact = dln.expected_loss(ws, dln.data_stats(X, y), gamma=0.05, sigma2=[0.5, 1.5])
    for noise in ("dropout", "gaussian"):
        mc, se = dln.monte_carlo_loss(
            ws, X, y, gamma=0.05, sigma2=[0.5, 1.5], noise=noise, n_draws=800, seed=3
        )
        assert (
            abs(mc - exact) < 5 * se
        )  # a 5-sigma band: false alarm probability < 1e-6


def test_output_second_moment_gives_variance():
    rng = np.random.default_rng(4)
    ws = _random_weights(rng, 2, [3])
    Q0 = dln.output_second_moment(ws, 1.0)
    p = dln.end_to_end(ws)
    x = np.array([0.3, -1.2])
    h = ws[0] @ x
    exact_var = np.sum(
        ws[1] ** 2 * h**2
    )  # Var(sum_j U_j eps_j h_j) = sigma^2 sum_j U_j^2 h_j^2
    assert x @ Q0 @ x - (p @ x) ** 2 == pytest.approx(exact_var)


def test_torch_twin_equals_numpy_and_differentiates():
    rng = np.random.default_rng(5)
    st = dln.random_stats(3, seed=5)
    ws = _random_weights(rng, 3, [2, 3])
    params = [torch.tensor(W, dtype=torch.float64, requires_grad=True) for W in ws]
    L = dln.expected_loss_torch(params, st, gamma=[0.1, 0.2, 0.3], sigma2=[0.4, 0.5])
    assert L.detach().item() == pytest.approx(
        dln.expected_loss(ws, st, gamma=[0.1, 0.2, 0.3], sigma2=[0.4, 0.5]), rel=1e-12
    )
    L.backward()
    h = 1e-6
    plus = [W.copy() for W in ws]
    plus[1][0, 1] += h
    minus = [W.copy() for W in ws]
    minus[1][0, 1] -= h
    fd = (
        dln.expected_loss(plus, st, gamma=[0.1, 0.2, 0.3], sigma2=[0.4, 0.5])
        - dln.expected_loss(minus, st, gamma=[0.1, 0.2, 0.3], sigma2=[0.4, 0.5])
    ) / (2 * h)
    assert float(params[1].grad[0, 1]) == pytest.approx(fd, rel=1e-6)


def test_dropout_noise_has_the_stated_moments():
    draws = dln.sample_noise("dropout", 3.0, 400_000, np.random.default_rng(6))
    assert set(np.unique(draws)) == {
        0.0,
        4.0,
    }  # keep probability 1/(1+sigma^2) = 1/4, scaled by 4
    assert draws.mean() == pytest.approx(1.0, abs=5 * np.sqrt(3.0 / draws.size))


@pytest.mark.parametrize(
    "weights, kwargs, message",
    [
        (
            [np.ones((2, 3)), np.ones(2)],
            dict(gamma=0.1, sigma2=0.1),
            "W_1 must have shape",
        ),
        (
            [np.ones((2, 2)), np.ones(3)],
            dict(gamma=0.1, sigma2=0.1),
            "U must have shape",
        ),
        ([np.ones((2, 2)), np.ones(2)], dict(gamma=-0.1, sigma2=0.1), "non-negative"),
        (
            [np.ones((2, 2)), np.ones(2)],
            dict(gamma=[0.1, 0.1, 0.1], sigma2=0.1),
            "sequence of 2",
        ),
        ([np.ones((2, 2)), np.ones(2)], dict(gamma=0.1, sigma2=np.nan), "finite"),
        (
            [np.full((2, 2), np.inf), np.ones(2)],
            dict(gamma=0.1, sigma2=0.1),
            "NaN or infinite",
        ),
        (np.ones((2, 2)), dict(gamma=0.1, sigma2=0.1), "list"),
    ],
)
def test_bad_weights_raise(weights, kwargs, message):
    st = dln.DataStats(np.eye(2), np.zeros(2), 1.0)
    with pytest.raises(ValueError, match=message):
        dln.expected_loss(weights, st, **kwargs)


def test_bad_noise_kind_raises():
    with pytest.raises(ValueError, match="noise kind"):
        dln.sample_noise("uniform", 1.0, 3, np.random.default_rng(0))


def test_noise_needs_a_generator():
    with pytest.raises(ValueError, match="Generator"):
        dln.sample_noise("gaussian", 1.0, 3, 42)


def test_loss_gain_keeps_the_digits_that_subtraction_loses():
    from fractions import Fraction

    gw, gu, s2 = 0.19, 0.3, 0.46
    stats = dln.random_stats(5, seed=5011, cond=1e8, signal=1.03 * np.sqrt(gw * gu))
    sol = dln.global_minimum(stats, depth=1, width=1, gamma=[gw, gu], sigma2=s2)
    W, U = sol.weights
    # the gain in exact rational arithmetic, from the same float inputs
    F = np.vectorize(Fraction)
    Wf, Uf, A, e = F(W), F(U), F(stats.A0), F(stats.Exy)
    p = Wf.T @ Uf
    noise = sum(Uf[j] ** 2 * (Wf[j] @ A @ Wf[j]) for j in range(len(U)))
    decay = Fraction(gw) * np.sum(Wf * Wf) + Fraction(gu) * np.sum(Uf * Uf)
    exact = 2 * (p @ e) - p @ A @ p - Fraction(s2) * noise - decay
    gain = dln.loss_gain(sol.weights, stats, gamma=[gw, gu], sigma2=s2)
    subtracted = stats.Ey2 - dln.expected_loss(
        sol.weights, stats, gamma=[gw, gu], sigma2=s2
    )
    assert abs(gain - float(exact)) < 1e-12 * float(exact)
    # E[y^2] ~ 1e6 against a gain ~ 3e-4: subtraction keeps only ~6 digits of it
    assert abs(subtracted - float(exact)) > 1e-9 * float(exact)
    zero = [np.zeros_like(W), np.zeros_like(U)]
    assert dln.loss_gain(zero, stats, gamma=[gw, gu], sigma2=s2) == 0.0
    with pytest.raises(ValueError):
        dln.loss_gain(zero, stats, gamma=-1.0, sigma2=s2)

"""The network with biases (paper Appendix D): exact loss, its checks, the brute force
and the two-layer solution; the means in DataStats."""

import numpy as np
import pytest
import torch

import dln
from dln.bias import bias_gradient, bias_hessian, flatten_params, unflatten_params


def _net(rng, d, widths):
    fan_in = [d] + list(widths)
    ws = [rng.standard_normal((w, f)) / np.sqrt(f) for w, f in zip(widths, fan_in)]
    ws.append(rng.standard_normal(widths[-1]))
    bs = [rng.standard_normal(w) for w in widths] + [float(rng.standard_normal())]
    return ws, bs


def _sample(rng, n=64, d=3):
    X = rng.standard_normal((n, d)) + np.linspace(-1.0, 2.0, d)
    y = X @ rng.standard_normal(d) + 1.5 + 0.3 * rng.standard_normal(n)
    return X, y


def _uncentred(seed=1, d=3):
    st = dln.random_stats(d, seed=seed, cond=5, signal=1.2, label_noise=0.2)
    return st.with_means(np.linspace(0.8, -0.4, d), 1.1)


# --- DataStats with means ------------------------------------------------------------
def test_data_stats_carries_means_and_centres():
    rng = np.random.default_rng(0)
    X, y = _sample(rng)
    st = dln.data_stats(X, y)
    np.testing.assert_allclose(st.Ex, X.mean(axis=0))
    assert st.Ey == pytest.approx(y.mean())
    c = st.centred()
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    np.testing.assert_allclose(c.A0, Xc.T @ Xc / len(y), atol=1e-12)
    np.testing.assert_allclose(c.Exy, Xc.T @ yc / len(y), atol=1e-12)
    assert c.Ey2 == pytest.approx(yc @ yc / len(y))
    assert np.all(c.Ex == 0) and c.Ey == 0
    back = c.with_means(st.Ex, st.Ey)
    np.testing.assert_allclose(back.A0, st.A0, atol=1e-12)
    np.testing.assert_allclose(back.Exy, st.Exy, atol=1e-12)
    assert back.Ey2 == pytest.approx(st.Ey2)


def test_moments_without_means_still_work_and_say_so():
    st = dln.random_stats(3, seed=0)
    assert not st.has_means
    with pytest.raises(ValueError, match="means"):
        st.centred()
    ws, bs = _net(np.random.default_rng(0), 3, [2])
    with pytest.raises(ValueError, match="means"):
        dln.expected_loss_bias(ws, bs, st, gamma=0.1, sigma2=0.5)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(Ex=np.zeros(2)), "both"),
        (dict(Ey=0.0), "both"),
        (dict(Ex=np.zeros(3), Ey=0.0), "length"),
        (dict(Ex=np.array([np.nan, 0.0]), Ey=0.0), "NaN"),
        (dict(Ex=np.array([1.5, 0.0]), Ey=0.0), "inconsistent"),  # variance < 0
        (dict(Ex=np.zeros(2), Ey=1.5), "inconsistent"),  # E[y]^2 > E[y^2]
    ],
)
def test_bad_means_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        dln.DataStats(np.eye(2), np.zeros(2), 1.0, **kwargs)


def test_with_means_rejects_uncentred_and_bad_shapes():
    st = _uncentred()
    with pytest.raises(ValueError, match="centred"):
        st.with_means(np.zeros(3), 0.0)
    with pytest.raises(ValueError, match="length"):
        dln.random_stats(3, seed=0).with_means(np.zeros(2), 0.0)


def test_centred_survives_rounding_of_a_large_mean():
    rng = np.random.default_rng(3)
    X = 1e4 + 1e-3 * rng.standard_normal((50, 2))
    y = X[:, 0] - 1e4
    c = dln.data_stats(X, y).centred()
    assert np.all(np.linalg.eigvalsh(c.A0) >= 0)


# --- the exact loss -------------------------------------------------------------------
@pytest.mark.parametrize("widths", [[3], [3, 2], [2, 3, 2]])
def test_zero_biases_give_the_no_bias_loss(widths):
    rng = np.random.default_rng(1)
    st = dln.data_stats(*_sample(rng))
    ws, _ = _net(rng, 3, widths)
    zero = [np.zeros(w) for w in widths] + [0.0]
    kw = dict(gamma=0.05, sigma2=0.4)
    assert dln.expected_loss_bias(ws, zero, st, **kw) == pytest.approx(
        dln.expected_loss(ws, st, **kw), rel=1e-13
    )


def test_depth_one_matches_the_paper_eq_108():
    rng = np.random.default_rng(2)
    X, y = _sample(rng)
    st = dln.data_stats(X, y)
    (W, U), (bw, bu) = _net(rng, 3, [4])
    gw, gu, gbw, gbu, s2 = 0.1, 0.2, 0.03, 0.04, 0.7
    pre = X @ W.T + bw  # (n, d_1)
    hand = (
        np.mean((pre @ U + bu - y) ** 2)
        + s2 * np.mean((pre**2) @ U**2)
        + gw * np.sum(W**2)
        + gu * np.sum(U**2)
        + gbw * np.sum(bw**2)
        + gbu * bu**2
    )
    got = dln.expected_loss_bias(
        [W, U], [bw, bu], st, gamma=[gw, gu], sigma2=s2, bias_gamma=[gbw, gbu]
    )
    assert got == pytest.approx(hand, rel=1e-12)


@pytest.mark.parametrize("widths, s2", [([3, 2], [0.5, 1.0]), ([2, 3, 2], 0.6)])
def test_exact_loss_agrees_with_monte_carlo(widths, s2):
    rng = np.random.default_rng(4)
    X, y = _sample(rng)
    ws, bs = _net(rng, 3, widths)
    kw = dict(gamma=0.05, sigma2=s2, bias_gamma=0.02)
    exact = dln.expected_loss_bias(ws, bs, dln.data_stats(X, y), **kw)
    for noise in ("dropout", "gaussian"):
        mc, se = dln.monte_carlo_loss_bias(
            ws, bs, X, y, noise=noise, n_draws=800, seed=5, **kw
        )
        assert abs(mc - exact) < 5 * se  # false alarm probability < 1e-6


def test_torch_twin_gradient_and_hessian():
    rng = np.random.default_rng(6)
    st = dln.data_stats(*_sample(rng))
    ws, bs = _net(rng, 3, [2, 3])
    kw = dict(gamma=[0.1, 0.2, 0.3], sigma2=[0.4, 0.5], bias_gamma=[0.05, 0.0, 0.1])
    tw = [torch.tensor(W, requires_grad=True) for W in ws]
    tb = [torch.tensor(np.asarray(b, float), requires_grad=True) for b in bs]
    L = dln.expected_loss_bias_torch(tw, tb, st, **kw)
    assert L.item() == pytest.approx(
        dln.expected_loss_bias(ws, bs, st, **kw), rel=1e-13
    )
    g = bias_gradient(ws, bs, st, **kw)
    theta = flatten_params(ws, bs)
    h = 1e-6
    fd = np.empty_like(theta)
    for i in range(theta.size):
        e = np.zeros_like(theta)
        e[i] = h
        plus = dln.expected_loss_bias(*unflatten_params(theta + e, ws, bs), st, **kw)
        minus = dln.expected_loss_bias(*unflatten_params(theta - e, ws, bs), st, **kw)
        fd[i] = (plus - minus) / (2 * h)
    assert np.max(np.abs(g - fd)) < 1e-7 * np.max(np.abs(fd))
    H = bias_hessian(ws, bs, st, **kw)
    i = 7
    e = np.zeros_like(theta)
    e[i] = h
    col = (
        bias_gradient(*unflatten_params(theta + e, ws, bs), st, **kw)
        - bias_gradient(*unflatten_params(theta - e, ws, bs), st, **kw)
    ) / (2 * h)
    assert np.max(np.abs(H[:, i] - col)) < 1e-6 * np.max(np.abs(H))


@pytest.mark.parametrize("widths", [[3], [3, 2], [2, 3, 2]])
def test_centring_identity(widths):
    rng = np.random.default_rng(7)
    st = dln.data_stats(*_sample(rng))
    ws, bs = _net(rng, 3, widths)
    gamma, s2, bg = 0.05, 0.6, [0.02] * len(widths) + [0.07]
    total = dln.expected_loss_bias(ws, bs, st, gamma=gamma, sigma2=s2, bias_gamma=bg)
    centred = dln.expected_loss(ws, st.centred(), gamma=gamma, sigma2=s2)
    point = dln.DataStats(
        np.outer(st.Ex, st.Ex), st.Ex * st.Ey, st.Ey**2, Ex=st.Ex, Ey=st.Ey
    )
    offset = dln.expected_loss_bias(ws, bs, point, gamma=0.0, sigma2=s2, bias_gamma=bg)
    assert total == pytest.approx(centred + offset, rel=1e-12)


def test_centring_biases_make_the_output_at_the_mean_deterministic():
    rng = np.random.default_rng(8)
    X, y = _sample(rng)
    st = dln.data_stats(X, y)
    ws, _ = _net(rng, 3, [3, 2])
    bs = dln.centring_biases(ws, st)
    out, se = dln.monte_carlo_loss_bias(
        ws, bs, st.Ex[None, :], np.array([st.Ey]), gamma=0.0, sigma2=1.0, n_draws=50
    )
    assert out < 1e-20 and se < 1e-20
    with pytest.raises(ValueError, match="means"):
        dln.centring_biases(ws, dln.random_stats(3, seed=0))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda ws, bs, st: dln.expected_loss_bias(ws, bs[:-1], st, **KW), "entries"),
        (
            lambda ws, bs, st: dln.expected_loss_bias(
                ws, [np.zeros(4)] + bs[1:], st, **KW
            ),
            "beta_1",
        ),
        (
            lambda ws, bs, st: dln.expected_loss_bias(ws, bs, st, **KW, bias_gamma=-1),
            "bias_gamma",
        ),
        (
            lambda ws, bs, st: dln.expected_loss_bias(
                ws, bs[:-1] + [np.ones(2)], st, **KW
            ),
            "beta_u",
        ),
        (lambda ws, bs, st: dln.expected_loss_bias_torch(ws, bs, st, **KW), "torch"),
    ],
)
def test_bad_input_raises(call, match):
    rng = np.random.default_rng(9)
    st = dln.data_stats(*_sample(rng))
    ws, bs = _net(rng, 3, [3])
    with pytest.raises(ValueError, match=match):
        call(ws, bs, st)


KW = dict(gamma=0.1, sigma2=0.5)


# --- brute force and the two-layer solution ---------------------------------------
@pytest.mark.parametrize("bias_gamma", [None, [0.02, 0.3]])
def test_two_layer_solution_matches_brute_force(bias_gamma):
    st = _uncentred()
    arch = dict(width=3, gamma=[0.05, 0.1], sigma2=0.5, bias_gamma=bias_gamma)
    sol = dln.two_layer_bias_minimum(st, **arch)
    bf = dln.minimize_exact_bias(st, depth=1, n_starts=6, seed=2, **arch)
    assert bf.loss >= sol.loss - 1e-12 and bf.loss <= sol.loss + 1e-10
    assert bf.gradient_norm < 1e-10  # the Newton steps on the gradient finish
    assert not sol.is_trivial and sol.roots[0] == 0
    # the same function: U_j W_j:, U_j beta_j and beta_u do not depend on the signs
    U = bf.weights[1]
    np.testing.assert_allclose(U[:, None] * bf.weights[0], sol.b * sol.weights[0], 1e-6)
    np.testing.assert_allclose(U * bf.biases[0], sol.b * sol.biases[0], atol=1e-7)
    assert bf.biases[1] == pytest.approx(sol.biases[1], abs=1e-7)
    assert "BiasSolution(" in repr(sol) and "array" not in repr(sol)


def test_two_layer_solution_trivial_below_threshold():
    st = dln.random_stats(2, seed=0, signal=0.05).with_means(np.zeros(2), 0.5)
    sol = dln.two_layer_bias_minimum(st, width=2, gamma=0.5, sigma2=0.5)
    assert sol.is_trivial
    assert sol.biases[1] == pytest.approx(0.5 / 1.5)  # E[y] / (1 + gamma^b_u)
    bf = dln.minimize_exact_bias(st, depth=1, width=2, gamma=0.5, sigma2=0.5)
    assert bf.loss == pytest.approx(sol.loss, abs=1e-10)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(gamma=[0.0, 0.1]), "gamma_w"),
        (dict(bias_gamma=[0.0, 0.1]), "hidden bias"),
        (dict(n_grid=3), "n_grid"),
        (dict(width=0), "width"),
    ],
)
def test_two_layer_solution_bad_input(kwargs, match):
    args = dict(width=2, gamma=0.1, sigma2=0.5) | kwargs
    with pytest.raises(ValueError, match=match):
        dln.two_layer_bias_minimum(_uncentred(d=2), **args)


def test_brute_force_on_centred_data_has_zero_biases():
    st = _uncentred().centred()
    arch = dict(depth=2, width=[3, 2], gamma=[0.01, 0.02, 0.03], sigma2=[0.3, 0.5])
    bf = dln.minimize_exact_bias(st, **arch, bias_gamma=[0.05, 0.01, 0.2], n_starts=4)
    sol = dln.global_minimum(st, **arch)
    assert abs(bf.loss - sol.loss) < 1e-9
    assert max(np.max(np.abs(b)) for b in bf.biases) < 1e-7
    assert bf.gradient_norm < 1e-6


def test_brute_force_options():
    st = _uncentred(d=2)
    arch = dict(depth=1, width=2, gamma=0.1, sigma2=0.5)
    zeros = [np.zeros((2, 2, 2)), np.zeros((2, 2)), np.zeros((2, 2)), np.zeros(2)]
    bf = dln.minimize_exact_bias(st, **arch, n_starts=2, init=zeros, polish=False)
    # from zero weights only the output bias moves: beta_u = E[y] / (1 + gamma_u)
    assert bf.biases[1] == pytest.approx(st.Ey / 1.1, rel=1e-8)
    with pytest.raises(ValueError, match="init"):
        dln.minimize_exact_bias(st, **arch, n_starts=2, init=zeros[:3])
    with pytest.raises(ValueError, match="shape"):
        dln.minimize_exact_bias(st, **arch, n_starts=2, init=zeros[:3] + [np.zeros(3)])
    with pytest.raises(ValueError, match="means"):
        dln.minimize_exact_bias(dln.random_stats(2, seed=0), **arch)
    with pytest.raises(ValueError, match="polish"):
        dln.minimize_exact_bias(st, **arch, polish="yes")

"""dln.condensation: multiplicity, the orientation count, the direction field and its
invariant lines, the gradient flow (Zhou et al. 2022)."""

import math

import numpy as np
import pytest
import sympy as sp

import dln
from dln import condensation as C

x = sp.Symbol("x")


# --------------------------------------------------------------------------------------
# multiplicity (Definition 1)
# --------------------------------------------------------------------------------------

KNOWN = {
    "linear": (1, 1),
    "tanh": (1, 1),
    "sigmoid": (1, sp.Rational(1, 4)),
    "softplus": (1, sp.Rational(1, 2)),
    "silu": (1, sp.Rational(1, 2)),
    "swish": (1, sp.Rational(1, 2)),
    "gelu": (1, sp.Rational(1, 2)),
    "xtanh": (2, 2),
    "x2tanh": (3, 6),
}


@pytest.mark.parametrize("name", sorted(KNOWN))
def test_multiplicity_of_named_activations(name):
    expr, sym = C.activation_expr(name)
    lead = C.leading_order(expr, sym)
    p, value = KNOWN[name]
    assert lead.p == p and dln.multiplicity(expr, sym) == p
    assert sp.simplify(lead.derivative - value) == 0
    assert sp.simplify(lead.coefficient - value / sp.factorial(p - 1)) == 0


@pytest.mark.parametrize(
    "expr, p",
    [
        (x**4 + 3, 4),
        (3 * x**2 + x**5, 2),
        (1 - 2 * x**7, 7),
        (sp.sin(x) - x, 3),
        (sp.cos(x), 2),
        (x * sp.sin(x), 2),
        (sp.exp(x) - 1, 1),
        (sp.sin(x) / x, 2),  # a removable singularity, read as its extension
        (x**3 * sp.tanh(x), 4),
        (sp.Piecewise((x**3, x < 0), (x**3 + x**5, True)), 3),  # smooth enough at 0
    ],
)
def test_multiplicity_against_taylor_series(expr, p):
    """Independent route: the Taylor coefficients from sympy's series (or the branch
    polynomials), not the one-sided limits that leading_order uses."""
    assert dln.multiplicity(expr, x) == p
    if not expr.has(sp.Piecewise):
        series = sp.series(expr, x, 0, p + 1).removeO()
        coeffs = [series.coeff(x, k) for k in range(1, p + 1)]
        assert all(c == 0 for c in coeffs[:-1]) and coeffs[-1] != 0
        lead = C.leading_order(expr, x)
        assert sp.simplify(lead.derivative - sp.factorial(p) * coeffs[-1]) == 0


@pytest.mark.parametrize(
    "expr, message",
    [
        (sp.Max(0, x), "not differentiable at 0"),
        (sp.Piecewise((0, x < 0), (x, True)), "not differentiable at 0"),
        (sp.Abs(x), "not differentiable at 0"),
        (x * sp.Abs(x), "not 2 times differentiable"),
        (sp.Heaviside(x), "not continuous"),
        (x**2 * sp.sin(1 / x), "no finite real limit"),
        (sp.cbrt(x) ** 4, "not 2 times differentiable"),
        (sp.Integer(0), "constant"),
        (sp.Integer(3), "constant"),
        (sp.sin(x) ** 2 + sp.cos(x) ** 2 - 1, "identically zero"),
    ],
)
def test_multiplicity_undefined_raises(expr, message):
    with pytest.raises(ValueError, match=message):
        dln.multiplicity(expr, x)


def test_multiplicity_no_finite_order():
    with pytest.raises(ValueError, match="no finite multiplicity"):
        dln.multiplicity(sp.exp(-1 / x**2), x, max_order=4)


def test_multiplicity_bad_input():
    a = sp.Symbol("a")
    with pytest.raises(ValueError, match="substitute numbers"):
        dln.multiplicity(sp.tanh(a * x), x)
    with pytest.raises(ValueError, match="Symbol"):
        dln.multiplicity(sp.tanh(x), "x")
    with pytest.raises(ValueError, match="sympy expression"):
        dln.multiplicity("tanh(x)", x)
    with pytest.raises(ValueError, match="max_order"):
        dln.multiplicity(sp.tanh(x), x, max_order=0)
    with pytest.raises(ValueError, match="unknown activation"):
        C.activation_expr("tanhh")


@pytest.mark.parametrize("name", sorted(C.ACTIVATIONS))
def test_activation_functions_match_finite_differences(name):
    sigma, dsigma = C.activation_functions(name)
    z = np.linspace(-2.3, 1.9, 41)
    z = z[np.abs(z) > 1e-3]  # avoid ReLU's kink
    h = 1e-5
    fd = (sigma(z + h) - sigma(z - h)) / (2 * h)
    # central difference error h^2 |sigma'''| / 6 + rounding 2^-52 / h: below 1e-9 here
    assert np.max(np.abs(fd - dsigma(z))) < 1e-8
    assert sigma(z).shape == z.shape and dsigma(0.0).shape == ()


def test_activation_functions_of_expression_and_errors():
    sigma, dsigma = C.activation_functions((x**3, x))
    assert np.allclose(sigma(np.array([2.0])), 8.0)
    assert np.allclose(dsigma(np.array([2.0])), 12.0)
    with pytest.raises(ValueError, match="pair"):
        C.activation_functions(3)


# --------------------------------------------------------------------------------------
# orientations
# --------------------------------------------------------------------------------------


def _unit(v):
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _configuration(
    rng,
    k=3,
    dim=6,
    sizes=(9, 7, 12),
    opposite=(0,),
    n_opp=6,
    noise=0.0,
    n_outliers=0,
    n_zero=0,
):
    """Groups of rows around k well-separated centres (and the opposite of some), with
    random positive scales, optional angular noise, outliers and negligible rows.
    Returns W and the true group of each row (-1 outlier, -2 negligible)."""
    while True:
        centres = _unit(rng.standard_normal((k, dim)))
        S = np.abs(centres @ centres.T) - np.eye(k)
        if S.max() < 0.5:  # at least 60 degrees between any two lines
            break
    rows, truth = [], []
    groups = [centres[i] for i in range(k)] + [-centres[i] for i in opposite]
    counts = list(sizes) + [n_opp] * len(opposite)
    for g, (c, n) in enumerate(zip(groups, counts)):
        for _ in range(n):
            rows.append(
                _unit(c + noise * rng.standard_normal(dim)) * rng.uniform(0.5, 3)
            )
            truth.append(g)
    for _ in range(n_outliers):
        while True:  # an outlier far from every group (cos < 0.7)
            v = _unit(rng.standard_normal(dim))
            if np.max(np.abs(np.array(groups) @ v)) < 0.7:
                break
        rows.append(v * rng.uniform(0.5, 3))
        truth.append(-1)
    for _ in range(n_zero):
        rows.append(1e-6 * rng.standard_normal(dim))
        truth.append(-2)
    perm = rng.permutation(len(rows))
    return np.array(rows)[perm], np.array(truth)[perm], groups


def _same_partition(labels, truth):
    """labels equal truth up to renaming the non-negative groups."""
    if not np.array_equal(labels < 0, truth < 0) or not np.array_equal(
        labels[labels < 0], truth[truth < 0]
    ):
        return False
    pairs = set(zip(labels[labels >= 0], truth[truth >= 0]))
    return len(pairs) == len({a for a, _ in pairs}) == len({b for _, b in pairs})


@pytest.mark.parametrize("seed", range(8))
def test_known_configuration_with_noise_outliers_and_negligible_rows(seed):
    rng = np.random.default_rng(seed)
    # noise 0.005 per coordinate in 6-d: angles ~ 0.005 sqrt(5) = 0.011 rad, inside
    # tightness * alpha = 0.1 * arccos(0.95) = 0.032 rad
    W, truth, groups = _configuration(rng, noise=0.005, n_outliers=3, n_zero=2)
    res = C.cluster_orientations(W)
    assert res.n_orientations == 4 and dln.count_orientations(W) == 4
    assert res.n_lines == 3  # centre 0 and its opposite share a line
    assert res.n_outliers == 3 and res.n_negligible == 2
    assert _same_partition(res.labels, truth)
    # each centre is one of the true directions
    cos = res.centres @ np.array(groups).T
    assert np.all(cos.max(axis=1) > 0.99)
    assert np.sum(res.sizes) == np.sum(truth >= 0)


def test_count_fails_beyond_the_threshold():
    """A check that can fail: two orientations 10 degrees apart fall in one
    neighbourhood at cos_threshold 0.95 (18 degrees), which is then too diffuse to be
    one orientation (median angle 5 degrees); at 0.995 (5.7 degrees) they are two."""
    th = np.radians([0.0, 10.0])
    W = np.repeat(np.stack([np.cos(th), np.sin(th)], axis=1), 10, axis=0)
    assert dln.count_orientations(W, cos_threshold=0.95) == 0
    assert dln.count_orientations(W, cos_threshold=0.95, tightness=1.0) == 1
    assert dln.count_orientations(W, cos_threshold=0.995) == 2


@pytest.mark.parametrize("dim", [2, 3, 6])
def test_diffuse_directions_count_nothing_and_noise_beyond_tightness_fails(dim):
    """Random directions (no condensation) give no orientation; the same groups with
    noise far beyond the tightness are not counted either (a check that can fail)."""
    counts = [
        dln.count_orientations(np.random.default_rng(s).standard_normal((100, dim)))
        for s in range(20)
    ]
    # an even spread has median angle ~ alpha / 2 per cluster, five times the limit.
    # In 2-d a chance clump is rare: 0.04 false orientations per layer over 300 layers
    # (none in 3-d and 6-d); 20 layers expect 0.8, more than 5 has probability ~ 1e-3
    assert sum(counts) <= 5
    rng = np.random.default_rng(1)
    W, _, _ = _configuration(rng, noise=0.1)  # angles ~ 0.2 rad, above alpha = 0.32
    res = C.cluster_orientations(W)
    assert res.n_orientations < 4
    assert C.cluster_orientations(W, tightness=1.0).n_orientations >= 4


def test_opposite_directions_are_two_orientations_on_one_line():
    W = np.array([[1.0, 2.0]] * 6 + [[-0.5, -1.0]] * 6)
    res = C.cluster_orientations(W)
    assert res.n_orientations == 2 and res.n_lines == 1
    assert np.allclose(res.centres[0], -res.centres[1])


def test_small_clusters_are_outliers_and_min_fraction():
    W = np.array([[1.0, 0.0]] * 40 + [[0.0, 1.0]] * 2)  # 2 < ceil(0.05 * 42) = 3
    res = C.cluster_orientations(W)
    assert res.n_orientations == 1 and res.n_outliers == 2 and res.min_size == 3
    assert C.cluster_orientations(W, min_fraction=0).n_orientations == 2
    assert dln.count_orientations(np.array([[1.0, 0.0]])) == 0  # a lone neuron


@pytest.mark.parametrize("seed", range(6))
def test_invariances(seed):
    rng = np.random.default_rng(100 + seed)
    W, _, _ = _configuration(rng, noise=0.005, n_outliers=4, n_zero=1)
    base = C.cluster_orientations(W)
    # permutation of the neurons
    perm = rng.permutation(len(W))
    res = C.cluster_orientations(W[perm])
    assert np.array_equal(res.labels, base.labels[perm])
    assert np.allclose(res.centres, base.centres)
    # one positive factor for all rows
    res = C.cluster_orientations(3.7 * W)
    assert np.array_equal(res.labels, base.labels)
    # per-row positive factors, with the negligible rule switched off
    base0 = C.cluster_orientations(W, norm_tol=0)
    res = C.cluster_orientations(W * rng.uniform(0.1, 10, (len(W), 1)), norm_tol=0)
    assert np.array_equal(res.labels, base0.labels)
    # an orthogonal change of coordinates
    Q, _ = np.linalg.qr(rng.standard_normal((W.shape[1], W.shape[1])))
    res = C.cluster_orientations(W @ Q.T)
    assert np.array_equal(res.labels, base.labels)
    assert np.allclose(res.centres, base.centres @ Q.T)
    # all signs flipped: the same partition, opposite centres
    res = C.cluster_orientations(-W)
    assert res.n_orientations == base.n_orientations and res.n_lines == base.n_lines
    assert _same_partition(res.labels, base.labels)


def test_order_by_cluster_groups_orientations():
    rng = np.random.default_rng(7)
    W, _, _ = _configuration(rng, noise=0.005, n_outliers=2, n_zero=1)
    res = C.cluster_orientations(W)
    order = C.order_by_cluster(W)
    assert sorted(order) == list(range(len(W)))
    lab = res.labels[order]
    # each orientation is one contiguous block, outliers then negligible at the end
    blocks = [lab[0]] + [b for a, b in zip(lab[:-1], lab[1:]) if a != b]
    assert len(blocks) == len(set(blocks))
    assert list(lab[-3:]) == [-1, -1, -2]
    # the two orientations of a line are adjacent blocks
    for line in np.unique(res.lines):
        members = np.flatnonzero(res.lines == line)
        if members.size == 2:
            i, j = (blocks.index(m) for m in members)
            assert abs(i - j) == 1


def test_cosine_similarity_and_heat_map():
    W = np.array([[1.0, 0.0], [0.0, 2.0], [-3.0, 0.0]])
    assert np.allclose(C.cosine_similarity(W), [[1, 0, -1], [0, 1, 0], [-1, 0, 1]])
    with pytest.raises(ValueError, match="zero row"):
        C.cosine_similarity([[1.0, 0.0], [0.0, 0.0]])
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    image, perm = C.plot_similarity(np.repeat(W, 4, axis=0), ax=ax)
    assert image.get_array().shape == (12, 12) and sorted(perm) == list(range(12))
    plt.close(fig)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(W=[1.0, 2.0]), "2-dimensional"),
        (dict(W=[[np.nan, 1.0]]), "NaN"),
        (dict(W=np.zeros((3, 2))), "every row of W is zero"),
        (dict(W=np.ones((3, 2)), cos_threshold=1.0), "cos_threshold"),
        (dict(W=np.ones((3, 2)), cos_threshold=-0.5), "cos_threshold"),
        (dict(W=np.ones((3, 2)), norm_tol=1.5), "norm_tol"),
        (dict(W=np.ones((3, 2)), min_fraction=2.0), "min_fraction"),
        (dict(W=np.ones((0, 2))), "at least one row"),
        (dict(W=np.ones((3, 2)), tightness=0.0), "tightness"),
    ],
)
def test_cluster_orientations_validates(kwargs, message):
    with pytest.raises(ValueError, match=message):
        C.cluster_orientations(**kwargs)


# --------------------------------------------------------------------------------------
# direction field and invariant lines
# --------------------------------------------------------------------------------------


def _data(seed, n=40):
    rng = np.random.default_rng(seed)
    xs = rng.uniform(-1, 1.5, n)
    return xs, rng.standard_normal(n)


@pytest.mark.parametrize("p", [1, 2, 3, 4])
def test_leading_field_is_gradient_of_phi_and_matches_polynomial_activation(p):
    xs, e = _data(p)
    c = 0.7
    omega = np.array([[0.3, -0.8], [1.1, 0.4]])
    F = C.leading_order_field(omega, xs, e, p, coefficient=c)
    Xt = np.stack([xs, np.ones_like(xs)], axis=1)

    def phi(w):
        return -(c / (len(xs) * p)) * np.sum(e * (Xt @ w) ** p)

    h = 1e-6
    for k, w in enumerate(omega):
        grad = [(phi(w + h * u) - phi(w - h * u)) / (2 * h) for u in np.eye(2)]
        assert np.allclose(F[k], grad, rtol=1e-7, atol=1e-9)
    # sigma(z) = (c/p) z^p has sigma' = c z^(p-1) exactly: the full field equals it
    G = C.direction_field(omega, xs, e, lambda z: c * z ** (p - 1))
    assert np.allclose(F, G, rtol=1e-13, atol=1e-15)


def test_full_field_tends_to_leading_order_near_zero():
    xs, e = _data(3)
    _, dsig = C.activation_functions("x2tanh")
    u = np.array([0.6, -0.8])
    errs = []
    for r in (1e-1, 1e-2):
        full = C.direction_field(r * u, xs, e, dsig)
        lead = C.leading_order_field(r * u, xs, e, 3, coefficient=3.0)
        errs.append(np.linalg.norm(full - lead) / np.linalg.norm(lead))
    # the next term of sigma' is O(z^4) against 3 z^2: relative error O(r^2)
    assert errs[1] < 2e-2 * errs[0] and errs[1] < 1e-3


@pytest.mark.parametrize("p", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("seed", range(3))
def test_invariant_lines_form_and_roots(p, seed):
    xs, e = _data(10 * p + seed, n=25)
    c = [1.0, -0.5][seed % 2]
    res = C.invariant_lines(xs, e, p, coefficient=c)
    # (1) the binary form against sympy's expansion of u2 F1 - u1 F2
    u1, u2 = sp.symbols("u1 u2")
    xq = [sp.Float(v, 30) for v in xs]
    eq = [sp.Float(v, 30) for v in e]
    F1 = -c * sum(ei * xi * (u1 * xi + u2) ** (p - 1) for xi, ei in zip(xq, eq))
    F2 = -c * sum(ei * (u1 * xi + u2) ** (p - 1) for xi, ei in zip(xq, eq))
    Fs = [F1 / len(xs), F2 / len(xs)]
    G = sp.Poly(sp.expand(u2 * Fs[0] - u1 * Fs[1]), u1, u2)
    g_sympy = [float(G.coeff_monomial(u1**k * u2 ** (p - k))) for k in range(p + 1)]
    assert np.allclose(res.form, g_sympy, rtol=1e-9, atol=1e-12)
    # (2) at each line the field is radial: cross product zero
    F = C.leading_order_field(res.orientations, xs, e, p, coefficient=c)
    cross = F[:, 0] * res.orientations[:, 1] - F[:, 1] * res.orientations[:, 0]
    assert np.max(np.abs(cross)) < 1e-10 * np.max(np.abs(F))
    # (3) brute force: sign changes of the cross product on a fine grid of [0, pi)
    th = np.linspace(0, np.pi, 200001)
    U = np.stack([np.cos(th), np.sin(th)], axis=1)
    Fg = C.leading_order_field(U, xs, e, p, coefficient=c)
    cg = Fg[:, 0] * U[:, 1] - Fg[:, 1] * U[:, 0]
    changes = int(np.sum(np.sign(cg[1:]) != np.sign(cg[:-1])))
    assert res.n_lines == changes <= p
    # (4) attraction: a > 0 neurons climb Phi on the circle (local maxima)
    h = 1e-5
    for u, kind in zip(res.orientations, res.attracts):
        t0 = math.atan2(u[1], u[0])
        phi = [
            -(c / (len(xs) * p)) * np.sum(e * (np.cos(t) * xs + np.sin(t)) ** p)
            for t in (t0 - h, t0, t0 + h)
        ]
        curv = (phi[0] - 2 * phi[1] + phi[2]) / h**2
        assert kind == (1 if curv < 0 else -1)
    # odd p: opposite orientations attract opposite signs of a; even p: the same
    half = len(res.attracts) // 2
    sign = -1 if p % 2 else 1
    assert np.array_equal(res.attracts[half:], sign * res.attracts[:half])
    assert len(res.uhat_roots) <= p and not res.degenerate


@pytest.mark.parametrize("p", [1, 2, 3])
def test_u2_zero_is_found(p):
    """The direction (1, 0) (no bias) is invariant when sum_i e_i x_i^(p-1) = 0; the
    paper's equation in u1/u2 then loses its top degree."""
    xs, e = _data(5)
    v = xs ** (p - 1)
    e = e - v * (v @ e) / (v @ v)  # now mu_{p-1} = 0
    res = C.invariant_lines(xs, e, p)
    assert res.u2_zero
    assert np.min(np.minimum(res.angles, np.pi - res.angles)) < 1e-9
    assert len(res.uhat_roots) <= p - 1
    assert res.n_lines <= p


def test_degenerate_forms():
    xs, e = _data(6)
    V = np.stack([xs**k for k in range(4)], axis=1)  # moments mu_0..mu_3 vanish
    e0 = e - V @ np.linalg.lstsq(V, e, rcond=None)[0]
    assert C.invariant_lines(xs, e0, 3).degenerate
    # p = 2, M = (1/n) sum e xt xt^T proportional to I: radial everywhere, yet F != 0
    A = np.stack([xs, xs**2 - 1], axis=0)  # e orthogonal to both: mu_1 = 0, mu_2 = mu_0
    e2 = e - A.T @ np.linalg.solve(A @ A.T, A @ e)
    res = C.invariant_lines(xs, e2, 2)
    assert res.degenerate and res.n_lines == 0
    F = C.leading_order_field(np.array([1.0, 0.0]), xs, e2, 2)
    assert np.linalg.norm(F) > 1e-3


def test_field_validation():
    xs, e = _data(0)
    with pytest.raises(ValueError, match="one residual per sample"):
        C.leading_order_field([1.0, 0.0], xs, e[:-1], 2)
    with pytest.raises(ValueError, match="last axis"):
        C.leading_order_field([1.0, 0.0, 2.0], xs, e, 2)
    with pytest.raises(ValueError, match="positive integer"):
        C.invariant_lines(xs, e, 0)
    with pytest.raises(ValueError, match="non-zero"):
        C.invariant_lines(xs, e, 2, coefficient=0.0)
    with pytest.raises(ValueError, match="callable"):
        C.direction_field([1.0, 0.0], xs, e, 3.0)


# --------------------------------------------------------------------------------------
# initial stage, polynomial fits, gradient flow
# --------------------------------------------------------------------------------------


def test_initial_stage_end():
    assert C.initial_stage_end([1.0, 0.9, 0.71, 0.7, 0.2]) == 3
    assert C.initial_stage_end([2.0, 1.9, 1.5]) is None
    assert C.initial_stage_end([1.0, 0.5], fraction=0.4) is None
    with pytest.raises(ValueError, match="fraction"):
        C.initial_stage_end([1.0, 0.5], fraction=1.0)
    with pytest.raises(ValueError, match="positive initial loss"):
        C.initial_stage_end([0.0, 0.5])


def test_polynomial_fit_residual():
    xs = np.linspace(-1, 1.5, 50)
    f = 0.3 * xs**3 - xs + 2
    r = C.polynomial_fit_residual(xs, f, [0, 1, 2, 3, 4])
    assert r[0] == pytest.approx(1.0) and r[2] > 1e-2 and r[3] < 1e-12 and r[4] < 1e-12
    assert np.ndim(C.polynomial_fit_residual(xs, f, 1)) == 0
    with pytest.raises(ValueError, match="constant"):
        C.polynomial_fit_residual(xs, np.ones_like(xs), 1)
    with pytest.raises(ValueError, match="non-negative integers"):
        C.polynomial_fit_residual(xs, f, 1.5)


def _small_net(seed, m=6, eps=0.3):
    rng = np.random.default_rng(seed)
    xs = rng.uniform(-1, 1.5, 12)
    y = np.sin(3 * xs)
    return xs, y, eps * rng.standard_normal((m, 2)), eps * rng.standard_normal(m)


def test_gradient_flow_matches_small_step_gradient_descent():
    """Independent route: gradient descent with torch autograd, two step sizes, and
    Richardson extrapolation (Euler's error is linear in the step)."""
    import torch

    xs, y, W0, a0 = _small_net(0)
    T = 0.5
    flow = C.gradient_flow(xs, y, W0, a0, "tanh", t_max=T, rtol=1e-10, atol=1e-12)
    X = torch.tensor(np.stack([xs, np.ones_like(xs)], axis=1))
    Y = torch.tensor(y)

    def descend(n_steps):
        W = torch.tensor(W0, requires_grad=True)
        a = torch.tensor(a0, requires_grad=True)
        for _ in range(n_steps):
            loss = 0.5 * torch.mean((torch.tanh(X @ W.T) @ a - Y) ** 2)
            gW, ga = torch.autograd.grad(loss, (W, a))
            with torch.no_grad():
                W -= (T / n_steps) * gW
                a -= (T / n_steps) * ga
        return np.concatenate([W.detach().numpy().ravel(), a.detach().numpy()])

    coarse, fine = descend(200), descend(400)
    extrapolated = 2 * fine - coarse
    exact = np.concatenate([flow.W[-1].ravel(), flow.a[-1]])
    change = np.linalg.norm(exact - np.concatenate([W0.ravel(), a0]))
    euler_error = np.linalg.norm(fine - exact)
    # Euler's error ~ (T / 400) * change; after extrapolation O((T / 400)^2)
    assert euler_error < 1e-2 * change
    assert np.linalg.norm(extrapolated - exact) < 1e-2 * euler_error
    assert np.all(np.diff(flow.loss) <= 1e-12)  # gradient flow never raises the loss


def test_gradient_flow_conserves_balance_for_a_homogeneous_activation():
    """sigma(z) = z^3: d/dt (|w_j|^2 - 3 a_j^2) = 0 along the flow."""
    xs, y, W0, a0 = _small_net(1)
    flow = C.gradient_flow(xs, y, W0, a0, (x**3, x), t_max=50.0, times=[10, 20, 30])
    q = np.sum(flow.W**2, axis=2) - 3 * flow.a**2
    assert np.max(np.abs(q - q[0])) < 1e-6 * np.max(np.abs(q[0]))
    assert flow.loss[-1] < flow.loss[0]


def test_gradient_flow_levels_and_stop():
    xs, y, W0, a0 = _small_net(2)
    flow = C.gradient_flow(
        xs, y, W0, a0, "tanh", t_max=1e4, levels=(0.9, 0.8), stop_level=0.8
    )
    L0 = flow.loss[0]
    assert np.all(np.isfinite(flow.level_times))
    assert flow.level_times[0] < flow.level_times[1] == pytest.approx(flow.times[-1])
    assert flow.loss[-1] == pytest.approx(0.8 * L0, rel=1e-6)
    k = int(np.argmin(np.abs(flow.times - flow.level_times[0])))
    assert flow.loss[k] == pytest.approx(0.9 * L0, rel=1e-6)
    with pytest.raises(ValueError, match="loss levels"):
        C.gradient_flow(xs, y, W0, a0, "tanh", t_max=1.0, levels=(1.5,))
    with pytest.raises(ValueError, match="columns"):
        C.gradient_flow(xs, y, W0[:, :1], a0, "tanh", t_max=1.0)

"""Property tests of :func:`dln.global_minimum` over random instances, and its hard
cases (issue 4).

Every property is checked against the exact loss :func:`dln.expected_loss` (and its
torch twin for the gradient), never against the solver's own reduction; the root check
evaluates the scalar equation from constants derived independently below.

Tolerances are derived from the size of the terms that cancel, not picked to pass:

* the loss ``L = tr(Q_0 A_0) - 2 p.E[xy] + E[y^2] + reg`` is a sum of terms whose
  magnitudes are bounded by ``M = ||A0||_2 tr(Q_0) + 2 ||p|| ||E[xy]|| + E[y^2] + reg``
  (the first bound, not ``tr(Q_0 A_0)``, because ``A0`` itself is only known to ``eps
  ||A0||_2`` and the solver is exact for a backward-perturbed ``A0``); a float64
  evaluation errs by at most ``n eps M`` with ``n`` the length of the longest chain of
  products and sums (``n <= (d + w_max)^2 (D + 1)``, the standard dot-product bound);
* the returned weights are exact for data moments perturbed by ``O(d eps ||A0||)`` (the
  eigendecomposition is backward stable) and for a root ``u = log tau`` off by at most
  the root finder's ``xtol = 1e-13 max(1, |u|)``, so they are a relative perturbation
  ``rho`` of an exact minimiser with ``rho <= 1e-13 max(1, |u|) + 16 (d + D) eps``. The
  gradient at ``W* + delta`` is ``H delta``; at a minimum ``H`` is PSD, so ``||H|| <=
  sum_k ||H_kk||`` over the diagonal blocks, and the block of layer ``k`` is ``2 (Mt_k
  (x) N_{k-1} + gamma_k I)`` with ``Mt_k`` the noise-averaged output-side and
  ``N_{k-1}`` the noise-averaged input-side second moment. Hence ``||grad|| <= rho ||W||
  sum_k 2 (lambda_max(Mt_k) lambda_max(N_{k-1}) + gamma_k)``; we allow a factor 10 on
  top.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dln

EPS = np.finfo(float).eps
SETTINGS = dict(
    deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


# --- building instances
# --------------------------------------------------------------------------------------
def make_stats(a, e_eig, *, rotate_seed=None, noise_frac=0.1):
    """Moments with eigenvalues ``a`` and ``E[xy]`` components ``e_eig`` in the
    eigenbasis (zeros allowed).

    ``E[y^2]`` exceeds ``E[xy]^T A0^+ E[xy]`` by the fraction ``noise_frac`` (label
    noise), so the moments stay consistent even when rounding of a rotated,
    ill-conditioned ``A0`` moves its small eigenvalues.
    """
    a, e_eig = np.asarray(a, float), np.asarray(e_eig, float)
    d = a.size
    if rotate_seed is None:
        Q = np.eye(d)
    else:
        Q, R = np.linalg.qr(np.random.default_rng(rotate_seed).standard_normal((d, d)))
        Q = Q * np.sign(np.diag(R))
    A0 = (Q * a) @ Q.T
    pos = a > 0
    explained = float(np.sum(e_eig[pos] ** 2 / a[pos]))
    return dln.DataStats(A0, Q @ e_eig, explained * (1 + noise_frac) + noise_frac)


@st.composite
def instances(draw, max_depth=4, max_dim=6, max_log_cond=8):
    D = draw(st.integers(1, max_depth))
    d = draw(st.integers(1, max_dim))
    widths = draw(st.lists(st.integers(1, 5), min_size=D, max_size=D))
    gammas = [10 ** draw(st.floats(-3, 0)) for _ in range(D + 1)]
    sigma2s = [draw(st.sampled_from([0.0, 0.1, 0.5, 1.0, 3.0])) for _ in range(D)]
    log_cond = draw(st.floats(0, max_log_cond))
    a = 10 ** np.linspace(-log_cond, 0, d) * 10 ** draw(st.floats(-1, 2))
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    e = rng.standard_normal(d)
    zero = rng.random(d) < draw(
        st.sampled_from([0.0, 0.3])
    )  # E[xy] orthogonal to some eigenvectors
    e[zero] = 0.0
    e *= 10 ** draw(st.floats(-2, 1.5)) / max(np.linalg.norm(e), 1e-300)
    stats = make_stats(a, e, rotate_seed=seed + 1)
    return stats, dict(depth=D, width=widths, gamma=gammas, sigma2=sigma2s)


# --- the exact loss, its gradient and the derived tolerances
# -------------------------------------------------------
def loss_terms(weights, stats, arch):
    """Magnitude ``M`` of the terms summed in the exact loss, and the chain length ``n``
    of its evaluation."""
    sig = arch["sigma2"]
    p = dln.end_to_end(weights)
    Q0 = dln.output_second_moment(weights, sig)
    reg = sum(g * float(np.sum(W * W)) for g, W in zip(arch["gamma"], weights))
    # |tr(Q0 E)| <= ||E||_2 tr(Q0) for PSD Q0: rounding A0 (or the backward error of its
    # eigendecomposition, O(d eps ||A0||_2)) moves the loss by eps ||A0||_2 tr(Q0),
    # which exceeds eps tr(Q0 A0) when A0 is ill-conditioned
    M = (
        stats.a_max * float(np.trace(Q0))
        + 2 * float(np.linalg.norm(p) * stats.signal)
        + stats.Ey2
        + reg
    )
    n = (stats.dim + max(arch["width"])) ** 2 * (arch["depth"] + 1)
    return M, n


def gradient_norm(weights, stats, arch):
    params = [
        torch.tensor(np.array(W), dtype=torch.float64, requires_grad=True)
        for W in weights
    ]
    dln.expected_loss_torch(
        params, stats, gamma=arch["gamma"], sigma2=arch["sigma2"]
    ).backward()
    return float(np.sqrt(sum(float((P.grad**2).sum()) for P in params)))


def curvature_bound(weights, stats, arch):
    """``sum_k ||H_kk||`` with ``||H_kk|| <= 2 (lambda_max(Mt_k) lambda_max(N_{k-1}) +
    gamma_k)`` (module docstring)."""
    sig, gam = arch["sigma2"], arch["gamma"]
    Ws, U = weights[:-1], weights[-1]
    N = [
        stats.A0
    ]  # input-side second moments N_0 .. N_D (noise of each layer included)
    for W, s2 in zip(Ws, sig):
        P = W @ N[-1] @ W.T
        N.append(P + s2 * np.diag(np.diag(P)))
    Q = np.outer(U, U)

    def lam(S):
        return float(np.max(np.linalg.eigvalsh(S))) if S.size else 0.0

    total = 2 * (lam(N[-1]) + gam[-1])  # the output vector U
    for k in range(len(Ws) - 1, -1, -1):
        Mt = Q + sig[k] * np.diag(np.diag(Q))
        total += 2 * (lam(Mt) * lam(N[k]) + gam[k])
        Q = Ws[k].T @ Mt @ Ws[k]
    return total


def check_solution(sol, stats, arch):
    """The four properties of issue 4 for one solved instance."""
    W = [np.array(w) for w in sol.weights]
    M, n = loss_terms(W, stats, arch)
    loss_tol = n * EPS * M
    exact = dln.expected_loss(W, stats, gamma=arch["gamma"], sigma2=arch["sigma2"])
    # 1. the reported loss is the exact loss of the reported weights
    assert abs(exact - sol.loss) <= loss_tol, (exact, sol.loss, loss_tol)
    # 2. never worse than the origin
    assert sol.loss <= stats.Ey2 + loss_tol
    # 3. zero gradient, to the scale derived in the module docstring
    u = 0.0 if sol.is_trivial else np.log(sol.tau)
    rho = 1e-13 * max(1.0, abs(u)) + 16 * (stats.dim + arch["depth"]) * EPS
    norm_w = np.sqrt(sum(float(np.sum(w * w)) for w in W))
    grad_tol = (
        10 * rho * max(norm_w, 1.0) * curvature_bound(W, stats, arch) + n * EPS * M
    )
    g = gradient_norm(W, stats, arch)
    assert g <= grad_tol, (g, grad_tol)
    # 4. no random perturbation, small or large, lowers the loss
    rng = np.random.default_rng(0)
    for scale in (1e-4, 1e-2, 1.0):
        for _ in range(4):
            step = [
                rng.standard_normal(w.shape)
                * scale
                * max(np.sqrt(np.mean(w * w)), 1e-3)
                for w in W
            ]
            moved = [w + s for w, s in zip(W, step)]
            L = dln.expected_loss(
                moved, stats, gamma=arch["gamma"], sigma2=arch["sigma2"]
            )
            M2, _ = loss_terms(moved, stats, arch)
            assert L >= sol.loss - n * EPS * max(M, M2), (scale, L, sol.loss)


# --- an independent evaluation of the scalar equation
# ------------------------------------------------------------
def scalar_equation_log(log_b, stats, arch):
    """``log(gamma_u d_D b^2) - log(alpha tau ||(A0 + tau I)^{-1} E[xy]||^2)`` on an
    array of ``log b``.

    Written from the book's derivation without the solver's code: with every upper layer
    balanced to the output scale ``b`` (``gamma_k ||W_k||^2 = gamma_u d_D b^2``), the
    product of the layer scales is ``B^2 = b^{2D} (gamma_u d_D)^{D-1} / prod_{k>=2}
    gamma_k d_k d_{k-1}`` and the ridge parameter of the input layer is ``tau = gamma_1
    d_1 / (s B^2)``, ``s = prod d_k (d_k + sigma_k^2)``.
    """
    D, d = arch["depth"], np.asarray(arch["width"], float)
    g, s2 = np.asarray(arch["gamma"], float), np.asarray(arch["sigma2"], float)
    log_alpha = np.sum(np.log(d) - np.log(d + s2))
    log_s = np.sum(np.log(d) + np.log(d + s2))
    log_B2_off = (D - 1) * np.log(g[-1] * d[-1]) - sum(
        np.log(g[k] * d[k] * d[k - 1]) for k in range(1, D)
    )
    log_tau = np.log(g[0] * d[0]) - log_s - log_B2_off - 2 * D * log_b
    a, e = stats.eigenvalues, stats.exy_eigen
    keep = (a > 0) & (e != 0)
    la, le2 = np.log(a[keep]), np.log(e[keep] ** 2)
    from scipy.special import logsumexp

    log_r2 = logsumexp(
        le2[None, :] - 2 * np.logaddexp(la[None, :], log_tau[:, None]), axis=1
    )
    return np.log(g[-1] * d[-1]) + 2 * log_b - (log_alpha + log_tau + log_r2)


# --- the property tests
# --------------------------------------------------------------------------------------
@settings(max_examples=200, **SETTINGS)
@given(instances())
def test_solution_is_a_global_minimum_on_random_instances(inst):
    stats, arch = inst
    sol = dln.global_minimum(stats, **arch)
    check_solution(sol, stats, arch)


@settings(max_examples=60, **SETTINGS)
@given(instances(max_depth=6))
def test_no_root_is_missed(inst):
    """Every sign change of the scalar equation on a fine grid of ``log b`` brackets
    exactly one returned root."""
    stats, arch = inst
    sol = dln.global_minimum(stats, **arch)
    if not np.any(stats.exy_eigen != 0):
        assert sol.roots.tolist() == [0.0]
        return
    log_b = np.arange(
        -60.0, 30.0, 2e-4
    )  # step 2e-4 in log b: tau moves by at most 2D * 2e-4 per step
    F = scalar_equation_log(log_b, stats, arch)
    # A sign change between two values both within rounding of zero is undetermined
    # (exactly at the D = 1 threshold F -> 0 as b -> 0); F is a difference of logarithms
    # of size <= ~1e2, each accurate to ~1e2 eps.
    floor = 1e4 * EPS
    change = np.flatnonzero(
        (np.sign(F[:-1]) != np.sign(F[1:]))
        & (np.maximum(abs(F[:-1]), abs(F[1:])) > floor)
    )
    found = np.log(sol.roots[1:])
    assert found.size == change.size, (found, log_b[change])
    for i, r in zip(change, found):
        assert log_b[i] <= r <= log_b[i + 1] + 1e-9, (r, log_b[i], log_b[i + 1])


# --- the hard cases of issue 4
# -------------------------------------------------------------------------------------
@pytest.mark.parametrize("depth", [8, 16, 32, 64])
def test_very_deep_networks(depth):
    """b^{2D} over/underflows float64 long before D = 64; the solver works in
    logarithms."""
    stats = make_stats([0.5, 1.0, 2.0], [3.0, -2.0, 1.0], rotate_seed=depth)
    for width, gamma in ((2, 1e-3), (3, 1e-2), ([1, 4] * (depth // 2), 1e-4)):
        arch = dict(depth=depth, width=width, gamma=gamma, sigma2=0.2)
        sol = dln.global_minimum(stats, **arch)
        check_solution(
            sol,
            stats,
            {
                **arch,
                "width": np.broadcast_to(width, depth).tolist(),
                "gamma": [gamma] * (depth + 1),
                "sigma2": [0.2] * depth,
            },
        )
    # weak decay and strong signal: the global minimum is nontrivial even at depth 64,
    # and its roots do not overflow
    sol = dln.global_minimum(
        make_stats([1.0, 2.0], [5.0, 5.0]), depth=depth, width=2, gamma=1e-6, sigma2=0.0
    )
    assert not sol.is_trivial and np.all(np.isfinite(sol.roots))


@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("rotate", [None, 7])
def test_ill_conditioned_A0(depth, rotate):
    a = np.logspace(-12, 0, 6)
    stats = make_stats(a, np.ones(6) * 1e-3, rotate_seed=rotate)
    arch = dict(
        depth=depth, width=[3] * depth, gamma=[1e-4] * (depth + 1), sigma2=[0.5] * depth
    )
    sol = dln.global_minimum(stats, **arch)
    check_solution(sol, stats, arch)


@pytest.mark.parametrize("rel", [1e-9, -1e-9, 1e-6, -1e-6])
def test_signal_within_1e_9_of_the_two_layer_threshold(rel):
    """D = 1 (two-layer net): nontrivial iff ||E[xy]||^2 > gamma_u gamma_w (Theorem 1);
    with A0 = a I, b*^2 = (sqrt(gamma_w / gamma_u) ||E[xy]|| - gamma_w) / ((sigma^2 +
    d_1) a) (paper Eq. 8 with equality)."""
    a, gw, gu, s2, d1 = 2.0, 0.3, 0.5, 0.7, 3
    signal = np.sqrt(gu * gw * (1 + rel))
    stats = make_stats([a] * 3, [signal, 0.0, 0.0], rotate_seed=1)
    sol = dln.global_minimum(stats, depth=1, width=d1, gamma=[gw, gu], sigma2=s2)
    if rel < 0:
        assert sol.is_trivial and sol.roots.tolist() == [0.0]
        return
    b2 = (np.sqrt(gw / gu) * signal - gw) / ((s2 + d1) * a)
    assert not sol.is_trivial
    # b*^2 is a difference of two numbers equal to 1 part in |rel|, each known to a few
    # eps: relative error ~ 1e2 eps / rel in b*^2 and half that in b*.
    assert sol.b == pytest.approx(np.sqrt(b2), rel=1e2 * EPS / rel)
    assert sol.loss < stats.Ey2 or sol.loss == pytest.approx(stats.Ey2, rel=1e-15)


def test_exy_orthogonal_to_eigenvectors_and_singular_A0():
    # zero eigenvalues (with no signal along them, as consistency requires) and zero
    # signal along a positive one
    a = np.array([0.0, 0.0, 0.5, 1.0, 2.0])
    e = np.array([0.0, 0.0, 0.0, 1.2, -0.7])
    stats = make_stats(a, e, rotate_seed=3)
    for depth in (1, 2, 3):
        arch = dict(
            depth=depth,
            width=[2] * depth,
            gamma=[0.05] * (depth + 1),
            sigma2=[0.3] * depth,
        )
        sol = dln.global_minimum(stats, **arch)
        assert not sol.is_trivial
        check_solution(sol, stats, arch)
        # the predictor has no component along directions without signal (null space and
        # the orthogonal one)
        p_eig = stats.eigenvectors.T @ sol.predictor
        assert np.all(np.abs(p_eig[:3]) <= 1e-12 * np.abs(p_eig).max())
    # all of A0 singular: E[xy] must vanish and the origin is the only solution
    sol = dln.global_minimum(
        dln.DataStats(np.zeros((3, 3)), np.zeros(3), 1.0),
        depth=2,
        width=2,
        gamma=0.1,
        sigma2=0.1,
    )
    assert sol.is_trivial and sol.roots.tolist() == [0.0] and sol.loss == 1.0


def test_undefined_answers_raise():
    stats = make_stats([1.0, 2.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="weight decay"):
        dln.global_minimum(stats, depth=2, width=2, gamma=[0.1, 0.0, 0.1], sigma2=0.1)
    with pytest.raises(
        ValueError
    ):  # signal along a null direction of A0: no distribution has these moments
        dln.global_minimum(
            np.diag([0.0, 1.0]),
            np.array([1.0, 0.0]),
            5.0,
            depth=1,
            width=2,
            gamma=0.1,
            sigma2=0.1,
        )
    with pytest.raises(ValueError):
        dln.global_minimum(stats, depth=2, width=2, gamma=0.1, sigma2=-0.1)


def test_critical_point_on_the_edge_of_the_search_window():
    """Regression: with one eigenvalue, phi' vanishes exactly at log a +
    log((D+1)/(D-1)), the edge of the window in which critical points are searched; both
    roots (b ~ 1.0001 and b ~ 21.2 here) were once missed."""
    stats = dln.DataStats(np.array([[1e-4]]), np.array([1.0]), 11000.1)
    sol = dln.global_minimum(stats, depth=2, width=1, gamma=1.0, sigma2=0.0)
    # D = 2, d = 1, all constants 1: the equation is b^2 (1e-4 b^4 + 1)^2 = b^4, i.e.
    # 1e-4 b^4 + 1 = b
    assert sol.roots.size == 3
    np.testing.assert_allclose(1e-4 * sol.roots[1:] ** 4 + 1, sol.roots[1:], rtol=1e-12)


@settings(max_examples=40, **SETTINGS)
@given(instances(max_depth=5))
def test_curvature_bound_used_by_the_root_search(inst):
    """The root search relies on phi'' in [-1/2, 1] and |phi'''| <= 8 (see
    dln.solution._cells_to_search); check both by differences, and the closed form of
    phi'' against the differences of phi'."""
    from dln.network import network_spec
    from dln.solution import reduced_problem

    stats, arch = inst
    P = reduced_problem(stats, network_spec(**arch))
    if P.log_a.size == 0:
        return
    u = np.linspace(P.log_a.min() - 10, P.log_a.max() + 10, 4001)
    h = u[1] - u[0]
    # means of phi'' and phi''' over each cell, so they obey the same bounds
    second = np.diff(P.dphi(u)) / h
    third = np.diff(P.d2phi(u)) / h
    assert second.min() >= -0.5 - 1e-6 and second.max() <= 1.0 + 1e-6, (
        second.min(),
        second.max(),
    )
    assert np.abs(third).max() <= 8.0 + 1e-6, np.abs(third).max()
    # phi'' in closed form vs differences of phi' (error O(h^2 |phi''''|) + rounding)
    mid = 0.5 * (P.d2phi(u[1:]) + P.d2phi(u[:-1]))
    assert np.abs(mid - second).max() <= 1e-4, np.abs(mid - second).max()


def test_cell_rule_of_the_critical_point_search():
    """The rule that decides which grid cells of phi' must be searched again."""
    from dln.solution import _cells_to_search

    grid = np.array([0.0, 0.05])

    def search(d_lo, d_hi, d2_lo=np.nan, d2_hi=np.nan):
        dp = np.array([d_lo, d_hi])
        cells = _cells_to_search(grid, dp, np.array([d2_lo]), np.array([d2_hi]))
        return bool(cells[1][0])

    # no sign change: a hidden pair needs 2 d_lo + d_hi <= h (positive values)
    assert not search(0.1, 0.1) and search(0.01, 0.01)
    assert not search(-0.1, -0.1) and search(-0.01, -0.01)
    # a sign change is one zero only if phi'' keeps a sign certified by |phi'''| <= 8
    assert not search(0.01, -0.01, -0.3, -0.3) and search(0.01, -0.01, -0.1, -0.1)
    assert search(0.01, -0.01, -0.3, 0.3)

"""The stochastic deep linear network with a bias in every layer (paper Appendix D): its
exact expected loss over the noise, and the exact two-layer solution.

The network (paper Eqs. 106 and 128-129) is

    h_1 = eps_1 * (W_1 x + beta_1),   h_i = eps_i * (W_i h_{i-1} + beta_i),
    f(x) = U . h_D + beta_u,

with the noise multiplying each biased pre-activation. Its loss adds weight decay on
the biases: ``bias_gamma = [gamma^b_1, ..., gamma^b_D, gamma^b_u]``, by default equal to
the weight decay of the same layer (``gamma^b_i = gamma_i``, ``gamma^b_u = gamma_u``),
which is the paper's Eq. 108.

Why no Monte Carlo is needed: the noise-averaged second moment of the output, seen as a
function of a hidden layer ``h``, stays a quadratic ``h^T Q h + 2 k.h + c`` and its mean
a linear ``p.h + p0``. Passing down through ``h -> eps * (W h + beta)`` (with ``E[eps] =
1``, ``E[eps eps^T] = 1 1^T + diag(sigma^2)``) maps

    Q -> W^T Qn W,  k -> W^T (Qn beta + k),  c -> c + beta^T Qn beta + 2 k.beta,
    p -> W^T p,     p0 -> p0 + p.beta,       where Qn = Q + sigma^2 Diag(Q),

starting from ``Q = U U^T``, ``k = beta_u U``, ``c = beta_u^2``, ``p = U``, ``p0 =
beta_u``. Averaging over the data then needs ``E[x]`` and ``E[y]`` as well:

    L = tr(Q_0 A0) + 2 k_0.E[x] + c_0 - 2 (p.E[xy] + p0 E[y]) + E[y^2] + weight decay.

Without biases (``k = 0``, ``c = 0``, ``p0 = 0``) this is :func:`dln.expected_loss`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from ._validation import (
    draw_count,
    finite_array,
    finite_scalar,
    per_layer,
    positive_int,
    positive_scalar,
    samples,
)
from .landscape import autograd_gradient, autograd_hessian
from .loss import sample_noise
from .network import check_weights, infer_widths, network_spec
from .stats import DataStats, augmented_stats

__all__ = [
    "BiasSolution",
    "bias_moments_kernel",
    "bias_loss_kernel",
    "expected_loss_bias",
    "expected_loss_bias_torch",
    "monte_carlo_loss_bias",
    "centring_biases",
    "two_layer_bias_minimum",
    "check_biases",
    "bias_decays",
    "flatten_params",
    "unflatten_params",
    "bias_loss_of_flat",
    "bias_gradient",
    "bias_hessian",
]


# --- validation ---------------------------------------------------------------------
def _stats_with_means(stats) -> DataStats:
    if not isinstance(stats, DataStats):
        raise ValueError(
            "stats must be a dln.DataStats with the means E[x], E[y] (dln.data_stats, "
            f"or DataStats(..., Ex=..., Ey=...)); got {type(stats).__name__}"
        )
    stats._require_means("the network with biases")
    return stats


def bias_decays(bias_gamma, spec) -> tuple:
    """Validate the bias weight decays ``[gamma^b_1, ..., gamma^b_D, gamma^b_u]``;
    ``None`` means the paper's convention (each bias decays like its layer's
    weights)."""
    if bias_gamma is None:
        return tuple(spec.gammas)
    return per_layer(
        bias_gamma,
        spec.depth + 1,
        "bias_gamma",
        lambda v, n: positive_scalar(v, n, allow_zero=True),
    )


def check_biases(biases, spec) -> list:
    """Check that ``biases = [beta_1, ..., beta_D, beta_u]`` matches ``spec``
    (``beta_i`` of length ``d_i``, ``beta_u`` a number); return float arrays (``beta_u``
    as a 0-d array)."""
    if not isinstance(biases, (list, tuple)):
        raise ValueError("biases must be a list [beta_1, ..., beta_D, beta_u]")
    if len(biases) != spec.depth + 1:
        raise ValueError(
            f"biases must hold {spec.depth + 1} entries (beta_1..beta_{spec.depth}, "
            f"beta_u); got {len(biases)}"
        )
    out = []
    for i, (beta, width) in enumerate(zip(biases[:-1], spec.widths), start=1):
        beta = finite_array(beta, f"beta_{i}", ndim=1)
        if beta.shape != (width,):
            raise ValueError(f"beta_{i} must have shape {(width,)}; got {beta.shape}")
        out.append(beta)
    out.append(np.asarray(finite_scalar(biases[-1], "beta_u")))
    return out


def _setup(weights, biases, stats, gamma, sigma2, bias_gamma):
    stats = _stats_with_means(stats)
    widths = infer_widths(weights)
    spec = network_spec(len(widths), widths, gamma, sigma2)
    ws = check_weights(weights, spec, stats.dim)
    bs = check_biases(biases, spec)
    return stats, spec, ws, bs, bias_decays(bias_gamma, spec)


# --- the exact loss -----------------------------------------------------------------
def bias_moments_kernel(weights, biases, sigma2s, eye):
    """Noise-averaged mean ``p.x + p0`` and second moment ``x^T Q x + 2 k.x + c`` of the
    output of a network with biases, unvalidated.

    Written once for numpy arrays and torch tensors, batched over a leading axis or not
    (``beta_u`` then has shape ``(n,)`` or ``()``). Returns ``(p, p0, Q, k, c)``; see
    the module docstring for the recursion.
    """
    U, bu = weights[-1], biases[-1]
    Q = U[..., :, None] * U[..., None, :]
    k = U * bu[..., None]
    c = bu * bu
    p, p0 = U, bu
    layers = zip(reversed(weights[:-1]), reversed(biases[:-1]), reversed(sigma2s))
    for W, beta, s2 in layers:
        Qn = Q + s2 * (Q * eye(Q.shape[-1]))
        Qb = (Qn @ beta[..., :, None])[..., 0]
        c = c + (beta * Qb).sum(axis=-1) + 2 * (k * beta).sum(axis=-1)
        p0 = p0 + (p * beta).sum(axis=-1)
        Wt = W.swapaxes(-1, -2)
        k = (Wt @ (Qb + k)[..., :, None])[..., 0]
        Q = Wt @ Qn @ W
        p = (Wt @ p[..., None])[..., 0]
    return p, p0, Q, k, c


def bias_loss_kernel(
    weights, biases, A0, Exy, Ey2, Ex, Ey, gammas, bias_gammas, sigma2s, eye
):
    """The exact expected loss of the network with biases from the moments and means,
    unvalidated (numpy or torch, batched or not); :func:`expected_loss_bias` is the
    validated entry point."""
    p, p0, Q, k, c = bias_moments_kernel(weights, biases, sigma2s, eye)
    data = (
        (Q * A0).sum(axis=(-1, -2))
        + 2 * (k * Ex).sum(axis=-1)
        + c
        - 2 * ((p * Exy).sum(axis=-1) + p0 * Ey)
        + Ey2
    )
    reg = gammas[-1] * (weights[-1] * weights[-1]).sum(axis=-1)
    for g, W in zip(gammas[:-1], weights[:-1]):
        reg = reg + g * (W * W).sum(axis=(-1, -2))
    reg = reg + bias_gammas[-1] * biases[-1] * biases[-1]
    for g, beta in zip(bias_gammas[:-1], biases[:-1]):
        reg = reg + g * (beta * beta).sum(axis=-1)
    return data + reg


def expected_loss_bias(
    weights, biases, stats, *, gamma, sigma2, bias_gamma=None
) -> float:
    """Exact expected loss of the stochastic network with a bias in every layer (paper
    Eqs. 107-108 for one hidden layer, Eq. 133 for any depth).

    Parameters
    ----------
    weights : list of arrays
        ``[W_1, ..., W_D, U]`` as in :func:`dln.expected_loss`.
    biases : list
        ``[beta_1, ..., beta_D, beta_u]``: ``beta_i`` of length ``d_i`` (added before
        the noise of layer ``i`` multiplies it), ``beta_u`` a number (the output bias).
    stats : DataStats
        Moments of the data *with* the means ``E[x]``, ``E[y]`` (for example
        :func:`dln.data_stats`).
    gamma : float or sequence ``[gamma_1, ..., gamma_D, gamma_u]``
        Weight decays of the weights.
    sigma2 : float or sequence ``[sigma2_1, ..., sigma2_D]``
        Noise variances of the hidden layers.
    bias_gamma : float or sequence of D + 1 floats, optional
        Weight decays of the biases ``[gamma^b_1, ..., gamma^b_D, gamma^b_u]`` (zero
        allowed). Default: the paper's convention, each bias decayed like its layer's
        weights (``gamma^b = gamma``, Eq. 108).

    Returns
    -------
    float
        ``E_x E_eps (f(x) - y)^2 + sum_i gamma_i ||W_i||^2 + gamma_u ||U||^2 + sum_i
        gamma^b_i ||beta_i||^2 + gamma^b_u beta_u^2``.

    Raises
    ------
    ValueError
        If ``stats`` has no means, or on inconsistent shapes, non-finite entries, or
        negative decays or noise variances.

    Examples
    --------
    With zero biases the loss is the no-bias loss of :func:`dln.expected_loss`:

    >>> import numpy as np, dln
    >>> rng = np.random.default_rng(0)
    >>> st = dln.data_stats(rng.standard_normal((20, 2)) + 1, rng.standard_normal(20))
    >>> ws = [rng.standard_normal((3, 2)), rng.standard_normal(3)]
    >>> zero = [np.zeros(3), 0.0]
    >>> a = dln.expected_loss_bias(ws, zero, st, gamma=0.1, sigma2=0.5)
    >>> bool(np.isclose(a, dln.expected_loss(ws, st, gamma=0.1, sigma2=0.5)))
    True
    """
    stats, spec, ws, bs, bg = _setup(weights, biases, stats, gamma, sigma2, bias_gamma)
    return float(
        bias_loss_kernel(
            ws,
            bs,
            stats.A0,
            stats.Exy,
            stats.Ey2,
            stats.Ex,
            stats.Ey,
            spec.gammas,
            bg,
            spec.sigma2s,
            np.eye,
        )
    )


def expected_loss_bias_torch(weights, biases, stats, *, gamma, sigma2, bias_gamma=None):
    """The same exact loss as :func:`expected_loss_bias` for torch tensors:
    differentiable, on any device.

    ``weights`` and ``biases`` are lists of torch tensors (``beta_u`` a 0-d tensor); the
    moments are moved to the dtype and device of ``W_1``. Returns a 0-d tensor.

    Raises
    ------
    ValueError
        As :func:`expected_loss_bias`, or if an entry is not a torch tensor.
    """
    import torch

    for name, seq in (("weights", weights), ("biases", biases)):
        if not isinstance(seq, (list, tuple)) or not all(
            isinstance(t, torch.Tensor) for t in seq
        ):
            raise ValueError(f"{name} must be a list of torch tensors")
    stats, spec, _, _, bg = _setup(
        [W.detach().cpu().numpy() for W in weights],
        [b.detach().cpu().numpy() for b in biases],
        stats,
        gamma,
        sigma2,
        bias_gamma,
    )
    ref = weights[0]

    def as_t(a):
        return torch.tensor(np.array(a), dtype=ref.dtype, device=ref.device)

    eye = lambda n: torch.eye(n, dtype=ref.dtype, device=ref.device)  # noqa: E731
    return bias_loss_kernel(
        list(weights),
        list(biases),
        as_t(stats.A0),
        as_t(stats.Exy),
        stats.Ey2,
        as_t(stats.Ex),
        stats.Ey,
        spec.gammas,
        bg,
        spec.sigma2s,
        eye,
    )


def monte_carlo_loss_bias(
    weights,
    biases,
    X,
    y,
    *,
    gamma,
    sigma2,
    bias_gamma=None,
    noise="gaussian",
    n_draws=200,
    seed=0,
):
    """Monte Carlo estimate of the loss of the network with biases on the empirical
    distribution of ``(X, y)``, with real noise draws (checks only).

    Each draw samples fresh noise (:func:`dln.sample_noise`) for every sample and
    neuron and averages the squared error over the data set; returns the mean over
    draws plus the weight decay, and its standard error ``std / sqrt(n_draws)``.

    Raises
    ------
    ValueError
        On inconsistent shapes, non-finite entries, an unknown noise kind, or fewer
        than two draws.
    """
    X, y = samples(X, y)
    n_draws = draw_count(n_draws)
    widths = infer_widths(weights)
    spec = network_spec(len(widths), widths, gamma, sigma2)
    ws = check_weights(weights, spec, X.shape[1])
    bs = check_biases(biases, spec)
    bg = bias_decays(bias_gamma, spec)
    rng = np.random.default_rng(seed)
    reg = sum(g * float(np.sum(W * W)) for g, W in zip(spec.gammas, ws))
    reg += sum(g * float(np.sum(b * b)) for g, b in zip(bg, bs))
    per_draw = np.empty(n_draws)
    for t in range(n_draws):
        h = X
        for W, beta, s2 in zip(ws[:-1], bs[:-1], spec.sigma2s):
            h = h @ W.T + beta
            h = h * sample_noise(noise, s2, h.shape, rng)
        per_draw[t] = np.mean((h @ ws[-1] + bs[-1] - y) ** 2)
    return float(per_draw.mean() + reg), float(per_draw.std(ddof=1) / np.sqrt(n_draws))


def centring_biases(weights, stats) -> list:
    """The biases that make a network centre its own data: ``beta_1 = -W_1 E[x]``,
    ``beta_i = 0`` for ``2 <= i <= D``, ``beta_u = E[y]``.

    With them the first pre-activation is ``W_1 (x - E[x])``, so the network computes
    its no-bias function of the centred input plus ``E[y]``; at the input ``E[x]`` its
    output is ``E[y]`` for every draw of the noise.

    Raises
    ------
    ValueError
        If ``stats`` has no means or the weights do not fit it.
    """
    stats = _stats_with_means(stats)
    widths = infer_widths(weights)
    spec = network_spec(len(widths), widths, 0.0, 0.0)
    ws = check_weights(weights, spec, stats.dim)
    return [-ws[0] @ stats.Ex] + [np.zeros(w) for w in widths[1:]] + [float(stats.Ey)]


# --- flat parameter vectors (the brute force and the landscape) ----------------------
def flatten_params(weights, biases) -> np.ndarray:
    """``[W_1, ..., W_D, U]`` then ``[beta_1, ..., beta_D, beta_u]`` as one vector
    (row-major per matrix)."""
    parts = [np.ravel(np.asarray(W, dtype=float)) for W in weights]
    parts += [np.ravel(np.asarray(b, dtype=float)) for b in biases]
    return np.concatenate(parts)


def unflatten_params(vector, weights_like, biases_like):
    """Split a flat vector back into ``(weights, biases)`` shaped like the templates
    (the inverse of :func:`flatten_params`)."""
    vector = finite_array(vector, "vector", ndim=1)
    shapes = [np.shape(W) for W in weights_like] + [np.shape(b) for b in biases_like]
    sizes = [int(np.prod(s)) for s in shapes]
    if vector.size != sum(sizes):
        raise ValueError(
            f"vector must have {sum(sizes)} entries to match the parameters; got "
            f"{vector.size}"
        )
    out, start = [], 0
    for shape, size in zip(shapes, sizes):
        out.append(vector[start : start + size].reshape(shape).copy())
        start += size
    n = len(weights_like)
    return out[:n], out[n:]


def bias_loss_of_flat(weights, biases, stats, *, gamma, sigma2, bias_gamma=None):
    """``(f, theta)``: the exact loss with biases as a torch function of the flat
    parameter vector (float64), and the vector at the given parameters."""
    import torch

    stats, spec, ws, bs, bg = _setup(weights, biases, stats, gamma, sigma2, bias_gamma)
    shapes = [W.shape for W in ws] + [b.shape for b in bs]
    sizes = [int(np.prod(s)) for s in shapes]
    t = lambda a: torch.tensor(np.array(a), dtype=torch.float64)  # noqa: E731
    A0, Exy, Ex = t(stats.A0), t(stats.Exy), t(stats.Ex)
    eye = lambda n: torch.eye(n, dtype=torch.float64)  # noqa: E731
    n_w = len(ws)

    def f(theta):
        parts = [P.reshape(s) for P, s in zip(torch.split(theta, sizes), shapes)]
        return bias_loss_kernel(
            parts[:n_w],
            parts[n_w:],
            A0,
            Exy,
            stats.Ey2,
            Ex,
            stats.Ey,
            spec.gammas,
            bg,
            spec.sigma2s,
            eye,
        )

    return f, t(flatten_params(ws, bs))


def bias_gradient(weights, biases, stats, *, gamma, sigma2, bias_gamma=None):
    """Exact gradient (autograd) of :func:`expected_loss_bias` in the order of
    :func:`flatten_params`."""
    f, theta = bias_loss_of_flat(
        weights, biases, stats, gamma=gamma, sigma2=sigma2, bias_gamma=bias_gamma
    )
    return autograd_gradient(f, theta)


def bias_hessian(weights, biases, stats, *, gamma, sigma2, bias_gamma=None):
    """Exact Hessian (autograd) of :func:`expected_loss_bias` in the order of
    :func:`flatten_params`."""
    f, theta = bias_loss_of_flat(
        weights, biases, stats, gamma=gamma, sigma2=sigma2, bias_gamma=bias_gamma
    )
    return autograd_hessian(f, theta)


# --- the exact two-layer solution ----------------------------------------------------
@dataclass(frozen=True)
class BiasSolution:
    """The global minimum of the two-layer network with biases
    (:func:`two_layer_bias_minimum`).

    Attributes
    ----------
    weights : list of arrays
        ``[W, U]`` with ``U = b r`` (here ``r = (1, ..., 1)``) and every row of ``W``
        equal to ``v``.
    biases : list
        ``[beta_W, beta_u]``: every hidden bias equals the same number.
    b : float
        The output scale ``|U_j|`` (0 at a trivial minimum).
    loss : float
        The exact loss there (:func:`expected_loss_bias`).
    roots : ndarray
        Every stationary ``b >= 0`` of the reduced loss found (``0`` first).
    root_losses : ndarray
        The exact loss at each of them.
    """

    weights: list
    biases: list
    b: float
    loss: float
    roots: np.ndarray
    root_losses: np.ndarray

    @property
    def is_trivial(self) -> bool:
        """Whether the global minimum has ``U = 0`` and ``W = 0``."""
        return self.b == 0.0

    def __repr__(self) -> str:
        return (
            f"BiasSolution(loss={self.loss:.10g}, b={self.b:.6g}, "
            f"beta_u={float(self.biases[-1]):.6g}, n_roots={self.roots.size})"
        )


def _two_layer_inner(b, Aa, ea, mu, Ey, Gam, d1, s2, gbu):
    """For a fixed output scale ``b``: the optimal augmented row ``v' = (v, beta)`` and
    output bias (a linear solve), and the balance residual ``gamma_u - v'^T Gam v' /
    b^2`` up to the constant ``gamma_u``."""
    M = b * b * (d1 + s2) * Aa + np.diag(Gam)
    qe = np.linalg.solve(M, ea)
    qm = np.linalg.solve(M, mu)
    beta_u = (Ey - d1 * b * b * (mu @ qe)) / (1.0 + gbu - d1 * b * b * (mu @ qm))
    r = qe - beta_u * qm  # v' / b
    return r, beta_u, float(r @ (Gam * r))


def two_layer_bias_minimum(
    stats, *, width, gamma, sigma2, bias_gamma=None, n_grid=400
) -> BiasSolution:
    """The global minimum of the two-layer network with biases (the book's corrected
    form of Theorem 5, paper Eqs. 113-114), up to one scalar found numerically.

    For a fixed output scale ``b`` the network is a ridge regression of the shifted
    label ``y - beta_u`` on the augmented input ``x' = (x, 1)``: with ``A0'``,
    ``mu' = (E[x], 1)``, ``e' = (E[xy], E[y])`` the moments of ``x'``,
    ``Gamma = diag(gamma_w, ..., gamma_w, gamma^b_w)`` and ``M = b^2 (d_1 + sigma^2)
    A0' + Gamma``, the hidden row and bias are ``(v, beta) = b M^{-1}(e' - beta_u
    mu')``, the output bias ``beta_u = (E[y] - d_1 b^2 mu'^T M^{-1} e') / (1 +
    gamma^b_u - d_1 b^2 mu'^T M^{-1} mu')``, and the stationary ``b > 0`` are the roots
    of the balance ``gamma_u = (e' - beta_u mu')^T M^{-1} Gamma M^{-1} (e' - beta_u
    mu')``. Roots are bracketed on a logarithmic grid of ``n_grid`` points below the
    largest possible ``b``, ``sqrt(E[y^2] / (gamma_u d_1))``, and refined by Brent's
    method; the global minimum is the root (or ``b = 0``) of least exact loss.

    Parameters
    ----------
    stats : DataStats
        Moments with means.
    width : int
        ``d_1``.
    gamma : float or ``[gamma_w, gamma_u]``
        Weight decays, strictly positive.
    sigma2 : float
        Noise variance of the hidden layer.
    bias_gamma : float or ``[gamma^b_w, gamma^b_u]``, optional
        Bias decays (default ``gamma``); ``gamma^b_w > 0``, ``gamma^b_u >= 0``.
    n_grid : int
        Grid points of the root bracketing.

    Returns
    -------
    BiasSolution

    Raises
    ------
    ValueError
        On invalid input, a zero weight decay, or a zero decay of the hidden bias (then
        a minimum need not exist).
    """
    stats = _stats_with_means(stats)
    spec = network_spec(1, width, gamma, sigma2)
    bg = bias_decays(bias_gamma, spec)
    for g, name in zip(spec.gammas, ("gamma_w", "gamma_u")):
        positive_scalar(g, name)
    positive_scalar(bg[0], "bias_gamma[0] (the hidden bias decay)")
    n_grid = positive_int(n_grid, "n_grid")
    if n_grid < 8:
        raise ValueError(f"n_grid must be at least 8; got {n_grid}")
    d1, s2 = spec.widths[0], spec.sigma2s[0]
    gw, gu = spec.gammas
    gbw, gbu = bg
    aug = augmented_stats(stats)
    d = stats.dim
    Aa, ea = aug.A0, aug.Exy
    mu = np.append(stats.Ex, 1.0)
    Gam = np.append(np.full(d, gw), gbw)

    def inner(b):
        return _two_layer_inner(b, Aa, ea, mu, stats.Ey, Gam, d1, s2, gbu)

    def point(b):
        r, beta_u, _ = inner(b)
        v = b * r
        W = np.tile(v[:d], (d1, 1))
        return [W, np.full(d1, b)], [np.full(d1, v[d]), float(beta_u)]

    def loss(b):
        ws, bs = point(b)
        return expected_loss_bias(
            ws, bs, stats, gamma=spec.gammas, sigma2=s2, bias_gamma=bg
        )

    def G(log_b):
        return gu - inner(np.exp(log_b))[2]

    b_max = np.sqrt(stats.Ey2 / (gu * d1))
    roots = [0.0]
    if b_max > 0:
        grid = np.linspace(np.log(b_max) - 14.0, np.log(b_max), n_grid)
        vals = np.array([G(u) for u in grid])
        for i in np.flatnonzero(np.sign(vals[:-1]) * np.sign(vals[1:]) < 0):
            roots.append(float(np.exp(brentq(G, grid[i], grid[i + 1], xtol=1e-14))))
    roots = np.array(roots)
    losses = np.array([loss(b) for b in roots])
    best = int(np.argmin(losses))
    ws, bs = point(roots[best])
    return BiasSolution(ws, bs, float(roots[best]), float(losses[best]), roots, losses)

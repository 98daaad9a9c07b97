"""The exact expected loss over the multiplicative noise, for any weights and any depth
(paper Eq. 1 / Eq. 9).

Why no Monte Carlo is needed: with ``E[eps] = 1`` and ``E[eps eps^T] = 1 1^T +
diag(sigma^2)`` the noise of a layer acts on a quadratic form ``h^T Q h`` as
``E[(eps*h)^T Q (eps*h)] = h^T (Q + sigma^2 diag(Q)) h``. Starting from ``Q = U U^T`` at
the top and passing down through ``Q <- W^T (Q + sigma^2 diag(Q)) W`` gives
``E_eps[f(x)^2] = x^T Q_0 x``, while ``E_eps[f(x)] = p^T x`` with ``p^T = U^T W_D ...
W_1``. Hence

    L = tr(Q_0 A0) - 2 p.E[xy] + E[y^2] + sum_i gamma_i ||W_i||_F^2 + gamma_u ||U||^2.

The same formula is written once, for numpy and for torch (autograd);
:func:`monte_carlo_loss` samples the noise and exists only to check it.
"""

from __future__ import annotations

import numpy as np

from ._validation import draw_count, samples
from .network import check_weights, infer_widths, network_spec
from .stats import as_stats

__all__ = [
    "expected_loss",
    "loss_gain",
    "expected_loss_torch",
    "end_to_end",
    "output_second_moment",
    "monte_carlo_loss",
    "sample_noise",
    "NOISE_KINDS",
    "loss_kernel",
    "moments_kernel",
]


def moments_kernel(weights, sigma2s, eye):
    """End-to-end vector ``p`` and noise-averaged second-moment matrix ``Q_0``.

    The unvalidated kernel behind :func:`end_to_end` and :func:`output_second_moment`,
    written once for numpy arrays and torch tensors, with a leading batch axis (many
    networks at once) or none. ``eye(n)`` returns an identity of the array type.
    Public within the package so that the batched training and the landscape modules
    share one formula; it checks nothing (use :func:`expected_loss` for validated
    input).
    """
    U = weights[-1]
    Q = U[..., :, None] * U[..., None, :]
    p = U
    for W, s2 in zip(reversed(weights[:-1]), reversed(sigma2s)):
        # noise of this layer: add sigma^2 times the diagonal
        Q = Q + s2 * (Q * eye(Q.shape[-1]))
        Wt = W.swapaxes(-1, -2)
        Q = Wt @ Q @ W
        p = (Wt @ p[..., None])[..., 0]
    return p, Q


def loss_kernel(weights, A0, Exy, Ey2, gammas, sigma2s, eye):
    """The exact expected loss (paper Eq. 9) from the moments, unvalidated.

    ``tr(Q_0 A0) - 2 p.E[xy] + E[y^2] + sum_i gamma_i ||W_i||^2 + gamma_u ||U||^2`` for
    numpy arrays or torch tensors, batched over a leading axis or not (see
    :func:`moments_kernel`). :func:`expected_loss` is the validated entry point.
    """
    p, Q = moments_kernel(weights, sigma2s, eye)
    data_term = (Q * A0).sum(axis=(-1, -2)) - 2 * (p * Exy).sum(axis=-1) + Ey2
    reg = gammas[-1] * (weights[-1] * weights[-1]).sum(axis=-1)
    for g, W in zip(gammas[:-1], weights[:-1]):
        reg = reg + g * (W * W).sum(axis=(-1, -2))
    return data_term + reg


def end_to_end(weights) -> np.ndarray:
    """The noise-averaged linear map ``p = W_1^T ... W_D^T U``, so that ``E_eps[f(x)] =
    p.x``."""
    widths = infer_widths(weights)
    d = np.shape(weights[0])[1]
    spec = network_spec(len(widths), widths, 0.0, 0.0)
    ws = check_weights(weights, spec, d)
    p = ws[-1]
    for W in reversed(ws[:-1]):
        p = W.T @ p
    return p


def output_second_moment(weights, sigma2) -> np.ndarray:
    """``Q_0`` with ``E_eps[f(x)^2] = x^T Q_0 x`` (so ``Var_eps[f(x)] = x^T (Q_0 - p
    p^T) x``)."""
    widths = infer_widths(weights)
    spec = network_spec(len(widths), widths, 0.0, sigma2)
    ws = check_weights(weights, spec, np.shape(weights[0])[1])
    return moments_kernel(ws, spec.sigma2s, np.eye)[1]


def expected_loss(weights, A0, Exy=None, Ey2=None, *, gamma, sigma2) -> float:
    """Exact expected loss ``E_x E_eps (f(x) - y)^2 + weight decay`` (paper Eq. 9; Eq. 2
    for one hidden layer).

    Parameters
    ----------
    weights : list of arrays
        ``[W_1, ..., W_D, U]``, ``W_i`` of shape ``(d_i, d_{i-1})`` with ``d_0 = d``,
        ``U`` of shape ``(d_D,)``.
    A0, Exy, Ey2 : arrays and float, or a :class:`DataStats` as ``A0``
        The data moments ``E[x x^T]``, ``E[x y]``, ``E[y^2]``.
    gamma : float or sequence ``[gamma_1, ..., gamma_D, gamma_u]``
        Weight decays (zero allowed).
    sigma2 : float or sequence ``[sigma2_1, ..., sigma2_D]``
        Noise variances of the hidden layers.

    Returns
    -------
    float
        ``tr(Q_0 A0) - 2 p.E[xy] + E[y^2] + sum_i gamma_i ||W_i||^2 + gamma_u ||U||^2``.
    """
    stats = as_stats(A0, Exy, Ey2)
    widths = infer_widths(weights)
    spec = network_spec(len(widths), widths, gamma, sigma2)
    ws = check_weights(weights, spec, stats.dim)
    return float(
        loss_kernel(
            ws, stats.A0, stats.Exy, stats.Ey2, spec.gammas, spec.sigma2s, np.eye
        )
    )


def loss_gain(weights, A0, Exy=None, Ey2=None, *, gamma, sigma2) -> float:
    """What the network gains over the zero predictor, ``E[y^2] - L(weights)``, computed
    without forming ``E[y^2]``.

    The loss of the origin (all weights zero) is ``E[y^2]``, so this is the drop of the
    exact loss (paper Eq. 9; Eq. 2 for one hidden layer) below the trivial solution:
    positive at a non-trivial global minimum, zero at the origin. Subtracting
    :func:`expected_loss` from ``E[y^2]`` loses every digit of a gain far smaller than
    ``E[y^2]`` (near the threshold of Theorem 1, or when ``E[y^2]`` is large because
    ``A0`` is ill-conditioned); here the constant is never added, so the result is
    accurate relative to the terms that depend on the weights.

    Parameters
    ----------
    weights, A0, Exy, Ey2, gamma, sigma2
        As in :func:`expected_loss`.

    Returns
    -------
    float
        ``2 p.E[xy] - tr(Q_0 A0) - sum_i gamma_i ||W_i||^2 - gamma_u ||U||^2``.

    Examples
    --------
    >>> import numpy as np, dln
    >>> stats = dln.random_stats(3, seed=0, signal=1.0)
    >>> zero = [np.zeros((2, 3)), np.zeros(2)]
    >>> dln.loss_gain(zero, stats, gamma=0.1, sigma2=0.5)
    0.0
    """
    stats = as_stats(A0, Exy, Ey2)
    widths = infer_widths(weights)
    spec = network_spec(len(widths), widths, gamma, sigma2)
    ws = check_weights(weights, spec, stats.dim)
    excess = loss_kernel(
        ws, stats.A0, stats.Exy, 0.0, spec.gammas, spec.sigma2s, np.eye
    )
    return 0.0 - float(excess)  # 0.0 - x: no negative zero at the origin


def expected_loss_torch(weights, A0, Exy=None, Ey2=None, *, gamma, sigma2):
    """The same exact loss as :func:`expected_loss`, for torch tensors: differentiable,
    on any device.

    ``weights`` is a list of torch tensors ``[W_1, ..., W_D, U]``; the moments are given
    as in :func:`expected_loss` and moved to the dtype and device of ``W_1``. Returns a
    0-d tensor.
    """
    import torch

    if not isinstance(weights, (list, tuple)) or not all(
        isinstance(W, torch.Tensor) for W in weights
    ):
        raise ValueError("weights must be a list of torch tensors [W_1, ..., W_D, U]")
    stats = as_stats(A0, Exy, Ey2)
    widths = infer_widths(weights)
    spec = network_spec(len(widths), widths, gamma, sigma2)
    check_weights([W.detach().cpu().numpy() for W in weights], spec, stats.dim)
    ref = weights[0]

    def as_t(a):
        return torch.tensor(np.array(a), dtype=ref.dtype, device=ref.device)

    eye = lambda n: torch.eye(n, dtype=ref.dtype, device=ref.device)  # noqa: E731
    return loss_kernel(
        list(weights),
        as_t(stats.A0),
        as_t(stats.Exy),
        stats.Ey2,
        spec.gammas,
        spec.sigma2s,
        eye,
    )


NOISE_KINDS = ("gaussian", "dropout")


def sample_noise(kind, sigma2, size, rng) -> np.ndarray:
    """Draw multiplicative noise with ``E[eps] = 1`` and ``Var[eps] = sigma2``.

    ``gaussian``: ``1 + sqrt(sigma2) N(0, 1)``. ``dropout``: ``Bernoulli(q) / q`` with
    keep probability ``q = 1 / (1 + sigma2)``, which is the same variance (``(1 - q) / q
    = sigma2``).
    """
    if kind not in NOISE_KINDS:
        raise ValueError(f"noise kind must be one of {NOISE_KINDS}; got {kind!r}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError(
            "rng must be a numpy.random.Generator (np.random.default_rng(seed)); got "
            f"{type(rng).__name__}"
        )
    sigma2 = float(sigma2)
    if not np.isfinite(sigma2) or sigma2 < 0:
        raise ValueError(f"sigma2 must be finite and non-negative; got {sigma2}")
    if kind == "gaussian":
        return 1.0 + np.sqrt(sigma2) * rng.standard_normal(size)
    q = 1.0 / (1.0 + sigma2)
    return (rng.random(size) < q) / q


def monte_carlo_loss(
    weights, X, y, *, gamma, sigma2, noise="gaussian", n_draws=200, seed=0
):
    """Monte Carlo estimate of the expected loss on the empirical distribution of ``(X,
    y)``.

    Each of ``n_draws`` draws samples fresh noise for every sample and layer and
    averages the squared error over the data set; the estimate is the mean over draws
    and its standard error is ``std / sqrt(n_draws)``. Used only to check
    :func:`expected_loss`, which is exact.

    Returns
    -------
    (float, float)
        The estimate and its standard error.
    """
    X, y = samples(X, y)
    n_draws = draw_count(n_draws)
    widths = infer_widths(weights)
    spec = network_spec(len(widths), widths, gamma, sigma2)
    ws = check_weights(weights, spec, X.shape[1])
    rng = np.random.default_rng(seed)
    reg = sum(g * float(np.sum(W * W)) for g, W in zip(spec.gammas, ws))
    per_draw = np.empty(n_draws)
    for k in range(n_draws):
        h = X
        for W, s2 in zip(ws[:-1], spec.sigma2s):
            h = h @ W.T
            h = h * sample_noise(noise, s2, h.shape, rng)
        per_draw[k] = np.mean((h @ ws[-1] - y) ** 2)
    return float(per_draw.mean() + reg), float(per_draw.std(ddof=1) / np.sqrt(n_draws))

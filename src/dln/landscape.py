"""The loss landscape near a point: exact gradient and Hessian of the exact loss, and
the type of a critical point.

Everything here differentiates the exact expected loss of :func:`dln.expected_loss`
(paper Eq. 9, with weight decay and noise; Eq. 2 for one hidden layer) with torch
autograd in float64, on the weights flattened in the fixed order ``[W_1, ..., W_D, U]``,
each matrix row-major (``numpy.ravel``). No finite differences are involved: the Hessian
is exact up to rounding (relative error of order 1e-15 of its largest entry).

A critical point (zero gradient) is classified by the spectrum of its Hessian ``H``,
with an eigenvalue counted as zero when ``|lambda| <= atol + rtol * max|lambda|``:

``minimum``        every eigenvalue positive: a strict local minimum (e.g. the origin
                   for D >= 2 with weight decay, paper Proposition 2, Hessian ``2 gamma
                   I`` in the convention of Eq. 9);
``strict saddle``  at least one negative eigenvalue: gradient descent from a random
                   start leaves it;
``degenerate``     no negative eigenvalue but some zero ones: the second-order test is
                   inconclusive (a flat valley of global minima, or a saddle whose
                   descent is of third or higher order, like the origin of a network
                   with D >= 2 and no weight decay).

A point whose gradient norm exceeds ``grad_tol`` is reported as ``not critical``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import finite_array, positive_scalar
from .loss import loss_kernel
from .network import check_weights, infer_widths, network_spec
from .stats import as_stats

__all__ = [
    "flatten_weights",
    "unflatten_weights",
    "gradient",
    "hessian",
    "newton_step",
    "CriticalPoint",
    "classify_hessian",
    "classify_critical_point",
    "autograd_gradient",
    "autograd_hessian",
    "KINDS",
]

KINDS = ("minimum", "strict saddle", "degenerate", "not critical")


def flatten_weights(weights) -> np.ndarray:
    """Concatenate ``[W_1, ..., W_D, U]`` into one vector (row-major per matrix, input
    layer first).

    Raises
    ------
    ValueError
        If ``weights`` is not a list of at least two finite arrays whose shapes chain
        (``W_{i+1}`` has as many columns as ``W_i`` has rows, and ``U`` as many entries
        as ``W_D`` has rows).
    """
    widths = infer_widths(weights)
    spec = network_spec(len(widths), widths, 0.0, 0.0)
    ws = check_weights(
        weights, spec, int(np.shape(weights[0])[1]) if np.ndim(weights[0]) == 2 else 0
    )
    return np.concatenate([W.ravel() for W in ws])


def unflatten_weights(vector, like) -> list:
    """Split a flat vector into a weight list shaped like ``like`` (the inverse of
    :func:`flatten_weights`).

    Raises
    ------
    ValueError
        If ``vector`` is not a finite 1-d array whose length is the number of parameters
        of ``like``.
    """
    shapes = [np.shape(W) for W in like]
    flatten_weights(like)  # validates the template
    vector = finite_array(vector, "vector", ndim=1)
    sizes = [int(np.prod(s)) for s in shapes]
    if vector.size != sum(sizes):
        raise ValueError(
            f"vector must have {sum(sizes)} entries to match the weights; got "
            f"{vector.size}"
        )
    out, start = [], 0
    for shape, size in zip(shapes, sizes):
        out.append(vector[start : start + size].reshape(shape).copy())
        start += size
    return out


def _setup(weights, A0, Exy, Ey2, gamma, sigma2):
    import torch

    stats = as_stats(A0, Exy, Ey2)
    widths = infer_widths(weights)
    spec = network_spec(len(widths), widths, gamma, sigma2)
    ws = check_weights(weights, spec, stats.dim)
    shapes = [W.shape for W in ws]
    sizes = [int(np.prod(s)) for s in shapes]
    A0t = torch.tensor(np.array(stats.A0), dtype=torch.float64)
    Exyt = torch.tensor(np.array(stats.Exy), dtype=torch.float64)
    eye = lambda n: torch.eye(n, dtype=torch.float64)  # noqa: E731

    def loss_of_flat(theta):
        parts = torch.split(theta, sizes)
        params = [P.reshape(s) for P, s in zip(parts, shapes)]
        return loss_kernel(params, A0t, Exyt, stats.Ey2, spec.gammas, spec.sigma2s, eye)

    theta = torch.tensor(np.concatenate([W.ravel() for W in ws]), dtype=torch.float64)
    return loss_of_flat, theta


def autograd_gradient(f, theta) -> np.ndarray:
    """Gradient of a scalar torch function ``f`` of one float64 vector at ``theta``.

    The unvalidated engine behind :func:`gradient` (and the network with biases):
    ``theta`` is a float64 torch tensor, ``f(theta)`` a 0-d tensor.
    """
    import torch

    theta = theta.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(f(theta), theta)
    return g.detach().numpy()


def autograd_hessian(f, theta) -> np.ndarray:
    """Hessian of a scalar torch function ``f`` at ``theta`` (reverse over reverse),
    symmetrised; the engine behind :func:`hessian`."""
    import torch

    H = torch.autograd.functional.hessian(f, theta.detach()).detach().numpy()
    return 0.5 * (H + H.T)


def gradient(weights, A0, Exy=None, Ey2=None, *, gamma, sigma2) -> np.ndarray:
    """Exact gradient of the exact expected loss (paper Eq. 9) with respect to the
    flattened weights.

    Parameters
    ----------
    weights : list of arrays
        ``[W_1, ..., W_D, U]`` as in :func:`dln.expected_loss`.
    A0, Exy, Ey2 : data moments, or a :class:`dln.DataStats` as ``A0``
    gamma, sigma2 : weight decays ``[gamma_1..gamma_D, gamma_u]`` and noise variances
    (scalars broadcast; 0 allowed)

    Returns
    -------
    ndarray, shape (n_params,)
        ``dL/dtheta`` in the order of :func:`flatten_weights`.

    Raises
    ------
    ValueError
        On inconsistent shapes, non-finite entries, or negative ``gamma`` / ``sigma2``.
    """
    f, theta = _setup(weights, A0, Exy, Ey2, gamma, sigma2)
    return autograd_gradient(f, theta)


def hessian(weights, A0, Exy=None, Ey2=None, *, gamma, sigma2) -> np.ndarray:
    """Exact Hessian of the exact expected loss (paper Eq. 9) with respect to the
    flattened weights.

    Computed by torch autograd (reverse over reverse) in float64 and symmetrised (the
    asymmetry removed is rounding only, of order 1e-15 of the largest entry).

    Parameters
    ----------
    weights : list of arrays
        ``[W_1, ..., W_D, U]`` as in :func:`dln.expected_loss`.
    A0, Exy, Ey2 : data moments, or a :class:`dln.DataStats` as ``A0``
    gamma, sigma2 : weight decays and noise variances, as in :func:`dln.expected_loss`

    Returns
    -------
    ndarray, shape (n_params, n_params)
        ``d^2 L / dtheta dtheta^T`` in the order of :func:`flatten_weights`.

    Raises
    ------
    ValueError
        On inconsistent shapes, non-finite entries, or negative ``gamma`` / ``sigma2``.
    """
    f, theta = _setup(weights, A0, Exy, Ey2, gamma, sigma2)
    return autograd_hessian(f, theta)


def newton_step(weights, A0, Exy=None, Ey2=None, *, gamma, sigma2) -> tuple:
    """The Newton step of the exact loss (paper Eq. 9) at ``weights``, and the decrement
    it predicts.

    With the exact gradient ``g`` and Hessian ``H`` (:func:`gradient`,
    :func:`hessian`), the step is ``s = H^+ g`` (pseudo-inverse) and the decrement
    ``g.s / 2``. Where ``H`` is positive definite, ``weights - s`` is the minimiser of
    the local quadratic model: ``||s||`` estimates the distance from ``weights`` to the
    local minimiser they approach, and the decrement how much lower the loss is there,
    both to leading order. At a saddle or a degenerate point these are only the
    quantities of the model (classify the point with :func:`classify_critical_point`).

    Parameters
    ----------
    weights : list of arrays
        ``[W_1, ..., W_D, U]`` as in :func:`dln.expected_loss`.
    A0, Exy, Ey2 : data moments, or a :class:`dln.DataStats` as ``A0``
    gamma, sigma2 : weight decays and noise variances, as in :func:`dln.expected_loss`

    Returns
    -------
    (step, decrement) : (ndarray, float)
        ``H^+ g`` in the order of :func:`flatten_weights`, and ``g.H^+ g / 2 >= 0``.

    Raises
    ------
    ValueError
        On inconsistent shapes, non-finite entries, or negative ``gamma`` / ``sigma2``.

    Examples
    --------
    >>> import numpy as np, dln
    >>> stats = dln.random_stats(2, seed=0, signal=1.0)
    >>> sol = dln.global_minimum(stats, depth=1, width=2, gamma=0.1, sigma2=0.5)
    >>> step, dec = dln.newton_step(sol.weights, stats, gamma=0.1, sigma2=0.5)
    >>> bool(np.linalg.norm(step) < 1e-10 and dec < 1e-20)
    True
    """
    g = gradient(weights, A0, Exy, Ey2, gamma=gamma, sigma2=sigma2)
    H = hessian(weights, A0, Exy, Ey2, gamma=gamma, sigma2=sigma2)
    step = np.linalg.lstsq(H, g, rcond=None)[0]
    return step, float(abs(g @ step) / 2)


@dataclass(frozen=True)
class CriticalPoint:
    """The type of a point by its gradient and Hessian spectrum (see
    :func:`classify_critical_point`).

    Attributes
    ----------
    kind : str
        One of ``"minimum"``, ``"strict saddle"``, ``"degenerate"``, ``"not critical"``.
    eigenvalues : ndarray
        Hessian eigenvalues, ascending.
    gradient_norm : float
        Euclidean norm of the gradient.
    tol : float
        The threshold below which an eigenvalue counted as zero.
    n_negative, n_zero, n_positive : int
        Eigenvalue counts below ``-tol``, within ``[-tol, tol]``, above ``tol``.
    """

    kind: str
    eigenvalues: np.ndarray
    gradient_norm: float
    tol: float
    n_negative: int
    n_zero: int
    n_positive: int

    @property
    def min_eigenvalue(self) -> float:
        """The smallest Hessian eigenvalue."""
        return float(self.eigenvalues[0])


def classify_hessian(
    H, *, gradient_norm=0.0, grad_tol=1e-8, rtol=1e-8, atol=1e-10
) -> CriticalPoint:
    """Classify a point from its Hessian ``H`` (and gradient norm), as described in the
    module docstring.

    An eigenvalue counts as zero when ``|lambda| <= atol + rtol * max|lambda|``. With
    float64 autograd Hessians the rounding error of an eigenvalue is about 1e-15 of the
    largest, so the default ``rtol = 1e-8`` leaves seven orders of magnitude of margin
    while any eigenvalue that matters for the landscape is far above it; ``atol``
    handles a zero Hessian.

    Raises
    ------
    ValueError
        If ``H`` is not a finite square symmetric matrix (asymmetry above 1e-10 of its
        largest entry), or a tolerance is negative / not finite.
    """
    H = finite_array(H, "H", ndim=2)
    if H.shape[0] != H.shape[1] or H.shape[0] == 0:
        raise ValueError(f"H must be a non-empty square matrix; got shape {H.shape}")
    scale = max(float(np.max(np.abs(H))), np.finfo(float).tiny)
    if np.max(np.abs(H - H.T)) > 1e-10 * scale:
        raise ValueError("H must be symmetric")
    gradient_norm = positive_scalar(gradient_norm, "gradient_norm", allow_zero=True)
    grad_tol = positive_scalar(grad_tol, "grad_tol", allow_zero=True)
    rtol = positive_scalar(rtol, "rtol", allow_zero=True)
    atol = positive_scalar(atol, "atol", allow_zero=True)
    lam = np.linalg.eigvalsh(0.5 * (H + H.T))
    tol = atol + rtol * float(np.max(np.abs(lam)))
    n_neg = int(np.sum(lam < -tol))
    n_pos = int(np.sum(lam > tol))
    n_zero = lam.size - n_neg - n_pos
    if gradient_norm > grad_tol:
        kind = "not critical"
    elif n_neg > 0:
        kind = "strict saddle"
    elif n_zero > 0:
        kind = "degenerate"
    else:
        kind = "minimum"
    return CriticalPoint(kind, lam, float(gradient_norm), tol, n_neg, n_zero, n_pos)


def classify_critical_point(
    weights,
    A0,
    Exy=None,
    Ey2=None,
    *,
    gamma,
    sigma2,
    grad_tol=1e-8,
    rtol=1e-8,
    atol=1e-10,
) -> CriticalPoint:
    """Classify ``weights`` as a minimum, strict saddle or degenerate critical point of
    the exact loss (Eq. 9).

    Computes the exact gradient and Hessian (:func:`gradient`, :func:`hessian`) and
    applies :func:`classify_hessian`: ``not critical`` if ``||grad|| > grad_tol``;
    otherwise ``strict saddle`` if an eigenvalue is below ``-tol``, ``degenerate`` if
    none is but some are within ``tol`` of zero, ``minimum`` if all exceed ``tol``,
    where ``tol = atol + rtol * max|lambda|``.

    Examples
    --------
    The origin of a one-hidden-layer network without weight decay is a strict saddle
    when ``E[xy] != 0``; with two hidden layers its Hessian vanishes and it is
    degenerate.
    """
    g = gradient(weights, A0, Exy, Ey2, gamma=gamma, sigma2=sigma2)
    H = hessian(weights, A0, Exy, Ey2, gamma=gamma, sigma2=sigma2)
    return classify_hessian(
        H,
        gradient_norm=float(np.linalg.norm(g)),
        grad_tol=grad_tol,
        rtol=rtol,
        atol=atol,
    )

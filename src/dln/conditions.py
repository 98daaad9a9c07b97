"""Conditions and bounds of the theorems in closed form: when the global minimum is
trivial, and where ``b*`` lies.

Each function evaluates one inequality or closed form of Ziyin, Li & Meng (2022) and
names its equation. They need no root finding, so they serve as independent checks of
:func:`dln.global_minimum` (and vice versa).

Two-layer network (depth ``D = 1``, paper Section 3 and Appendix C), weight decays
``gamma_w`` (the hidden layer ``W``, the book's ``gamma_1``) and ``gamma_u`` (the output
vector ``U``), width ``d_1``, noise variance ``sigma^2``:

* threshold (Theorem 1, Eq. 4): the global minimum is the origin iff ``||E[xy]||^2 <=
  gamma_u gamma_w``;
* curvature of the reduced loss at the origin (Eq. 37, corrected sign): ``2 d_1 (gamma_u
  - ||E[xy]||^2 / gamma_w)``;
* bounds on ``b*`` from the extreme eigenvalues of ``A0`` (Eq. 8);
* closed form of ``b*`` and of the rows of ``W`` for whitened data ``A0 = sigma_x^2 I``
  (Appendix C, Eqs. 104-105).

Throughout, ``b`` is the book's output scale ``|U_j|`` (the paper's ``b`` for ``D =
1``), as in :class:`dln.Solution`.
"""

from __future__ import annotations

import numpy as np

from ._validation import positive_int, positive_scalar
from .stats import DataStats, as_stats

__all__ = [
    "two_layer_critical_signal",
    "two_layer_is_trivial",
    "two_layer_curvature_at_origin",
    "two_layer_b_bounds",
    "two_layer_whitened_b",
    "two_layer_whitened_row",
]

# Relative tolerance for "A0 is a multiple of the identity" in the whitened closed form.
_WHITENED_RTOL = 1e-9


def _stats(stats) -> DataStats:
    if not isinstance(stats, DataStats):
        raise ValueError(
            "stats must be a dln.DataStats (see dln.DataStats, dln.data_stats); got "
            f"{type(stats).__name__}"
        )
    return as_stats(stats)


def _decays(gamma_w, gamma_u):
    return positive_scalar(gamma_w, "gamma_w"), positive_scalar(gamma_u, "gamma_u")


def two_layer_critical_signal(gamma_w, gamma_u) -> float:
    """The signal strength at which the two-layer global minimum leaves the origin
    (Theorem 1, Eq. 4).

    The global minimum of paper Eq. 2 is ``U = 0, W = 0`` iff ``||E[xy]||^2 <= gamma_u
    gamma_w``; this returns the critical value ``sqrt(gamma_u gamma_w)`` of
    ``||E[xy]||``. It depends neither on the width nor on the noise.

    Parameters
    ----------
    gamma_w, gamma_u : float
        Weight decays of the hidden layer and of the output vector, both > 0.

    Returns
    -------
    float
        ``sqrt(gamma_u * gamma_w)``.
    """
    gamma_w, gamma_u = _decays(gamma_w, gamma_u)
    return float(np.sqrt(gamma_u * gamma_w))


def two_layer_is_trivial(stats, gamma_w, gamma_u) -> bool:
    """Whether the two-layer global minimum is the origin: ``||E[xy]||^2 <= gamma_u
    gamma_w`` (Theorem 1, Eq. 4).

    Parameters
    ----------
    stats : DataStats
        Data moments.
    gamma_w, gamma_u : float
        Weight decays of the hidden layer and of the output vector, both > 0.

    Returns
    -------
    bool
        True when the inequality of Eq. 4 holds (the only global minimum is ``U = 0, W =
        0``).
    """
    stats = _stats(stats)
    gamma_w, gamma_u = _decays(gamma_w, gamma_u)
    return bool(stats.signal**2 <= gamma_u * gamma_w)


def two_layer_curvature_at_origin(stats, width, gamma_w, gamma_u) -> float:
    """Second derivative of the two-layer reduced loss ``L(b)`` at ``b = 0`` (paper Eq.
    37, sign corrected).

    ``L''(0) = 2 d_1 (gamma_u - ||E[xy]||^2 / gamma_w)``: negative exactly when
    ``||E[xy]||^2 > gamma_u gamma_w``. (The paper prints ``2 d_1 ||E[xy]||^2 / gamma_w +
    2 gamma_u d_1``, which is never negative.) The noise variance does not enter: the
    noise term of the loss is of order ``b^4``.

    Parameters
    ----------
    stats : DataStats
        Data moments.
    width : int
        Hidden width ``d_1``.
    gamma_w, gamma_u : float
        Weight decays, both > 0.
    """
    stats = _stats(stats)
    width = positive_int(width, "width")
    gamma_w, gamma_u = _decays(gamma_w, gamma_u)
    return float(2 * width * (gamma_u - stats.signal**2 / gamma_w))


def two_layer_b_bounds(
    stats, width, gamma_w, gamma_u, sigma2, *, signal_support=False
) -> tuple:
    """Lower and upper bounds on the two-layer output scale ``b* = |U_j|`` at the global
    minimum (paper Eq. 8).

    With ``c = sqrt(gamma_w / gamma_u) ||E[xy]|| - gamma_w`` (positive exactly above the
    threshold of Eq. 4),

        c / ((sigma^2 + d_1) a_max)  <=  b*^2  <=  c / ((sigma^2 + d_1) a_min),

    from bounding every eigenvalue of ``A0`` in the scalar equation (Eq. 6) by ``a_min``
    and ``a_max`` (Eq. 7).

    Parameters
    ----------
    stats : DataStats
        Data moments.
    width : int
        Hidden width ``d_1``.
    gamma_w, gamma_u : float
        Weight decays of the hidden layer and of the output vector, both > 0.
    sigma2 : float
        Noise variance ``sigma^2 >= 0``.
    signal_support : bool, default False
        If True, take ``a_min`` and ``a_max`` only over the eigenvalues of ``A0`` along
        which ``E[xy]`` has a component (still valid, and tighter; it also gives a
        finite upper bound for a singular ``A0``).

    Returns
    -------
    (lower, upper) : tuple of floats
        Bounds on ``b*`` itself (square roots of the bounds of Eq. 8). Both are 0 when
        the minimum is trivial (``c <= 0``); ``upper`` is ``inf`` when the smallest
        eigenvalue used is 0.
    """
    stats = _stats(stats)
    width = positive_int(width, "width")
    gamma_w, gamma_u = _decays(gamma_w, gamma_u)
    sigma2 = positive_scalar(sigma2, "sigma2", allow_zero=True)
    c = np.sqrt(gamma_w / gamma_u) * stats.signal - gamma_w
    if c <= 0:
        return 0.0, 0.0
    a = stats.eigenvalues
    if signal_support:
        a = a[stats.exy_eigen != 0]
    a_min, a_max = float(a.min()), float(a.max())
    lower = np.sqrt(c / ((sigma2 + width) * a_max))
    upper = np.sqrt(c / ((sigma2 + width) * a_min)) if a_min > 0 else np.inf
    return float(lower), float(upper)


def _whitened_variance(stats: DataStats) -> float:
    s2x = float(np.mean(np.diag(stats.A0)))
    dev = np.max(np.abs(stats.A0 - s2x * np.eye(stats.dim)))
    if s2x <= 0 or dev > _WHITENED_RTOL * s2x:
        raise ValueError(
            "the closed form needs whitened data, A0 = sigma_x^2 I with sigma_x^2 > 0; "
            f"max |A0 - sigma_x^2 I| = {dev:.3g} for sigma_x^2 = {s2x:.3g}"
        )
    return s2x


def two_layer_whitened_b(stats, width, gamma_w, gamma_u, sigma2) -> float:
    """Closed form of ``b* = |U_j|`` for whitened data ``A0 = sigma_x^2 I`` (paper
    Appendix C, Eq. 104).

        b*^2 = (sqrt(gamma_w / gamma_u) ||E[xy]|| - gamma_w) / ((sigma^2 + d_1)
        sigma_x^2)

    above the threshold of Eq. 4, and ``b* = 0`` (the origin) otherwise. Both bounds of
    Eq. 8 coincide with it.

    Parameters
    ----------
    stats : DataStats
        Data moments with ``A0 = sigma_x^2 I`` (relative tolerance 1e-9).
    width : int
        Hidden width ``d_1``.
    gamma_w, gamma_u : float
        Weight decays, both > 0.
    sigma2 : float
        Noise variance ``sigma^2 >= 0``.

    Raises
    ------
    ValueError
        If ``A0`` is not a positive multiple of the identity, or an argument is invalid.
    """
    stats = _stats(stats)
    width = positive_int(width, "width")
    gamma_w, gamma_u = _decays(gamma_w, gamma_u)
    sigma2 = positive_scalar(sigma2, "sigma2", allow_zero=True)
    s2x = _whitened_variance(stats)
    c = np.sqrt(gamma_w / gamma_u) * stats.signal - gamma_w
    return float(np.sqrt(c / ((sigma2 + width) * s2x))) if c > 0 else 0.0


def two_layer_whitened_row(stats, width, gamma_w, gamma_u, sigma2) -> np.ndarray:
    """Closed form of every row ``v = W_j:`` of the hidden layer for whitened data
    (paper Appendix C, Eq. 105).

        v = sqrt((sqrt(gamma_u / gamma_w) ||E[xy]|| - gamma_u) / (sigma_x^2 (sigma^2 +
        d_1))) E[xy] / ||E[xy]||

    for the minimiser with ``U = b* (1, ..., 1)``; flipping the sign of ``U_j`` flips
    the sign of row ``j``. Zero below the threshold of Eq. 4.

    Parameters
    ----------
    stats, width, gamma_w, gamma_u, sigma2
        As in :func:`two_layer_whitened_b`.

    Returns
    -------
    ndarray, shape (d,)
    """
    stats = _stats(stats)
    width = positive_int(width, "width")
    gamma_w, gamma_u = _decays(gamma_w, gamma_u)
    sigma2 = positive_scalar(sigma2, "sigma2", allow_zero=True)
    s2x = _whitened_variance(stats)
    c = np.sqrt(gamma_u / gamma_w) * stats.signal - gamma_u
    if c <= 0:
        return np.zeros(stats.dim)
    return np.sqrt(c / (s2x * (sigma2 + width))) * np.asarray(stats.Exy) / stats.signal

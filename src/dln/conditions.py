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

Networks of any depth with equal widths ``d_0``, weight decays ``gamma`` and noises
``sigma^2`` (paper Section 4, Appendix B.8-B.9):

* the sufficient conditions of Proposition 3 for "only the trivial solution" and "a
  nontrivial solution exists" (Eqs. 14-15), as thresholds on ``||E[xy]||``;
* the sufficient condition of Theorem 3 for a nontrivial global minimum (Eq. 18);
* the bounds on every nontrivial solution (Eq. 16, upper bound corrected to ``a_min``).

Throughout, ``b`` is the book's output scale ``|U_j|`` (the paper's ``b`` for ``D =
1``), as in :class:`dln.Solution`; for equal widths and weight decays the paper's deep
scale is ``b_2 = b / sqrt(d_0)``.
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
    "deep_signal_bounds",
    "deep_global_signal",
    "deep_b_bounds",
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


# --- networks of any depth, equal widths, weight decays and noises (Section 4) -------


def _deep_arch(stats, depth, width, sigma2, gamma, need_a_min=True):
    stats = _stats(stats)
    depth = positive_int(depth, "depth")
    if np.ndim(width) != 0:
        raise ValueError(
            "width must be one integer d_0, shared by every hidden layer "
            f"(Proposition 3 and Theorem 3 assume equal widths); got {width!r}"
        )
    width = positive_int(width, "width")
    sigma2 = positive_scalar(sigma2, "sigma2", allow_zero=True)
    gamma = positive_scalar(gamma, "gamma")
    if need_a_min and stats.a_min <= 0:
        raise ValueError(
            "A0 must be positive definite (a_min > 0), as Proposition 3 assumes; its "
            f"smallest eigenvalue is {stats.a_min:.3g}"
        )
    return stats, depth, float(width), sigma2, gamma


def _prop3_signal(D, d0, s2, gamma, a):
    """The ``||E[xy]||`` at which the left side of Eq. 14 (``a = a_min``) or Eq. 15
    (``a = a_max``) equals ``gamma``, in logarithms (no overflow at large depth)."""
    if D == 1:
        return gamma
    log_inner = np.log(2 * D * d0 * a / (D - 1)) + D * np.log(s2 + d0)
    log_rhs = (
        np.log(gamma)
        + np.log(2 * D / (D + 1))
        + (1 - D) * np.log(d0)
        + (D - 1) / (D + 1) * log_inner
    )
    return float(np.exp((D + 1) / (2 * D) * log_rhs))


def deep_signal_bounds(stats, *, depth, width, sigma2, gamma) -> tuple:
    """The signal strengths of Proposition 3's sufficient conditions (paper Eqs. 14 and
    15), for equal widths ``d_0``, weight decays ``gamma`` and noises ``sigma^2``.

    The left sides of Eqs. 14-15, ``(D+1)/(2D) ||E[xy]|| d_0^(D-1) ((D-1) ||E[xy]|| /
    (2 D d_0 (sigma^2 + d_0)^D a))^((D-1)/(D+1))``, increase with ``||E[xy]||``; this
    returns where each equals ``gamma``:

    * ``s_trivial`` (``a = a_min``, Eq. 14): below it, ``b = 0`` is the only solution of
      the scalar equation;
    * ``s_exists`` (``a = a_max``, Eq. 15): at or above it, a solution ``b > 0`` exists.

    Both equal ``gamma`` for ``depth = 1`` (the limit, and Theorem 1) and coincide for
    whitened data ``A0 = sigma_x^2 I``, where the condition is exact (paper footnote 4).

    Parameters
    ----------
    stats : DataStats
        Data moments with ``A0`` positive definite.
    depth : int
        Number of hidden layers ``D``.
    width : int
        The common width ``d_0`` of every hidden layer.
    sigma2 : float
        The common noise variance (>= 0).
    gamma : float
        The common weight decay (> 0) of every layer, ``U`` included.

    Returns
    -------
    (s_trivial, s_exists) : tuple of floats

    Raises
    ------
    ValueError
        If an argument is invalid, ``width`` is not one integer, or ``A0`` is singular.
    """
    stats, D, d0, s2, gamma = _deep_arch(stats, depth, width, sigma2, gamma)
    return (
        _prop3_signal(D, d0, s2, gamma, stats.a_min),
        _prop3_signal(D, d0, s2, gamma, stats.a_max),
    )


def deep_global_signal(stats, *, depth, width, sigma2, gamma) -> float:
    """The signal strength above which Theorem 3 (paper Eq. 18) guarantees a nontrivial
    global minimum, for equal widths ``d_0``, weight decays and noises.

    ``||E[xy]||^2 >= gamma^((D+1)/D) D^2 (sigma^2 + d_0)^(D-1) a_max^((D-1)/D) /
    (d_0^(D-1) (D-1)^((D-1)/D))``; this returns the square root of the right side
    (``gamma`` for ``depth = 1``, the limit of Eq. 19 and Theorem 1). The condition is
    exact for whitened data ``A0 = sigma_x^2 I`` and sufficient otherwise.

    Parameters
    ----------
    stats, depth, width, sigma2, gamma
        As in :func:`deep_signal_bounds` (``A0`` may be singular here).

    Returns
    -------
    float
    """
    stats, D, d0, s2, gamma = _deep_arch(
        stats, depth, width, sigma2, gamma, need_a_min=False
    )
    if D == 1:
        return gamma
    log_rhs = (
        (D + 1) / D * np.log(gamma)
        + 2 * np.log(D)
        + (D - 1) * np.log(s2 + d0)
        + (D - 1) / D * np.log(stats.a_max)
        - (D - 1) * np.log(d0)
        - (D - 1) / D * np.log(D - 1)
    )
    return float(np.exp(0.5 * log_rhs))


def deep_b_bounds(stats, *, depth, width, sigma2, gamma) -> tuple:
    """Bounds on every solution ``b > 0`` of the scalar equation for depth ``D >= 2``
    (paper Proposition 3, Eq. 16, upper bound corrected), on the book's scale ``b``.

    In the paper's scale ``b_2`` (the entries of the hidden layers; the book's output
    scale is ``b = sqrt(d_0) b_2`` for equal widths and weight decays):

        (1/d_0) (gamma / ||E[xy]||)^(1/(D-1)) <= b_2
            <= (||E[xy]|| / (d_0 (sigma^2 + d_0)^D a_min))^(1/(D+1)).

    Eq. 16 prints ``a_max`` in the upper bound, which fails; the proof (Eqs. 69-71)
    gives ``a_min``. Both bounds are returned multiplied by ``sqrt(d_0)``.

    Parameters
    ----------
    stats, depth, width, sigma2, gamma
        As in :func:`deep_signal_bounds`, with ``depth >= 2``.

    Returns
    -------
    (lower, upper) : tuple of floats
        Bounds on the book's ``b``; ``(inf, 0)`` when ``E[xy] = 0`` (no solution).

    Raises
    ------
    ValueError
        If ``depth < 2`` (see :func:`two_layer_b_bounds`) or an argument is invalid.
    """
    stats, D, d0, s2, gamma = _deep_arch(stats, depth, width, sigma2, gamma)
    if D < 2:
        raise ValueError(
            "deep_b_bounds needs depth >= 2; for one hidden layer use "
            "dln.two_layer_b_bounds (paper Eq. 8)"
        )
    s = stats.signal
    if s == 0:
        return np.inf, 0.0
    lower = (gamma / s) ** (1 / (D - 1)) / d0
    log_upper = (np.log(s) - np.log(d0) - D * np.log(s2 + d0) - np.log(stats.a_min)) / (
        D + 1
    )
    return float(np.sqrt(d0) * lower), float(np.sqrt(d0) * np.exp(log_upper))

"""The global minimum of a stochastic deep linear network with weight decay, in closed
form up to one scalar.

The reduction used here (derived step by step in the chapters "The two-layer network"
and "Networks of any depth", following Theorems 1-2 and Lemma 3 of Ziyin, Li & Meng,
2022):

* at a global minimum every hidden layer is rank one with +-1 sign vectors, ``W_i = b_i
  r_i r_{i-1}^T`` (i >= 2), ``U = b r_D``, ``W_1 = r_1 w^T`` (paper Eq. 10); the layers
  are balanced (Lemma 3, Eq. 11), so every upper layer is fixed by the output scale ``b
  = |U_j|`` (the book's scalar, the paper's ``b`` for D = 1): ``gamma_k ||W_k||^2 =
  gamma_u d_D b^2`` for k = 2..D;
* for fixed ``b`` the input vector ``w`` solves a ridge regression (paper Eq. 31), and
  the loss along ``b`` is the *profile*

      L(b) = E[y^2] + D gamma_u d_D b^2 - alpha * sum_i E[x'y]_i^2 / (a_i + tau(b)),
      tau(b) = K b^{-2D},

  with ``a_i`` the eigenvalues of ``A0``, ``E[x'y]`` the signal in its eigenbasis,
  ``alpha = prod_i d_i / (d_i + sigma_i^2)``, ``s = prod_i d_i (d_i + sigma_i^2)`` and
  ``K = gamma_1 d_1 / (s B(b)^2 / b^{2D})`` (``B`` the product of the layer scales, Eq.
  12);
* its stationary points ``b > 0`` solve the scalar equation (the book's form of paper
  Eqs. 6 and 13)

      gamma_u d_D b^2 = alpha * tau * || (A0 + tau I)^{-1} E[xy] ||^2,
      tau = K b^{-2D}.

The equation is solved for ``u = log tau`` (no power of ``b`` is ever formed, so depth
64 neither overflows nor underflows), every root is bracketed (see
:func:`_nontrivial_log_taus`), roots at an ill-conditioned ``A0 + tau I`` are refined
against ``A0`` itself (see :func:`_refined_roots`), and the global minimum is chosen by
its loss among all roots and ``b = 0``. "Closed form" means: exact up to the
floating-point accuracy stated in :func:`global_minimum` (about 1e-15 relative).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from scipy.optimize import brentq

from ._accurate import dot2, residual2
from ._validation import finite_array
from .network import NetworkSpec, network_spec
from .stats import DataStats, as_stats

__all__ = [
    "global_minimum",
    "Solution",
    "profile_loss",
    "ReducedProblem",
    "reduced_problem",
]


def _logsumexp(x, axis=None, keepdims=False):
    """``log sum exp(x)`` along ``axis``, shifted by the maximum (scipy's version costs
    ~0.1 ms per call in array-API dispatch, and the root finder calls this hundreds of
    times)."""
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return (
        out
        if keepdims
        else (np.squeeze(out, axis=axis) if axis is not None else out.reshape(()))
    )


def _chunked(f, u, rows=128):
    """``f`` on a 1-d array ``u`` in chunks, so that no ``len(u) x n_eigen`` temporary
    is formed at once (memory stays ``O(rows * d)``, far below one ``d x d`` matrix for
    large ``d``)."""
    u = np.asarray(u, dtype=float)
    return (
        np.concatenate([f(u[i : i + rows]) for i in range(0, u.size, rows)])
        if u.size
        else np.empty(0)
    )


# e-folds within which r and phi' are evaluated in plain arithmetic (see ReducedProblem)
_DIRECT_SPAN = 150.0
_GRID_STEP = (
    0.05  # in log(tau); every term of the equation varies on a unit scale in log(tau)
)


@dataclass(frozen=True)
class ReducedProblem:
    """The one-dimensional problem that a global minimum solves, in logarithms (see the
    module docstring)."""

    spec: NetworkSpec
    log_a: np.ndarray  # log eigenvalues of A0 along which E[xy] has a component
    log_e2: np.ndarray  # log of those squared components
    e2: np.ndarray
    a: np.ndarray
    Ey2: float
    log_alpha: float
    log_s: float
    log_m: float
    log_K: float
    log_B_offset: float  # log B(b) = D log b + log_B_offset

    @property
    def depth(self) -> int:
        return self.spec.depth

    @cached_property
    def _scaled(self):
        """``(a / a_max, e^2 / max e^2, log a_max, log max e^2)``, or None when the
        spectrum spans too many e-folds.

        In these units, and for ``|log(tau / a_max)| < 150``, every term of ``r`` and
        ``phi'`` lies between ``e^-300`` and ``e^300``: plain arithmetic is then exact
        to rounding and several times faster than the ``logaddexp`` route, which is kept
        for everything else.
        """
        if self.log_a.size == 0 or self.log_a.max() - self.log_a.min() >= _DIRECT_SPAN:
            return None
        la, le = float(self.log_a.max()), float(self.log_e2.max())
        return np.exp(self.log_a - la), np.exp(self.log_e2 - le), la, le

    def _direct_t(self, u):
        """``tau / a_max`` as a column, when the plain-arithmetic route applies to every
        ``u``; else None."""
        if self._scaled is None:
            return None
        log_t = u - self._scaled[2]
        if log_t.size == 0 or np.max(np.abs(log_t)) >= _DIRECT_SPAN:
            return None
        return np.exp(log_t)[..., None]

    def log_r(self, u):
        """``log ||(A0 + e^u I)^{-1} E[xy]||`` for an array of ``u``."""
        u = np.asarray(u, dtype=float)
        t = self._direct_t(u)
        if t is not None:
            a_n, e2_n, la, le = self._scaled
            return 0.5 * (np.log(np.sum(e2_n / (a_n + t) ** 2, axis=-1)) + le) - la
        return 0.5 * _logsumexp(
            self.log_e2 - 2 * np.logaddexp(self.log_a, u[..., None]), axis=-1
        )

    @property
    def phi_offset(self) -> float:
        """The constant of ``phi``: ``log alpha - log(gamma_u d_D) - log(K) / D``."""
        g = self.spec
        return (
            self.log_alpha - np.log(g.gamma_u * g.widths[-1]) - self.log_K / self.depth
        )

    def phi(self, u):
        """The scalar equation as ``phi(u) = 0``: ``2 log r(u) + (1 + 1/D) u + log alpha
        - log(gamma_u d_D) - log(K)/D``."""
        return (
            2 * self.log_r(u)
            + (1 + 1 / self.depth) * np.asarray(u, dtype=float)
            + self.phi_offset
        )

    def _pi_s(self, u):
        """The weights ``pi_i`` of ``r^2`` (normalised) and ``s_i = tau / (a_i + tau)``
        at each ``u``, as arrays with a trailing axis over the eigenvalues."""
        u = np.asarray(u, dtype=float)
        t = self._direct_t(u)
        if t is not None:
            a_n, e2_n = self._scaled[:2]
            den = a_n + t
            weights = e2_n / den**2
            s = t / den
        else:
            u = u[..., None]
            log_apt = np.logaddexp(self.log_a, u)  # log(a_i + tau)
            log_terms = self.log_e2 - 2 * log_apt
            # pi_i up to normalisation, <= 1
            weights = np.exp(log_terms - np.max(log_terms, axis=-1, keepdims=True))
            s = np.exp(u - log_apt)  # tau / (a_i + tau) in (0, 1]
        return weights / np.sum(weights, axis=-1, keepdims=True), s

    def dphi(self, u):
        """``d phi / du = (1 + 1/D) - 2 E_pi[s]``, with ``s_i = sigmoid(u - log a_i)``
        and ``pi_i`` the weights of ``r^2``."""
        u = np.asarray(u, dtype=float)
        t = self._direct_t(u)
        if t is not None:
            a_n, e2_n = self._scaled[:2]
            den = a_n + t
            weights = e2_n / den**2
            return (1 + 1 / self.depth) - 2 * np.sum(
                weights * (t / den), axis=-1
            ) / np.sum(weights, axis=-1)
        pi, s = self._pi_s(u)
        return (1 + 1 / self.depth) - 2 * np.sum(pi * s, axis=-1)

    def d2phi(self, u):
        """``d^2 phi / du^2 = 4 Var_pi(s) - 2 E_pi[s (1 - s)]``, which lies in ``[-1/2,
        1]``."""
        pi, s = self._pi_s(u)
        m = np.sum(pi * s, axis=-1)
        m2 = np.sum(pi * s * s, axis=-1)
        return 4 * (m2 - m * m) - 2 * (m - m2)

    def critical_window(self) -> tuple:
        """The interval of ``u`` outside which ``phi'`` has no zero: ``phi' > 0`` below
        ``min log a_i`` and, for D >= 2, ``phi' < 0`` above ``max log a_i + log((D +
        1) / (D - 1))`` (each widened by 1, so that a zero on the edge shows as a sign
        change). ``phi`` has no critical point at all for D = 1 (``phi' > 0``)."""
        D = self.depth
        if self.log_a.size == 0 or D == 1:
            return (0.0, 0.0)
        return (
            float(self.log_a.min() - 1.0),
            float(self.log_a.max() + np.log((D + 1) / (D - 1)) + 1.0),
        )

    def critical_points(self, lo=None, hi=None) -> np.ndarray:
        """Split points of ``[lo, hi]`` (default :meth:`critical_window`) between which
        ``phi`` is strictly monotone: every zero of ``phi'`` there, ascending.

        The zeros are certified complete by the bounds on ``phi''`` and ``phi'''`` (see
        :func:`_cells_to_search`); a few extra points may appear where the search went
        down to cells of width ~1e-9 (harmless: ``phi`` is monotone on both sides).
        They depend on neither the weight decay (when all layers share it) nor the scale
        of ``E[xy]``, which only shift ``phi`` by a constant.
        """
        w_lo, w_hi = self.critical_window()
        lo = w_lo if lo is None else max(lo, w_lo)
        hi = w_hi if hi is None else min(hi, w_hi)
        if not lo < hi:
            return np.empty(0)
        grid = np.linspace(lo, hi, max(3, int(np.ceil((hi - lo) / _GRID_STEP)) + 1))
        return np.unique(_critical_points(self, grid, _chunked(self.dphi, grid)))

    def log_b_of_u(self, u):
        """The output scale ``b`` of a root ``u = log tau``: ``tau = K b^{-2D}``."""
        return (self.log_K - np.asarray(u, dtype=float)) / (2 * self.depth)

    def loss_at_u(self, u):
        """The profile ``L(b)`` at ``log tau = u`` (the exact loss there when ``u`` is a
        root)."""
        return self.Ey2 + self.gain_at_u(u)

    def gain_at_u(self, u):
        """``L(b) - E[y^2] = D gamma_u d_D b^2 - alpha sum_i e_i^2 / (a_i + tau)`` at
        ``log tau = u``.

        Formed without ``E[y^2]``, so that near a threshold, where the gain is far below
        ``eps * E[y^2]``, it still ranks a root against the origin (gain 0). It is
        stationary at a root, so a root off by ``du`` changes it only by ``O(du^2)``.
        """
        u = np.asarray(u, dtype=float)
        b2 = np.exp(2 * self.log_b_of_u(u))
        fit = np.exp(self.log_alpha) * np.sum(
            np.exp(self.log_e2 - np.logaddexp(self.log_a, u[..., None])), axis=-1
        )
        return self.depth * self.spec.gamma_u * self.spec.widths[-1] * b2 - fit


def reduced_problem(stats: DataStats, spec: NetworkSpec) -> ReducedProblem:
    """Constants of the reduction for given data moments and architecture (every
    ``gamma`` must be > 0)."""
    if min(spec.gammas) <= 0:
        raise ValueError(
            "every weight decay must be > 0 for a global minimum to exist (the book's "
            "existence proposition in 'Networks of any depth'; Ziyin et al. 2022, "
            f"Proposition 1); got gamma={spec.gammas}"
        )
    a, e = stats.eigenvalues, stats.exy_eigen
    keep = (a > 0) & (e != 0)
    D, d = spec.depth, np.asarray(spec.widths, dtype=float)
    s2 = np.asarray(spec.sigma2s, dtype=float)
    log_m = float(np.sum(np.log(d)))
    log_s = float(np.sum(np.log(d) + np.log(d + s2)))
    log_alpha = float(np.sum(np.log(d) - np.log(d + s2)))
    gu, dD = spec.gamma_u, d[-1]
    fan_in = np.concatenate(([np.nan], d[:-1]))
    # upper layers i = 2..D: log b_i = log b + 0.5 log(gamma_u d_D / gamma_i) - 0.5
    # log(d_i d_{i-1})
    log_B_offset = float(
        sum(
            0.5 * np.log(gu * dD / spec.gammas[i]) - 0.5 * np.log(d[i] * fan_in[i])
            for i in range(1, D)
        )
    )
    log_K = float(np.log(spec.gammas[0] * d[0]) - log_s - 2 * log_B_offset)
    return ReducedProblem(
        spec=spec,
        log_a=np.log(a[keep]),
        log_e2=np.log(e[keep] ** 2),
        e2=e[keep] ** 2,
        a=a[keep],
        Ey2=stats.Ey2,
        log_alpha=log_alpha,
        log_s=log_s,
        log_m=log_m,
        log_K=log_K,
        log_B_offset=log_B_offset,
    )


def _brent(f, lo, hi):
    return brentq(
        f,
        lo,
        hi,
        xtol=1e-13 * max(1.0, abs(lo), abs(hi)),
        rtol=4 * np.finfo(float).eps,
        maxiter=500,
    )


# Bounds on the derivatives of phi used to certify the root search (see
# _cells_to_search); both are checked by differences in the property tests.
_PHI3_BOUND = 8.0  # |phi'''| = |6 B - 2 A (1 + 4 E_pi[s])| <= 3 + 5
_MAX_LEVEL = 4  # refinement levels of the critical-point search (cells ~ 0.05 / 64^4)


def _cells_to_search(grid, dp, d2_lo, d2_hi):
    """Which cells of ``grid`` may hold more zeros of ``phi'`` than its end values show.

    ``dp`` is ``phi'`` on the grid; ``d2_lo``, ``d2_hi`` are ``phi''`` at the left and
    right ends of every cell (only read where ``phi'`` changes sign; NaN elsewhere).
    A cell is safe when it provably holds exactly as many zeros as sign changes:

    * no sign change: a pair of zeros needs ``phi'`` to fall to 0 and rise back (or
      rise and fall). As ``phi''`` lies in ``[-1/2, 1]``, falling from ``d > 0`` to 0
      takes a distance ``>= 2 d`` and rising from ``-d`` takes ``>= d``, so a pair
      needs ``2 d_lo + d_hi <= h`` (both positive) or ``|d_lo| + 2 |d_hi| <= h``;
    * one sign change: three zeros need ``phi''`` to vanish in the cell. With
      ``|phi'''| <= 8``, ``phi''`` keeps the sign of its end values if they agree and
      ``|phi''(lo)| + |phi''(hi)| > 8 h``; then ``phi'`` is strictly monotone there.

    Both tests carry a margin of 1.25. A cell with an exact zero of ``phi'`` at one end
    only is searched too.

    Returns
    -------
    (change, search) : boolean arrays over the cells
        Where ``phi'`` changes sign, and which cells must be searched on a finer grid.
    """
    h = grid[1] - grid[0]
    d_lo, d_hi = dp[:-1], dp[1:]
    change = d_lo * d_hi < 0
    zero_end = ((d_lo == 0) | (d_hi == 0)) & (d_lo != d_hi)
    need = np.where(d_lo > 0, 2 * d_lo + d_hi, -d_lo - 2 * d_hi)
    pair = ~change & ~zero_end & (need <= 1.25 * h)
    # NaN (no sign change) compares False
    monotone = (d2_lo * d2_hi > 0) & (
        np.abs(d2_lo) + np.abs(d2_hi) > 1.25 * _PHI3_BOUND * h
    )
    return change, pair | (change & ~monotone) | zero_end


def _critical_points(P: ReducedProblem, grid, dp, level: int = 0) -> list:
    """Points that split ``grid`` into pieces on which ``phi`` is monotone (every zero
    of ``phi'`` in the range).

    A cell in which ``phi'`` changes sign and provably has one zero (see
    :func:`_cells_to_search`) is solved by Brent's method. Every other cell that could
    hide zeros of ``phi'`` (a pair where no sign change shows, or three where one does)
    is searched again on a 64 times finer grid, down to cells of width ~1e-9 after
    ``_MAX_LEVEL`` levels; there its Brent zero (if any) and its midpoint are kept as
    split points (a harmless extra piece). On such a cell ``phi`` varies by at most
    ``|phi'| h <= h^2 ~ 1e-17``, below its rounding, so a root pair hidden there would
    be a double root to working precision.
    """
    dphi = lambda u: float(P.dphi(u))  # noqa: E731
    out = list(grid[dp == 0])
    change = dp[:-1] * dp[1:] < 0
    d2_lo = np.full(change.shape, np.nan)
    d2_hi = np.full(change.shape, np.nan)
    idx = np.flatnonzero(change)
    if idx.size:
        d2 = P.d2phi(np.concatenate((grid[idx], grid[idx + 1])))
        d2_lo[idx], d2_hi[idx] = d2[: idx.size], d2[idx.size :]
    change, search = _cells_to_search(grid, dp, d2_lo, d2_hi)
    # A sign-change cell that the end values of phi'' do not certify is usually
    # certified by phi'' on 8 sub-cells (one vectorised call instead of a finer search).
    hard = np.flatnonzero(change & search)
    if hard.size:
        sub = np.linspace(grid[hard], grid[hard + 1], 9, axis=-1)
        d2 = P.d2phi(sub)
        ok = np.all(
            (d2[:, :-1] * d2[:, 1:] > 0)
            & (
                np.abs(d2[:, :-1]) + np.abs(d2[:, 1:])
                > 1.25 * _PHI3_BOUND * (sub[:, 1:] - sub[:, :-1])
            ),
            axis=-1,
        )
        search[hard[ok]] = False
    out.extend(
        _brent(dphi, grid[i], grid[i + 1]) for i in np.flatnonzero(change & ~search)
    )
    for i in np.flatnonzero(search):
        if level >= _MAX_LEVEL:
            if change[i]:
                out.append(_brent(dphi, grid[i], grid[i + 1]))
            out.append(0.5 * (grid[i] + grid[i + 1]))
        else:
            fine = np.linspace(grid[i], grid[i + 1], 65)
            out.extend(_critical_points(P, fine, _chunked(P.dphi, fine), level + 1))
    return out


def _nontrivial_log_taus(P: ReducedProblem) -> np.ndarray:
    """Every root ``u = log tau`` of ``phi``, descending in ``u`` (ascending in ``b``).

    Brackets: ``r(tau) <= r(0)`` and ``r(tau) <= ||E[xy]|| / tau`` bound ``phi`` above
    by two lines, so roots lie in ``[u_L, u_R]`` where the lines cross zero; the outer
    brackets ``u_L - 1`` and ``u_R + 1`` have ``phi <= -1/2`` (for D >= 2) whatever the
    rounding. ``phi`` is increasing for ``u < min log a_i`` and (for D >= 2) decreasing
    for ``u > max log a_i + log((D+1)/(D-1))``; between, the critical points of ``phi``
    are located on a grid of step 0.05 and refined (see :func:`_critical_points`: a cell
    that could hide a pair of critical points, or three where one shows, is searched on
    a finer grid), which splits the line into monotone pieces, each holding at most one
    root.
    """
    if P.log_a.size == 0:
        return np.empty(0)
    D, c = P.depth, P.phi_offset
    slope = 1 + 1 / D
    log_r0 = 0.5 * _logsumexp(P.log_e2 - 2 * P.log_a)
    log_e = 0.5 * _logsumexp(P.log_e2)
    u_L = -(2 * log_r0 + c) / slope  # phi <= 2 log r0 + slope u + c
    phi = lambda u: float(P.phi(u))  # noqa: E731
    if D == 1:
        # phi increases everywhere, to the limit 2 log||E[xy]|| + c = log(||E[xy]||^2 /
        # (gamma_u gamma_w)). Within rounding of the threshold (the excess is a
        # difference of logarithms, each good to a few eps) the root b* ~ sqrt(excess)
        # is indistinguishable from 0, and its gain ~ excess^2 from no gain at all.
        if 2 * log_e + c <= 64 * np.finfo(float).eps * (abs(2 * log_e) + abs(c) + 1.0):
            return np.empty(0)
        hi, step = max(P.log_a.max(), u_L) + 1.0, 1.0
        while phi(hi) <= 0:
            hi, step = hi + step, 2 * step
            if hi > 1e4:
                # the signal exceeds the threshold by less than e^-1e4: b* would be 0
                # in floating point
                return np.empty(0)
        return np.array([_brent(phi, u_L - 1.0, hi)])
    u_R = (2 * log_e + c) / (2 - slope)  # phi <= 2 log||e|| + (slope - 2) u + c
    if not u_L < u_R:
        return np.empty(0)
    # phi' > 0 strictly below min log a_i and < 0 strictly above max log a_i +
    # log((D+1)/(D-1)); the window is widened by 1 so that a critical point on its edge
    # (one eigenvalue: exactly there) is seen as a sign change of phi'.
    w_lo, w_hi = P.critical_window()
    w_lo, w_hi = max(u_L, w_lo), min(u_R, w_hi)
    # phi <= slope (u - u_L) and phi <= (slope - 2) (u - u_R): a unit beyond the
    # crossings phi <= -1/2 whatever the rounding. (At u_R itself phi is only about
    # -4 a / tau below zero, which rounds to either sign when the weight decay is small:
    # a barrier root just inside u_R was once missed.)
    points = [u_L - 1.0, u_R + 1.0]
    if w_lo < w_hi:
        grid = np.linspace(
            w_lo, w_hi, max(3, int(np.ceil((w_hi - w_lo) / _GRID_STEP)) + 1)
        )
        points.extend(P.critical_points(w_lo, w_hi))
        points.extend(
            grid
        )  # extra split points: roots inside the window get brackets of width <= 0.05
    points = np.unique(points)
    values = _chunked(P.phi, points)
    roots = [u for u, v in zip(points, values) if v == 0]
    for (lo, vlo), (hi, vhi) in zip(
        zip(points[:-1], values[:-1]), zip(points[1:], values[1:])
    ):
        if vlo * vhi < 0:
            roots.append(_brent(phi, lo, hi))
    return np.sort(np.unique(roots))[::-1]


@dataclass(frozen=True)
class Solution:
    """A global minimum of the stochastic deep linear network (returned by
    :func:`global_minimum`).

    Attributes
    ----------
    loss : float
        Exact expected loss at the global minimum.
    is_trivial : bool
        True when the global minimum is the origin (all weights zero).
    weights : list of arrays
        ``[W_1, ..., W_D, U]``, a global minimiser (all sign vectors ``r_i = +1``; any
        signs give the same loss).
    b : float
        The output scale ``|U_j|`` of the minimiser (0 when trivial).
    roots : ndarray
        Every solution ``b >= 0`` of the scalar equation, ascending; ``b = 0`` (the
        origin, always a critical point) comes first.
    root_losses : ndarray
        The exact loss at each entry of ``roots``.
    tau : float
        Ridge parameter of the input layer at the minimum, ``W_1`` rows ``prop. (A0 +
        tau I)^{-1} E[xy]`` (``inf`` when trivial).
    """

    loss: float
    is_trivial: bool
    weights: list
    b: float
    roots: np.ndarray
    root_losses: np.ndarray
    tau: float
    stats: DataStats = field(repr=False)
    spec: NetworkSpec = field(repr=False)

    def __repr__(self) -> str:
        """A short summary: loss, scalar and roots, not the weight arrays."""
        roots = np.array2string(np.asarray(self.roots), precision=4, separator=", ")
        widths = ", ".join(str(w) for w in self.spec.widths)
        return (
            f"Solution(depth={self.spec.depth}, widths=({widths}), "
            f"loss={self.loss:.6g}, is_trivial={self.is_trivial}, b={self.b:.6g}, "
            f"roots={roots})"
        )

    @property
    def predictor(self) -> np.ndarray:
        """The noise-averaged end-to-end map ``p`` with ``E_eps[f(x)] = p . x``."""
        p = self.weights[-1]
        for W in reversed(self.weights[:-1]):
            p = W.T @ p
        return p


# Refinement (see _refined_roots): applied at a root whose system A0 + tau I has a
# condition number above this; below it the eigendecomposition route alone is good to
# about 5e-13 (its error is about eps times the condition number), and its speed is
# kept where refinement would cost most (large d, where a residual is O(d^2)).
_REFINE_COND = 1e3
_REFINE_STEPS = 12


def _refined_roots(P: ReducedProblem, stats: DataStats, us):
    """Roots and ridge solutions refined against ``A0`` itself (iterative refinement
    with residuals in twice the working precision).

    The eigendecomposition ``A0 = Q diag(a) Q^T`` is backward stable: it is exact for
    ``A0 + E`` with ``||E|| ~ d eps ||A0||``, so every quantity built from it, the root
    ``u``, ``z = (A0 + tau I)^{-1} E[xy]``, the loss and the input layer, carries a
    relative error of about ``eps * kappa``, ``kappa = a_max / (a_min + tau)``. At the
    roots where ``kappa > _REFINE_COND`` (if ``A0`` is numerically nonsingular), the
    root and ``z`` are improved together: each step computes the residual ``E[xy] - (A0
    + tau I) z`` with error-free products (:func:`dln._accurate.residual2`), corrects
    ``z`` through the eigendecomposition, and takes a Newton step on ``phi(u) = 2 log
    ||z|| + (1 + 1/D) u + const``. Both converge by a factor of about ``eps * kappa``
    per step, to the accuracy of the float64 data themselves while ``eps * kappa`` is
    well below 1. A root whose Newton step exceeds 1e-2 (no longer a refinement) keeps
    its bracketed value.

    Returns
    -------
    (us, zs) : the roots, refined where it applies, and per root ``z`` (None where not
    refined)
    """
    zs = [None] * len(us)
    a, Q = stats.eigenvalues, stats.eigenvectors
    if not us.size or a[0] <= 0:
        return us, zs
    sel = np.flatnonzero(a[-1] / (a[0] + np.exp(us)) > _REFINE_COND)
    if not sel.size:
        return us, zs
    A0, Exy = stats.A0, stats.Exy
    slope = 1 + 1 / P.depth
    eps = np.finfo(float).eps

    def solve(R, tau):
        return Q @ ((Q.T @ R) / (a[:, None] + tau))

    u = us[sel].copy()
    tau = np.exp(u)
    Z = solve(np.tile(Exy[:, None], (1, sel.size)), tau)
    ok = np.ones(sel.size, dtype=bool)
    active = ok.copy()
    prev = np.full(sel.size, np.inf)
    for _ in range(_REFINE_STEPS):
        dZ = solve(residual2(A0, Z, tau, Exy), tau)
        Z = Z + dZ
        norm = np.linalg.norm(Z, axis=0)
        du = -(2 * np.log(norm) + slope * u + P.phi_offset) / P.dphi(u)
        bad = ~np.isfinite(du) | (np.abs(du) > 1e-2)
        ok &= ~bad
        small = np.linalg.norm(dZ, axis=0) <= 4 * eps * norm
        stalled = (np.abs(du) <= 4 * eps * np.maximum(1.0, np.abs(u))) | (
            np.abs(du) > prev / 2
        )
        active &= ok & ~(small & stalled)
        if not active.any():
            break
        du = np.where(active, du, 0.0)
        prev = np.abs(du)
        # move to the new root estimates; first-order update of z along tau
        tau_new = np.exp(u + du)
        Z = Z - (tau_new - tau) * solve(Z, tau)
        u, tau = u + du, tau_new
    ok &= np.all(np.isfinite(Z), axis=0)
    us = us.copy()
    for j in np.flatnonzero(ok):
        us[sel[j]], zs[sel[j]] = u[j], Z[:, j]
    return us, zs


def _gain_refined(P: ReducedProblem, stats: DataStats, u, z) -> float:
    """``L - E[y^2] = D gamma_u d_D b^2 - alpha E[xy] . z`` with ``z`` refined and the
    dot product in twice the working precision."""
    b2 = np.exp(2 * P.log_b_of_u(u))
    fit = np.exp(P.log_alpha) * dot2(stats.Exy, z)
    return float(P.depth * P.spec.gamma_u * P.spec.widths[-1] * b2 - fit)


def _weights_at(P: ReducedProblem, stats: DataStats, u: float, z=None) -> list:
    """The minimiser with all sign vectors +1 for the root ``u = log tau`` (paper Eq. 10
    in the book's scalars); ``z = (A0 + tau I)^{-1} E[xy]`` if refined."""
    spec, D = P.spec, P.depth
    widths = spec.widths
    log_b = float(P.log_b_of_u(u))
    b = np.exp(log_b)
    weights = [None] * (D + 1)
    gu, dD = spec.gamma_u, widths[-1]
    for i in range(1, D):  # W_{i+1} in the paper's numbering, i = 1..D-1 here
        log_bi = (
            log_b
            + 0.5 * np.log(gu * dD / spec.gammas[i])
            - 0.5 * np.log(widths[i] * widths[i - 1])
        )
        weights[i] = np.full((widths[i], widths[i - 1]), np.exp(log_bi))
    weights[D] = np.full(dD, b)
    # w = B m (B^2 s A0 + gamma_1 d_1 I)^{-1} E[xy] = exp(log m - log B - log s) (A0 +
    # tau I)^{-1} E[xy]
    if z is None:
        a, e, Q = stats.eigenvalues, stats.exy_eigen, stats.eigenvectors
        z = Q @ np.where(e != 0, e / (a + np.exp(u)), 0.0)
    log_B = D * log_b + P.log_B_offset
    w = np.exp(P.log_m - log_B - P.log_s) * z
    weights[0] = np.tile(w, (widths[0], 1))
    return weights


def global_minimum(A0, Exy=None, Ey2=None, *, depth, width, gamma, sigma2) -> Solution:
    """Global minimum of the exact expected loss of a stochastic deep linear network
    with weight decay.

    Solves paper Eq. 9 (Eq. 2 for ``depth=1``) through the one-scalar reduction of
    Theorems 1-2 (see the module docstring): all non-negative roots of the scalar
    equation are found, and the one of least exact loss, ``b = 0`` included, is returned
    with its weights.

    Parameters
    ----------
    A0, Exy, Ey2 : arrays and float, or a :class:`DataStats` as ``A0``
        Data moments ``E[x x^T]`` (symmetric PSD), ``E[x y]``, ``E[y^2]``.
    depth : int
        Number of hidden layers ``D >= 1``.
    width : int or sequence of D ints
        Hidden widths ``d_1..d_D``.
    gamma : float or sequence of D + 1 floats
        Weight decays ``[gamma_1, ..., gamma_D, gamma_u]``, all > 0.
    sigma2 : float or sequence of D floats
        Noise variances ``sigma_1^2..sigma_D^2 >= 0`` (``E[eps] = 1``, ``E[eps^2] = 1 +
        sigma^2``).

    Returns
    -------
    Solution

    Raises
    ------
    ValueError
        On invalid or inconsistent data moments, a weight decay that is not > 0, or
        malformed architecture.

    Notes
    -----
    *Completeness.* Every root is bracketed: the critical points of the scalar equation
    are located on a grid whose cells are certified by bounds on its second and third
    derivatives (``phi''`` in ``[-1/2, 1]``, ``|phi'''| <= 8`` in ``u = log tau``) or
    searched on finer grids down to width ~1e-9 in ``u``. Two roots closer than that
    form a double root to working precision and may be reported as one or none. Tested
    against a 30-digit mpmath scan of the equation (weight decays 1e-4 to 1e-10, depths
    2-8).

    *Accuracy.* The answer is that of the stored float64 moments. The eigendecomposition
    of ``A0`` is exact only for a matrix within about ``d eps ||A0||`` of it, so by
    itself it gives ``b*`` and the loss to a relative error of about ``eps * kappa``,
    ``kappa = a_max / (a_min + tau*)`` (4e-3 in the loss at cond(A0) = 1e13). Where
    ``kappa > 1e3`` and ``A0`` is numerically nonsingular, the roots and the input layer
    are refined against ``A0`` itself (iterative refinement with residuals in twice the
    working precision, ``O(d^2)`` per step, a few steps per root). Against a 50-digit
    reference on rotated ``A0`` (d = 5, D = 1-3) the relative errors of ``b*``, the
    loss and the gain ``L - E[y^2]`` are then below 5e-15 for every condition number
    from 1e4 to 1e13, and below 5e-13 up to 1e3, where no refinement is applied
    (``benchmarks/accuracy_solver.py``). For a numerically singular ``A0``
    there is no refinement, and the error is ``eps`` times ``a_max`` over the smallest
    positive eigenvalue plus ``tau*``.

    The exact gradient at the returned weights is not zero in float64: rounding the
    exact minimiser to float64 leaves a gradient of about ``eps ||H|| ||W||``, which is
    large when ``A0`` is ill-conditioned (the same order at the returned weights as at
    the correctly rounded exact ones). If the moments themselves carry errors, the
    minimiser moves by about ``kappa`` times their relative size: that is the
    conditioning of the problem, not an error of the solver.
    """
    stats = as_stats(A0, Exy, Ey2)
    spec = network_spec(depth, width, gamma, sigma2)
    P = reduced_problem(stats, spec)
    us, zs = _refined_roots(P, stats, _nontrivial_log_taus(P))
    # Roots are ranked by their gain L - E[y^2], formed without E[y^2] (no cancellation
    # against it near a threshold); the origin has gain 0 and wins ties.
    gains = np.array(
        [0.0]
        + [
            float(P.gain_at_u(u)) if z is None else _gain_refined(P, stats, u, z)
            for u, z in zip(us, zs)
        ]
    )
    root_losses = stats.Ey2 + gains
    roots = (
        np.concatenate(([0.0], np.exp(P.log_b_of_u(us))))
        if us.size
        else np.array([0.0])
    )
    best = int(np.argmin(gains))
    if best == 0:
        weights = [
            np.zeros((w, f))
            for w, f in zip(spec.widths, (stats.dim,) + spec.widths[:-1])
        ]
        weights.append(np.zeros(spec.widths[-1]))
        tau = np.inf
    else:
        weights = _weights_at(P, stats, us[best - 1], zs[best - 1])
        tau = float(np.exp(us[best - 1]))
    for W in weights:
        W.setflags(write=False)
    return Solution(
        loss=float(root_losses[best]),
        is_trivial=best == 0,
        weights=weights,
        b=float(roots[best]),
        roots=roots,
        root_losses=root_losses,
        tau=tau,
        stats=stats,
        spec=spec,
    )


def profile_loss(
    b, A0, Exy=None, Ey2=None, *, depth, width, gamma, sigma2
) -> np.ndarray:
    """The loss along the output scale ``b``: the minimum of the exact loss over the
    input layer, with every upper layer rank one and balanced to ``b`` (the book's
    reduced loss; paper Eq. 36 for ``depth=1``).

    ``L(b) = E[y^2] + D gamma_u d_D b^2 - alpha sum_i E[x'y]_i^2 / (a_i + K b^{-2D})``,
    and ``L(0) = E[y^2]``. Its stationary points ``b > 0`` are the nontrivial roots of
    :func:`global_minimum`. Evaluated in the eigenbasis of ``A0`` without refinement:
    relative error about ``eps a_max / (a_min + tau)`` (see :func:`global_minimum`).
    """
    stats = as_stats(A0, Exy, Ey2)
    spec = network_spec(depth, width, gamma, sigma2)
    P = reduced_problem(stats, spec)
    b = finite_array(b, "b")
    if np.any(b < 0):
        raise ValueError("b must be non-negative")
    out = np.full(b.shape, stats.Ey2)
    pos = b > 0
    if P.log_a.size and np.any(pos):
        u = P.log_K - 2 * spec.depth * np.log(b[pos])
        out[pos] = P.loss_at_u(u)
    return out

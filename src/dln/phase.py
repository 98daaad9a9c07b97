"""Exact phase diagrams: the global minimum over a grid of weight decays and signal
strengths, from one precomputation.

With ``A0`` fixed, one weight decay ``gamma`` in every layer (``gamma_1 = ... = gamma_D
= gamma_u``) and ``E[xy]`` rescaled along its own direction to norm ``s``, the scalar
equation of :func:`dln.global_minimum` (the book's form of paper Eqs. 6 and 13), written
in ``u = log tau``, is

    phi(u) = f(u) + 2 log(s / ||E[xy]||) - (1 + 1/D) log gamma,
    f(u) = 2 log ||(A0 + e^u I)^{-1} E[xy]|| + (1 + 1/D) u + const,

so the weight decay and the signal only shift it by a constant. The critical points of
``f`` (certified complete, see :meth:`dln.solution.ReducedProblem.critical_points`) are
computed once; they cut the line into pieces on which ``f`` is monotone, and on each
piece every grid point has at most one root, found by a vectorised safeguarded Newton
iteration (bisection whenever Newton leaves the bracket). The output scale and the gain
of a root are ``log b = (log K(1) + log gamma - u) / (2D)`` and (with ``E[x'y]`` the
signal in the eigenbasis of ``A0``, ``alpha = prod d_i / (d_i + sigma_i^2)``)

    L - E[y^2] = D gamma d_D b^2 - alpha (s/||E[xy]||)^2 sum_i E[x'y]_i^2 / (a_i + tau)

and the global minimum is the root of least gain, or the origin (gain 0, which wins
ties), exactly as :func:`dln.global_minimum` ranks them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from ._validation import finite_array
from .network import network_spec
from .solution import reduced_problem
from .stats import DataStats

__all__ = ["PHASES", "PhaseDiagram", "phase_diagram", "critical_signals"]

PHASES = (
    "origin only",
    "origin global",
    "nontrivial global, origin local minimum",
    "nontrivial global, origin saddle",
)
"""The phase codes of :class:`PhaseDiagram`, by index:

0. (a) the origin is the only critical point of the reduced problem (no solution
   ``b > 0`` of the scalar equation);
1. (b) a nontrivial solution exists, but the origin is the global minimum;
2. (c) a nontrivial solution is the global minimum and the origin stays a local minimum
   (depth ``D >= 2``: the Hessian at the origin is ``2 gamma I``, paper Proposition 2);
3. (d) a nontrivial solution is the global minimum and the origin is a saddle
   (``D = 1``, where every nontrivial solution beats the origin, paper Theorem 1).
"""

_NEWTON_STEPS = 200  # ample: bisection alone halves the bracket, ~60 halvings suffice
_TABLE = 2048  # points of the table that gives Newton its starting points


@dataclass(frozen=True)
class PhaseDiagram:
    """The global minimum over a grid (returned by :func:`phase_diagram`).

    Every array has shape ``(len(gamma), len(signal))``: row ``i`` is the weight decay
    ``gamma[i]``, column ``j`` the signal strength ``signal[j]``.

    Attributes
    ----------
    gamma : ndarray
        The weight decays of the grid (rows).
    signal : ndarray
        The signal strengths of the grid (columns).
    b : ndarray
        The book's output scale ``b = |U_j|`` at the global minimum (0 when trivial).
    is_trivial : ndarray of bool
        True where the global minimum is the origin.
    phase : ndarray of int
        The phase code, an index into :data:`PHASES` (0-3 for (a)-(d)).
    gain : ndarray
        ``L - E[y^2]`` at the global minimum (0 when trivial); it does not depend on
        how ``E[y^2]`` is chosen.
    n_roots : ndarray of int
        The number of solutions ``b > 0`` of the scalar equation (0, 1, 2, 4, ...).
    depth : int
        The depth ``D``.
    """

    gamma: np.ndarray
    signal: np.ndarray
    b: np.ndarray
    is_trivial: np.ndarray
    phase: np.ndarray
    gain: np.ndarray
    n_roots: np.ndarray
    depth: int

    def __repr__(self) -> str:
        counts = np.bincount(self.phase.ravel(), minlength=len(PHASES))
        parts = ", ".join(f"{'abcd'[k]}: {c}" for k, c in enumerate(counts))
        return (
            f"PhaseDiagram(depth={self.depth}, shape={self.b.shape}, "
            f"points per phase ({parts}))"
        )


def _grid_argument(value, name, allow_zero):
    arr = finite_array(value, name, ndim=1)
    if arr.size == 0:
        raise ValueError(f"{name} must hold at least one value")
    if np.any(arr < 0) or (not allow_zero and np.any(arr == 0)):
        bound = "non-negative" if allow_zero else "strictly positive"
        raise ValueError(f"every {name} must be {bound}; got min {arr.min():.3g}")
    return arr


class _Scaled:
    """``f``, ``f'`` and the fit term of the reduced problem on arrays of ``u``, in
    units where ``a_max = 1`` and ``max e_i^2 = 1``; stable for any ``u`` (no overflow:
    ``a_i + t`` is divided by ``max(1, t)`` before squaring)."""

    def __init__(self, P):
        self.la = float(P.log_a.max())
        self.le = float(P.log_e2.max())
        self.a = np.exp(P.log_a - self.la)
        self.e2 = np.exp(P.log_e2 - self.le)
        self.slope = 1 + 1 / P.depth
        self.c = P.phi_offset

    def f_df(self, u):
        """``phi`` of the reference problem and ``phi'`` at each entry of ``u``."""
        log_t = u - self.la
        log_m = np.maximum(log_t, 0.0)
        tm = np.exp(log_t - log_m)[:, None]  # t / max(1, t)
        den = self.a * np.exp(-log_m)[:, None] + tm  # (a_i + t) / max(1, t)
        w = self.e2 / den**2
        sw = np.sum(w, axis=1)
        f = np.log(sw) - 2 * log_m + self.le - 2 * self.la + self.slope * u + self.c
        df = self.slope - 2 * np.sum(w * (tm / den), axis=1) / sw
        return f, df

    def log_fit(self, u):
        """``log sum_i e_i^2 / (a_i + tau)`` of the reference problem."""
        log_t = u - self.la
        log_m = np.maximum(log_t, 0.0)
        den = self.a * np.exp(-log_m)[:, None] + np.exp(log_t - log_m)[:, None]
        return np.log(np.sum(self.e2 / den, axis=1)) - log_m + self.le - self.la


def _solve_monotone(S, target, lo, hi, increasing):
    """Roots of ``f(u) = target`` in ``[lo, hi]`` where ``f`` is monotone and
    ``f(lo) - target``, ``f(hi) - target`` have opposite signs (all arrays).

    Starting points come from ``f`` tabulated on the piece (linear interpolation of the
    inverse); then safeguarded Newton steps (bisection whenever a step leaves the
    bracket) run on the points not yet converged, until the step is below
    ``4 eps max(1, |u|)``.
    """
    sign = 1.0 if increasing else -1.0
    if target.size >= _TABLE // 8:
        span = np.linspace(lo.min(), hi.max(), _TABLE)
        f_tab = sign * S.f_df(span)[0]
        order = np.argsort(f_tab)
        u = np.clip(np.interp(sign * target, f_tab[order], span[order]), lo, hi)
    else:  # a few targets: the table would cost more than it saves
        u = 0.5 * (lo + hi)
    active = np.arange(target.size)
    for _ in range(_NEWTON_STEPS):
        x, t, a, b = u[active], target[active], lo[active], hi[active]
        f, df = S.f_df(x)
        g = sign * (f - t)  # increasing in u on the piece
        a = np.where(g < 0, x, a)
        b = np.where(g > 0, x, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            new = x - (f - t) / df
        bad = ~np.isfinite(new) | (new <= a) | (new >= b)
        new = np.where(bad, 0.5 * (a + b), new)
        tol = 4 * np.finfo(float).eps * np.maximum(1.0, np.abs(x))
        done = (g == 0) | (np.abs(new - x) <= tol) | (b - a <= tol)
        u[active] = np.where(g == 0, x, new)
        lo[active], hi[active] = a, b
        active = active[~done]
        if active.size == 0:
            break
    return u


def _roots(P, S, target, live, rounding, crit=None):
    """Every root of ``phi_ref(u) = target`` for an array of targets: one array of
    ``u`` per monotone piece of ``phi_ref``, NaN where the piece has no root (and where
    ``live`` is False). ``rounding`` is the size of the terms of ``phi`` for the D = 1
    rule at the threshold; ``crit`` the critical points of ``phi_ref`` if known."""
    D = P.depth
    slope = 1 + 1 / D
    log_r0 = 0.5 * np.log(np.sum(np.exp(P.log_e2 - 2 * P.log_a)))
    log_e = 0.5 * np.log(np.sum(np.exp(P.log_e2)))
    c = P.phi_offset
    # phi_ref <= 2 log r0 + slope u + c: no root left of u_L; phi_ref(u_L) <= -slope
    u_L = (target - 2 * log_r0 - c) / slope - 1.0
    roots = []
    if D == 1:
        # phi_ref increases to 2 log||e|| + c; the root exists iff the target is below
        # (and not within rounding of it: the rule of global_minimum at the threshold)
        limit = 2 * log_e + c
        exists = live & (limit - target > 64 * np.finfo(float).eps * (rounding + 1.0))
        # phi_ref >= limit - 2 log(1 + a_max e^-u): above u_hi phi_ref > target
        delta = np.where(exists, limit - target, 1.0)
        u_hi = S.la - np.log(np.expm1(0.5 * delta)) + 1.0
        u = np.full(target.shape, np.nan)
        idx = np.flatnonzero(exists)
        u[idx] = _solve_monotone(S, target[idx], u_L[idx], u_hi[idx], True)
        return u[None, :]
    # phi_ref <= 2 log||e|| + (slope - 2) u + c: no root right of u_R
    u_R = (2 * log_e + c - target) / (2 - slope) + 1.0
    crit = P.critical_points() if crit is None else crit
    if crit.size == 0:  # phi' > 0 on the left and < 0 on the right
        raise RuntimeError("no critical point of the scalar equation was found")
    fc = S.f_df(crit)[0]
    last = crit.size
    for k in range(last + 1):
        # piece k: (-inf, c_1], [c_1, c_2], ..., [c_m, +inf); the tails are bracketed
        # by u_L and u_R, and phi_ref increases on the left tail and decreases on the
        # right one
        lo = u_L if k == 0 else np.full(target.shape, crit[k - 1])
        hi = u_R if k == last else np.full(target.shape, crit[k])
        f_lo = S.f_df(lo)[0] if k == 0 else np.full(target.shape, fc[k - 1])
        f_hi = S.f_df(hi)[0] if k == last else np.full(target.shape, fc[k])
        increasing = k == 0 or (k < last and fc[k] > fc[k - 1])
        a_, b_ = (f_lo, f_hi) if increasing else (f_hi, f_lo)
        exists = live & (lo < hi) & (a_ < target) & (target < b_)
        u = np.full(target.shape, np.nan)
        idx = np.flatnonzero(exists)
        if idx.size:
            u[idx] = _solve_monotone(
                S, target[idx], lo[idx].copy(), hi[idx].copy(), increasing
            )
        roots.append(u)
    return np.stack(roots)


def phase_diagram(stats, *, depth, width, sigma2, gamma, signal) -> PhaseDiagram:
    """The global minimum over a grid of weight decays and signal strengths, with the
    phases of the landscape at the origin.

    For every pair ``(gamma[i], signal[j])`` this is :func:`dln.global_minimum` on the
    statistics ``(A0, E[xy] s / ||E[xy]||, E[y^2] (s / ||E[xy]||)^2)`` (the labels
    scaled by ``s / ||E[xy]||``, so the moments stay consistent), with the weight decay
    ``gamma[i]`` in every layer, ``s = signal[j]``. The weight decay and the signal only
    shift the scalar equation (paper Eqs. 6 and 13, in the book's form) by a constant,
    so its critical points are found once and every grid point costs a few vectorised
    Newton steps (see the module docstring).

    Parameters
    ----------
    stats : DataStats
        Data moments; ``A0`` and the direction of ``E[xy]`` (which must be nonzero) are
        kept.
    depth : int
        Number of hidden layers ``D >= 1``.
    width : int or sequence of D ints
        Hidden widths ``d_1..d_D``.
    sigma2 : float or sequence of D floats
        Noise variances ``sigma_i^2 >= 0``.
    gamma : 1-d array
        Weight decays (> 0), each applied to every layer, ``gamma_1 = ... = gamma_D =
        gamma_u``.
    signal : 1-d array
        Values of ``||E[xy]||`` (>= 0).

    Returns
    -------
    PhaseDiagram
        Arrays of shape ``(len(gamma), len(signal))``: ``b``, ``is_trivial``,
        ``phase`` (codes of :data:`PHASES`: 0 (a) origin only, 1 (b) origin global,
        2 (c) nontrivial global with the origin a local minimum, 3 (d) nontrivial
        global with the origin a saddle), ``gain`` and ``n_roots``.

    Raises
    ------
    ValueError
        If ``stats`` is not a :class:`DataStats` or has ``E[xy] = 0``, if ``gamma`` or
        ``signal`` is not a non-empty 1-d finite array of positive (non-negative)
        values, or if the architecture is malformed.

    Notes
    -----
    Accuracy: the equation is solved in the eigenbasis of ``A0`` without the
    refinement of :func:`dln.global_minimum`, so ``b`` carries a relative error of
    about ``eps a_max / (a_min + tau)`` (1e-14 at cond(A0) = 100) besides the root
    finding's ~1e-15. The phase of a point within rounding of a boundary (a gain within
    ~1e-15 of 0, or the signal within ~1e-14 of the two-layer threshold) may differ
    from :func:`dln.global_minimum`'s.

    Examples
    --------
    >>> import numpy as np, dln
    >>> st = dln.random_stats(4, seed=0, cond=10, signal=1.0)
    >>> pd = dln.phase_diagram(
    ...     st, depth=2, width=3, sigma2=0.5, gamma=[0.1, 1.0], signal=[0.3, 1.0, 3.0]
    ... )
    >>> pd.phase.tolist()  # rows: gamma; columns: signal
    [[0, 2, 2], [0, 0, 2]]
    >>> dln.PHASES[2]
    'nontrivial global, origin local minimum'
    """
    if not isinstance(stats, DataStats):
        raise ValueError(
            "stats must be a dln.DataStats (see dln.DataStats, dln.random_stats); got "
            f"{type(stats).__name__}"
        )
    if stats.signal == 0:
        raise ValueError("E[xy] must be nonzero: the signal is rescaled along it")
    gamma = _grid_argument(gamma, "gamma", allow_zero=False)
    signal = _grid_argument(signal, "signal", allow_zero=True)
    spec = network_spec(depth, width, 1.0, sigma2)
    D = spec.depth
    P = reduced_problem(stats, spec)  # the reference problem: gamma = 1, s = ||E[xy]||
    S = _Scaled(P)
    shape = (gamma.size, signal.size)
    G, Sg = np.meshgrid(gamma, signal, indexing="ij")
    pos = Sg > 0
    log_scale = np.where(pos, np.log(np.where(pos, Sg, 1.0) / stats.signal), 0.0)
    log_g = np.log(G).ravel()
    target = (1 + 1 / D) * log_g - 2 * log_scale.ravel()  # phi_ref(u) = target
    live = pos.ravel()

    rounding = np.abs(2 * (np.log(stats.signal) + log_scale.ravel())) + np.abs(
        P.phi_offset - (1 + 1 / D) * log_g
    )
    U = _roots(P, S, target, live, rounding)  # (pieces, points)
    n_roots = np.sum(np.isfinite(U), axis=0)
    with np.errstate(invalid="ignore"):
        log_b = (P.log_K + log_g - U) / (2 * D)
        Uf = np.where(np.isfinite(U), U, 0.0)
        fit = np.exp(
            P.log_alpha
            + 2 * log_scale.ravel()
            + S.log_fit(Uf.ravel()).reshape(Uf.shape)
        )
        gains = D * np.exp(log_g) * spec.widths[-1] * np.exp(2 * log_b) - fit
    gains = np.where(np.isfinite(U), gains, np.inf)
    best = np.argmin(gains, axis=0)
    g_best = gains[best, np.arange(gains.shape[1])]
    nontrivial = g_best < 0
    b = np.where(
        nontrivial,
        np.exp(np.where(nontrivial, log_b[best, np.arange(gains.shape[1])], 0.0)),
        0.0,
    )
    phase = np.zeros(target.shape, dtype=int)
    phase[n_roots > 0] = 1
    phase[nontrivial] = 3 if D == 1 else 2
    return PhaseDiagram(
        gamma=gamma,
        signal=signal,
        b=b.reshape(shape),
        is_trivial=~nontrivial.reshape(shape),
        phase=phase.reshape(shape),
        gain=np.where(nontrivial, g_best, 0.0).reshape(shape),
        n_roots=n_roots.reshape(shape),
        depth=D,
    )


def critical_signals(stats, *, depth, width, sigma2, gamma) -> tuple:
    """The exact signal strengths at which a nontrivial solution appears and at which
    it becomes the global minimum, for each weight decay.

    With one weight decay ``gamma`` in every layer and ``E[xy]`` rescaled along its own
    direction (as in :func:`phase_diagram`), the landscape depends on ``gamma`` and
    the signal ``s`` only through ``gamma^((D+1)/D) / s^2``: scaling every layer by
    ``lambda^(1/(D+1))`` maps the loss at ``(lambda s, lambda^(2D/(D+1)) gamma)`` to
    ``lambda^2`` times the loss at ``(s, gamma)``. Both thresholds are therefore
    ``s_c(gamma) = s_c(1) gamma^((D+1)/(2D))``, and ``s_c(1)`` is found once: the
    existence threshold from the largest critical value of the scalar equation, the
    global one by bisection (to rounding) on the sign of the best gain.

    Parameters
    ----------
    stats, depth, width, sigma2
        As in :func:`phase_diagram`.
    gamma : float or 1-d array
        Weight decays (> 0), each applied to every layer.

    Returns
    -------
    (s_exist, s_global) : tuple of ndarrays
        Shaped like ``gamma`` (floats for a scalar ``gamma``). A solution ``b > 0`` of
        the scalar equation exists iff ``||E[xy]|| > s_exist``
        (paper Proposition 3 bounds this threshold), and the global minimum is
        nontrivial iff ``||E[xy]|| > s_global`` (paper Theorem 3 bounds this one).
        For ``D = 1`` both equal ``gamma`` (Theorem 1, Eq. 4).

    Raises
    ------
    ValueError
        As :func:`phase_diagram`.

    Examples
    --------
    >>> import dln
    >>> st = dln.random_stats(4, seed=0, cond=10, signal=1.0)
    >>> s_ex, s_gl = dln.critical_signals(st, depth=1, width=3, sigma2=0.5, gamma=0.1)
    >>> round(float(s_ex), 12), round(float(s_gl), 12)
    (0.1, 0.1)
    """
    if not isinstance(stats, DataStats):
        raise ValueError(
            "stats must be a dln.DataStats (see dln.DataStats, dln.random_stats); got "
            f"{type(stats).__name__}"
        )
    if stats.signal == 0:
        raise ValueError("E[xy] must be nonzero: the signal is rescaled along it")
    scalar = np.ndim(gamma) == 0
    gamma = _grid_argument(np.atleast_1d(gamma), "gamma", allow_zero=False)
    spec = network_spec(depth, width, 1.0, sigma2)
    D = spec.depth
    P = reduced_problem(stats, spec)  # reference: gamma = 1, s = ||E[xy]||
    S = _Scaled(P)
    one = np.array([True])
    zero = np.array([0.0])
    crit = P.critical_points() if D > 1 else None

    def best_gain(t):
        """min over the roots of gain / gamma^((D+1)/D) at target t (inf: none)."""
        U = _roots(P, S, np.array([t]), one, zero, crit)[:, 0]
        U = U[np.isfinite(U)]
        if U.size == 0:
            return np.inf
        upper = D * spec.widths[-1] * np.exp((P.log_K - U) / D)
        fit = np.exp(P.log_alpha - t + S.log_fit(U))
        return float(np.min(upper - fit))

    if D == 1:
        t_exist = float(2 * 0.5 * np.log(np.sum(np.exp(P.log_e2))) + P.phi_offset)
        t_global = t_exist
    else:
        t_exist = float(np.max(S.f_df(crit)[0]))
        hi = t_exist
        step = 1.0
        lo = hi - step
        while not best_gain(lo) < 0:
            hi, step = lo, 2 * step
            lo = hi - step
        # the best gain falls as the signal grows (as t falls): one sign change
        # between lo and hi, found by Brent's method (no roots counts as positive)
        t_global = brentq(
            lambda t: min(best_gain(t), 1.0),
            lo,
            hi,
            xtol=4 * np.finfo(float).eps * max(1.0, abs(lo)),
            rtol=4 * np.finfo(float).eps,
            maxiter=500,
        )
    slope = 1 + 1 / D
    log_g = np.log(gamma)
    s_exist = stats.signal * np.exp(0.5 * (slope * log_g - t_exist))
    s_global = stats.signal * np.exp(0.5 * (slope * log_g - t_global))
    if scalar:
        return s_exist[0], s_global[0]
    return s_exist, s_global

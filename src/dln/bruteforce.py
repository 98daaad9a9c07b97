"""Brute-force minimisation of the exact loss over all weights: the book's independent
check of the closed-form solution.

:func:`minimize_exact` knows nothing of the theory: it starts from random weights, runs
L-BFGS on the exact expected loss (paper Eq. 9; Eq. 2 for one hidden layer) for many
starts at once, and polishes the best starts with a trust-region Newton method that uses
the exact gradient and Hessian (:func:`dln.gradient`, :func:`dln.hessian`). Comparing
its loss with :func:`dln.global_minimum` tests the solver; looking at its minimiser
tests the structure theorems (rank one, balance, equal magnitudes).

Why the polish: on ill-conditioned data (directions of ``A0`` with tiny eigenvalues) the
minimiser's weights span orders of magnitude and L-BFGS creeps towards it over thousands
of iterations; Newton's method with the exact Hessian converges quadratically once
close. L-BFGS can also stop near a saddle; polishing several starts (``polish_top``)
guards against keeping one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import positive_int, positive_scalar
from .landscape import flatten_weights, gradient, hessian, unflatten_weights
from .loss import expected_loss
from .network import network_spec
from .stats import as_stats
from .training import train_exact

__all__ = ["BruteForceResult", "minimize_exact"]


@dataclass(frozen=True)
class BruteForceResult:
    """Outcome of :func:`minimize_exact`.

    Attributes
    ----------
    weights : list of arrays
        The best minimiser found, ``[W_1, ..., W_D, U]``.
    loss : float
        Its exact expected loss.
    gradient_norm : float
        Euclidean norm of the exact gradient there.
    start_losses : ndarray, shape (n_starts,)
        The exact loss each start reached with L-BFGS (before any polish).
    polished_losses : ndarray
        The exact loss after the Newton polish of each polished start (best first).
    lbfgs_rounds : int
        How many rounds of L-BFGS ran before every start stopped improving.
    """

    weights: list
    loss: float
    gradient_norm: float
    start_losses: np.ndarray
    polished_losses: np.ndarray
    lbfgs_rounds: int

    def __repr__(self) -> str:
        return (
            f"BruteForceResult(loss={self.loss:.10g}, "
            f"gradient_norm={self.gradient_norm:.2e}, "
            f"n_starts={self.start_losses.size}, lbfgs_rounds={self.lbfgs_rounds})"
        )


def _newton_polish(weights, stats, gamma, sigma2, gtol, maxiter):
    from scipy.optimize import minimize

    def unpack(theta):
        return unflatten_weights(theta, weights)

    kw = dict(gamma=gamma, sigma2=sigma2)
    res = minimize(
        lambda th: expected_loss(unpack(th), stats, **kw),
        flatten_weights(weights),
        jac=lambda th: gradient(unpack(th), stats, **kw),
        hess=lambda th: hessian(unpack(th), stats, **kw),
        method="trust-exact",
        options=dict(gtol=gtol, maxiter=maxiter),
    )
    return unpack(res.x)


def minimize_exact(
    A0,
    Exy=None,
    Ey2=None,
    *,
    depth,
    width,
    gamma,
    sigma2,
    n_starts=8,
    seed=0,
    init_scale=1.0,
    init=None,
    max_rounds=30,
    rtol=1e-14,
    polish=True,
    polish_top=2,
    gtol=1e-10,
    max_newton=500,
) -> BruteForceResult:
    """Minimise the exact expected loss over all weights from random starts.

    Runs batched L-BFGS (:func:`dln.train_exact`, float64, CPU) on ``n_starts`` random
    initialisations in rounds of 10 steps until no start's loss changes by more than
    ``rtol`` relatively between rounds (or ``max_rounds`` rounds), then polishes the
    ``polish_top`` best starts with trust-region Newton (scipy's ``trust-exact`` with
    the exact gradient and Hessian) and returns the lowest.

    Parameters
    ----------
    A0, Exy, Ey2 : data moments, or a :class:`dln.DataStats` as ``A0``
    depth, width, gamma, sigma2 : the architecture, as in :func:`dln.expected_loss`
        (weight decays may be 0, in which case a minimum need not exist).
    n_starts : int
        Number of random starts.
    seed : int
        Seed of the initialisation.
    init_scale : float
        Scale of the Gaussian initialisation (1 = Kaiming/LeCun, see
        :func:`dln.init_weights`).
    init : list of arrays, optional
        Starting weights with a leading axis of length ``n_starts`` (replaces the
        random initialisation).
    max_rounds : int
        Largest number of rounds of 10 L-BFGS steps.
    rtol : float
        Relative change of every start's loss below which L-BFGS stops.
    polish : bool
        Whether to polish with Newton's method (costs one Hessian per iteration).
    polish_top : int
        How many of the best L-BFGS starts to polish.
    gtol, max_newton : float, int
        Gradient tolerance and iteration limit of the Newton polish.

    Returns
    -------
    BruteForceResult

    Raises
    ------
    ValueError
        On invalid data moments, architecture, or option values.

    Examples
    --------
    >>> import dln
    >>> stats = dln.random_stats(3, seed=0, signal=1.0)
    >>> bf = dln.minimize_exact(stats, depth=1, width=2, gamma=0.1, sigma2=0.5)
    >>> sol = dln.global_minimum(stats, depth=1, width=2, gamma=0.1, sigma2=0.5)
    >>> abs(bf.loss - sol.loss) < 1e-10
    True
    """
    stats = as_stats(A0, Exy, Ey2)
    spec = network_spec(depth, width, gamma, sigma2)
    n_starts = positive_int(n_starts, "n_starts")
    max_rounds = positive_int(max_rounds, "max_rounds")
    rtol = positive_scalar(rtol, "rtol", allow_zero=True)
    polish_top = positive_int(polish_top, "polish_top")
    gtol = positive_scalar(gtol, "gtol")
    max_newton = positive_int(max_newton, "max_newton")
    if not isinstance(polish, bool):
        raise ValueError(f"polish must be True or False; got {polish!r}")
    kw = dict(
        depth=spec.depth,
        width=list(spec.widths),
        gamma=list(spec.gammas),
        sigma2=list(spec.sigma2s),
        n_nets=n_starts,
        steps=10,
        lr=1.0,
        optimizer="lbfgs",
        device="cpu",
        record_every=10,
    )
    run = train_exact(stats, seed=seed, init_scale=init_scale, init=init, **kw)
    rounds = 1
    while rounds < max_rounds:
        previous = run.loss.copy()
        run = train_exact(stats, init=run.weights, **kw)
        rounds += 1
        if np.all(np.abs(previous - run.loss) <= rtol * np.abs(run.loss)):
            break
    start_losses = np.asarray(run.loss, dtype=float)
    # a start whose loss went non-finite (divergence without weight decay) is skipped
    order = [int(k) for k in np.argsort(start_losses) if np.isfinite(start_losses[k])]
    if not order:
        raise ValueError("every start diverged: the loss has no minimum to find")
    gamma_, sigma2_ = list(spec.gammas), list(spec.sigma2s)
    candidates = []
    for k in order[: polish_top if polish else 1]:
        w = run.network(k)
        if polish:
            w_pol = _newton_polish(w, stats, gamma_, sigma2_, gtol, max_newton)
            if expected_loss(
                w_pol, stats, gamma=gamma_, sigma2=sigma2_
            ) <= expected_loss(w, stats, gamma=gamma_, sigma2=sigma2_):
                w = w_pol
        candidates.append((expected_loss(w, stats, gamma=gamma_, sigma2=sigma2_), w))
    candidates.sort(key=lambda c: c[0])
    best_loss, best = candidates[0]
    g = gradient(best, stats, gamma=gamma_, sigma2=sigma2_)
    return BruteForceResult(
        weights=[np.array(W) for W in best],
        loss=float(best_loss),
        gradient_norm=float(np.linalg.norm(g)),
        start_losses=start_losses,
        polished_losses=np.array([c[0] for c in candidates]),
        lbfgs_rounds=rounds,
    )

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
guards against keeping one. Once the loss can no longer resolve the trust region's
predicted decrease (its rounding is ~1e-14 of ``E[y^2]``), a few plain Newton steps on
the gradient finish the job; a polished point is kept when its loss is lower, or equal
up to rounding with a smaller gradient.

:func:`minimize_exact_bias` runs the same engine on the loss of the network with a bias
in every layer (:func:`dln.expected_loss_bias`, paper Appendix D), over weights and
biases.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import finite_array, positive_int, positive_scalar
from .bias import (
    bias_decays,
    bias_gradient,
    bias_hessian,
    bias_loss_kernel,
    expected_loss_bias,
    flatten_params,
    unflatten_params,
)
from .landscape import (
    flatten_weights,
    gradient,
    hessian,
    newton_step,
    unflatten_weights,
)
from .loss import expected_loss, loss_gain, loss_kernel
from .network import network_spec
from .stats import DataStats, as_stats
from .training import check_init, init_weights, optimise_batched

__all__ = ["BruteForceResult", "minimize_exact", "minimize_exact_bias"]


@dataclass(frozen=True)
class BruteForceResult:
    """Outcome of :func:`minimize_exact` and :func:`minimize_exact_bias`.

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
    gain : float or None
        ``E[y^2] - loss``, computed without forming ``E[y^2]`` (see
        :func:`dln.loss_gain`): accurate even when the gain is far smaller than
        ``E[y^2]``. ``None`` for :func:`minimize_exact_bias`.
    newton_step : float or None
        Length of the Newton step there (:func:`dln.newton_step`): where the Hessian is
        positive definite, how far the weights are from the local minimiser they
        converged to. ``None`` for :func:`minimize_exact_bias`.
    newton_decrement : float or None
        How much further the loss would drop at that minimiser, to leading order (0 at
        an exact critical point). ``None`` for :func:`minimize_exact_bias`.
    biases : list or None
        The biases ``[beta_1, ..., beta_D, beta_u]`` of the minimiser
        (:func:`minimize_exact_bias`); ``None`` for a network without biases.
    """

    weights: list
    loss: float
    gradient_norm: float
    start_losses: np.ndarray
    polished_losses: np.ndarray
    lbfgs_rounds: int
    gain: float | None = None
    newton_step: float | None = None
    newton_decrement: float | None = None
    biases: list | None = None

    def __repr__(self) -> str:
        gain = "" if self.gain is None else f"gain={self.gain:.6g}, "
        return (
            f"BruteForceResult(loss={self.loss:.10g}, {gain}"
            f"gradient_norm={self.gradient_norm:.2e}, "
            f"n_starts={self.start_losses.size}, lbfgs_rounds={self.lbfgs_rounds})"
        )


def _check_options(n_starts, max_rounds, rtol, polish_top, gtol, max_newton, polish):
    if not isinstance(polish, bool):
        raise ValueError(f"polish must be True or False; got {polish!r}")
    return (
        positive_int(n_starts, "n_starts"),
        positive_int(max_rounds, "max_rounds"),
        positive_scalar(rtol, "rtol", allow_zero=True),
        positive_int(polish_top, "polish_top"),
        positive_scalar(gtol, "gtol"),
        positive_int(max_newton, "max_newton"),
    )


def _lbfgs_rounds(init, batched_loss, max_rounds, rtol):
    """Batched L-BFGS (float64, CPU) from ``init`` (arrays with a leading start axis)
    in rounds of 10 steps, until no start's loss changes by more than ``rtol``
    relatively between rounds; returns the final parameters, losses and rounds."""
    import torch

    def round_from(arrays):
        params = [
            torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays
        ]
        run = optimise_batched(
            params,
            lambda: batched_loss(params),
            steps=10,
            lr=1.0,
            optimizer="lbfgs",
            record_every=10,
            device="cpu",
        )
        return run.weights, np.asarray(run.loss, dtype=float)

    params, loss = round_from(init)
    rounds = 1
    while rounds < max_rounds:
        previous = loss
        params, loss = round_from(params)
        rounds += 1
        if np.all(np.abs(previous - loss) <= rtol * np.abs(loss)):
            break
    return params, loss, rounds


def _newton_on_gradient(theta, flat_grad, flat_hess, steps=5):
    """Plain Newton steps on the gradient, kept while its norm falls.

    The trust region stops once the loss can no longer resolve the predicted decrease
    (the loss is a sum of terms of order ``E[y^2]``, so its rounding is ~1e-14 there),
    which can leave gradients of ~1e-7; the gradient itself is still accurate, and a
    few Newton steps on it converge quadratically.
    """
    g = flat_grad(theta)
    for _ in range(steps):
        try:
            step = np.linalg.solve(flat_hess(theta), g)
        except np.linalg.LinAlgError:
            break
        g_new = flat_grad(theta - step)
        if not np.linalg.norm(g_new) < np.linalg.norm(g):
            break
        theta, g = theta - step, g_new
    return theta


def _polish_best(
    starts, losses, flat_loss, flat_grad, flat_hess, polish, polish_top, gtol, maxiter
):
    """Newton-polish (scipy ``trust-exact``) the ``polish_top`` best finite starts
    (flat vectors); return ``(loss, theta)`` candidates, best first."""
    from scipy.optimize import minimize

    order = [int(k) for k in np.argsort(losses) if np.isfinite(losses[k])]
    if not order:
        raise ValueError("every start diverged: the loss has no minimum to find")
    candidates = []
    for k in order[: polish_top if polish else 1]:
        theta = starts[k]
        if polish:
            res = minimize(
                flat_loss,
                theta,
                jac=flat_grad,
                hess=flat_hess,
                method="trust-exact",
                options=dict(gtol=gtol, maxiter=maxiter),
            )
            # keep the polished point if it is lower, or as low up to rounding of the
            # loss (~1e2 eps) and closer to stationary: near a minimum Newton lowers
            # the gradient by orders of magnitude while the loss changes only in its
            # last bits, which must not decide
            new = _newton_on_gradient(res.x, flat_grad, flat_hess)
            f_old, f_new = flat_loss(theta), flat_loss(new)
            tol = 128 * np.finfo(float).eps * max(1.0, abs(f_old))
            if f_new < f_old - tol or (
                f_new <= f_old + tol
                and np.linalg.norm(flat_grad(new)) <= np.linalg.norm(flat_grad(theta))
            ):
                theta = new
        candidates.append((flat_loss(theta), theta))
    candidates.sort(key=lambda c: c[0])
    return candidates


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
    the exact gradient and Hessian) and returns the lowest. The polish minimises ``L -
    E[y^2]`` (:func:`dln.loss_gain`, negated), which has the same minimisers as ``L``
    but keeps its digits when ``E[y^2]`` is much larger than the gain over the origin
    (ill-conditioned ``A0``, or a signal just above a threshold).

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
    n_starts, max_rounds, rtol, polish_top, gtol, max_newton = _check_options(
        n_starts, max_rounds, rtol, polish_top, gtol, max_newton, polish
    )
    if init is None:
        init = init_weights(n_starts, stats.dim, spec, init_scale=init_scale, seed=seed)
    else:
        init = check_init(init, n_starts, stats.dim, spec)
    A0, Exy, Ey2, eye = _torch_moments(stats)
    gammas, sigma2s = list(spec.gammas), list(spec.sigma2s)

    def batched_loss(params):
        return loss_kernel(params, A0, Exy, Ey2, gammas, sigma2s, eye)

    params, start_losses, rounds = _lbfgs_rounds(init, batched_loss, max_rounds, rtol)
    like = [P[0] for P in params]
    kw = dict(gamma=gammas, sigma2=sigma2s)
    # the polish minimises L - E[y^2] = -gain: the same minimiser, but the trust region
    # compares function values at the precision of the terms that move
    candidates = _polish_best(
        [flatten_weights([P[k] for P in params]) for k in range(n_starts)],
        start_losses - stats.Ey2,
        lambda th: -loss_gain(unflatten_weights(th, like), stats, **kw),
        lambda th: gradient(unflatten_weights(th, like), stats, **kw),
        lambda th: hessian(unflatten_weights(th, like), stats, **kw),
        polish,
        polish_top,
        gtol,
        max_newton,
    )
    minus_gain, theta = candidates[0]
    best = unflatten_weights(theta, like)
    g = gradient(best, stats, **kw)
    step, decrement = newton_step(best, stats, **kw)
    return BruteForceResult(
        weights=[np.array(W) for W in best],
        loss=expected_loss(best, stats, **kw),
        gradient_norm=float(np.linalg.norm(g)),
        start_losses=start_losses,
        polished_losses=np.array(
            [
                expected_loss(unflatten_weights(c[1], like), stats, **kw)
                for c in candidates
            ]
        ),
        lbfgs_rounds=rounds,
        gain=0.0 - float(minus_gain),
        newton_step=float(np.linalg.norm(step)),
        newton_decrement=decrement,
    )


def _torch_moments(stats):
    import torch

    A0 = torch.tensor(np.array(stats.A0), dtype=torch.float64)
    Exy = torch.tensor(np.array(stats.Exy), dtype=torch.float64)
    return A0, Exy, stats.Ey2, lambda n: torch.eye(n, dtype=torch.float64)


def minimize_exact_bias(
    stats,
    *,
    depth,
    width,
    gamma,
    sigma2,
    bias_gamma=None,
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
    """Minimise the exact loss of the network with biases over all weights *and*
    biases from random starts (the brute-force check of paper Appendix D).

    The same engine as :func:`minimize_exact` (batched L-BFGS in rounds, then
    trust-region Newton with the exact gradient and Hessian on the best starts), on
    :func:`dln.expected_loss_bias`. Weights start as in :func:`dln.init_weights`,
    biases as independent ``N(0, init_scale^2)`` entries.

    Parameters
    ----------
    stats : DataStats
        Moments with the means ``E[x]``, ``E[y]``.
    depth, width, gamma, sigma2, bias_gamma : the architecture and decays, as in
        :func:`dln.expected_loss_bias` (``bias_gamma=None``: the paper's convention).
    n_starts, seed, init_scale, max_rounds, rtol, polish, polish_top, gtol, max_newton
        As in :func:`minimize_exact`.
    init : list of arrays, optional
        ``[W_1, ..., W_D, U, beta_1, ..., beta_D, beta_u]``, each with a leading axis
        of length ``n_starts`` (replaces the random initialisation).

    Returns
    -------
    BruteForceResult
        With ``biases`` set; ``gradient_norm`` covers weights and biases.

    Raises
    ------
    ValueError
        If ``stats`` has no means, or on invalid architecture or option values.

    Examples
    --------
    Centred data: the biases vanish at the global minimum (paper Theorem 6).

    >>> import numpy as np, dln
    >>> st = dln.random_stats(2, seed=0, signal=1.0).with_means(np.zeros(2), 0.0)
    >>> bf = dln.minimize_exact_bias(st, depth=1, width=2, gamma=0.1, sigma2=0.5)
    >>> bool(max(np.max(np.abs(b)) for b in bf.biases) < 1e-8)
    True
    """
    if not isinstance(stats, DataStats) or not stats.has_means:
        raise ValueError(
            "stats must be a dln.DataStats with the means E[x], E[y] (dln.data_stats, "
            "or DataStats(..., Ex=..., Ey=...))"
        )
    spec = network_spec(depth, width, gamma, sigma2)
    bg = list(bias_decays(bias_gamma, spec))
    n_starts, max_rounds, rtol, polish_top, gtol, max_newton = _check_options(
        n_starts, max_rounds, rtol, polish_top, gtol, max_newton, polish
    )
    n_w = spec.depth + 1
    bias_shapes = [(n_starts, w) for w in spec.widths] + [(n_starts,)]
    if init is None:
        weights0 = init_weights(
            n_starts, stats.dim, spec, init_scale=init_scale, seed=seed
        )
        rng = np.random.default_rng([int(seed), 1])
        init_scale = positive_scalar(init_scale, "init_scale", allow_zero=True)
        init = weights0 + [init_scale * rng.standard_normal(s) for s in bias_shapes]
    else:
        if not isinstance(init, (list, tuple)) or len(init) != 2 * n_w:
            raise ValueError(
                f"init must be a list of {2 * n_w} arrays (weights, then biases)"
            )
        init = check_init(list(init[:n_w]), n_starts, stats.dim, spec) + [
            finite_array(b, f"init[{n_w + i}]") for i, b in enumerate(init[n_w:])
        ]
        for i, (b, s) in enumerate(zip(init[n_w:], bias_shapes)):
            if b.shape != s:
                raise ValueError(f"init[{n_w + i}] must have shape {s}; got {b.shape}")
    import torch

    A0, Exy, Ey2, eye = _torch_moments(stats)
    Ex = torch.tensor(np.array(stats.Ex), dtype=torch.float64)
    gammas, sigma2s = list(spec.gammas), list(spec.sigma2s)

    def batched_loss(params):
        return bias_loss_kernel(
            params[:n_w],
            params[n_w:],
            A0,
            Exy,
            Ey2,
            Ex,
            stats.Ey,
            gammas,
            bg,
            sigma2s,
            eye,
        )

    params, start_losses, rounds = _lbfgs_rounds(init, batched_loss, max_rounds, rtol)
    w_like = [P[0] for P in params[:n_w]]
    b_like = [P[0] for P in params[n_w:]]
    kw = dict(gamma=gammas, sigma2=sigma2s, bias_gamma=bg)

    def split(th):
        return unflatten_params(th, w_like, b_like)

    candidates = _polish_best(
        [
            flatten_params([P[k] for P in params[:n_w]], [P[k] for P in params[n_w:]])
            for k in range(n_starts)
        ],
        start_losses,
        lambda th: expected_loss_bias(*split(th), stats, **kw),
        lambda th: bias_gradient(*split(th), stats, **kw),
        lambda th: bias_hessian(*split(th), stats, **kw),
        polish,
        polish_top,
        gtol,
        max_newton,
    )
    best_loss, theta = candidates[0]
    ws, bs = split(theta)
    g = bias_gradient(ws, bs, stats, **kw)
    return BruteForceResult(
        weights=[np.array(W) for W in ws],
        loss=float(best_loss),
        gradient_norm=float(np.linalg.norm(g)),
        start_losses=start_losses,
        polished_losses=np.array([c[0] for c in candidates]),
        lbfgs_rounds=rounds,
        biases=[np.array(b) for b in bs[:-1]] + [float(bs[-1])],
    )

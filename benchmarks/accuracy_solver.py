"""Accuracy of ``dln.global_minimum`` against a 50-digit reference, by condition number
of ``A0`` (issue 9, item 3). Prints a table; not a timed test.

For each condition number, random rotated instances (``dln.random_stats``, d = 5,
depths 1-3) are solved twice: with the refinement of the solver (default) and without
it (the eigendecomposition route alone, ``_REFINE_COND = inf``). The reference solves
the same stored float64 moments in mpmath at 50 digits: the eigendecomposition of
``A0`` by ``mpmath.eigsy``, every root of the scalar equation polished by
``mpmath.findroot`` from the solver's roots, the loss of the best root.

Columns: the largest relative error of ``b*``, of the loss, and of the gain ``L -
E[y^2]`` over the instances, and the largest ``eps * kappa`` with ``kappa = a_max /
(a_min + tau*)``, the error the eigendecomposition route is expected to have.

Run: ``python benchmarks/accuracy_solver.py`` (about a minute).
"""

from __future__ import annotations

import mpmath as mp
import numpy as np

import dln
import dln.solution as solution
from dln.network import network_spec

EPS = np.finfo(float).eps


def reference(stats, arch, sol):
    """(b*, loss, gain) of the global minimum in 50-digit arithmetic."""
    spec = network_spec(**arch)
    with mp.workdps(50):
        d = [mp.mpf(x) for x in spec.widths]
        s2 = [mp.mpf(x) for x in spec.sigma2s]
        g = [mp.mpf(x) for x in spec.gammas]
        D = spec.depth
        log_s = mp.fsum(mp.log(x) + mp.log(x + y) for x, y in zip(d, s2))
        alpha = mp.fprod(x / (x + y) for x, y in zip(d, s2))
        B2 = (g[-1] * d[-1]) ** (D - 1) / mp.fprod(
            g[k] * d[k] * d[k - 1] for k in range(1, D)
        )
        K = g[0] * d[0] / (mp.exp(log_s) * B2)  # tau = K b^(-2D)
        a, Q = mp.eigsy(mp.matrix(stats.A0.tolist()))
        e = Q.T * mp.matrix(stats.Exy.tolist())
        a = [a[i] for i in range(stats.dim)]
        e2 = [e[i] ** 2 for i in range(stats.dim)]
        c = g[-1] * d[-1]

        def F(log_b):  # log(c b^2) - log(alpha tau r^2)
            tau = K * mp.exp(-2 * D * log_b)
            r2 = mp.fsum(x / (y + tau) ** 2 for y, x in zip(a, e2))
            return mp.log(c) + 2 * log_b - mp.log(alpha * tau * r2)

        def gain(log_b):
            tau = K * mp.exp(-2 * D * log_b)
            fit = alpha * mp.fsum(x / (y + tau) for y, x in zip(a, e2))
            return D * c * mp.exp(2 * log_b) - fit

        best = (mp.mpf(0), mp.mpf(0))
        for b in sol.roots[1:]:
            lb = mp.findroot(F, mp.log(mp.mpf(b)), tol=mp.mpf(10) ** -40)
            gn = gain(lb)
            if gn < best[1]:
                best = (mp.exp(lb), gn)
        return best[0], mp.mpf(stats.Ey2) + best[1], best[1]


def errors(sol, ref):
    b, loss, gain = ref
    eb = float(abs(mp.mpf(sol.b) - b) / b) if b > 0 else float(sol.b > 0)
    el = float(abs(mp.mpf(sol.loss) - loss) / loss)
    eg = float(abs(mp.mpf(sol.loss) - loss) / abs(gain)) if gain else 0.0
    return eb, el, eg


def main():
    print("relative errors against a 50-digit reference, rotated A0, d = 5, D = 1-3")
    print(
        f"{'cond(A0)':>9} | {'eps*kappa':>9} | {'b*':>8} {'loss':>8} {'gain':>8}"
        f" (refined) | {'b*':>8} {'loss':>8} {'gain':>8} (eigendecomposition only)"
    )
    gate = solution._REFINE_COND
    for log_c in range(0, 14):
        worst = {True: np.zeros(3), False: np.zeros(3)}
        ek = 0.0
        for seed in range(4):
            stats = dln.random_stats(
                5, seed=seed, cond=10.0**log_c, signal=1.5, label_noise=0.3
            )
            for D in (1, 2, 3):
                arch = dict(depth=D, width=3, gamma=1e-3, sigma2=0.3)
                for refine in (True, False):
                    solution._REFINE_COND = gate if refine else np.inf
                    sol = dln.global_minimum(stats, **arch)
                    ref = reference(stats, arch, sol)
                    worst[refine] = np.maximum(worst[refine], errors(sol, ref))
                if not sol.is_trivial:
                    ek = max(ek, EPS * stats.a_max / (stats.a_min + sol.tau))
        solution._REFINE_COND = gate
        r, u = worst[True], worst[False]
        print(
            f"{10.0**log_c:9.0e} | {ek:9.1e} | {r[0]:8.1e} {r[1]:8.1e} {r[2]:8.1e}"
            f"           | {u[0]:8.1e} {u[1]:8.1e} {u[2]:8.1e}",
            flush=True,
        )


if __name__ == "__main__":
    main()

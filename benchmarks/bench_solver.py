"""Benchmark of the exact solver (issue 4): ratios measured side by side in one run,
printed (not a timed test).

1. ``dln.global_minimum`` against brute-force training of the exact loss
   (``dln.train_exact`` with L-BFGS and with plain gradient descent) until it reaches
   the solver's loss to ``1e-8`` (relative to ``E[y^2]``); target: the solver at least
   1000 times faster.
2. ``dln.global_minimum`` on raw moments ``(A0, E[xy], E[y^2])`` against one
   ``numpy.linalg.eigh(A0)`` for d = 100, 500, 2000; target: at most 2 times the
   eigendecomposition, which is the floor.
3. Memory: the tracemalloc peak of the solver against ``d^2 * 8`` bytes (one d x d
   float64 matrix). The solver may hold the symmetrised copy of ``A0`` and its
   eigenvectors (2 matrices); more would mean another d x d intermediate.

Run: ``python benchmarks/bench_solver.py`` (about two minutes on 2 CPU cores;
``--quick`` skips d = 2000).
"""

from __future__ import annotations

import sys
import time
import tracemalloc

import numpy as np
import torch

import dln


def best_time(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def time_to_reach(
    stats, arch, target, tol, *, optimizer, steps, lr, record_every, seed
):
    """Wall time until the exact loss first comes within ``tol`` of ``target`` (None if
    it never does)."""
    t = time.perf_counter()
    res = dln.train_exact(
        stats,
        **arch,
        n_nets=1,
        steps=steps,
        lr=lr,
        optimizer=optimizer,
        seed=seed,
        device="cpu",
        record_every=record_every,
    )
    wall = time.perf_counter() - t
    gap = np.abs(res.history[:, 0] - target)
    hit = np.flatnonzero(gap <= tol)
    if hit.size == 0:
        return None, wall, float(gap[-1]), int(res.steps[-1])
    step = int(res.steps[hit[0]])
    return wall * step / res.steps[-1], wall, float(gap[hit[0]]), step


def main(quick: bool = False):
    torch.set_num_threads(2)
    print(
        f"dln {dln.__version__}, numpy {np.__version__}, torch {torch.__version__}, "
        "float64, CPU\n"
    )

    # --- 1. solver vs brute-force training
    # ---------------------------------------------------------------------
    print(
        "1. solver vs brute force on the exact loss (one start each; reach the "
        "solver's loss to 1e-8 E[y^2])"
    )
    instances = (
        (
            "small:  d = 8,  D = 2, widths 5, 4",
            dln.random_stats(8, seed=4, cond=10, signal=2.0, label_noise=0.2),
            dict(depth=2, width=[5, 4], gamma=[0.02, 0.03, 0.01], sigma2=[0.5, 0.3]),
            (
                ("L-BFGS", dict(optimizer="lbfgs", steps=60, lr=1.0, record_every=1)),
                ("GD", dict(optimizer="gd", steps=60000, lr=0.05, record_every=20)),
            ),
        ),
        (
            "medium: d = 32, D = 3, widths 16, 16, 16",
            dln.random_stats(32, seed=5, cond=10, signal=2.0, label_noise=0.2),
            dict(depth=3, width=[16, 16, 16], gamma=1e-3, sigma2=0.5),
            (
                ("L-BFGS", dict(optimizer="lbfgs", steps=40, lr=1.0, record_every=1)),
                ("GD", dict(optimizer="gd", steps=3000, lr=0.01, record_every=20)),
            ),
        ),
    )
    for title, stats, arch, runs in instances:
        t_solver = best_time(lambda: dln.global_minimum(stats, **arch), repeat=200)
        sol = dln.global_minimum(stats, **arch)
        tol = 1e-8 * stats.Ey2
        print(f"   {title}")
        print(
            f"     solver : {t_solver * 1e3:.3f} ms   loss {sol.loss:.12f}   "
            f"(nontrivial: {not sol.is_trivial})"
        )
        for name, kw in runs:
            reach, wall, gap, step = time_to_reach(
                stats, arch, sol.loss, tol, seed=1, **kw
            )
            if reach is None:
                print(
                    f"     {name:7s}: did NOT reach 1e-8 in {step} steps ({wall:.2f} "
                    f"s); final gap {gap:.2e}; "
                    f"ratio > {wall / t_solver:,.0f}x"
                )
            else:
                print(
                    f"     {name:7s}: {reach:.3f} s to reach (step {step}, gap "
                    f"{gap:.1e})   "
                    f"ratio {reach / t_solver:,.0f}x"
                )

    # --- 2. solver vs one eigh
    # ----------------------------------------------------------------------------------
    print("\n2. solver on raw moments vs one numpy.linalg.eigh(A0) (best of repeats)")
    sizes = (100, 500) if quick else (100, 500, 2000)
    rows = []
    for d in sizes:
        st = dln.random_stats(d, seed=d, cond=1e3, signal=1.0)
        A0, Exy, Ey2 = np.array(st.A0), np.array(st.Exy), st.Ey2
        repeat = 20 if d <= 100 else (5 if d <= 500 else 3)
        t_eigh = best_time(lambda: np.linalg.eigh(A0), repeat)
        arch_d = dict(depth=3, width=[16, 8, 4], gamma=1e-3, sigma2=0.5)
        t_sol = best_time(lambda: dln.global_minimum(A0, Exy, Ey2, **arch_d), repeat)
        t_pre = best_time(
            lambda: dln.global_minimum(st, **arch_d), repeat
        )  # eigenbasis already cached
        # memory
        tracemalloc.start()
        np.linalg.eigh(A0)
        peak_eigh = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        tracemalloc.start()
        dln.global_minimum(A0, Exy, Ey2, **arch_d)
        peak_sol = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        tracemalloc.start()
        dln.global_minimum(st, **arch_d)
        peak_pre = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        rows.append((d, t_eigh, t_sol, t_pre, peak_eigh, peak_sol, peak_pre))
        mat = d * d * 8
        print(
            f"   d = {d:5d}: eigh {t_eigh * 1e3:9.2f} ms   solver {t_sol * 1e3:9.2f} "
            f"ms   ratio {t_sol / t_eigh:5.2f}x"
            f"   (given cached DataStats: {t_pre * 1e3:7.2f} ms = "
            f"{t_pre / t_eigh:.3f}x)"
        )
    print(
        "\n3. memory: tracemalloc peak in units of one d x d float64 matrix (d^2 * 8 "
        "bytes)"
    )
    for d, _, _, _, peak_eigh, peak_sol, peak_pre in rows:
        mat = d * d * 8
        print(
            f"   d = {d:5d}: eigh alone {peak_eigh / mat:5.2f}   solver on raw moments "
            f"{peak_sol / mat:5.2f}"
            f"   solver given DataStats {peak_pre / mat:6.3f}"
        )


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)

"""Benchmark of ``dln.phase_diagram`` against the per-point loop over
``dln.global_minimum`` (the landscape issue): ratios from one run, printed (not a timed
test).

The diagram: 512 x 512 points, weight decay ``gamma`` in ``[1e-5, 1]`` and signal
``||E[xy]||`` in ``[1e-3, 10]`` (log-spaced), d = 10 inputs with cond(A0) = 100, depth
D = 2, widths 10, noise 0.5. The loop solves a random sample of the same grid points one
by one (each on its rescaled statistics, built outside the timing), and its time per
point is extrapolated to the whole grid; target: the diagram at least 100 times faster.
The machine's load (``os.getloadavg``) is printed with the figures, since other users
share the cores.

Run: ``python benchmarks/bench_phase.py`` (about a minute).
"""

from __future__ import annotations

import os
import time

import numpy as np

import dln

N = 512
SAMPLE = 400


def main():
    print(f"dln {dln.__version__}, numpy {np.__version__}, float64, CPU")
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    stats = dln.random_stats(10, seed=0, cond=100.0, signal=1.0)
    arch = dict(depth=2, width=10, sigma2=0.5)
    gamma = np.logspace(-5, 0, N)
    signal = np.logspace(-3, 1, N)
    _ = stats.eigenvalues  # the eigendecomposition is shared by both routes

    times = []
    for _ in range(3):
        t = time.perf_counter()
        pd = dln.phase_diagram(stats, gamma=gamma, signal=signal, **arch)
        times.append(time.perf_counter() - t)
    t_diagram = min(times)

    rng = np.random.default_rng(1)
    pts = list(zip(rng.integers(0, N, SAMPLE), rng.integers(0, N, SAMPLE)))
    scaled = {}
    for _, j in pts:
        c = signal[j] / stats.signal
        scaled[j] = dln.DataStats(stats.A0, stats.Exy * c, stats.Ey2 * c * c)
        _ = scaled[j].eigenvalues  # computed outside the timing
    t = time.perf_counter()
    sols = [dln.global_minimum(scaled[j], gamma=gamma[i], **arch) for i, j in pts]
    t_point = (time.perf_counter() - t) / SAMPLE
    t_loop = t_point * N * N
    agree = all(s.is_trivial == pd.is_trivial[i, j] for s, (i, j) in zip(sols, pts))

    counts = np.bincount(pd.phase.ravel(), minlength=4)
    print(f"\n{N} x {N} diagram, d = 10, D = 2 (phases a-d: {counts.tolist()})")
    print(f"   phase_diagram          : {t_diagram:8.3f} s per diagram (best of 3)")
    print(
        f"   global_minimum loop    : {t_point * 1e3:8.3f} ms per point "
        f"({SAMPLE} random grid points) -> {t_loop:8.1f} s for the grid"
    )
    print(f"   ratio                  : {t_loop / t_diagram:8.0f}x   (target >= 100x)")
    print(f"   trivial flags agree on the sample: {agree}")
    print("load average after:  {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()

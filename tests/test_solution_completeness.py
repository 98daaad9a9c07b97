"""Root completeness of :func:`dln.global_minimum` against an independent dense scan of
the scalar equation in 30-digit arithmetic (issue 9, item 1).

At small weight decay the barrier root of a network with D >= 2 hidden layers sits
where the ridge parameter ``tau`` of the input layer is huge compared with every
eigenvalue of ``A0``; there the scalar equation differs from its large-``tau`` limit by
about ``a / tau``, far below float64 rounding of its terms, so a float scan cannot
decide its sign. The scan below runs in mpmath at 30 digits, on the eigendecomposition
of ``A0`` computed in mpmath, with the equation written from the book's derivation (not
from the solver's code):

    F(b) = log(gamma_u d_D b^2) - log(alpha tau ||(A0 + tau I)^{-1} E[xy]||^2),
    tau = gamma_1 d_1 / (s B^2),
    B^2 = b^{2D} (gamma_u d_D)^{D-1} / prod_{k>=2} gamma_k d_k d_{k-1},

with ``alpha = prod d_k / (d_k + sigma_k^2)`` and ``s = prod d_k (d_k + sigma_k^2)``.
Every solution ``b > 0`` is a sign change of ``F``; the roots lie where the two bounds
``||(A0 + tau)^{-1} E[xy]|| <= ||E[xy]|| / tau`` and ``<= ||E[xy]|| / a_min`` allow,
which gives the scan range.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest

import dln

STEP = 0.02  # in log b; the roots of every instance here are further apart


def _instances():
    """The reproducer of issue 9, three instances with four or no solutions, and seeded
    random instances: weight decays 1e-4 ... 1e-10 (equal or per layer), depths 2-8,
    unequal widths and noises."""
    out = [
        (
            dln.random_stats(4, seed=11, cond=8, signal=1.5, label_noise=0.3),
            dict(depth=2, width=[3, 3], gamma=[1e-6] * 3, sigma2=[0.3, 0.3]),
        )
    ]
    # two wells (four solutions b > 0, two of them within 0.12 in log b) and no
    # solution at all, at larger weight decay
    for a, e, D, gamma in (
        ([0.00310392, 0.34083028], [0.01005838, 0.09727768], 4, 0.005060986),
        ([2.30649224e-04, 0.234499173], [0.01767332, 0.08130397], 4, 0.011085468),
        ([0.00310392, 0.34083028], [0.01005838, 0.09727768], 4, 0.05),
    ):
        stats = dln.DataStats(np.diag(a), e, float(np.sum(np.square(e) / a)) + 0.1)
        out.append(
            (
                stats,
                dict(depth=D, width=[2] * D, gamma=[gamma] * (D + 1), sigma2=[0.3] * D),
            )
        )
    rng = np.random.default_rng(9)
    for k in range(36):
        D = int(rng.integers(2, 9))
        d = int(rng.integers(2, 6))
        stats = dln.random_stats(
            d,
            seed=100 + k,
            cond=10 ** rng.uniform(0, 3),
            signal=10 ** rng.uniform(-1, 1),
            label_noise=0.3,
        )
        log_g = rng.uniform(-10, -4)
        spread = 0.0 if k % 2 else 1.0  # equal decays, or up to a decade apart
        gamma = (10 ** (log_g + spread * rng.uniform(-0.5, 0.5, D + 1))).tolist()
        width = rng.integers(1, 5, D).tolist()
        sigma2 = rng.choice([0.0, 0.2, 0.5, 1.0], D).tolist()
        out.append((stats, dict(depth=D, width=width, gamma=gamma, sigma2=sigma2)))
    return out


def _scan(stats, arch):
    """Grid of log b and the sign of F on it, both in 30-digit arithmetic."""
    with mp.workdps(30):
        D = arch["depth"]
        d = [mp.mpf(x) for x in arch["width"]]
        g = [mp.mpf(x) for x in arch["gamma"]]
        s2 = [mp.mpf(x) for x in arch["sigma2"]]
        alpha = mp.fprod(dk / (dk + sk) for dk, sk in zip(d, s2))
        s = mp.fprod(dk * (dk + sk) for dk, sk in zip(d, s2))
        B2_per_b2D = (g[-1] * d[-1]) ** (D - 1) / mp.fprod(
            g[k] * d[k] * d[k - 1] for k in range(1, D)
        )
        K = g[0] * d[0] / (s * B2_per_b2D)  # tau = K b^(-2D)
        a, Q = mp.eigsy(mp.matrix(stats.A0.tolist()))
        e = Q.T * mp.matrix(stats.Exy.tolist())
        a = [a[i] for i in range(stats.dim)]
        e2 = [e[i] ** 2 for i in range(stats.dim)]
        lhs_c = g[-1] * d[-1]
        norm2 = mp.fsum(e2)

        def F(log_b):
            tau = K * mp.exp(-2 * D * log_b)
            r2 = mp.fsum(ek / (ak + tau) ** 2 for ak, ek in zip(a, e2))
            return mp.log(lhs_c) + 2 * log_b - mp.log(alpha * tau * r2)

        # alpha tau r^2 <= alpha ||e||^2 / tau and <= alpha tau ||e||^2 / a_min^2
        lo = mp.log(lhs_c * K / (alpha * norm2)) / (2 * D - 2)
        hi = mp.log(alpha * K * norm2 / (lhs_c * min(a) ** 2)) / (2 * D + 2)
        grid = np.arange(float(lo) - 1.0, float(hi) + 1.0 + STEP, STEP)
        sign = np.array([mp.sign(F(mp.mpf(x))) for x in grid])
    return grid, sign


@pytest.mark.parametrize("k", range(40))
def test_every_root_is_found_at_small_weight_decay(k):
    stats, arch = _instances()[k]
    sol = dln.global_minimum(stats, **arch)
    grid, sign = _scan(stats, arch)
    assert np.all(sign != 0)
    change = np.flatnonzero(sign[:-1] != sign[1:])
    found = np.log(sol.roots[1:])
    assert found.size == change.size, (np.exp(found), np.exp(grid[change]))
    for i, r in zip(change, found):
        assert grid[i] <= r <= grid[i + 1], (r, grid[i], grid[i + 1])

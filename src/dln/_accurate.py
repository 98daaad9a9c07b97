"""Residuals and dot products in about twice the working precision (error-free
transformations), for the solver's iterative refinement.

A float64 residual ``e - (A0 + tau I) z`` of a nearly singular system is dominated by
its own rounding, ``eps ||A0|| ||z||``, so refining a solution with it cannot beat the
``eps * cond`` accuracy of the first solve. Here every product ``a * b`` is split into
``p + err`` exactly (Dekker's TwoProduct with Veltkamp's splitting, no FMA needed) and
every row is summed by pairwise TwoSum with the rounding errors collected, so the
residual is accurate to about ``eps ||r|| + log2(d) eps^2 ||A0|| ||z||`` (Ogita, Rump
& Oishi, "Accurate sum and dot product", SIAM J. Sci. Comput. 26, 2005). Cost: about 30
flops per entry of ``A0``, computed in blocks of rows (memory ``O(block * d)``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["dot2", "residual2"]

_SPLITTER = 134217729.0  # 2^27 + 1
_BLOCK = 1 << 16  # at most this many entries per block of the residual


def _split(a):
    c = _SPLITTER * a
    hi = c - (c - a)
    return hi, a - hi


def _two_prod(a, b):
    """``a * b = p + err`` exactly (for ``|a|, |b| < 2^996`` and no underflow)."""
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _sum2(terms, errors):
    """Sums along the last axis of ``terms + errors`` (``errors`` small), each returned
    as one float accurate to about ``eps |sum| + log2(n) eps^2 sum |terms|``: pairwise
    TwoSum over ``terms`` (padded with zeros to a power of two), with every rounding
    error and ``errors`` added in plain arithmetic."""
    n = terms.shape[-1]
    width = 1 << max(0, (n - 1).bit_length())
    s = np.zeros(terms.shape[:-1] + (width,))
    s[..., :n] = terms
    err = np.sum(errors, axis=-1)
    while width > 1:
        width //= 2
        a, b = s[..., :width], s[..., width:]
        t = a + b
        bb = t - a
        err += np.sum((a - (t - bb)) + (b - bb), axis=-1)
        s = t
    return s[..., 0] + err


def _pow2_scale(x) -> float:
    """A power of two ``2^k`` with ``max |x| * 2^k`` in ``[0.5, 1)`` (1 for zero)."""
    m = max(float(np.max(x)), -float(np.min(x))) if np.size(x) else 0.0  # no |x| copy
    return float(np.ldexp(1.0, -np.frexp(m)[1])) if m > 0 else 1.0


def dot2(x, y) -> float:
    """``x . y`` in about twice the working precision, rounded once."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    sx, sy = _pow2_scale(x), _pow2_scale(y)
    p, err = _two_prod(x * sx, y * sy)
    return float(_sum2(p, err)) / (sx * sy)


def residual2(A, Z, tau, rhs) -> np.ndarray:
    """``rhs[:, None] - A Z - Z * tau`` in about twice the working precision.

    ``A`` is a square ``(d, d)`` matrix, ``Z`` a ``(d, k)`` matrix (one column per
    system), ``tau`` a scalar or ``k`` shifts and ``rhs`` a vector of length ``d``: the
    residuals of the ``k`` shifted systems ``(A + tau_j I) z_j = rhs``. The operands are
    scaled by powers of two (exact), per column of ``Z``, so that no splitting
    overflows.
    """
    A = np.asarray(A, dtype=float)
    Z = np.asarray(Z, dtype=float)
    d, k = Z.shape
    tau = np.broadcast_to(np.asarray(tau, dtype=float), (k,))
    sa = _pow2_scale(A)
    sz = np.array([_pow2_scale(Z[:, j]) for j in range(k)])
    Zt = (Z * sz).T  # (k, d): one system per row; A is scaled block by block below
    taus = tau * sa
    rhs_s = np.asarray(rhs, dtype=float)[:, None] * (sa * sz)  # (d, k)
    out = np.empty((d, k))
    # about d^2 / 16 entries per block (a dozen temporaries then take under one d x d
    # matrix), at least 4096 and at most _BLOCK
    entries = min(_BLOCK, max(4096, d * d // 16))
    block = max(1, entries // (k * d))
    for i in range(0, d, block):
        rows = slice(i, i + block)
        p, err = _two_prod(A[rows, None, :] * sa, Zt[None, :, :])  # (rows, k, d)
        pt, et = _two_prod(np.broadcast_to(taus, (Zt[:, rows].T.shape)), Zt[:, rows].T)
        terms = np.concatenate((p, pt[..., None], -rhs_s[rows, :, None]), axis=-1)
        errors = np.concatenate((err, et[..., None]), axis=-1)
        out[rows] = -_sum2(terms, errors)
    return out / (sa * sz)

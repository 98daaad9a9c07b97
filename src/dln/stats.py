"""Data statistics: the only way the data enter the loss.

For a one-dimensional label the expected squared error of a linear predictor ``x ->
p.x`` is ``E[(p.x - y)^2] = p^T A0 p - 2 p.E[xy] + E[y^2]``, so three moments of the
data (``A0 = E[x x^T]``, ``E[xy]`` and ``E[y^2]``) are all a deep linear network ever
sees. This module builds them from samples, checks given ones, and works in the
eigenbasis of ``A0``, where the solver lives.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ._validation import finite_array, positive_int, positive_scalar

__all__ = [
    "DataStats",
    "data_stats",
    "as_stats",
    "random_stats",
]

# Relative tolerance for the consistency of (A0, E[xy], E[y^2]) as moments of one
# distribution.
_CONSISTENCY_RTOL = 1e-6


@dataclass(frozen=True)
class DataStats:
    """Second moments of a data distribution, validated.

    Parameters
    ----------
    A0 : (d, d) array
        ``E[x x^T]``: symmetric positive semi-definite.
    Exy : (d,) array
        ``E[x y]``.
    Ey2 : float
        ``E[y^2]``.

    Raises
    ------
    ValueError
        If shapes disagree, an entry is not finite, ``A0`` is not symmetric or not PSD,
        or the three moments cannot belong to one distribution (the joint second-moment
        matrix ``[[A0, Exy], [Exy^T, Ey2]]`` is not PSD: ``E[xy]`` has a component along
        a null direction of ``A0``, or ``E[y^2] < E[xy]^T A0^+ E[xy]``).
    """

    A0: np.ndarray
    Exy: np.ndarray
    Ey2: float

    def __post_init__(self):
        A0 = finite_array(self.A0, "A0", ndim=2)
        if A0.shape[0] != A0.shape[1] or A0.shape[0] == 0:
            raise ValueError(
                f"A0 must be a non-empty square matrix; got shape {A0.shape}"
            )
        scale = max(np.max(np.abs(A0)), np.finfo(float).tiny)
        asym = np.max(np.abs(A0 - A0.T))
        if asym > 1e-10 * scale:
            raise ValueError(
                f"A0 must be symmetric; max |A0 - A0^T| = {asym:.3g} (max |A0| = "
                f"{scale:.3g})"
            )
        Exy = finite_array(self.Exy, "Exy", ndim=1)
        if Exy.shape[0] != A0.shape[0]:
            raise ValueError(
                f"Exy must have length {A0.shape[0]} to match A0; got {Exy.shape[0]}"
            )
        Ey2 = positive_scalar(self.Ey2, "Ey2", allow_zero=True)
        A0 = 0.5 * (A0 + A0.T)
        A0.setflags(write=False)
        Exy = Exy.copy()
        Exy.setflags(write=False)
        object.__setattr__(self, "A0", A0)
        object.__setattr__(self, "Exy", Exy)
        object.__setattr__(self, "Ey2", Ey2)
        self._check_psd_and_consistency()

    # --- the eigenbasis of A0
    # -------------------------------------------------------------------------
    @cached_property
    def _eigh(self):
        a, Q = np.linalg.eigh(self.A0)
        return a, Q

    @property
    def dim(self) -> int:
        """The input dimension ``d``."""
        return self.A0.shape[0]

    @property
    def eigenvalues(self) -> np.ndarray:
        """Eigenvalues ``a_i`` of ``A0``, ascending (tiny negative rounding is set to
        zero)."""
        a = self._eigh[0]
        return np.where(a > self.null_tolerance, a, 0.0)

    @property
    def eigenvectors(self) -> np.ndarray:
        """Orthonormal eigenvectors of ``A0`` as columns, in the order of
        :attr:`eigenvalues`."""
        return self._eigh[1]

    @cached_property
    def exy_eigen(self) -> np.ndarray:
        """``E[xy]`` in the eigenbasis of ``A0`` (``Q^T E[xy]``); null-direction
        components set to zero."""
        e = self.eigenvectors.T @ self.Exy
        return np.where(self.eigenvalues > 0, e, 0.0)

    @property
    def null_tolerance(self) -> float:
        """Eigenvalues of ``A0`` at or below this are rounding noise of a zero
        eigenvalue."""
        a = self._eigh[0]
        return (
            16
            * self.dim
            * np.finfo(float).eps
            * max(np.max(np.abs(a)), np.finfo(float).tiny)
        )

    @property
    def signal(self) -> float:
        """``||E[xy]||``, the signal strength of the papers."""
        return float(np.linalg.norm(self.Exy))

    @property
    def a_min(self) -> float:
        """Smallest eigenvalue of ``A0``."""
        return float(self.eigenvalues[0])

    @property
    def a_max(self) -> float:
        """Largest eigenvalue of ``A0``."""
        return float(self.eigenvalues[-1])

    @property
    def best_linear_loss(self) -> float:
        """The loss of the best unregularised linear predictor,
        ``E[y^2] - E[xy]^T A0^+ E[xy] >= 0``."""
        a, e = self.eigenvalues, self.exy_eigen
        pos = a > 0
        return max(self.Ey2 - float(np.sum(e[pos] ** 2 / a[pos])), 0.0)

    def _check_psd_and_consistency(self):
        a_raw = self._eigh[0]
        tol = self.null_tolerance
        if a_raw[0] < -tol:
            raise ValueError(
                "A0 must be positive semi-definite; its smallest eigenvalue is "
                f"{a_raw[0]:.6g}"
            )
        e_raw = self.eigenvectors.T @ self.Exy
        # Cauchy-Schwarz along each eigenvector u: (u.E[xy])^2 <= (u^T A0 u) E[y^2].
        allowed = np.sqrt(np.maximum(a_raw, tol) * self.Ey2) + 1e-12 * max(
            self.signal, 1e-300
        )
        bad = np.abs(e_raw) > (1 + _CONSISTENCY_RTOL) * allowed
        if np.any(bad):
            i = int(np.argmax(np.abs(e_raw) - allowed))
            raise ValueError(
                "Exy, A0 and Ey2 are not the moments of one distribution: along "
                "eigenvector "
                f"{i} of A0 (eigenvalue {a_raw[i]:.3g}) Exy has component "
                f"{e_raw[i]:.3g}, more than "
                f"sqrt(eigenvalue * Ey2) = {allowed[i]:.3g} allows"
            )
        pos = a_raw > tol
        explained = float(np.sum(e_raw[pos] ** 2 / a_raw[pos]))
        if self.Ey2 < explained - _CONSISTENCY_RTOL * max(explained, 1e-300):
            raise ValueError(
                f"Ey2 = {self.Ey2:.6g} is smaller than Exy^T A0^+ Exy = "
                f"{explained:.6g}: these cannot be the "
                "moments of one distribution (the squared error would be negative)"
            )


def data_stats(X, y) -> DataStats:
    """The empirical moments of a data set, ``A0 = X^T X / n``, ``E[xy] = X^T y / n``,
    ``E[y^2] = y.y / n``.

    Parameters
    ----------
    X : (n, d) array
        Inputs, one row per sample.
    y : (n,) array
        Scalar labels.
    """
    X = finite_array(X, "X", ndim=2)
    y = finite_array(y, "y", ndim=1)
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]} entries")
    if X.shape[0] == 0:
        raise ValueError("X and y must hold at least one sample")
    n = X.shape[0]
    return DataStats(X.T @ X / n, X.T @ y / n, float(y @ y / n))


def as_stats(A0, Exy=None, Ey2=None) -> DataStats:
    """Accept either a :class:`DataStats` or the three moments, and return validated
    :class:`DataStats`."""
    if isinstance(A0, DataStats):
        if Exy is not None or Ey2 is not None:
            raise ValueError("pass either a DataStats or (A0, Exy, Ey2), not both")
        return A0
    if Exy is None or Ey2 is None:
        raise ValueError("A0, Exy and Ey2 are all required (or pass one DataStats)")
    return DataStats(A0, Exy, Ey2)


def random_stats(
    d, *, seed, cond=1.0, signal=1.0, label_noise=0.1, a_max=1.0
) -> DataStats:
    """A random, consistent set of moments with prescribed spectrum and signal strength.

    ``A0 = Q diag(a) Q^T`` with a random rotation ``Q`` and eigenvalues log-spaced from
    ``a_max / cond`` to ``a_max``; ``E[xy]`` a random direction of norm ``signal``;
    ``E[y^2] = E[xy]^T A0^{-1} E[xy] + label_noise`` (the labels are a linear function
    of x plus independent noise of variance ``label_noise``).
    """
    d = positive_int(d, "d")
    cond = positive_scalar(cond, "cond")
    if cond < 1:
        raise ValueError(f"cond must be >= 1; got {cond}")
    signal = positive_scalar(signal, "signal", allow_zero=True)
    label_noise = positive_scalar(label_noise, "label_noise", allow_zero=True)
    a_max = positive_scalar(a_max, "a_max")
    rng = np.random.default_rng(seed)
    Q, R = np.linalg.qr(rng.standard_normal((d, d)))
    Q = Q * np.sign(np.diag(R))
    a = a_max * np.logspace(-np.log10(cond), 0.0, d) if d > 1 else np.array([a_max])
    A0 = (Q * a) @ Q.T
    A0 = 0.5 * (A0 + A0.T)
    direction = rng.standard_normal(d)
    Exy = Q @ (signal * direction / np.linalg.norm(direction))
    # E[xy]^T A0^{-1} E[xy] of the matrix as stored: for cond ~ 1e12 rounding in Q
    # diag(a) Q^T moves the small eigenvalues by ~eps * a_max, which changes this term
    # far more than the label noise.
    a_stored, Q_stored = np.linalg.eigh(A0)
    explained = float(np.sum((Q_stored.T @ Exy) ** 2 / a_stored))
    return DataStats(A0, Exy, explained + label_noise)

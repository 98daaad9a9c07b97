"""Data statistics: the only way the data enter the loss.

For a one-dimensional label the expected squared error of a linear predictor ``x ->
p.x`` is ``E[(p.x - y)^2] = p^T A0 p - 2 p.E[xy] + E[y^2]``, so three moments of the
data (``A0 = E[x x^T]``, ``E[xy]`` and ``E[y^2]``) are all a deep linear network ever
sees. A network with biases (paper Appendix D) also sees the means ``E[x]`` and
``E[y]``, which :class:`DataStats` carries when they are given. This module builds the
moments from samples, checks given ones, and works in the eigenbasis of ``A0``, where
the solver lives.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ._validation import (
    finite_array,
    finite_scalar,
    positive_int,
    positive_scalar,
    samples,
)

__all__ = [
    "DataStats",
    "data_stats",
    "as_stats",
    "augmented_stats",
    "random_stats",
]

# Relative tolerance for the consistency of (A0, E[xy], E[y^2]) as moments of one
# distribution.
_CONSISTENCY_RTOL = 1e-6


@dataclass(frozen=True)
class DataStats:
    """Second moments (and optionally the means) of a data distribution, validated.

    Parameters
    ----------
    A0 : (d, d) array
        ``E[x x^T]``: symmetric positive semi-definite.
    Exy : (d,) array
        ``E[x y]``.
    Ey2 : float
        ``E[y^2]``.
    Ex : (d,) array, optional
        ``E[x]``; give it together with ``Ey`` (the network with biases needs both).
    Ey : float, optional
        ``E[y]``.

    Raises
    ------
    ValueError
        If shapes disagree, an entry is not finite, ``A0`` is not symmetric or not PSD,
        or the three moments cannot belong to one distribution (the joint second-moment
        matrix ``[[A0, Exy], [Exy^T, Ey2]]`` is not PSD: ``E[xy]`` has a component along
        a null direction of ``A0``, or ``E[y^2] < E[xy]^T A0^+ E[xy]``); if only one of
        ``Ex``, ``Ey`` is given, or the means are inconsistent with the second moments
        (the second moments of ``(x, 1)`` and ``y`` are not those of one distribution:
        a negative variance, for instance).

    Examples
    --------
    >>> import numpy as np, dln
    >>> st = dln.DataStats(np.eye(2), np.zeros(2), 1.0, Ex=np.array([0.5, 0.0]), Ey=0.0)
    >>> st.has_means, np.round(st.centred().A0, 2).tolist()
    (True, [[0.75, 0.0], [0.0, 1.0]])
    """

    A0: np.ndarray
    Exy: np.ndarray
    Ey2: float
    Ex: np.ndarray | None = None
    Ey: float | None = None

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
        if (self.Ex is None) != (self.Ey is None):
            raise ValueError("give both means Ex = E[x] and Ey = E[y], or neither")
        if self.Ex is not None:
            Ex = finite_array(self.Ex, "Ex", ndim=1)
            if Ex.shape[0] != A0.shape[0]:
                raise ValueError(
                    f"Ex must have length {A0.shape[0]} to match A0; got {Ex.shape[0]}"
                )
            Ey = finite_scalar(self.Ey, "Ey")
            Ex = Ex.copy()
            Ex.setflags(write=False)
            object.__setattr__(self, "Ex", Ex)
            object.__setattr__(self, "Ey", Ey)
            try:  # the moments of (x, 1) and y must be those of one distribution
                _augmented_moments(self)
            except ValueError as err:
                raise ValueError(
                    "the means Ex, Ey are inconsistent with the second moments (the "
                    f"moments of (x, 1) and y fail the check): {err}"
                ) from None

    # --- the means
    # -------------------------------------------------------------------------
    @property
    def has_means(self) -> bool:
        """Whether ``E[x]`` and ``E[y]`` were given (a network with biases needs
        them)."""
        return self.Ex is not None

    def _require_means(self, what):
        if not self.has_means:
            raise ValueError(
                f"{what} needs the means E[x] and E[y]: build the moments with "
                "dln.data_stats(X, y), DataStats(..., Ex=..., Ey=...) or "
                "DataStats.with_means"
            )

    def centred(self) -> DataStats:
        """The moments of the centred data ``(x - E[x], y - E[y])``: covariance, cross
        covariance, variance, and zero means.

        Rounding of ``A0 - E[x]E[x]^T`` can leave an eigenvalue of the joint covariance
        a few ulps below zero; such eigenvalues (the joint matrix was validated as PSD)
        are set to zero.

        Raises
        ------
        ValueError
            If the means were not given.
        """
        self._require_means("centred()")
        d = self.dim
        J = np.empty((d + 1, d + 1))
        J[:d, :d] = self.A0 - np.outer(self.Ex, self.Ex)
        J[:d, d] = J[d, :d] = self.Exy - self.Ex * self.Ey
        J[d, d] = self.Ey2 - self.Ey**2
        J = 0.5 * (J + J.T)
        lam, V = np.linalg.eigh(J)
        if lam[0] < 0:
            J = (V * np.maximum(lam, 0.0)) @ V.T
            J = 0.5 * (J + J.T)
        return DataStats(
            J[:d, :d], J[:d, d], max(float(J[d, d]), 0.0), Ex=np.zeros(d), Ey=0.0
        )

    def with_means(self, Ex, Ey) -> DataStats:
        """The moments of ``(x + Ex, y + Ey)`` when these moments are those of centred
        data ``(x, y)``: ``A0 + Ex Ex^T``, ``E[xy] + Ex Ey``, ``E[y^2] + Ey^2``.

        Moments without means are taken as centred (as :func:`random_stats` builds
        them).

        Raises
        ------
        ValueError
            If these moments carry nonzero means, or ``Ex``, ``Ey`` are not a finite
            vector of length ``d`` and a finite number.
        """
        if self.has_means and (np.any(self.Ex != 0) or self.Ey != 0):
            raise ValueError(
                "with_means shifts centred data, but these moments have nonzero means; "
                "call centred() first"
            )
        Ex = finite_array(Ex, "Ex", ndim=1)
        if Ex.shape[0] != self.dim:
            raise ValueError(f"Ex must have length {self.dim}; got {Ex.shape[0]}")
        Ey = finite_scalar(Ey, "Ey")
        return DataStats(
            self.A0 + np.outer(Ex, Ex),
            self.Exy + Ex * Ey,
            self.Ey2 + Ey**2,
            Ex=Ex,
            Ey=Ey,
        )

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
    ``E[y^2] = y.y / n``, and the means ``E[x]``, ``E[y]``.

    Parameters
    ----------
    X : (n, d) array
        Inputs, one row per sample.
    y : (n,) array
        Scalar labels.
    """
    X, y = samples(X, y)
    n = X.shape[0]
    return DataStats(
        X.T @ X / n,
        X.T @ y / n,
        float(y @ y / n),
        Ex=X.mean(axis=0),
        Ey=float(y.mean()),
    )


def _augmented_moments(stats: DataStats) -> DataStats:
    """The moments of the augmented input ``x' = (x, 1)`` and the label ``y`` (validated
    by :class:`DataStats`): ``[[A0, E[x]], [E[x]^T, 1]]``, ``(E[xy], E[y])``,
    ``E[y^2]``."""
    d = stats.dim
    A = np.empty((d + 1, d + 1))
    A[:d, :d] = stats.A0
    A[:d, d] = A[d, :d] = stats.Ex
    A[d, d] = 1.0
    return DataStats(A, np.append(stats.Exy, stats.Ey), stats.Ey2)


def augmented_stats(stats: DataStats) -> DataStats:
    """The second moments of ``x' = (x, 1)`` and ``y``: the input of a layer whose bias
    is its last column (paper Eq. 109).

    Raises
    ------
    ValueError
        If ``stats`` has no means.
    """
    if not isinstance(stats, DataStats):
        raise ValueError(f"stats must be a dln.DataStats; got {type(stats).__name__}")
    stats._require_means("augmented_stats")
    return _augmented_moments(stats)


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

"""The architecture of a stochastic deep linear network: depth, widths, weight decays
and noise levels.

Notation of the book (paper Eq. 1 / Eq. 9): ``D`` hidden layers of widths ``d_1..d_D``;
weights ``W_1`` (d_1 x d), ``W_i`` (d_i x d_{i-1}), output vector ``U`` (length d_D);
the network computes ``f(x) = U . (eps_D * W_D (... eps_1 * (W_1 x)))`` with independent
noises, ``E[eps] = 1``, ``E[eps^2] = 1 + sigma_i^2``. Weight lists are always ordered
``[W_1, ..., W_D, U]`` (input layer first).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import finite_array, per_layer, positive_int, positive_scalar

__all__ = [
    "NetworkSpec",
    "network_spec",
    "check_weights",
    "infer_widths",
]


def _nonneg(value, name):
    return positive_scalar(value, name, allow_zero=True)


@dataclass(frozen=True)
class NetworkSpec:
    """Depth, widths, weight decays ``[gamma_1, ..., gamma_D, gamma_u]`` and noise
    variances ``[sigma2_1..sigma2_D]``.

    Build it with :func:`network_spec`, which broadcasts scalars and validates every
    entry.
    """

    depth: int
    widths: tuple
    gammas: tuple
    sigma2s: tuple

    @property
    def gamma_u(self) -> float:
        """Weight decay of the output vector ``U``."""
        return self.gammas[-1]


def network_spec(depth, width, gamma, sigma2) -> NetworkSpec:
    """Validate and broadcast the architecture arguments shared by the whole package.

    Parameters
    ----------
    depth : int
        Number of hidden layers ``D >= 1``.
    width : int or sequence of D ints
        ``d_1, ..., d_D``.
    gamma : float or sequence of D + 1 floats
        Weight decays ordered ``[gamma_1, ..., gamma_D, gamma_u]``; non-negative (the
        solver requires > 0).
    sigma2 : float or sequence of D floats
        Noise variances ``sigma_i^2 >= 0`` of the hidden layers.
    """
    depth = positive_int(depth, "depth")
    widths = per_layer(width, depth, "width", lambda v, n: positive_int(v, n))
    gammas = per_layer(gamma, depth + 1, "gamma", _nonneg)
    sigma2s = per_layer(sigma2, depth, "sigma2", _nonneg)
    return NetworkSpec(depth, widths, gammas, sigma2s)


def check_weights(weights, spec: NetworkSpec, input_dim: int) -> list:
    """Check that ``weights = [W_1, ..., W_D, U]`` matches ``spec`` and the input
    dimension; return float arrays."""
    if not isinstance(weights, (list, tuple)):
        raise ValueError("weights must be a list [W_1, ..., W_D, U]")
    if len(weights) != spec.depth + 1:
        raise ValueError(
            f"weights must hold {spec.depth + 1} arrays (W_1..W_{spec.depth}, U); got "
            f"{len(weights)}"
        )
    out = []
    fan_in = input_dim
    for i, (W, width) in enumerate(zip(weights[:-1], spec.widths), start=1):
        W = finite_array(W, f"W_{i}", ndim=2)
        if W.shape != (width, fan_in):
            raise ValueError(f"W_{i} must have shape {(width, fan_in)}; got {W.shape}")
        out.append(W)
        fan_in = width
    U = finite_array(weights[-1], "U", ndim=1)
    if U.shape != (fan_in,):
        raise ValueError(f"U must have shape {(fan_in,)}; got {U.shape}")
    out.append(U)
    return out


def infer_widths(weights) -> tuple:
    """The widths ``(d_1, ..., d_D)`` read off a weight list ``[W_1, ..., W_D, U]``."""
    if not isinstance(weights, (list, tuple)) or len(weights) < 2:
        raise ValueError("weights must be a list [W_1, ..., W_D, U] with D >= 1")
    return tuple(int(np.shape(W)[0]) for W in weights[:-1])

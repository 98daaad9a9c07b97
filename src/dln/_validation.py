"""Input checks shared by every public function: each failure is a ``ValueError`` that
names the argument."""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "finite_array",
    "finite_scalar",
    "positive_scalar",
    "positive_int",
    "samples",
    "draw_count",
    "per_layer",
    "per_network",
    "seed_tuple",
    "seed_list",
]


def finite_array(value, name: str, ndim: int | None = None) -> np.ndarray:
    """Return ``value`` as a float64 array, or raise if it is not numeric, finite and of
    dimension ``ndim``."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{name} must be an array of real numbers; got {type(value).__name__}"
        ) from exc
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional; got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite entries")
    return arr


def finite_scalar(value, name: str) -> float:
    """Return ``value`` as a float, or raise if it is not a finite real number."""
    if isinstance(value, bool) or not isinstance(
        value, (numbers.Real, np.floating, np.integer)
    ):
        arr = np.asarray(value)
        if (
            arr.ndim != 0
            or not np.issubdtype(arr.dtype, np.number)
            or np.iscomplexobj(arr)
        ):
            raise ValueError(f"{name} must be a real scalar; got {value!r}")
        value = arr.item()
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value}")
    return value


def positive_scalar(value, name: str, allow_zero: bool = False) -> float:
    """Return ``value`` as a float, or raise if it is not strictly positive (or
    non-negative)."""
    value = finite_scalar(value, name)
    if value < 0 or (value == 0 and not allow_zero):
        bound = "non-negative" if allow_zero else "strictly positive"
        raise ValueError(f"{name} must be {bound}; got {value}")
    return value


def positive_int(value, name: str) -> int:
    """Return ``value`` as an int, or raise if it is not an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value}")
    return int(value)


def samples(X, y) -> tuple:
    """``(X, y)`` as finite arrays of shapes ``(n, d)`` and ``(n,)`` with ``n >= 1``."""
    X = finite_array(X, "X", ndim=2)
    y = finite_array(y, "y", ndim=1)
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]} entries")
    if X.shape[0] == 0:
        raise ValueError("X and y must hold at least one sample")
    return X, y


def draw_count(n_draws) -> int:
    """A number of Monte Carlo draws: an integer of at least 2 (for a standard
    error)."""
    n_draws = positive_int(n_draws, "n_draws")
    if n_draws < 2:
        raise ValueError("n_draws must be at least 2 to estimate a standard error")
    return n_draws


def per_layer(value, count: int, name: str, check) -> tuple:
    """Broadcast a scalar (or check a sequence) to ``count`` values, each passed through
    ``check``."""
    if np.ndim(value) == 0:
        return tuple(check(value, name) for _ in range(count))
    values = list(value)
    if len(values) != count:
        raise ValueError(
            f"{name} must be a scalar or a sequence of {count} values; got "
            f"{len(values)} values"
        )
    return tuple(check(v, f"{name}[{i}]") for i, v in enumerate(values))


def per_network(value, count: int, name: str, allow_zero: bool = False) -> np.ndarray:
    """Broadcast a scalar (or check a sequence) to ``count`` positive (or non-negative)
    values, one per network."""
    if np.ndim(value) == 0:
        return np.full(count, positive_scalar(value, name, allow_zero=allow_zero))
    arr = finite_array(value, name, ndim=1)
    if arr.shape[0] != count:
        raise ValueError(
            f"{name} must be a scalar or hold one value per network ({count}); got "
            f"{arr.shape[0]}"
        )
    for i, v in enumerate(arr):
        positive_scalar(v, f"{name}[{i}]", allow_zero=allow_zero)
    return arr


def seed_tuple(seed, name: str) -> tuple:
    """A seed as a tuple of non-negative ints (an int becomes a 1-tuple)."""
    values = (seed,) if np.ndim(seed) == 0 else tuple(seed)
    if not values:
        raise ValueError(f"{name} must be an int or a non-empty tuple of ints")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (numbers.Integral, np.integer)):
            raise ValueError(f"{name} must be an int or a tuple of ints; got {seed!r}")
        if v < 0:
            raise ValueError(f"{name} must be non-negative; got {seed!r}")
    return tuple(int(v) for v in values)


def seed_list(seeds) -> list:
    """One seed per network, each a tuple of ints; rejects a bare int or an empty
    list."""
    if isinstance(seeds, (numbers.Integral, np.integer)) or (
        isinstance(seeds, tuple) and seeds and np.ndim(seeds[0]) == 0
    ):
        raise ValueError(
            "seeds must be a sequence with one seed per network (see "
            f"dln.network_seeds); got {seeds!r}"
        )
    try:
        seeds = list(seeds)
    except TypeError as exc:
        raise ValueError(
            f"seeds must be a sequence of per-network seeds; got {seeds!r}"
        ) from exc
    if not seeds:
        raise ValueError("seeds must hold at least one seed (one per network)")
    return [seed_tuple(s, f"seeds[{i}]") for i, s in enumerate(seeds)]

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
    "per_layer",
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

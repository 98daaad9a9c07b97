"""The experiment scale: one knob, read from the environment variable ``DLN_SCALE`` in
this module only.

``ci``      -- what the test suite runs: seconds per chapter, still asserting the
            qualitative claim.
``default`` -- what the book build runs on a laptop CPU: the whole book in minutes,
figures meaningful.
``full``    -- paper scale, meant for a GPU; results are saved with provenance and shown
            by the chapters.
"""

from __future__ import annotations

import os

__all__ = [
    "SCALES",
    "current_scale",
    "by_scale",
]

SCALES = ("ci", "default", "full")
_ENV = "DLN_SCALE"


def current_scale() -> str:
    """The scale named by ``DLN_SCALE`` (``default`` when unset).

    Raises
    ------
    ValueError
        If the variable holds anything but ``ci``, ``default`` or ``full``.
    """
    value = os.environ.get(_ENV, "default").strip().lower() or "default"
    if value not in SCALES:
        raise ValueError(f"{_ENV} must be one of {SCALES}; got {value!r}")
    return value


def by_scale(ci, default, full, scale: str | None = None):
    """Pick the value that belongs to the current (or given) scale.

    Examples
    --------
    >>> by_scale(ci=10, default=100, full=10_000, scale="ci")
    10
    """
    scale = current_scale() if scale is None else scale
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}; got {scale!r}")
    return {"ci": ci, "default": default, "full": full}[scale]

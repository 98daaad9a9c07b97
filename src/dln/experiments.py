"""Experiments with a scale, and saved results with provenance.

An experiment is a function ``f(scale) -> dict of numpy arrays`` registered with
:func:`experiment`. Chapters call it directly at the current scale; the runner ``python
-m dln.experiments NAME --scale full`` runs it (on a GPU when one is there) and saves
``results/NAME-SCALE.npz`` with a JSON sidecar holding the provenance: the scale, the
git commit, the device, the wall time and the library versions. Saving is atomic (write
to a temporary file, then rename), and a run whose results already exist for the same
commit and scale is skipped unless ``--force`` is given (an interrupted run leaves no
partial file behind and is simply run again).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .scale import SCALES, current_scale

__all__ = [
    "experiment",
    "registered_experiments",
    "provenance",
    "save_results",
    "load_results",
    "run_experiment",
    "main",
    "RESULTS_DIR",
]

_REGISTRY: dict = {}
RESULTS_DIR = Path(__file__).resolve().parents[2] / "results"


def experiment(name: str):
    """Register ``f(scale) -> dict[str, array]`` under ``name`` (a decorator)."""
    if not name or not name.replace("-", "").replace("_", "").isalnum():
        raise ValueError(
            f"experiment names use letters, digits, '-' and '_'; got {name!r}"
        )

    def register(func):
        if name in _REGISTRY and _REGISTRY[name] is not func:
            raise ValueError(f"an experiment named {name!r} is already registered")
        _REGISTRY[name] = func
        return func

    return register


def registered_experiments() -> tuple:
    """Names of the registered experiments."""
    return tuple(sorted(_REGISTRY))


def provenance(scale: str, wall_time: float | None = None) -> dict:
    """Where and how a result was made: scale, git commit, device, wall time, library
    versions, UTC date."""
    import scipy
    import sympy
    import torch

    try:
        commit = (
            subprocess.run(
                ["git", "rev-parse", "HEAD"],
                capture_output=True,
                text=True,
                timeout=10,
                cwd=Path(__file__).resolve().parent,
            ).stdout.strip()
            or "unknown"
        )
    except (OSError, subprocess.SubprocessError):
        commit = "unknown"
    device = (
        torch.cuda.get_device_name(0)
        if torch.cuda.is_available()
        else f"cpu ({platform.processor() or platform.machine()})"
    )
    return {
        "scale": scale,
        "git_commit": commit,
        "device": device,
        "wall_time_s": wall_time,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "sympy": sympy.__version__,
        "torch": torch.__version__,
        "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def save_results(path, arrays: dict, meta: dict) -> Path:
    """Save ``arrays`` to ``path`` (``.npz``) and ``meta`` beside it (``.json``), each
    atomically."""
    path = Path(path)
    if path.suffix != ".npz":
        raise ValueError(f"results are saved as .npz; got {path.name}")
    if not isinstance(arrays, dict) or not arrays:
        raise ValueError("arrays must be a non-empty dict of name -> array")
    path.parent.mkdir(parents=True, exist_ok=True)
    for target, write in (
        (path, lambda f: np.savez(f, **{k: np.asarray(v) for k, v in arrays.items()})),
        (
            path.with_suffix(".json"),
            lambda f: f.write(json.dumps(meta, indent=2).encode()),
        ),
    ):
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=target.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                write(f)
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    return path


def load_results(path):
    """Load ``(arrays, meta)`` saved by :func:`save_results`; ``None`` if no such result
    exists."""
    path = Path(path)
    if not path.exists() or not path.with_suffix(".json").exists():
        return None
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    return arrays, json.loads(path.with_suffix(".json").read_text())


def run_experiment(
    name: str, scale: str | None = None, out_dir=None, force: bool = False
):
    """Run a registered experiment at ``scale`` and save it with provenance; return
    ``(arrays, meta)``."""
    if name not in _REGISTRY:
        raise ValueError(
            f"unknown experiment {name!r}; registered: {registered_experiments()}"
        )
    scale = current_scale() if scale is None else scale
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}; got {scale!r}")
    path = Path(out_dir or RESULTS_DIR) / f"{name}-{scale}.npz"
    previous = load_results(path)
    if (
        previous is not None
        and not force
        and previous[1].get("git_commit") == provenance(scale)["git_commit"]
    ):
        return previous
    start = time.perf_counter()
    arrays = _REGISTRY[name](scale)
    meta = provenance(scale, wall_time=time.perf_counter() - start)
    meta["experiment"] = name
    save_results(path, arrays, meta)
    return arrays, meta


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dln.experiments", description=__doc__.splitlines()[0]
    )
    parser.add_argument("name", nargs="?", help="experiment to run (omit to list them)")
    parser.add_argument("--scale", choices=SCALES, default=None)
    parser.add_argument(
        "--out",
        default=None,
        help="results folder (default: results/ at the repository root)",
    )
    parser.add_argument(
        "--force", action="store_true", help="run even if results for this commit exist"
    )
    args = parser.parse_args(argv)
    if args.name is None:
        print("\n".join(registered_experiments()) or "(no experiments registered)")
        return 0
    _, meta = run_experiment(args.name, args.scale, args.out, args.force)
    print(json.dumps(meta, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Experiments split into independent shards, results saved with provenance, runs that
resume, and Dask for more than one process or machine.

An experiment is registered with :func:`experiment`. It declares its independent
configurations for a scale (``shards(scale) -> list of JSON-friendly dicts``), a
function that runs one of them (``run(config, device) -> dict of arrays``) and,
optionally, how the shards' arrays combine (``merge(configs, results) -> dict``; by
default each array is stacked over the shards). A function ``f(scale) -> dict`` without
shards is one shard.

The runner, ``python -m dln.experiments NAME --scale {ci,default,full} [--device cuda]
[--out DIR] [--workers N | --scheduler ADDRESS]``, or :func:`run_experiment`:

* writes every finished shard at once to ``DIR/NAME/SCALE/shard-HASH.npz`` and the
  merged result to ``DIR/NAME-SCALE.npz``, each atomically (a temporary file renamed
  into place: an interrupted run never leaves a truncated file), each holding its
  provenance (config, config hash, git commit, device, library versions, wall time) in
  the file itself and, for people, in a ``.json`` beside it;
* resumes: a shard whose file exists with the same config hash is not run again; a
  result whose config no longer matches the code (another hash) is recomputed, never
  shown. The hash covers the experiment's name, its ``version`` and the shard's config;
  bump ``version`` when the code changes what a config means;
* shows a progress bar (tqdm) over the shards;
* with ``--workers N`` starts a local Dask cluster of ``N`` worker processes, with
  ``--scheduler ADDRESS`` uses an existing one: the shards are spread over the workers
  (each on its own device: ``--device cuda`` gives worker ``i`` the GPU ``i mod
  count``), every result comes back to this process, which saves it as it arrives and
  merges in the order of the shards, so the result is the one a single process makes.
  A worker that dies costs only the shards it was running: Dask runs them again
  elsewhere, and the finished ones are already saved.

Chapters call :func:`load_or_run`: it shows a stored ``full`` result when one matches
the code (printing its provenance) and always runs the same code at the current scale.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import importlib.metadata
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import zipfile
from pathlib import Path

import numpy as np

from .scale import SCALES, current_scale

__all__ = [
    "Experiment",
    "experiment",
    "get_experiment",
    "registered_experiments",
    "config_hash",
    "provenance",
    "save_results",
    "load_results",
    "load_result",
    "run_experiment",
    "load_or_run",
    "StoredAndCurrent",
    "main",
    "RESULTS_DIR",
]

_REGISTRY: dict = {}
RESULTS_DIR = Path(__file__).resolve().parents[2] / "results"
_META_KEY = "__provenance__"


@dataclasses.dataclass(frozen=True)
class Experiment:
    """A registered experiment (see :func:`experiment`)."""

    name: str
    run: object
    shards: object
    merge: object
    version: str
    description: str

    def configs(self, scale: str) -> list:
        """The shards' configurations at ``scale``, validated."""
        if scale not in SCALES:
            raise ValueError(f"scale must be one of {SCALES}; got {scale!r}")
        configs = self.shards(scale)
        if not isinstance(configs, (list, tuple)) or not configs:
            raise ValueError(
                f"{self.name}: shards({scale!r}) must return a non-empty list of dicts"
            )
        for c in configs:
            if not isinstance(c, dict):
                raise ValueError(f"{self.name}: every shard config must be a dict")
            json.dumps(c)  # JSON-friendly, or TypeError here rather than later
        hashes = [config_hash(self, c) for c in configs]
        if len(set(hashes)) != len(hashes):
            raise ValueError(f"{self.name}: two shards at {scale!r} share a config")
        return list(configs)


def _single_shard(func):
    return lambda scale: [{"scale": scale}]


def experiment(name: str, *, shards=None, merge=None, version="1", description=""):
    """Register an experiment under ``name`` (a decorator).

    Parameters
    ----------
    name : str
        Letters, digits, ``-`` and ``_``.
    shards : callable, optional
        ``shards(scale) -> list of dict``: the independent configurations at a scale.
        The decorated function is then ``run(config, device) -> dict of arrays``.
        Without ``shards`` the decorated function is ``f(scale) -> dict of arrays``,
        one shard.
    merge : callable, optional
        ``merge(configs, results) -> dict of arrays``; default: every array stacked
        over the shards (a new leading axis), which needs equal shapes.
    version : str
        Part of every config hash: change it when the code changes what a config
        computes, and stored results are recomputed.
    description : str
        One line for ``python -m dln.experiments`` (default: the function's docstring).
    """
    if (
        not isinstance(name, str)
        or not name
        or not name.replace("-", "").replace("_", "").isalnum()
    ):
        raise ValueError(
            f"experiment names use letters, digits, '-' and '_'; got {name!r}"
        )
    if shards is not None and not callable(shards):
        raise ValueError("shards must be a callable scale -> list of configs")
    if merge is not None and not callable(merge):
        raise ValueError("merge must be a callable (configs, results) -> dict")

    def register(func):
        if not callable(func):
            raise ValueError("experiment decorates a function")
        if shards is None:
            run = _LegacyRun(func)
            shard_fn = _single_shard(func)
        else:
            run, shard_fn = func, shards
        doc = description or (func.__doc__ or "").strip().split("\n")[0]
        exp = Experiment(name, run, shard_fn, merge, str(version), doc)
        old = _REGISTRY.get(name)
        if old is not None and _origin(old) != _origin(exp):
            raise ValueError(f"an experiment named {name!r} is already registered")
        _REGISTRY[name] = exp
        return func

    return register


class _LegacyRun:
    """``run(config, device)`` for an experiment written as ``f(scale)``."""

    def __init__(self, func):
        self.func = func

    def __call__(self, config, device=None):
        return self.func(config["scale"])


def _origin(exp: Experiment):
    func = exp.run.func if isinstance(exp.run, _LegacyRun) else exp.run
    return (getattr(func, "__module__", None), getattr(func, "__qualname__", None))


def _load_builtin():
    from . import workloads  # noqa: F401  (registers the book's workloads)


def registered_experiments() -> tuple:
    """Names of the registered experiments (the book's workloads included)."""
    _load_builtin()
    return tuple(sorted(_REGISTRY))


def get_experiment(name: str) -> Experiment:
    """The registered experiment ``name``; a ``ValueError`` listing the known names
    otherwise."""
    _load_builtin()
    if name not in _REGISTRY:
        raise ValueError(
            f"unknown experiment {name!r}; registered: "
            f"{', '.join(registered_experiments()) or '(none)'}"
        )
    return _REGISTRY[name]


def config_hash(exp: Experiment, config: dict) -> str:
    """16 hex digits identifying ``(name, version, config)``."""
    text = json.dumps(
        {"experiment": exp.name, "version": exp.version, "config": config},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _git(*args) -> str:
    try:
        return subprocess.run(
            ["git", *args],
            capture_output=True,
            text=True,
            timeout=10,
            cwd=Path(__file__).resolve().parent,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _version(package: str):
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _device_name(device) -> str:
    import torch

    dev = str(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if dev.startswith("cuda") and torch.cuda.is_available():
        index = int(dev.split(":")[1]) if ":" in dev else 0
        return f"{dev} ({torch.cuda.get_device_name(index)})"
    return f"cpu ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"


def provenance(scale: str, wall_time: float | None = None, device=None) -> dict:
    """Where and how a result was made: scale, git commit (and whether the tree had
    uncommitted changes), device, wall time, library versions, host, UTC date.

    When the environment variable ``DLN_GIT_COMMIT`` is set, it is the commit (and
    ``DLN_GIT_DIRTY``, ``1`` or ``0``, says whether the tree differed from it): for a
    copy of the working tree sent to another machine, whose ``.git`` is absent or
    stale. Otherwise git is asked; without git the commit is ``"unknown"``."""
    import scipy
    import sympy
    import torch

    commit = os.environ.get("DLN_GIT_COMMIT", "")
    if commit:
        dirty = os.environ.get("DLN_GIT_DIRTY", "0") not in ("", "0")
    else:
        commit = _git("rev-parse", "HEAD") or "unknown"
        dirty = commit != "unknown" and bool(
            _git("status", "--porcelain", "--untracked-files=no")
        )
    return {
        "scale": scale,
        "git_commit": commit,
        "git_dirty": dirty,
        "device": _device_name(device),
        "wall_time_s": wall_time,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "sympy": sympy.__version__,
        "torch": torch.__version__,
        "dask": _version("dask"),
        "distributed": _version("distributed"),
        "scikit-learn": _version("scikit-learn"),
        "host": socket.gethostname(),
        "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _atomic_write(target: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def save_results(path, arrays: dict, meta: dict) -> Path:
    """Save ``arrays`` and their provenance ``meta`` to ``path`` (``.npz``), atomically,
    with a readable copy of ``meta`` in a ``.json`` beside it."""
    path = Path(path)
    if path.suffix != ".npz":
        raise ValueError(f"results are saved as .npz; got {path.name}")
    if not isinstance(arrays, dict) or not arrays:
        raise ValueError("arrays must be a non-empty dict of name -> array")
    if _META_KEY in arrays:
        raise ValueError(f"{_META_KEY!r} is reserved for the provenance")
    text = json.dumps(meta, indent=2, default=_json_default)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {k: np.asarray(v) for k, v in arrays.items()}
    payload[_META_KEY] = np.array(text)
    _atomic_write(path, lambda f: np.savez_compressed(f, **payload))
    _atomic_write(path.with_suffix(".json"), lambda f: f.write(text.encode()))
    return path


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def load_results(path):
    """``(arrays, meta)`` saved by :func:`save_results`, or ``None`` if there is no
    such file or it cannot be read (a damaged file counts as missing)."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files if k != _META_KEY}
            if _META_KEY in data.files:
                meta = json.loads(str(data[_META_KEY]))
            else:  # written before provenance lived inside the file
                meta = json.loads(path.with_suffix(".json").read_text())
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile):
        return None
    return arrays, meta


def _shard_path(out: Path, exp: Experiment, scale: str, h: str) -> Path:
    return out / exp.name / scale / f"shard-{h}.npz"


def _merged_path(out: Path, exp: Experiment, scale: str) -> Path:
    return out / f"{exp.name}-{scale}.npz"


def _valid_arrays(name, result):
    if not isinstance(result, dict) or not result:
        raise ValueError(f"{name}: a shard must return a non-empty dict of arrays")
    return {k: np.asarray(v) for k, v in result.items()}


def _execute(exp: Experiment, config: dict, device):
    """Run one shard (in this process or on a Dask worker): arrays and shard facts."""
    worker = None
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        pass
    if worker is not None and device is not None and str(device) == "cuda":
        import torch

        if torch.cuda.is_available():
            index = worker.name if isinstance(worker.name, int) else 0
            device = f"cuda:{index % torch.cuda.device_count()}"
    start = time.perf_counter()
    arrays = _valid_arrays(exp.name, exp.run(config, device))
    return arrays, {
        "wall_time_s": time.perf_counter() - start,
        "device": _device_name(device),
        "worker": None if worker is None else str(worker.name),
        "host": socket.gethostname(),
        "pid": os.getpid(),
    }


def _default_merge(configs, results):
    if len(results) == 1:
        return dict(results[0])
    merged = {}
    for key in results[0]:
        parts = [r.get(key) for r in results]
        if any(p is None for p in parts) or len({p.shape for p in parts}) != 1:
            raise ValueError(
                f"shards disagree on array {key!r}: give the experiment a merge "
                "function"
            )
        merged[key] = np.stack(parts)
    return merged


def _stored_shard(path: Path, h: str):
    stored = load_results(path)
    if stored is None or stored[1].get("config_hash") != h:
        return None
    return stored


def run_experiment(
    name: str,
    scale: str | None = None,
    out_dir=None,
    force: bool = False,
    *,
    device=None,
    workers=None,
    scheduler=None,
    save=True,
    progress=False,
):
    """Run a registered experiment at ``scale``; return ``(arrays, meta)``.

    Parameters
    ----------
    name : str
        A registered experiment.
    scale : {"ci", "default", "full"}, optional
        Default: :func:`dln.current_scale`.
    out_dir : path, optional
        Results folder (default ``results/`` at the repository root).
    force : bool
        Run every shard again even if stored results match.
    device : str, optional
        Passed to every shard (``"cuda"`` on a cluster: one GPU per worker).
    workers : int, optional
        Start a local Dask cluster of this many worker processes.
    scheduler : str, optional
        Address of an existing Dask scheduler (``tcp://host:8786``).
    save : bool
        ``False``: run in memory, read and write nothing.
    progress : bool
        A tqdm bar over the shards.
    """
    exp = get_experiment(name)
    scale = current_scale() if scale is None else scale
    configs = exp.configs(scale)
    hashes = [config_hash(exp, c) for c in configs]
    if workers is not None and scheduler is not None:
        raise ValueError("give workers or scheduler, not both")
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, int) or workers < 1
    ):
        raise ValueError(f"workers must be a positive integer; got {workers!r}")
    out = Path(out_dir or RESULTS_DIR)
    merged_path = _merged_path(out, exp, scale)
    if save and not force:
        stored = load_result(name, scale, out)
        if stored is not None:
            return stored
    start = time.perf_counter()
    results, shard_meta = [None] * len(configs), [None] * len(configs)
    pending = []
    for i, h in enumerate(hashes):
        stored = None
        if save and not force:
            stored = _stored_shard(_shard_path(out, exp, scale, h), h)
        if stored is None:
            pending.append(i)
        else:
            results[i], shard_meta[i] = stored[0], stored[1]["shard"]

    def finish(i, arrays, facts):
        facts = dict(facts, index=i)
        results[i], shard_meta[i] = arrays, facts
        if save:
            meta = provenance(scale, facts["wall_time_s"], device)
            meta.update(
                experiment=exp.name,
                version=exp.version,
                config=configs[i],
                config_hash=hashes[i],
                shard=facts,
            )
            meta["device"] = facts["device"]
            save_results(_shard_path(out, exp, scale, hashes[i]), arrays, meta)

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(
            total=len(configs),
            initial=len(configs) - len(pending),
            desc=f"{name} ({scale})",
            unit="shard",
        )
    try:
        if pending and (workers is not None or scheduler is not None):
            _run_on_dask(exp, configs, pending, device, workers, scheduler, finish, bar)
        else:
            for i in pending:
                finish(i, *_execute(exp, configs[i], device))
                if bar is not None:
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    merge = exp.merge or _default_merge
    arrays = _valid_arrays(name, merge(configs, results))
    meta = provenance(scale, time.perf_counter() - start, device)
    meta.update(
        experiment=exp.name,
        version=exp.version,
        configs=configs,
        config_hashes=hashes,
        shards=shard_meta,
        shards_run=len(pending),
        compute_time_s=float(sum(m["wall_time_s"] for m in shard_meta)),
        workers=workers,
        scheduler=scheduler,
    )
    if save:
        save_results(merged_path, arrays, meta)
    return arrays, meta


def _run_on_dask(exp, configs, pending, device, workers, scheduler, finish, bar):
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError as exc:
        raise ValueError(
            "--workers and --scheduler need Dask: pip install 'dln[dask]'"
        ) from exc
    import logging

    cluster = None
    if scheduler is None:
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        client = Client(cluster)
    else:
        client = Client(scheduler)
    try:
        futures = {}
        for i in pending:
            fut = client.submit(
                _execute,
                exp,
                configs[i],
                device,
                key=f"{exp.name}-{config_hash(exp, configs[i])}-{os.urandom(4).hex()}",
                pure=False,
                retries=0,
            )
            futures[fut] = i
        for fut in as_completed(list(futures)):
            arrays, facts = fut.result()
            finish(futures[fut], arrays, facts)
            fut.release()
            if bar is not None:
                bar.update(1)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def load_result(name: str, scale: str = "full", out_dir=None):
    """The stored merged result ``(arrays, meta)`` of ``name`` at ``scale``, or
    ``None`` when there is none or its configs no longer match the code."""
    exp = get_experiment(name)
    stored = load_results(_merged_path(Path(out_dir or RESULTS_DIR), exp, scale))
    if stored is None:
        return None
    hashes = [config_hash(exp, c) for c in exp.configs(scale)]
    if stored[1].get("config_hashes") != hashes:
        return None
    return stored


@dataclasses.dataclass(frozen=True)
class StoredAndCurrent:
    """What a chapter shows: the stored full-scale result (when it matches the code)
    and the result of the same code at the current scale."""

    current: dict
    current_meta: dict
    stored: dict | None
    stored_meta: dict | None

    def describe_stored(self) -> str:
        """One line of provenance of the stored result (or why there is none)."""
        if self.stored_meta is None:
            return "no stored full-scale result matches the code"
        m = self.stored_meta
        dirty = " (modified tree)" if m.get("git_dirty") else ""
        return (
            f"stored full-scale result of {m.get('experiment')}: commit "
            f"{str(m.get('git_commit'))[:10]}{dirty}, "
            f"{m.get('device')}, {m.get('created_utc')}, torch {m.get('torch')}, "
            f"{len(m.get('configs', []))} shards"
        )


def load_or_run(name: str, *, scale=None, out_dir=None, device=None, show=True):
    """For a chapter: the stored ``full`` result when present and current, and a fresh
    run of the same code at the current scale.

    The fresh run happens in memory (nothing written). At ``full`` scale a stored
    result that matches the code is reused instead of recomputed.

    Parameters
    ----------
    name : str
        A registered experiment.
    scale : str, optional
        Default :func:`dln.current_scale`.
    out_dir : path, optional
        Where stored results live (default ``results/``).
    device : str, optional
        Device of the fresh run.
    show : bool
        Print the stored result's provenance (wrapped at 88 columns) when there is
        one.

    Returns
    -------
    StoredAndCurrent
    """
    scale = current_scale() if scale is None else scale
    stored = load_result(name, "full", out_dir)
    if scale == "full" and stored is not None:
        current = stored
    else:
        current = run_experiment(name, scale, save=False, device=device)
    out = StoredAndCurrent(
        current=current[0],
        current_meta=current[1],
        stored=None if stored is None else stored[0],
        stored_meta=None if stored is None else stored[1],
    )
    if show and stored is not None:
        print(textwrap.fill(out.describe_stored(), 88))
    return out


def main(argv=None) -> int:
    """The command line; returns the exit status (2 for an unknown experiment)."""
    parser = argparse.ArgumentParser(
        prog="python -m dln.experiments",
        description="Run a registered experiment, shard by shard, with provenance.",
    )
    parser.add_argument("name", nargs="?", help="experiment to run (omit to list them)")
    parser.add_argument("--scale", choices=SCALES, default=None)
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ...")
    parser.add_argument(
        "--out", default=None, help="results folder (default: results/ in the repo)"
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="local Dask cluster of N processes"
    )
    parser.add_argument("--scheduler", default=None, help="address of a Dask cluster")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads in this process"
    )
    parser.add_argument(
        "--force", action="store_true", help="run every shard even if stored"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.name is None:
        for n in registered_experiments():
            print(f"{n:20s} {_REGISTRY[n].description}")
        return 0
    if args.name not in registered_experiments():
        print(
            f"unknown experiment {args.name!r}; registered: "
            f"{', '.join(registered_experiments()) or '(none)'}",
            file=sys.stderr,
        )
        return 2
    if args.threads is not None:
        import torch

        torch.set_num_threads(max(1, args.threads))
    try:
        _, meta = run_experiment(
            args.name,
            args.scale,
            args.out,
            args.force,
            device=args.device,
            workers=args.workers,
            scheduler=args.scheduler,
            progress=not args.no_progress,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    keys = ("experiment", "scale", "git_commit", "device", "wall_time_s", "shards_run")
    print(json.dumps({k: meta.get(k) for k in keys}, indent=2))
    return 0


if __name__ == "__main__":
    # run as ``python -m dln.experiments``: use the package's module (one registry)
    from dln.experiments import main as _main

    sys.exit(_main())

"""Data without downloads: synthetic tasks, scikit-learn's bundled digits, and CIFAR-10
from a local folder.

* :func:`gaussian_task` -- ``x ~ N(0, I_d)`` and ``y = v . g(x)`` with ``g`` the
  identity or ``tanh`` (Ziyin et al. 2022, Figures 2 and 3), ``v`` scaled so that the
  population signal ``||E[xy]||`` has a chosen value.
* :func:`sine_task` -- ``x`` uniform in a box, ``y = sum_k A sin(w x_k + phi)`` (Zhou et
  al. 2022, Section 4.3: ``3.5 sin(5 x_k + 1)`` on ``[-4, 2]^5``).
* :func:`digits` -- the 8x8 handwritten digits that ship with scikit-learn (1797
  images; no network access), split into training and test sets.
* :func:`load_cifar10` -- CIFAR-10 in its standard "python version" format (the folder
  ``cifar-10-batches-py`` with ``data_batch_1`` ... ``data_batch_5`` and
  ``test_batch``), read from ``path`` or from the folder named by the environment
  variable ``DLN_DATA``. It is never downloaded; :func:`write_cifar10_standin` writes a
  tiny synthetic stand-in in the same format for tests.
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._validation import finite_array, finite_scalar, positive_int, positive_scalar

__all__ = [
    "SyntheticTask",
    "Split",
    "gaussian_task",
    "sine_task",
    "digits",
    "load_cifar10",
    "write_cifar10_standin",
    "CIFAR10_CLASSES",
    "DATA_ENV",
]

#: The environment variable naming the folder that holds local data sets.
DATA_ENV = "DLN_DATA"
#: CIFAR-10's class names, in label order.
CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
_CIFAR_DIR = "cifar-10-batches-py"
_TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
_TEST_FILE = "test_batch"

# E[x tanh(x)] for x ~ N(0, 1), equal to E[sech^2 x] by Stein's lemma; computed once
# by Gauss-Hermite quadrature (exact to machine precision at 80 nodes).
_nodes, _weights = np.polynomial.hermite_e.hermegauss(80)
E_X_TANH_X = float((_weights * _nodes * np.tanh(_nodes)).sum() / _weights.sum())
del _nodes, _weights


@dataclass(frozen=True)
class SyntheticTask:
    """A sampled regression task.

    Attributes
    ----------
    X : ndarray, shape (n, d)
    y : ndarray, shape (n,)
    v : ndarray, shape (d,)
        The teacher vector of ``y = v . g(x)`` (``None`` for tasks without one).
    signal : float
        The population value of ``||E[xy]||`` (``nan`` when not known in closed form).
    """

    X: np.ndarray
    y: np.ndarray
    v: np.ndarray | None
    signal: float

    @property
    def sample_signal(self) -> float:
        """``||(1/n) sum_i x_i y_i||`` on the sample."""
        return float(np.linalg.norm(self.X.T @ self.y / len(self.y)))


@dataclass(frozen=True)
class Split:
    """Training and test data (``X`` float64, ``y`` integer labels or targets)."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def gaussian_task(n, dim, signal, *, target="linear", seed=0, direction=None):
    """``x ~ N(0, I_d)``, ``y = v . g(x)`` with ``||E[xy]|| = signal``.

    Parameters
    ----------
    n, dim : int
        Sample size and input dimension.
    signal : float
        The population ``||E[xy]||`` (the control parameter of Ziyin et al. 2022,
        Figure 3). For ``g = id``, ``E[xy] = v``; for ``g = tanh``,
        ``E[xy] = E[x tanh x] v`` with ``E[x tanh x] = E[sech^2 x] ~ 0.6057``
        (Stein's lemma), so ``||v|| = signal / 0.6057``.
    target : {"linear", "tanh"}
        ``g``.
    seed : int
        Seeds the inputs and, unless ``direction`` is given, the direction of ``v``.
    direction : array, optional
        Direction of ``v`` (normalised here); default a random unit vector.

    Returns
    -------
    SyntheticTask
    """
    n = positive_int(n, "n")
    dim = positive_int(dim, "dim")
    signal = positive_scalar(signal, "signal", allow_zero=True)
    if target not in ("linear", "tanh"):
        raise ValueError(f"target must be 'linear' or 'tanh'; got {target!r}")
    rng = np.random.default_rng(seed)
    if direction is None:
        u = rng.standard_normal(dim)
    else:
        u = finite_array(direction, "direction", ndim=1)
        if u.shape != (dim,):
            raise ValueError(f"direction must have length {dim}; got {u.shape[0]}")
    if not np.linalg.norm(u) > 0:
        raise ValueError("direction must be a non-zero vector")
    u = u / np.linalg.norm(u)
    X = rng.standard_normal((n, dim))
    if target == "linear":
        v = signal * u
        y = X @ v
    else:
        v = signal / E_X_TANH_X * u
        y = np.tanh(X) @ v
    return SyntheticTask(X, y, v, signal)


def sine_task(
    n,
    dim,
    *,
    amplitude=3.5,
    frequency=5.0,
    phase=1.0,
    low=-4.0,
    high=2.0,
    seed=0,
):
    """``x`` uniform in ``[low, high]^d``, ``y = sum_k amplitude sin(frequency x_k +
    phase)``.

    The defaults are the five-dimensional task of Zhou et al. 2022 (Figure 3, with
    ``n = 80, dim = 5``); their Figure 4 uses ``amplitude=4, frequency=12`` in three
    dimensions.

    Returns
    -------
    SyntheticTask
        With ``v = None`` and ``signal = nan``.
    """
    n = positive_int(n, "n")
    dim = positive_int(dim, "dim")
    amplitude, frequency, phase, low, high = (
        finite_scalar(v, name)
        for v, name in (
            (amplitude, "amplitude"),
            (frequency, "frequency"),
            (phase, "phase"),
            (low, "low"),
            (high, "high"),
        )
    )
    if not low < high:
        raise ValueError(f"low must be below high; got [{low}, {high}]")
    rng = np.random.default_rng(seed)
    X = rng.uniform(low, high, size=(n, dim))
    y = (amplitude * np.sin(frequency * X + phase)).sum(axis=1)
    return SyntheticTask(X, y, None, float("nan"))


def _split(X, y, test_fraction, seed):
    test_fraction = positive_scalar(test_fraction, "test_fraction")
    if not test_fraction < 1:
        raise ValueError(f"test_fraction must lie in (0, 1); got {test_fraction}")
    perm = np.random.default_rng(seed).permutation(len(y))
    n_test = max(1, int(round(test_fraction * len(y))))
    test, train = perm[:n_test], perm[n_test:]
    return Split(X[train], y[train], X[test], y[test])


def digits(*, test_fraction=0.25, seed=0, images=False):
    """scikit-learn's bundled 8x8 digits (1797 images, 10 classes), split at random.

    Parameters
    ----------
    test_fraction : float
        Share of the images held out for testing.
    seed : int
        Seeds the split.
    images : bool
        ``False``: ``X`` of shape ``(n, 64)``; ``True``: ``(n, 1, 8, 8)`` for a CNN.

    Returns
    -------
    Split
        Pixel values scaled to ``[0, 1]``; labels ``int64``.
    """
    from sklearn.datasets import load_digits

    raw = load_digits()
    X = raw.data.astype(np.float64) / 16.0
    if images:
        X = X.reshape(-1, 1, 8, 8)
    return _split(X, raw.target.astype(np.int64), test_fraction, seed)


def _cifar_folder(path) -> Path:
    if path is None:
        path = os.environ.get(DATA_ENV)
        if not path:
            raise ValueError(
                "CIFAR-10 is read from a local folder, never downloaded: pass path= "
                f"or set {DATA_ENV} to a folder holding '{_CIFAR_DIR}' (the 'CIFAR-10 "
                "python version' from https://www.cs.toronto.edu/~kriz/cifar.html)"
            )
    folder = Path(path).expanduser()
    if (folder / _CIFAR_DIR).is_dir():
        folder = folder / _CIFAR_DIR
    if not folder.is_dir():
        raise ValueError(f"no CIFAR-10 folder at {folder}")
    missing = [f for f in _TRAIN_FILES + (_TEST_FILE,) if not (folder / f).is_file()]
    if missing:
        raise ValueError(
            f"{folder} is not a CIFAR-10 python folder: missing {', '.join(missing)}"
        )
    return folder


def _read_batch(file: Path):
    try:
        with open(file, "rb") as f:
            batch = pickle.load(f, encoding="bytes")
    except Exception as exc:  # noqa: BLE001 - any unreadable file is malformed
        raise ValueError(f"{file} is not a readable CIFAR-10 batch: {exc}") from exc
    if not isinstance(batch, dict):
        raise ValueError(f"{file} is not a CIFAR-10 batch (not a dict)")
    data = batch.get(b"data", batch.get("data"))
    labels = batch.get(b"labels", batch.get("labels"))
    if data is None or labels is None:
        raise ValueError(f"{file} lacks 'data' or 'labels'")
    data = np.asarray(data)
    labels = np.asarray(labels)
    if (
        data.dtype != np.uint8
        or data.ndim != 2
        or data.shape[1] != 3072
        or labels.shape != (data.shape[0],)
        or not np.issubdtype(labels.dtype, np.integer)
        or (labels.size and (labels.min() < 0 or labels.max() > 9))
    ):
        raise ValueError(
            f"{file} is malformed: expected uint8 data of shape (n, 3072) and n "
            f"labels in 0..9; got {data.dtype} {data.shape} and labels "
            f"{labels.shape}"
        )
    return data.reshape(-1, 3, 32, 32), labels.astype(np.int64)


# channel means and standard deviations of the CIFAR-10 training set
_CIFAR_MEAN = np.array([0.4914, 0.4822, 0.4465])
_CIFAR_STD = np.array([0.2470, 0.2435, 0.2616])


def load_cifar10(path=None, *, limit=None, normalize=True, dtype=np.float32):
    """CIFAR-10 from a local folder in the standard python-pickle format.

    Parameters
    ----------
    path : str or Path, optional
        The folder ``cifar-10-batches-py`` or its parent; default the folder named by
        ``DLN_DATA``. Nothing is downloaded.
    limit : int, optional
        Keep only the first ``limit`` training and test images.
    normalize : bool
        Scale to ``[0, 1]`` and standardise each channel with the training set's
        usual means and standard deviations; otherwise return ``uint8`` pixels.
    dtype : numpy dtype
        Of the normalised images.

    Returns
    -------
    Split
        Images ``(n, 3, 32, 32)`` and labels ``int64``.

    Raises
    ------
    ValueError
        If no folder is given, it does not exist, or a file is missing or malformed.
    """
    folder = _cifar_folder(path)
    if limit is not None:
        limit = positive_int(limit, "limit")
    parts = [_read_batch(folder / f) for f in _TRAIN_FILES]
    X_train = np.concatenate([p[0] for p in parts])
    y_train = np.concatenate([p[1] for p in parts])
    X_test, y_test = _read_batch(folder / _TEST_FILE)
    if limit is not None:
        X_train, y_train = X_train[:limit], y_train[:limit]
        X_test, y_test = X_test[:limit], y_test[:limit]
    if normalize:
        mean = _CIFAR_MEAN.reshape(1, 3, 1, 1)
        std = _CIFAR_STD.reshape(1, 3, 1, 1)
        X_train = ((X_train / 255.0 - mean) / std).astype(dtype)
        X_test = ((X_test / 255.0 - mean) / std).astype(dtype)
    return Split(X_train, y_train, X_test, y_test)


def write_cifar10_standin(path, *, n_train=50, n_test=20, seed=0) -> Path:
    """Write a tiny synthetic data set in CIFAR-10's python format (for tests).

    Each class has its own mean colour plus noise, so a model can learn it. Writes
    ``path/cifar-10-batches-py/{data_batch_1..5, test_batch, batches.meta}`` and
    returns ``path``; ``n_train`` images are spread over the five training batches.
    """
    n_train = positive_int(n_train, "n_train")
    n_test = positive_int(n_test, "n_test")
    if n_train < 5:
        raise ValueError(f"n_train must be at least 5 (one per batch); got {n_train}")
    rng = np.random.default_rng(seed)
    colours = rng.uniform(40, 215, size=(10, 3))
    folder = Path(path) / _CIFAR_DIR
    folder.mkdir(parents=True, exist_ok=True)

    def batch(n, name):
        labels = rng.integers(0, 10, size=n)
        pixels = colours[labels][:, :, None] + rng.normal(0, 25, size=(n, 3, 1024))
        data = np.clip(pixels, 0, 255).astype(np.uint8).reshape(n, 3072)
        return {
            b"batch_label": name.encode(),
            b"labels": [int(v) for v in labels],
            b"data": data,
            b"filenames": [f"img{i}.png".encode() for i in range(n)],
        }

    sizes = np.full(5, n_train // 5)
    sizes[: n_train % 5] += 1
    for i, (fname, size) in enumerate(zip(_TRAIN_FILES, sizes)):
        with open(folder / fname, "wb") as f:
            pickle.dump(batch(int(size), f"training batch {i + 1} of 5"), f)
    with open(folder / _TEST_FILE, "wb") as f:
        pickle.dump(batch(n_test, "testing batch 1 of 1"), f)
    with open(folder / "batches.meta", "wb") as f:
        meta = {
            b"label_names": [c.encode() for c in CIFAR10_CLASSES],
            b"num_cases_per_batch": int(sizes.max()),
            b"num_vis": 3072,
        }
        pickle.dump(meta, f)
    return Path(path)

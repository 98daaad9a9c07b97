import pickle

import numpy as np
import pytest

import dln
from dln import data


def test_gaussian_task_has_the_requested_signal():
    # population E[xy] = v (linear) or E[x tanh x] v (tanh); the sample estimate has
    # standard error about sqrt(E[x^2 y^2] / n) per coordinate, so with n = 2e5 and
    # signal 2 a tolerance of 2% of the signal is many standard errors wide
    for target in ("linear", "tanh"):
        task = data.gaussian_task(200_000, 4, 2.0, target=target, seed=1)
        assert task.signal == 2.0 and task.X.shape == (200_000, 4)
        assert task.sample_signal == pytest.approx(2.0, rel=0.02)
    # E[x tanh x] by Monte Carlo, against the quadrature constant
    x = np.random.default_rng(0).standard_normal(1_000_000)
    assert np.mean(x * np.tanh(x)) == pytest.approx(data.E_X_TANH_X, abs=3e-3)
    same = data.gaussian_task(10, 3, 1.0, seed=4)
    again = data.gaussian_task(10, 3, 1.0, seed=4)
    np.testing.assert_array_equal(same.y, again.y)
    d = data.gaussian_task(10, 2, 3.0, direction=[0.0, 2.0])
    np.testing.assert_allclose(d.v, [0.0, 3.0])


def test_sine_task_is_the_papers_target():
    task = data.sine_task(80, 5, seed=0)
    assert task.X.min() >= -4 and task.X.max() <= 2
    np.testing.assert_allclose(task.y, (3.5 * np.sin(5 * task.X + 1)).sum(1))


def test_digits_split():
    split = data.digits(test_fraction=0.25, seed=0)
    assert split.X_train.shape[1] == 64
    assert len(split.y_train) + len(split.y_test) == 1797
    assert 0 <= split.X_train.min() and split.X_train.max() <= 1
    images = data.digits(images=True, seed=0)
    np.testing.assert_array_equal(images.X_test.reshape(-1, 64), split.X_test)


def test_cifar10_standin_round_trip(tmp_path):
    data.write_cifar10_standin(tmp_path, n_train=23, n_test=7, seed=3)
    split = data.load_cifar10(tmp_path, normalize=False)
    assert split.X_train.shape == (23, 3, 32, 32) and split.X_train.dtype == np.uint8
    assert split.X_test.shape == (7, 3, 32, 32)
    assert set(np.unique(split.y_train)) <= set(range(10))
    # the folder itself, or its parent, or DLN_DATA
    inner = data.load_cifar10(tmp_path / "cifar-10-batches-py", limit=5)
    assert inner.X_train.shape == (5, 3, 32, 32) and inner.X_train.dtype == np.float32


def test_cifar10_errors(tmp_path, monkeypatch):
    monkeypatch.delenv(data.DATA_ENV, raising=False)
    with pytest.raises(ValueError, match="never downloaded"):
        data.load_cifar10()
    monkeypatch.setenv(data.DATA_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(ValueError, match="no CIFAR-10 folder"):
        data.load_cifar10()
    data.write_cifar10_standin(tmp_path, n_train=10, n_test=5)
    folder = tmp_path / "cifar-10-batches-py"
    monkeypatch.setenv(data.DATA_ENV, str(tmp_path))
    assert data.load_cifar10().X_train.shape[0] == 10
    (folder / "data_batch_3").unlink()
    with pytest.raises(ValueError, match="missing data_batch_3"):
        data.load_cifar10()
    (folder / "data_batch_3").write_bytes(b"not a pickle")
    with pytest.raises(ValueError, match="not a readable CIFAR-10 batch"):
        data.load_cifar10()
    with open(folder / "data_batch_3", "wb") as f:
        pickle.dump({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}, f)
    with pytest.raises(ValueError, match="malformed"):
        data.load_cifar10()


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: data.gaussian_task(0, 3, 1.0), "n"),
        (lambda: data.gaussian_task(10, 3, -1.0), "signal"),
        (lambda: data.gaussian_task(10, 3, 1.0, target="cubic"), "target"),
        (lambda: data.gaussian_task(10, 3, 1.0, direction=[0, 0, 0]), "non-zero"),
        (lambda: data.sine_task(10, 2, low=2, high=1), "low"),
        (lambda: data.digits(test_fraction=1.0), "test_fraction"),
        (lambda: data.write_cifar10_standin("/tmp", n_train=3), "n_train"),
    ],
)
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_exported():
    assert dln.gaussian_task is data.gaussian_task


def test_import_dln_stays_light():
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import sys, dln, dln.experiments, dln.workloads; "
        "print(sorted(m for m in ('torch', 'sklearn', 'matplotlib', 'dask', "
        "'distributed', 'tqdm') if m in sys.modules))"
    )
    env = {"PYTHONPATH": str(Path(dln.__file__).parents[1]), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"

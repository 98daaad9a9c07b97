"""The registered workloads at ci scale: shapes, provenance-free in-memory runs, and
what must hold whatever the chapters later conclude."""

import numpy as np
import pytest

from dln import experiments, workloads


@pytest.fixture(scope="module")
def init_trap():
    return experiments.run_experiment("init-trap", "ci", save=False)[0]


@pytest.fixture(scope="module")
def condense():
    return experiments.run_experiment("condense-5-50-1", "ci", save=False)[0]


def test_init_trap_layout_and_sanity(init_trap):
    a = init_trap
    configs = workloads.init_trap_shards("ci")
    n_act, n_wd = len(a["activations"]), len(a["weight_decays"])
    n_sig, n_seed = len(a["signals"]), configs[0]["seeds"]
    assert list(a["activations"]) == ["relu", "tanh"]
    assert a["loss"].shape == (n_act, n_wd, len(a["steps"]), n_sig, n_seed)
    assert a["steps"][0] == 0 and a["steps"][-1] == configs[0]["steps"]
    for key in ("objective", "param_norm2", "ridge_loss", "mean_y2"):
        assert a[key].shape == (n_act, n_wd, n_sig, n_seed)
        assert np.all(np.isfinite(a[key]))
    # ridge regression never does worse than the zero predictor (it can choose 0)
    assert np.all(a["ridge_loss"] <= a["mean_y2"] * (1 + 1e-12))
    # at the strongest signal and weakest decay every network learns the task
    final = a["loss"][:, 0, -1, -1] / a["mean_y2"][:, 0, -1]
    assert np.all(final < 0.1)
    # the objective includes the decay term: it exceeds the data loss
    assert np.all(a["objective"] >= a["loss"][:, :, -1])


def test_init_trap_shard_is_reproducible_alone(init_trap):
    config = workloads.init_trap_shards("ci")[1]  # tanh
    alone = workloads.run_init_trap_shard(config)
    np.testing.assert_array_equal(alone["loss"], init_trap["loss"][1])


def test_ridge_loss_matches_least_squares():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 3))
    y = X @ [1.0, -2.0, 0.5] + 0.3
    # without decay ridge is least squares with an intercept: the residual is zero
    assert workloads.ridge_loss(X, y, 0.0) == pytest.approx(0.0, abs=1e-20)
    assert workloads.ridge_loss(X, y, 10.0) > workloads.ridge_loss(X, y, 0.1)


def test_condense_layout_and_small_initialisation(condense):
    c = condense
    configs = workloads.condense_shards("ci")
    n_seed = configs[0]["seeds"]
    acts = [a for a, _ in workloads.CONDENSE_ACTIVATIONS]
    assert list(c["activations"]) == acts
    epochs = c["epochs"]
    assert list(epochs) == configs[0]["record_epochs"]
    assert c["input_weights"].shape == (len(acts), len(epochs), n_seed, 50, 6)
    assert c["loss"].shape == (len(acts), configs[0]["steps"] + 1, n_seed)
    # epoch 0: every parameter drawn from N(0, 0.005^2); 4 x 50 x 6 x 5 = 6000
    # draws give a relative standard error of 1/sqrt(2 * 6000) ~ 1%, so 5%
    w0 = c["input_weights"][:, 0]
    assert w0.std() == pytest.approx(0.005, rel=0.05)
    # Adam moves the weights away from the initialisation and lowers the loss
    assert np.all(np.abs(c["input_weights"][:, -1]).mean(axis=(-1, -2)) > 0.005)
    assert np.all(c["loss"][:, -1] < c["loss"][:, 0])
    np.testing.assert_allclose(
        c["lrs"], [lr for _, lr in workloads.CONDENSE_ACTIVATIONS]
    )

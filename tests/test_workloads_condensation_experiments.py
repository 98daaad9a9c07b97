"""The workloads of the chapter "Condensation in experiments" at ci scale: shapes, seeds
that reproduce, and what must hold whatever the chapter later concludes."""

import math

import numpy as np
import pytest

from dln import experiments, workloads
from dln.workloads import condensation_experiments as cx


@pytest.fixture(scope="module")
def gd():
    return experiments.run_experiment("condexp-gd", "ci", save=False)[0]


@pytest.fixture(scope="module")
def init_scale():
    return experiments.run_experiment("condexp-init-scale", "ci", save=False)[0]


@pytest.fixture(scope="module")
def resnet6():
    return experiments.run_experiment("condexp-resnet6", "ci", save=False)[0]


@pytest.fixture(scope="module")
def cifar():
    return experiments.run_experiment("condexp-cifar10", "ci", save=False)[0]


def test_stage_snapshot_rule():
    loss = np.array([[4.0, 4.0, 4.0], [3.0, 2.0, np.nan], [2.9, 3.5, 1.0]])
    # stays above 70% (2.8) in column 0; leaves at record 1 in column 1; column 2
    # diverges after record 0 (a nan is outside the stage, as is all that follows)
    np.testing.assert_array_equal(workloads.stage_snapshot(loss), [2, 0, 0])
    np.testing.assert_array_equal(workloads.stage_snapshot(loss, 0.4), [2, 2, 0])
    with pytest.raises(ValueError, match="shape"):
        workloads.stage_snapshot(np.ones(3))
    with pytest.raises(ValueError, match="fraction"):
        workloads.stage_snapshot(loss, 1.0)


def test_gd_layout_and_reproducible_alone(gd):
    configs = workloads.gd_shards("ci")
    n_seed = configs[0]["seeds"]
    assert list(gd["activations"]) == [a for a, _ in workloads.CONDENSE_ACTIVATIONS]
    assert gd["input_weights"].shape == (5, len(gd["keep_epochs"]), n_seed, 50, 6)
    assert gd["stage_weights"].shape == (5, n_seed, 50, 6)
    assert gd["loss"].shape == (5, len(gd["record_epochs"]), n_seed)
    # epoch 0: N(0, 0.005^2); 5 x 3 x 300 = 4500 draws, relative s.e. ~1.1%: 5%
    assert gd["input_weights"][:, 0].std() == pytest.approx(0.005, rel=0.05)
    # gradient descent lowers the loss of every network
    assert np.all(gd["loss"][:, -1] < gd["loss"][:, 0])
    # the first two seeds trained alone follow the same trajectories
    alone = workloads.run_gd_shard(dict(configs[0], seeds=2))
    np.testing.assert_allclose(alone["loss"], gd["loss"][0, :, :2], rtol=1e-4)


def test_init_scale_stds_and_fading(init_scale):
    a = init_scale
    assert workloads.init_scale_stds(0.0) == pytest.approx([0.005, 0.005])
    assert workloads.init_scale_stds(1.0) == pytest.approx(
        [math.sqrt(2 / 5), math.sqrt(2 / 50)]
    )
    with pytest.raises(ValueError):
        workloads.init_scale_stds(1.5)
    n_t, n_lr, n_seed = len(a["ts"]), len(a["lr_factors"]), 3
    assert a["stage_weights"].shape == (3, n_t, n_lr, n_seed, 50, 6)
    assert a["stage_epoch"].shape == (3, n_t, n_lr, n_seed)
    # from the Kaiming scale every network leaves the initial stage sooner than from
    # the paper's small one (the escape from the origin is what takes time)
    assert np.all(a["stage_epoch"][:, -1] < a["stage_epoch"][:, 0])


def test_resnet6_layers(resnet6):
    r = resnet6
    n_seed = workloads.resnet6_shards("ci")[0]["seeds"]
    assert list(r["residual"]) == [True, False]
    assert list(r["activations"]) == list(workloads.RESNET6_ACTIVATIONS)
    assert r["input_weights1"].shape[-2:] == (18, 4)  # d = 3 plus the bias
    for layer in range(2, 6):
        assert r[f"stage_weights{layer}"].shape == (2, n_seed, 18, 19)
        # both shards start from the same weights (seed per network)
        np.testing.assert_array_equal(
            r[f"input_weights{layer}"][0, 0], r[f"input_weights{layer}"][1, 0]
        )
    assert np.all(r["loss"][0, -1] < r["loss"][0, 0])


def test_cifar_standin_pipeline(cifar, monkeypatch):
    c = cifar
    assert str(c["data"]) == "standin"
    width = workloads.cifar_shards("ci")[0]["classifier"][0]
    assert c["fc_weights0"].shape[-2] == width
    # N(0, 1/m^3) with m the layer's width: 4 x 32 x 33 draws, s.e. ~1.1%: 10%
    assert c["fc_weights0"].std() == pytest.approx(width**-1.5, rel=0.1)
    assert np.all(np.isfinite(c["train_loss"]))
    full = workloads.cifar_shards("full")
    assert {f["data"] for f in full} == {"cifar10"}
    assert all(f["classifier"] == [1024, 1024] for f in full)
    monkeypatch.delenv("DLN_DATA", raising=False)
    with pytest.raises(ValueError, match="never downloaded"):
        cx.run_cifar_shard(full[0])

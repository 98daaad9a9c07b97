"""The collapse workloads at ci scale: layout, reproducibility, the qualitative claim on
every seed, the summaries of the trivial predictor, and the stored-result path of
``collapse-cifar`` (with a fake stored file: no CIFAR-10 exists on these machines)."""

import numpy as np
import pytest

from dln import experiments, workloads
from dln.workloads import collapse


@pytest.fixture(scope="module")
def digits_ci():
    return experiments.run_experiment("collapse-digits", "ci", save=False)[0]


def test_digits_layout(digits_ci):
    a = digits_ci
    configs = workloads.collapse_digits_shards("ci")
    shape = (len(configs), len(a["weight_decays"]), configs[0]["seeds"])
    for key in ("test_accuracy", "train_loss", "output_spread", "entropy"):
        assert a[key].shape == shape
        assert np.all(np.isfinite(a[key]))
    assert list(a["models"]) == [c["model"] for c in configs]
    assert set(a["losses"]) == set(workloads.COLLAPSE_LOSSES)
    cnn = [i for i, c in enumerate(configs) if c["model"] == "cnn"]
    assert a[f"accuracy_curve_{cnn[0]}"].shape == shape[1:] + (configs[0]["epochs"],)


def test_deep_collapse_where_linear_learns(digits_ci):
    """At the largest decay of the ci sweep every deep network of every seed and both
    losses has a (nearly) constant output and no better than chance accuracy, while
    the linear model still learns; at the smallest every network learns."""
    a = digits_ci
    last, first = -1, 0
    deep = np.array([m != "linear" for m in a["models"]])
    # constant output: spread below 1e-6 of the one-hot targets' spread (0.9)
    assert np.all(a["output_spread"][deep, last] < 1e-6)
    # chance is 0.1; the ci run stops before the outputs have shrunk to rounding,
    # and the argmax of the residue can be anything up to chance
    assert np.all(a["test_accuracy"][deep, last] < 0.15)
    assert np.all(a["test_accuracy"][~deep, last] > 0.7)
    assert np.all(a["test_accuracy"][:, first] > 0.6)


def test_shard_reproduces_alone(digits_ci):
    configs = workloads.collapse_digits_shards("ci")
    i = [c["model"] for c in configs].index("deeplinear2")
    alone = workloads.run_collapse_digits_shard(configs[i])
    np.testing.assert_allclose(alone["test_accuracy"], digits_ci["test_accuracy"][i])
    np.testing.assert_allclose(
        alone["output_spread"], digits_ci["output_spread"][i], rtol=1e-5, atol=1e-12
    )


def test_output_summary_of_constant_and_perfect_predictors():
    labels = np.array([0, 1, 2, 1])
    const = np.zeros((1, 4, 3)) + 1e-30  # the trivial predictor's rounding residue
    const[0, :, 2] += 1e-31
    perfect = np.eye(3)[labels][None] * 5
    s = workloads.output_summary(np.concatenate([const, perfect]), labels)
    np.testing.assert_allclose(s["test_accuracy"], [1 / 3, 1.0])  # ties: chance
    assert s["output_spread"][0] == 0.0 and s["output_spread"][1] > 1
    np.testing.assert_allclose(s["entropy"][0], np.log(3))
    assert s["majority_share"][0] == 1.0
    with pytest.raises(ValueError, match="shape"):
        workloads.output_summary(np.zeros((4, 3)), labels)


def test_collapse_point():
    g = np.array([0.01, 0.1, 1.0])
    c = np.array([[False, False, True], [True, False, True], [True, False, False]])
    # seed 0: collapsed from 0.1 on; seed 1: never for good; seed 2: only at 0.01
    np.testing.assert_array_equal(workloads.collapse_point(g, c), [0.1, np.inf, np.inf])
    with pytest.raises(ValueError, match="increasing"):
        workloads.collapse_point(g[::-1], c)


def test_cifar_pipeline_on_standin():
    a, meta = experiments.run_experiment("collapse-cifar", "ci", save=False)
    assert list(a["models"]) == ["linear", "resnet18"]
    assert a["test_accuracy"].shape == (2, 2, 1)
    assert meta["configs"][0]["data"] == "standin"


def test_cifar_full_needs_the_data(monkeypatch, tmp_path):
    config = workloads.collapse_cifar_shards("full")[0]
    monkeypatch.delenv("DLN_DATA", raising=False)
    with pytest.raises(ValueError, match="never downloaded"):
        workloads.run_collapse_cifar_shard(config)


def test_stored_cifar_result_is_shown(tmp_path):
    """A stored full result whose configs match the code is found and summarised;
    one with other configs is not."""
    exp = experiments.get_experiment("collapse-cifar")
    configs = exp.configs("full")
    g = np.array(configs[0]["weight_decays"])
    resnet = np.repeat(np.linspace(0.9, 0.1, g.size)[:, None], 2, axis=1)
    acc = np.stack([np.full((g.size, 2), 0.4), resnet])
    arrays = {
        "test_accuracy": acc,
        "output_spread": np.ones((2, g.size, 2)),
        "models": np.array(["linear", "resnet18"]),
        "losses": np.array(["cross_entropy"] * 2),
        "weight_decays": g,
    }
    meta = experiments.provenance("full")
    meta.update(
        experiment="collapse-cifar",
        configs=configs,
        config_hashes=[experiments.config_hash(exp, c) for c in configs],
    )
    experiments.save_results(tmp_path / "collapse-cifar-full.npz", arrays, meta)
    stored = experiments.load_result("collapse-cifar", "full", tmp_path)
    assert stored is not None
    table = collapse.cifar_table(stored[0])
    assert "ResNet-18" in table and "0.9" in table
    meta["config_hashes"] = ["0" * 16] * len(configs)
    experiments.save_results(tmp_path / "collapse-cifar-full.npz", arrays, meta)
    assert experiments.load_result("collapse-cifar", "full", tmp_path) is None


def test_train_classifier_mse_and_outputs():
    import dln

    rng = np.random.default_rng(0)
    X = rng.standard_normal((12, 1, 4, 4))
    y = rng.integers(0, 3, 12)
    res = dln.train_classifier(
        lambda k: dln.residual_cnn(3, width=2, blocks=1, n_models=k),
        X,
        y,
        seeds=[(0,), (1,)],
        epochs=1,
        lr=1e-300,  # no visible step: the outputs stay the initial ones
        loss="mse",
        batch_size=12,
        X_test=X,
        y_test=y,
    )
    # the test loss is the squared error of the outputs it returns
    onehot = np.eye(3)[y]
    mse = ((res.test_outputs - onehot) ** 2).sum(-1).mean(-1)
    np.testing.assert_allclose(res.test_loss[:, 0], mse, rtol=1e-10)
    assert res.test_outputs.shape == (2, 12, 3)
    with pytest.raises(ValueError, match="loss"):
        dln.train_classifier(
            lambda k: dln.residual_cnn(3, width=2, n_models=k),
            X,
            y,
            seeds=[0],
            epochs=1,
            lr=0.1,
            loss="hinge",
        )


def test_digits_regression_rejects_a_foreign_config():
    with pytest.raises(ValueError, match="collapse-digits shard config"):
        collapse.digits_regression({"n": 80})

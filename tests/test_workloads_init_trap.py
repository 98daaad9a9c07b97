"""The ``init-trap`` workload at ci scale: the qualitative effect the chapter
``book/implications`` builds on (weak signals under strong weight decay end at the zero
predictor; ridge regression with the same decay does not)."""

import numpy as np
import pytest

from dln import experiments, workloads


@pytest.fixture(scope="module")
def trap():
    return experiments.run_experiment("init-trap", "ci", save=False)[0]


def test_weak_signal_strong_decay_is_trapped_and_ridge_is_not(trap):
    a = trap
    g = list(a["weight_decays"]).index(0.1)
    # every network (both activations, every seed) at the weakest signal: the
    # parameters have decayed to ~0 (Kaiming starts at ||theta||^2 ~ 130) and the
    # training loss is that of a constant predictor, within 1% of E[y^2]
    norm2 = a["param_norm2"][:, g, 0]
    rel = a["loss"][:, g, -1, 0] / a["mean_y2"][:, g, 0]
    assert np.all(norm2 < 1e-3), norm2
    assert np.all(rel > 0.99), rel
    # ridge with the same decay fits the same data: it explains > 95% of E[y^2]
    assert np.all(a["ridge_loss"][:, g, 0] < 0.05 * a["mean_y2"][:, g, 0])
    # and at the strongest signal the networks learn under the same decay
    assert np.all(a["loss"][:, g, -1, -1] < 0.1 * a["mean_y2"][:, g, -1])


def test_default_and_ci_configs_keep_the_full_sweep_shape():
    # the sweep's coordinates at every scale: two activations, decays include 0.1
    for scale in ("ci", "default", "full"):
        configs = workloads.init_trap_shards(scale)
        assert [c["activation"] for c in configs] == ["relu", "tanh"]
        assert 0.1 in configs[0]["weight_decays"]
        assert configs[0]["width"] == 32 and configs[0]["hidden_layers"] == 2

import numpy as np
import pytest

import dln


def test_scale_knob(monkeypatch):
    monkeypatch.setenv("DLN_SCALE", "full")
    assert dln.current_scale() == "full"
    assert dln.by_scale(ci=1, default=2, full=3) == 3
    monkeypatch.delenv("DLN_SCALE")
    assert dln.current_scale() == "default"
    monkeypatch.setenv("DLN_SCALE", "huge")
    with pytest.raises(ValueError, match="DLN_SCALE"):
        dln.current_scale()
    with pytest.raises(ValueError, match="scale"):
        dln.by_scale(1, 2, 3, scale="tiny")


def test_train_exact_reaches_the_solver_and_is_reproducible():
    st = dln.random_stats(3, seed=2, cond=3, signal=1.0)
    kw = dict(depth=1, width=2, gamma=0.05, sigma2=0.5)
    sol = dln.global_minimum(st, **kw)
    runs = [
        dln.train_exact(st, **kw, n_nets=4, steps=40, lr=1.0, optimizer="lbfgs", seed=7)
        for _ in range(2)
    ]
    np.testing.assert_array_equal(runs[0].loss, runs[1].loss)  # same seed, same result
    # depth 1 has no bad local minimum: every start reaches the global minimum loss
    np.testing.assert_allclose(runs[0].loss, sol.loss, rtol=1e-9)
    for k in range(4):
        assert dln.expected_loss(
            runs[0].network(k), st, **{k_: kw[k_] for k_ in ("gamma", "sigma2")}
        ) == pytest.approx(runs[0].loss[k], rel=1e-12)
    assert runs[0].history.shape == (len(runs[0].steps), 4)


def test_train_sampled_runs_and_records_exact_loss():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 2))
    y = X @ np.array([1.0, -0.5])
    res = dln.train_sampled(
        X,
        y,
        depth=1,
        width=3,
        gamma=0.01,
        sigma2=0.5,
        n_nets=3,
        steps=300,
        lr=0.02,
        batch_size=16,
        seed=1,
    )
    assert res.loss.shape == (3,)
    assert np.all(res.history[-1] < res.history[0])  # training lowers the exact loss


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(optimizer="sgd2"), "optimizer"),
        (dict(n_nets=0), "n_nets"),
        (dict(lr=-1.0), "lr"),
        (dict(init=[np.zeros((2, 3, 3)), np.zeros((2, 3))]), "shape"),
    ],
)
def test_train_exact_bad_input(kwargs, message):
    st = dln.random_stats(2, seed=0)
    base = dict(depth=1, width=3, gamma=0.1, sigma2=0.1, n_nets=2, steps=2)
    base.update(kwargs)
    with pytest.raises(ValueError, match=message):
        dln.train_exact(st, **base)


def test_train_exact_label_scale_is_training_on_scaled_labels():
    """Network n with label_scale c_n follows exactly the run on the moments
    (A0, c_n E[xy], c_n^2 E[y^2])."""
    stats = dln.random_stats(3, seed=2, cond=5.0, signal=1.0)
    arch = dict(depth=2, width=2, gamma=0.05, sigma2=0.3)
    c = np.array([0.5, 2.0])
    init = dln.init_weights(2, 3, dln.network_spec(**arch), init_scale=1.0, seed=4)
    both = dln.train_exact(
        stats,
        **arch,
        n_nets=2,
        steps=30,
        lr=0.02,
        init=init,
        label_scale=c,
        device="cpu",
    )
    for n in range(2):
        scaled = dln.DataStats(stats.A0, c[n] * stats.Exy, c[n] ** 2 * stats.Ey2)
        one = dln.train_exact(
            scaled,
            **arch,
            n_nets=1,
            steps=30,
            lr=0.02,
            init=[W[n : n + 1] for W in init],
            device="cpu",
        )
        np.testing.assert_allclose(both.history[:, n], one.history[:, 0], rtol=1e-12)
    with pytest.raises(ValueError, match="label_scale"):
        dln.train_exact(stats, **arch, n_nets=2, steps=1, label_scale=[1.0, -1.0])
    with pytest.raises(ValueError, match="label_scale"):
        dln.train_exact(stats, **arch, n_nets=2, steps=1, label_scale=[1.0])

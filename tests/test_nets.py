"""The batched engine against two independent routes: the same networks trained one at
a time, and a plain ``torch.nn`` model trained with ``torch.optim``."""

import numpy as np
import pytest
import torch

import dln

RNG = np.random.default_rng(0)
X = RNG.standard_normal((24, 3))
Y = np.stack([np.sin(X[:, 0]) + X[:, 1] * X[:, 2], X[:, 0] - X[:, 2]], axis=1)
SEEDS = dln.network_seeds(5, 3)
LRS = np.array([0.05, 0.02, 0.03])
WDS = np.array([0.0, 1e-2, 3e-2])

# (optimizer, batch size, decay form, momentum)
OPTIMISERS = [
    ("gd", None, "loss", 0.0),
    ("sgd", 7, "loss", 0.0),
    ("sgd", 8, "decoupled", 0.9),
    ("adam", None, "loss", 0.0),
    ("adam", 10, "decoupled", 0.0),
]
ARCHS = [
    dict(bias=True, residual=False, activation="tanh"),
    dict(bias=False, residual=False, activation="relu"),
    dict(bias=True, residual=True, activation=["tanh", "x2tanh"]),
    # a user function: trained through autograd instead of the hand-written backward
    dict(bias=True, residual=True, activation=torch.sin),
]
ARCH_IDS = ["bias-tanh", "nobias-relu", "residual", "callable"]


def _lrs(arch, opt):
    """Learning rates small enough that no network diverges."""
    return LRS / (5 if opt == "adam" else 1) / (5 if arch["residual"] else 1)


def _train(spec, seeds, lr, wd, opt, bs, decay, momentum, steps=25, **kw):
    return dln.train_mlp(
        spec,
        X,
        Y,
        seeds=seeds,
        steps=steps,
        lr=lr,
        optimizer=opt,
        batch_size=bs,
        weight_decay=wd,
        decay=decay,
        momentum=momentum,
        record_steps=range(steps + 1),
        record=("loss", "params"),
        **kw,
    )


@pytest.mark.parametrize("arch", ARCHS, ids=ARCH_IDS)
@pytest.mark.parametrize("opt, bs, decay, momentum", OPTIMISERS)
def test_batch_equals_separate_runs(arch, opt, bs, decay, momentum):
    spec = dln.mlp_spec(3, [4, 4], 2, **arch)
    lr = _lrs(arch, opt)
    batch = _train(spec, SEEDS, lr, WDS, opt, bs, decay, momentum)
    for k in range(3):
        alone = _train(spec, [SEEDS[k]], lr[k], WDS[k], opt, bs, decay, momentum)
        np.testing.assert_allclose(
            batch.records["loss"][:, k], alone.records["loss"][:, 0], rtol=1e-12
        )
        np.testing.assert_allclose(
            batch.records["params"][:, k],
            alone.records["params"][:, 0],
            rtol=1e-11,
            atol=1e-13,
        )
    # the networks really differ (different seeds, learning rates, decays)
    assert np.all(np.isfinite(batch.loss)) and np.ptp(batch.loss) > 1e-3


class _Reference(torch.nn.Module):
    """One network as a user writes it: nn.Linear layers, residual added by hand."""

    def __init__(self, spec, params):
        super().__init__()
        self.spec = spec
        self.layers = torch.nn.ModuleList()
        for i, (out, inp) in enumerate(spec.layer_shapes, start=1):
            layer = torch.nn.Linear(inp, out, bias=spec.bias).double()
            with torch.no_grad():
                layer.weight.copy_(torch.as_tensor(params[f"W{i}"]))
                if spec.bias:
                    layer.bias.copy_(torch.as_tensor(params[f"b{i}"]))
            self.layers.append(layer)
        self.acts = [dln.activation_function(a) for a in spec.activations]

    def forward(self, x):
        for layer, act, res in zip(self.layers, self.acts, self.spec.residual_layers):
            x = act(layer(x)) + (x if res else 0)
        return self.layers[-1](x)


def _reference_run(spec, seed, lr, wd, opt, bs, decay, momentum, steps=25):
    params = dln.init_mlp(spec, [seed])
    model = _Reference(spec, {k: v[0] for k, v in params.items()})
    if opt == "adam":
        torch_opt = (torch.optim.AdamW if decay == "decoupled" else torch.optim.Adam)(
            model.parameters(), lr=lr, weight_decay=wd if decay == "decoupled" else 0
        )
    else:
        torch_opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
        if decay == "decoupled":
            assert wd == 0, "torch's SGD has no decoupled decay"
    Xt, Yt = torch.as_tensor(X), torch.as_tensor(Y)
    n = len(X)
    bs = n if bs is None else bs
    # the documented minibatch order: a fresh permutation per epoch drawn from
    # numpy.random.default_rng((1, *seed))
    rng = np.random.default_rng((1,) + seed)
    order = []
    losses = []
    for _ in range(steps):
        if bs < n and not order:
            perm = rng.permutation(n)
            order = [perm[i : i + bs] for i in range(0, n, bs)]
        idx = order.pop(0) if bs < n else np.arange(n)
        with torch.no_grad():
            losses.append(((model(Xt) - Yt) ** 2).sum(1).mean().item())
        torch_opt.zero_grad()
        objective = ((model(Xt[idx]) - Yt[idx]) ** 2).sum(1).mean()
        if decay == "loss":
            objective = objective + wd * sum((p**2).sum() for p in model.parameters())
        objective.backward()
        torch_opt.step()
    with torch.no_grad():
        losses.append(((model(Xt) - Yt) ** 2).sum(1).mean().item())
    return np.array(losses)


@pytest.mark.parametrize("arch", ARCHS, ids=ARCH_IDS)
@pytest.mark.parametrize("opt, bs, decay, momentum", OPTIMISERS)
def test_batch_equals_torch_nn_reference(arch, opt, bs, decay, momentum):
    spec = dln.mlp_spec(3, [4, 4], 2, **arch)
    lr = _lrs(arch, opt)
    wd = WDS if not (decay == "decoupled" and opt != "adam") else np.zeros(3)
    batch = _train(spec, SEEDS, lr, wd, opt, bs, decay, momentum)
    for k in range(3):
        ref = _reference_run(spec, SEEDS[k], lr[k], wd[k], opt, bs, decay, momentum)
        np.testing.assert_allclose(batch.records["loss"][:, k], ref, rtol=1e-10)


def test_decoupled_sgd_shrinks_before_the_step():
    # theta <- (1 - lr gamma) theta - lr grad, checked against the formula by hand
    spec = dln.mlp_spec(3, [], 2, bias=False)
    params = {"W1": np.ones((1, 2, 3))}
    res = dln.train_mlp(
        spec,
        X,
        Y,
        seeds=[0],
        steps=1,
        lr=0.1,
        weight_decay=0.5,
        decay="decoupled",
        params=params,
        record=("params",),
    )
    grad = 2 * ((X @ params["W1"][0].T - Y)[:, :, None] * X[:, None, :]).mean(0)
    expected = (1 - 0.1 * 0.5) * params["W1"][0] - 0.1 * grad
    np.testing.assert_allclose(res.params["W1"][0], expected, rtol=1e-13)


def test_records_and_consistency():
    spec = dln.mlp_spec(3, [6], 2, activation="xtanh")
    res = dln.train_mlp(
        spec,
        X,
        Y,
        seeds=SEEDS,
        steps=10,
        lr=0.01,
        optimizer="adam",
        weight_decay=0.1,
        record_steps=[0, 4, 10],
        record=("loss", "objective", "input_weights1", "W2", "b1"),
        init="normal",
        init_std=0.01,
    )
    assert res.steps.tolist() == [0, 4, 10]
    iw = res.records["input_weights1"]
    assert iw.shape == (3, 3, 6, 4)
    np.testing.assert_array_equal(iw[-1][..., :3], res.params["W1"])
    np.testing.assert_array_equal(iw[-1][..., 3], res.params["b1"])
    np.testing.assert_array_equal(res.records["b1"][-1], res.params["b1"])
    # the recorded loss is the loss of the recorded parameters (consistency)
    out = dln.mlp_forward(spec, res.params, X)
    np.testing.assert_allclose(res.loss, ((out - Y) ** 2).sum(-1).mean(-1), rtol=1e-12)
    penalty = 0.1 * sum((v**2).reshape(3, -1).sum(1) for v in res.params.values())
    np.testing.assert_allclose(
        res.records["objective"][-1], res.loss + penalty, rtol=1e-12
    )
    np.testing.assert_array_equal(res.network(1)["W2"], res.params["W2"][1])


def test_classification_and_per_network_data():
    rng = np.random.default_rng(1)
    Xc = rng.standard_normal((2, 60, 4))
    labels = (Xc[..., 0] + 0.5 * Xc[..., 1] > 0).astype(int)
    spec = dln.mlp_spec(4, [8], 2, activation="gelu")
    res = dln.train_mlp(
        spec,
        Xc,
        labels,
        seeds=dln.network_seeds(0, 2),
        steps=60,
        lr=0.05,
        optimizer="adam",
        loss="cross_entropy",
        X_test=Xc[:, :20],
        y_test=labels[:, :20],
        record=("loss", "accuracy", "test_accuracy", "test_loss"),
    )
    assert np.all(res.records["accuracy"][-1] > 0.9)
    assert np.all(res.records["loss"][-1] < res.records["loss"][0] / 2)
    np.testing.assert_allclose(res.records["test_accuracy"].shape, (len(res.steps), 2))
    # cross-entropy against torch's own, for network 0 at the end
    logits = torch.as_tensor(res.predict(Xc[0])[0])
    ce = torch.nn.functional.cross_entropy(logits, torch.as_tensor(labels[0]))
    assert res.loss[0] == pytest.approx(ce.item(), rel=1e-12)


def test_activations_match_their_formulas():
    x = torch.linspace(-3, 3, 61, dtype=torch.float64)
    expected = {
        "linear": x,
        "relu": torch.clamp(x, min=0),
        "tanh": torch.tanh(x),
        "silu": x / (1 + torch.exp(-x)),
        "swish": x / (1 + torch.exp(-x)),
        "sigmoid": 1 / (1 + torch.exp(-x)),
        "softplus": torch.log1p(torch.exp(x)),
        "gelu": 0.5 * x * (1 + torch.erf(x / 2**0.5)),
        "xtanh": x * torch.tanh(x),
        "x2tanh": x**2 * torch.tanh(x),
    }
    for name, value in expected.items():
        torch.testing.assert_close(dln.activation_function(name)(x), value)
    assert set(dln.nets.ACTIVATIONS) <= set(expected)

    def cube(t):
        return t**3

    assert dln.activation_function(cube) is cube
    spec = dln.mlp_spec(2, [3], 1, activation=cube)
    res = dln.train_mlp(spec, X[:, :2], Y[:, 0], seeds=[0], steps=2, lr=1e-3)
    assert res.loss.shape == (1,)


def test_initialisation_schemes():
    spec = dln.mlp_spec(500, [400], 1)
    # empirical standard deviations against the schemes' formulas; 2e5 entries give
    # a relative standard error of about 1/sqrt(2 * 2e5) = 0.16%, so 1% is 6 errors
    w = dln.init_mlp(spec, [0], init="kaiming")["W1"]
    assert w.std() == pytest.approx(np.sqrt(2 / 500), rel=0.01)
    w = dln.init_mlp(spec, [0], init="lecun", scale=0.1)["W1"]
    assert w.std() == pytest.approx(0.1 * np.sqrt(1 / 500), rel=0.01)
    p = dln.init_mlp(spec, [0], init="torch")
    assert np.abs(p["W1"]).max() <= 1 / np.sqrt(500)
    assert p["W1"].std() == pytest.approx(1 / np.sqrt(3 * 500), rel=0.01)
    assert np.abs(p["b2"]).max() <= 1 / np.sqrt(400) and np.any(p["b2"] != 0)
    p = dln.init_mlp(spec, [0], init="normal", std=[0.005, 0.5])
    assert p["W1"].std() == pytest.approx(0.005, rel=0.01)
    assert p["b1"].std() == pytest.approx(0.005, rel=0.1)
    assert p["W2"].std() == pytest.approx(0.5, rel=0.1)
    assert np.all(dln.init_mlp(spec, [0])["b1"] == 0)
    # a network's draw depends on its seed only, not on its place in the batch
    small = dln.mlp_spec(3, [4], 1)
    batch = dln.init_mlp(small, dln.network_seeds(2, 3), scale=[1.0, 0.5, 2.0])
    alone = dln.init_mlp(small, [(2, 2)], scale=2.0)
    np.testing.assert_array_equal(batch["W1"][2], alone["W1"][0])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(optimizer="lbfgs"), "optimizer"),
        (dict(loss="hinge"), "loss"),
        (dict(decay="l1"), "decay"),
        (dict(lr=-1.0), "lr"),
        (dict(lr=[0.1, 0.1]), "one value per network"),
        (dict(weight_decay=[-1.0]), "weight_decay"),
        (dict(seeds=3), "seeds"),
        (dict(seeds=[]), "seeds"),
        (dict(seeds=[-1]), "non-negative"),
        (dict(record=("W9",)), "cannot record"),
        (dict(record=("test_loss",)), "X_test"),
        (dict(record=("accuracy",)), "cross_entropy"),
        (dict(record_steps=[0, 99]), "record_steps"),
        (dict(record_steps=[1.5]), "integers"),
        (dict(momentum=1.0), "momentum"),
        (dict(optimizer="adam", momentum=0.5), "momentum"),
        (dict(init="xavier"), "init"),
        (dict(init="normal"), "std"),
        (dict(device="cuda:0"), "CUDA"),
        (dict(dtype="float16"), "dtype"),
        (dict(batch_size=0), "batch_size"),
        (dict(X_test=X), "both"),
    ],
)
def test_bad_input(kwargs, message):
    spec = dln.mlp_spec(3, [4], 2)
    base = dict(seeds=[0], steps=3, lr=0.1)
    base.update(kwargs)
    if message == "CUDA" and torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(ValueError, match=message):
        dln.train_mlp(spec, X, Y, **base)


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        ((0, [3]), {}, "input_dim"),
        ((3, [0]), {}, "widths"),
        ((3, "wide"), {}, "widths"),
        ((3, [3, 3]), dict(activation=["tanh"]), "one per hidden layer"),
        ((3, [3]), dict(activation="cosine"), "unknown activation"),
        ((3, [3]), dict(bias="yes"), "bias"),
    ],
)
def test_bad_spec(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        dln.mlp_spec(*args, **kwargs)


def test_bad_data_shapes():
    spec = dln.mlp_spec(3, [4], 2)
    with pytest.raises(ValueError, match="X must have shape"):
        dln.train_mlp(spec, X[:, :2], Y, seeds=[0], steps=1, lr=0.1)
    with pytest.raises(ValueError, match="y must have shape"):
        dln.train_mlp(spec, X, Y[:, 0], seeds=[0], steps=1, lr=0.1)
    with pytest.raises(ValueError, match="data sets"):
        dln.train_mlp(spec, np.stack([X] * 2), Y, seeds=[0, 1, 2], steps=1, lr=0.1)
    clf = dln.mlp_spec(3, [4], 2)
    with pytest.raises(ValueError, match="labels"):
        dln.train_mlp(
            clf, X, np.full(24, 2), seeds=[0], steps=1, lr=0.1, loss="cross_entropy"
        )
    with pytest.raises(ValueError, match="integer class labels"):
        dln.train_mlp(clf, X, Y, seeds=[0], steps=1, lr=0.1, loss="cross_entropy")


def _as_callable(name):
    f = dln.activation_function(name)
    return lambda t: f(t)


@pytest.mark.parametrize("loss", ["mse", "half_mse", "cross_entropy"])
@pytest.mark.parametrize("residual", [False, True])
def test_hand_written_backward_equals_autograd(loss, residual):
    # a built-in name takes the hand-written backward pass; the same function passed
    # as a callable takes autograd: the trajectories agree to rounding
    rng = np.random.default_rng(2)
    Xs = rng.standard_normal((2, 9, 3))
    ys = rng.integers(0, 3, (2, 9)) if loss == "cross_entropy" else Y[:9]
    for name in dln.nets.ACTIVATIONS:
        runs = []
        for act in (name, _as_callable(name)):
            spec = dln.mlp_spec(
                3,
                [4, 4],
                3 if loss == "cross_entropy" else 2,
                activation=act,
                residual=residual,
            )
            runs.append(
                dln.train_mlp(
                    spec,
                    Xs,
                    ys,
                    seeds=SEEDS[:2],
                    steps=5,
                    lr=0.01,
                    loss=loss,
                    optimizer="adam",
                    record=("params",),
                    record_steps=[5],
                    init="torch",
                )
            )
        np.testing.assert_allclose(
            runs[0].records["params"],
            runs[1].records["params"],
            rtol=1e-12,
            atol=1e-14,
            err_msg=name,
        )


def test_chunking_does_not_change_the_result():
    spec = dln.mlp_spec(3, [5, 5], 2, activation="gelu", residual=True)
    runs = [
        dln.train_mlp(
            spec,
            X,
            Y,
            seeds=dln.network_seeds(0, 5),
            steps=8,
            lr=0.02,
            optimizer="sgd",
            batch_size=9,
            chunk=c,
            record=("params",),
        )
        for c in (1, 2, 5)
    ]
    for other in runs[1:]:
        np.testing.assert_allclose(
            other.records["params"], runs[0].records["params"], rtol=1e-13, atol=1e-15
        )
        np.testing.assert_allclose(other.batch_loss, runs[0].batch_loss, rtol=1e-13)

"""The workloads of the chapter "Condensation in experiments" (Zhou et al. 2022,
Sections 4.2-4.3, Figures 2-4), beyond ``condense-5-50-1``.

``condexp-gd``
    The 5-50-1 networks of ``condense-5-50-1`` (same data, same ``N(0, 0.005^2)``
    initialisation, same seeds) trained with plain full-batch gradient descent instead
    of Adam: does condensation survive the optimiser the theory is about?
``condexp-init-scale``
    The same 5-50-1 networks with Adam, ``tanh``, ``x tanh x`` and ``x^2 tanh x``, the
    initialisation swept from the paper's ``std = 0.005`` to the Kaiming scale and the
    learning rate around the paper's: how small must "small" be?
``condexp-resnet6``
    Six-layer networks (five hidden layers of width 18 with the activations ``x^2 tanh
    x``, ``x tanh x``, sigmoid, ``tanh``, softplus), ``d = 3``, with and without
    residual connections (Figure 4 and Appendix A.5).
``condexp-cifar10``
    ResNet-18's convolutional part followed by fully connected layers 1024-1024-10 of
    each activation (Figure 2). Reads CIFAR-10 from ``DLN_DATA`` at ``full`` scale (it
    is never downloaded; without the folder the run stops with a ``ValueError``); at
    ``ci`` and ``default`` it runs a small model on the synthetic stand-in written by
    :func:`dln.write_cifar10_standin`, a check of the pipeline only.

Every two-layer and six-layer workload records the training loss densely and stores
the input weights ``(W_l | b_l)`` of every neuron at a few chosen epochs and at the
*end of the initial stage* of each network: the last recorded epoch at which its loss
is still above 70% of its initial value (Zhou et al. 2022, Section 3) and finite. All
run in float32 on every device, as the paper did.
"""

from __future__ import annotations

import math
import tempfile

import numpy as np

from ..data import load_cifar10, sine_task, write_cifar10_standin
from ..experiments import experiment
from ..nets import init_mlp, mlp_spec, train_mlp
from ..scale import by_scale
from .condense import CONDENSE_ACTIVATIONS

__all__ = [
    "GD_LEARNING_RATES",
    "RESNET6_ACTIVATIONS",
    "CIFAR_ACTIVATIONS",
    "stage_snapshot",
    "gd_shards",
    "run_gd_shard",
    "merge_gd",
    "init_scale_shards",
    "init_scale_stds",
    "run_init_scale_shard",
    "merge_init_scale",
    "resnet6_shards",
    "run_resnet6_shard",
    "merge_resnet6",
    "cifar_shards",
    "run_cifar_shard",
    "merge_cifar",
]

#: Learning rates of plain gradient descent per activation: about the largest that
#: stays stable through the end of the initial stage on this task (measured on four
#: seeds: ``x^2 tanh x`` diverges at 0.01 on some seeds, ``x tanh x`` at 0.1).
GD_LEARNING_RATES = {
    "tanh": 0.01,
    "xtanh": 0.01,
    "x2tanh": 0.005,
    "sigmoid": 0.02,
    "softplus": 0.02,
}

#: Hidden-layer activations of the six-layer network (Zhou et al. 2022, Figure 4).
RESNET6_ACTIVATIONS = ("x2tanh", "xtanh", "sigmoid", "tanh", "softplus")

#: (activation, Adam learning rate, epochs) of Zhou et al. 2022, Figure 2 (a)-(d).
CIFAR_ACTIVATIONS = (
    ("tanh", 3e-8, 20),
    ("sigmoid", 1e-8, 30),
    ("softplus", 1e-8, 30),
    ("xtanh", 5e-6, 61),
)

_SINE5 = dict(n=80, dim=5, amplitude=3.5, frequency=5.0, phase=1.0, low=-4.0, high=2.0)


def stage_snapshot(loss, fraction: float = 0.7) -> np.ndarray:
    """Index of the last record inside the initial stage, one per network.

    Parameters
    ----------
    loss : array, shape (R, N)
        The loss of ``N`` networks at ``R`` recorded epochs (record 0 at
        initialisation).
    fraction : float in (0, 1)
        The initial stage lasts while the loss is above ``fraction`` of its initial
        value (Zhou et al. 2022, Section 3).

    Returns
    -------
    ndarray of int, shape (N,)
        For each network the last record ``r`` such that every record ``0..r`` is
        finite and above ``fraction * loss[0]`` (the last record if the stage never
        ends; 0 if it ends at the first step).

    Examples
    --------
    >>> loss = np.array([[1.0, 1.0], [0.9, 0.5], [0.6, 0.4], [0.5, np.nan]])
    >>> stage_snapshot(loss)
    array([1, 0])
    """
    loss = np.asarray(loss, dtype=float)
    if loss.ndim != 2 or loss.shape[0] == 0:
        raise ValueError(f"loss must have shape (R, N) with R >= 1; got {loss.shape}")
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must lie in (0, 1); got {fraction}")
    inside = np.isfinite(loss) & (loss > fraction * loss[:1])
    inside[0] = True
    left = np.cumprod(inside, axis=0).astype(bool)
    return left.sum(axis=0) - 1


def _sine_data(n_seeds, **task):
    tasks = [sine_task(seed=s, **task) for s in range(n_seeds)]
    return np.stack([t.X for t in tasks]), np.stack([t.y[:, None] for t in tasks])


def _records(steps, n_records):
    return np.unique(np.linspace(0, steps, n_records).round().astype(int)).tolist()


def _keep(res, name, steps_kept, stage):
    """The recorded ``name`` at the epochs ``steps_kept`` and at each network's stage
    end, as float32."""
    rec = res.records[name]
    idx = [int(np.flatnonzero(res.steps == e)[0]) for e in steps_kept]
    at = rec[idx].astype(np.float32)
    end = rec[stage, np.arange(rec.shape[1])].astype(np.float32)
    return at, end


# --------------------------------------------------------------------------------------
# condexp-gd: the 5-50-1 networks with plain gradient descent
# --------------------------------------------------------------------------------------


def gd_shards(scale: str) -> list:
    """One config per activation (the five of ``condense-5-50-1``)."""
    steps = by_scale(ci=600, default=3000, full=40_000, scale=scale)
    common = dict(
        dtype="float32",
        width=50,
        init_std=0.005,
        steps=steps,
        n_records=by_scale(ci=31, default=81, full=401, scale=scale),
        keep_epochs=[e for e in (0, 1000, 5000, 20_000, 40_000) if e <= steps],
        seeds=by_scale(ci=3, default=4, full=32, scale=scale),
        **_SINE5,
    )
    return [
        dict(common, activation=a, lr=GD_LEARNING_RATES[a])
        for a, _ in CONDENSE_ACTIVATIONS
    ]


def run_gd_shard(config: dict, device=None) -> dict:
    """Train one activation of ``condexp-gd`` for every seed at once."""
    n_seeds = config["seeds"]
    task = {k: config[k] for k in _SINE5}
    X, Y = _sine_data(n_seeds, **task)
    spec = mlp_spec(
        config["dim"], [config["width"]], 1, activation=config["activation"], bias=True
    )
    marks = sorted(
        set(_records(config["steps"], config["n_records"])) | set(config["keep_epochs"])
    )
    res = train_mlp(
        spec,
        X,
        Y,
        seeds=[(s,) for s in range(n_seeds)],
        steps=config["steps"],
        lr=config["lr"],
        optimizer="gd",
        loss="half_mse",
        init="normal",
        init_std=config["init_std"],
        record_steps=marks,
        record=("loss", "input_weights1"),
        device=device,
        dtype=config["dtype"],
    )
    stage = stage_snapshot(res.records["loss"])
    at, end = _keep(res, "input_weights1", config["keep_epochs"], stage)
    return {
        "input_weights": at,
        "stage_weights": end,
        "stage_epoch": res.steps[stage],
        "loss": res.records["loss"].astype(np.float32),
        "record_epochs": res.steps,
    }


def merge_gd(configs, results) -> dict:
    """``input_weights[activation, kept epoch, seed, neuron, :]`` at ``keep_epochs``,
    ``stage_weights[activation, seed, neuron, :]`` at the end of each network's initial
    stage (``stage_epoch[activation, seed]``), ``loss[activation, record, seed]`` at
    ``record_epochs``; coordinates ``activations``, ``lrs``, ``keep_epochs``."""
    return {
        "input_weights": np.stack([r["input_weights"] for r in results]),
        "stage_weights": np.stack([r["stage_weights"] for r in results]),
        "stage_epoch": np.stack([r["stage_epoch"] for r in results]),
        "loss": np.stack([r["loss"] for r in results]),
        "record_epochs": results[0]["record_epochs"],
        "keep_epochs": np.array(configs[0]["keep_epochs"]),
        "activations": np.array([c["activation"] for c in configs]),
        "lrs": np.array([c["lr"] for c in configs]),
    }


experiment(
    "condexp-gd",
    shards=gd_shards,
    merge=merge_gd,
    description="Zhou et al. 2022 Fig. 3 networks with plain gradient descent",
)(run_gd_shard)


# --------------------------------------------------------------------------------------
# condexp-init-scale: from the paper's initialisation to Kaiming's
# --------------------------------------------------------------------------------------


def init_scale_stds(t, std0: float = 0.005, fan_ins=(5, 50)) -> list:
    """Per-layer standard deviations ``std0^(1 - t) * sqrt(2 / fan_in)^t``: the paper's
    ``std0`` at ``t = 0``, Kaiming's ``sqrt(2 / fan_in)`` at ``t = 1``, geometric in
    between (biases drawn with their layer's standard deviation)."""
    if not 0 <= t <= 1:
        raise ValueError(f"t must lie in [0, 1]; got {t}")
    return [float(std0 ** (1 - t) * math.sqrt(2 / f) ** t) for f in fan_ins]


def init_scale_shards(scale: str) -> list:
    """One config per activation (``tanh``, ``x tanh x``, ``x^2 tanh x``); its
    networks are every (initialisation scale, learning-rate factor, seed)."""
    steps = by_scale(ci=300, default=600, full=2000, scale=scale)
    common = dict(
        dtype="float32",
        width=50,
        std0=0.005,
        ts=by_scale(
            ci=[0.0, 1.0],
            default=[0.0, 0.25, 0.5, 0.75, 1.0],
            full=np.round(np.linspace(0, 1, 7), 4).tolist(),
            scale=scale,
        ),
        lr_factors=by_scale(
            ci=[1.0], default=[1.0], full=[0.25, 1.0, 4.0], scale=scale
        ),
        steps=steps,
        n_records=by_scale(ci=31, default=61, full=201, scale=scale),
        keep_epochs=[e for e in (100, 300) if e <= steps],
        seeds=by_scale(ci=3, default=4, full=24, scale=scale),
        **_SINE5,
    )
    lrs = dict(CONDENSE_ACTIVATIONS)
    return [dict(common, activation=a, lr=lrs[a]) for a in ("tanh", "xtanh", "x2tanh")]


def run_init_scale_shard(config: dict, device=None) -> dict:
    """Train one activation of ``condexp-init-scale``: networks ordered (scale, lr
    factor, seed), all at once."""
    n_seeds, ts, factors = config["seeds"], config["ts"], config["lr_factors"]
    task = {k: config[k] for k in _SINE5}
    X, Y = _sine_data(n_seeds, **task)
    spec = mlp_spec(
        config["dim"], [config["width"]], 1, activation=config["activation"], bias=True
    )
    seeds = [(s,) for s in range(n_seeds)]
    fan_ins = (config["dim"], config["width"])
    parts = [
        init_mlp(
            spec, seeds, init="normal", std=init_scale_stds(t, config["std0"], fan_ins)
        )
        for t in ts
    ]
    params = {
        k: np.concatenate([np.concatenate([p[k]] * len(factors)) for p in parts])
        for k in parts[0]
    }
    n_nets = len(ts) * len(factors) * n_seeds
    lrs = np.tile(np.repeat(np.asarray(factors) * config["lr"], n_seeds), len(ts))
    marks = sorted(
        set(_records(config["steps"], config["n_records"])) | set(config["keep_epochs"])
    )
    res = train_mlp(
        spec,
        np.concatenate([X] * (n_nets // n_seeds)),
        np.concatenate([Y] * (n_nets // n_seeds)),
        seeds=[(s,) for _ in range(n_nets // n_seeds) for s in range(n_seeds)],
        steps=config["steps"],
        lr=lrs,
        optimizer="adam",
        loss="half_mse",
        params=params,
        record_steps=marks,
        record=("loss", "input_weights1"),
        device=device,
        dtype=config["dtype"],
    )
    stage = stage_snapshot(res.records["loss"])
    at, end = _keep(res, "input_weights1", config["keep_epochs"], stage)
    shape = (len(ts), len(factors), n_seeds)
    return {
        "input_weights": at.reshape(at.shape[:1] + shape + at.shape[2:]),
        "stage_weights": end.reshape(shape + end.shape[1:]),
        "stage_epoch": res.steps[stage].reshape(shape),
        "loss": res.records["loss"].astype(np.float32).reshape((-1,) + shape),
        "record_epochs": res.steps,
    }


def merge_init_scale(configs, results) -> dict:
    """``input_weights[activation, kept epoch, scale, lr factor, seed, neuron, :]`` at
    ``keep_epochs``, ``stage_weights[activation, scale, lr factor, seed, neuron, :]``
    at the end of each network's initial stage (epoch ``stage_epoch[activation, scale,
    lr factor, seed]``; the initial weights are those of :func:`dln.init_mlp` with
    ``std=stds[scale]`` and seeds ``(s,)``),
    ``loss[activation, record, scale, lr factor, seed]``; coordinates ``activations``,
    ``lrs`` (the paper's, times ``lr_factors``), ``ts`` and ``stds[scale, layer]``."""
    c0 = configs[0]
    fan_ins = (c0["dim"], c0["width"])
    return {
        "input_weights": np.stack([r["input_weights"] for r in results]),
        "stage_weights": np.stack([r["stage_weights"] for r in results]),
        "stage_epoch": np.stack([r["stage_epoch"] for r in results]),
        "loss": np.stack([r["loss"] for r in results]),
        "record_epochs": results[0]["record_epochs"],
        "keep_epochs": np.array(c0["keep_epochs"]),
        "activations": np.array([c["activation"] for c in configs]),
        "lrs": np.array([c["lr"] for c in configs]),
        "lr_factors": np.array(c0["lr_factors"]),
        "ts": np.array(c0["ts"]),
        "stds": np.array([init_scale_stds(t, c0["std0"], fan_ins) for t in c0["ts"]]),
    }


experiment(
    "condexp-init-scale",
    shards=init_scale_shards,
    merge=merge_init_scale,
    description="5-50-1 nets, Adam: init from std 0.005 to Kaiming, three lrs",
)(run_init_scale_shard)


# --------------------------------------------------------------------------------------
# condexp-resnet6: Figure 4, with and without residual connections
# --------------------------------------------------------------------------------------


def resnet6_shards(scale: str) -> list:
    """Two configs: with and without residual connections."""
    steps = by_scale(ci=300, default=1000, full=3000, scale=scale)
    common = dict(
        dtype="float32",
        n=80,
        dim=3,
        width=18,
        activations=list(RESNET6_ACTIVATIONS),
        amplitude=4.0,
        frequency=12.0,
        phase=1.0,
        low=-4.0,
        high=2.0,
        init_std=0.01,
        lr=4e-5,
        steps=steps,
        n_records=by_scale(ci=31, default=51, full=151, scale=scale),
        keep_epochs=[e for e in (0, 500, 900, 1400, 2000, 3000) if e <= steps],
        seeds=by_scale(ci=3, default=6, full=48, scale=scale),
    )
    return [dict(common, residual=r) for r in (True, False)]


def run_resnet6_shard(config: dict, device=None) -> dict:
    """Train one shard of ``condexp-resnet6`` for every seed at once."""
    n_seeds = config["seeds"]
    task = {
        k: config[k]
        for k in ("n", "dim", "amplitude", "frequency", "phase", "low", "high")
    }
    X, Y = _sine_data(n_seeds, **task)
    acts = config["activations"]
    spec = mlp_spec(
        config["dim"],
        [config["width"]] * len(acts),
        1,
        activation=acts,
        bias=True,
        residual=config["residual"],
    )
    names = [f"input_weights{layer}" for layer in range(1, len(acts) + 1)]
    marks = sorted(
        set(_records(config["steps"], config["n_records"])) | set(config["keep_epochs"])
    )
    res = train_mlp(
        spec,
        X,
        Y,
        seeds=[(s,) for s in range(n_seeds)],
        steps=config["steps"],
        lr=config["lr"],
        optimizer="adam",
        loss="half_mse",
        init="normal",
        init_std=config["init_std"],
        record_steps=marks,
        record=("loss", *names),
        device=device,
        dtype=config["dtype"],
    )
    stage = stage_snapshot(res.records["loss"])
    out = {
        "stage_epoch": res.steps[stage],
        "loss": res.records["loss"].astype(np.float32),
        "record_epochs": res.steps,
    }
    for layer, name in enumerate(names, start=1):
        at, end = _keep(res, name, config["keep_epochs"], stage)
        out[f"input_weights{layer}"] = at
        out[f"stage_weights{layer}"] = end
    return out


def merge_resnet6(configs, results) -> dict:
    """Per hidden layer ``l = 1..5``: ``input_weights<l>[residual, kept epoch, seed,
    neuron, :]`` at ``keep_epochs``, ``stage_weights<l>[residual, seed, neuron, :]`` at
    the end of each network's initial stage (``stage_epoch[residual, seed]``);
    ``loss[residual, record, seed]`` at ``record_epochs``; coordinates ``residual``
    (True, False) and ``activations`` (of hidden layers 1..5)."""
    out = {
        key: np.stack([r[key] for r in results])
        for key in results[0]
        if key != "record_epochs"
    }
    out.update(
        record_epochs=results[0]["record_epochs"],
        keep_epochs=np.array(configs[0]["keep_epochs"]),
        residual=np.array([c["residual"] for c in configs]),
        activations=np.array(configs[0]["activations"]),
    )
    return out


experiment(
    "condexp-resnet6",
    shards=resnet6_shards,
    merge=merge_resnet6,
    description="Zhou et al. 2022 Fig. 4: six-layer nets, with/without residuals",
)(run_resnet6_shard)


# --------------------------------------------------------------------------------------
# condexp-cifar10: Figure 2
# --------------------------------------------------------------------------------------


def cifar_shards(scale: str) -> list:
    """One config per activation; ``full`` is the paper's setting on CIFAR-10 (read
    from ``DLN_DATA``), ``ci``/``default`` a small model on the synthetic stand-in."""
    common = dict(
        dtype="float32",
        data=by_scale(ci="standin", default="standin", full="cifar10", scale=scale),
        n_train=by_scale(ci=40, default=100, full=50_000, scale=scale),
        n_test=by_scale(ci=20, default=50, full=10_000, scale=scale),
        conv_width=by_scale(ci=4, default=8, full=64, scale=scale),
        classifier=by_scale(
            ci=[32, 32], default=[64, 64], full=[1024, 1024], scale=scale
        ),
        batch_size=128,
        conv_init="glorot",
        stored_neurons=256,
        seeds=1,
    )
    return [
        dict(
            common,
            activation=a,
            lr=lr,
            epochs=by_scale(ci=1, default=2, full=e, scale=scale),
        )
        for a, lr, e in CIFAR_ACTIVATIONS
    ]


def run_cifar_shard(config: dict, device=None) -> dict:
    """Train one activation of ``condexp-cifar10``."""
    from ..condensation import count_orientations
    from ..models import resnet18, train_classifier

    if config["data"] == "cifar10":
        data = load_cifar10(limit=config["n_train"])
    else:
        with tempfile.TemporaryDirectory() as tmp:
            write_cifar10_standin(
                tmp, n_train=config["n_train"], n_test=config["n_test"]
            )
            data = load_cifar10(tmp)
    widths = list(config["classifier"]) + [10]
    fc_std = [w**-1.5 for w in widths]  # N(0, 1 / m_out^3)
    seeds = [(s,) for s in range(config["seeds"])]
    res = train_classifier(
        lambda k: resnet18(
            10,
            width=config["conv_width"],
            classifier=tuple(config["classifier"]),
            activation=config["activation"],
            n_models=k,
        ),
        data.X_train,
        data.y_train,
        X_test=data.X_test,
        y_test=data.y_test,
        seeds=seeds,
        epochs=config["epochs"],
        lr=config["lr"],
        optimizer="adam",
        batch_size=config["batch_size"],
        record_fc_epochs=(0, config["epochs"]),
        conv_init=config["conv_init"],
        fc_std=fc_std,
        device=device,
        dtype=config["dtype"],
    )
    final = res.fc_weights[config["epochs"]]
    first = res.fc_weights[0]
    keep = config["stored_neurons"]
    return {
        "fc_weights": final[:, :keep].astype(np.float32),
        "fc_weights0": first[:, :keep].astype(np.float32),
        "count": np.array([count_orientations(w) for w in final]),
        "count0": np.array([count_orientations(w) for w in first]),
        "train_loss": res.train_loss,
        "test_accuracy": res.test_accuracy,
    }


def merge_cifar(configs, results) -> dict:
    """``fc_weights[activation, seed, neuron, :]`` (the first fully connected layer's
    input weights with their bias, first ``stored_neurons`` neurons) after training and
    ``fc_weights0`` at initialisation; ``count`` and ``count0[activation, seed]`` (all
    neurons, :func:`dln.count_orientations`); ``train_loss`` and
    ``test_accuracy[activation, seed, epoch]`` (activations of different epoch counts
    padded with ``nan``); coordinates ``activations``, ``lrs``, ``epochs`` and
    ``data`` (``cifar10`` or ``standin``)."""
    longest = max(c["epochs"] for c in configs)

    def pad(a):
        return np.pad(a, ((0, 0), (0, longest - a.shape[1])), constant_values=np.nan)

    return {
        "fc_weights": np.stack([r["fc_weights"] for r in results]),
        "fc_weights0": np.stack([r["fc_weights0"] for r in results]),
        "count": np.stack([r["count"] for r in results]),
        "count0": np.stack([r["count0"] for r in results]),
        "train_loss": np.stack([pad(r["train_loss"]) for r in results]),
        "test_accuracy": np.stack([pad(r["test_accuracy"]) for r in results]),
        "activations": np.array([c["activation"] for c in configs]),
        "lrs": np.array([c["lr"] for c in configs]),
        "epochs": np.array([c["epochs"] for c in configs]),
        "data": np.array(configs[0]["data"]),
    }


experiment(
    "condexp-cifar10",
    shards=cifar_shards,
    merge=merge_cifar,
    description="Zhou et al. 2022 Fig. 2: ResNet-18 + FC 1024-1024-10 on CIFAR-10",
)(run_cifar_shard)

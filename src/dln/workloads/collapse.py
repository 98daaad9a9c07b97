"""The collapse workloads ``collapse-digits`` and ``collapse-cifar`` (Ziyin et al. 2022,
Figure 1 right, Section 5 and Appendix A): test accuracy against weight decay for a
linear model and for deep networks, and whether the deep ones end at the trivial
(constant) predictor.

Weight decay enters as in the paper: an explicit ``gamma ||theta||^2`` in the objective
(every parameter, biases and batch normalisations included; ``decay="loss"``), never
AdamW's decoupled shrinking. Every network is trained with minibatch SGD (momentum 0.9)
for a fixed number of epochs, in float32 on every device, for two losses: the squared
error on one-hot targets (``mse``, the loss the theory is about) and the cross-entropy
(``cross_entropy``, what practice uses).

``collapse-digits``: scikit-learn's bundled 8x8 digits (:func:`dln.digits`, split seed
0), pixels in ``[0, 1]`` centred by the training mean. One shard per (model, loss); each
shard trains every (weight decay, seed) at once. Models: ``linear`` (one affine layer,
with bias: softmax regression / linear regression), ``deeplinear<D>`` (``D`` hidden
linear layers of width 32 without bias, LeCun initialisation: the paper's model with
``sigma^2 = 0``; the others start from Kaiming's),
``mlp`` (three ReLU hidden layers of width 64 with bias) and ``cnn`` (a residual CNN,
:func:`dln.residual_cnn`: stem and two basic blocks of ``cnn_width`` channels, batch
normalisation, global pooling, a linear head). ``n_train`` (``None``: all 1347) keeps
the first training images only (the ``ci`` scale).

``collapse-cifar``: the same sweep for ResNet-18 (:func:`dln.resnet18`) against a
linear classifier on CIFAR-10 read by :func:`dln.load_cifar10` from the folder named by
``DLN_DATA`` (never downloaded). The ``ci`` and ``default`` scales run on the synthetic
stand-in of :func:`dln.write_cifar10_standin` (a pipeline check; its numbers say nothing
about CIFAR-10); ``full`` needs the real data set.

Stored per network (arrays ``[weight decay, seed]``): the test accuracy, the final data
loss on the training set (without the decay term), the spread of the outputs over the
test inputs ``mean_i ||f(x_i) - mean_j f(x_j)||^2`` (zero for a constant predictor),
the mean squared output norm, the mean entropy of ``softmax(f(x))`` on the test set,
and the fraction of test inputs that get the most common predicted class.
"""

from __future__ import annotations

import os
import tempfile

import numpy as np

from ..experiments import experiment
from ..scale import by_scale

__all__ = [
    "collapse_digits_shards",
    "run_collapse_digits_shard",
    "collapse_cifar_shards",
    "run_collapse_cifar_shard",
    "merge_collapse",
    "output_summary",
    "collapse_point",
    "cifar_table",
    "digits_regression",
    "linear_thresholds",
    "COLLAPSE_LOSSES",
    "TIE_TOL",
]

#: The losses of every sweep, the theory's squared error and practice's
#: cross-entropy.
COLLAPSE_LOSSES = ("mse", "cross_entropy")

#: Outputs within this distance of an input's largest output count as tied with it
#: (float32's resolution at unit scale), see :func:`output_summary`.
TIE_TOL = 1e-6

_SUMMARY_KEYS = (
    "test_accuracy",
    "train_loss",
    "output_spread",
    "output_norm2",
    "entropy",
    "majority_share",
)


def output_summary(outputs, labels) -> dict:
    """How far a set of networks is from the trivial predictor, from their outputs.

    Parameters
    ----------
    outputs : array, shape (N, m, classes)
        Outputs (logits) of ``N`` networks on ``m`` test inputs.
    labels : array of int, shape (m,)
        The test labels.

    Returns
    -------
    dict of (N,) arrays
        ``test_accuracy``, with ties broken at random: outputs within ``TIE_TOL =
        1e-6`` of an input's largest output count as tied with it, and the input
        scores ``1 / (number tied)`` if its label is among them (so outputs of size
        ``1e-30``, which float32 training leaves behind at the trivial solution,
        score chance, ``1 / classes``, not the accuracy of their rounding noise);
        ``output_spread``, ``mean_i ||f(x_i) - mean_j f(x_j)||^2`` (0 exactly for a
        constant predictor); ``output_norm2``, ``mean_i
        ||f(x_i)||^2``; ``entropy``, the mean entropy of ``softmax(f(x_i))`` in nats
        (``log classes`` for constant logits); ``majority_share``, the fraction of
        inputs given the most common predicted class (1 for a constant predictor).
    """
    out = np.asarray(outputs, dtype=np.float64)
    labels = np.asarray(labels)
    if out.ndim != 3 or labels.shape != (out.shape[1],):
        raise ValueError(
            f"outputs must have shape (N, m, classes) and labels (m,); got "
            f"{out.shape} and {labels.shape}"
        )
    if not np.all(np.isfinite(out)):
        raise ValueError("outputs must be finite")
    top = out.max(-1, keepdims=True)
    tied = out >= top - TIE_TOL  # within float32's resolution of the top output
    pred = out.argmax(-1)
    centred = out - out.mean(axis=1, keepdims=True)
    z = out - out.max(-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    counts = np.stack([np.bincount(p, minlength=out.shape[-1]) for p in pred])
    hit = np.take_along_axis(tied, labels[None, :, None], -1)[..., 0]
    return {
        "test_accuracy": (hit / tied.sum(-1)).mean(-1),
        "output_spread": (centred**2).sum(-1).mean(-1),
        "output_norm2": (out**2).sum(-1).mean(-1),
        "entropy": -(np.exp(logp) * logp).sum(-1).mean(-1),
        "majority_share": counts.max(-1) / out.shape[1],
    }


def collapse_point(weight_decays, collapsed) -> np.ndarray:
    """The measured collapse point of each seed: the smallest weight decay of the
    sweep from which on every larger one is collapsed too (``inf`` if the largest is
    not collapsed).

    Parameters
    ----------
    weight_decays : (G,) array, increasing
    collapsed : (G, S) array of bool
        Whether network (weight decay ``g``, seed ``s``) ended at the trivial predictor.

    Returns
    -------
    (S,) ndarray
    """
    g = np.asarray(weight_decays, dtype=float)
    c = np.asarray(collapsed, dtype=bool)
    if g.ndim != 1 or np.any(np.diff(g) <= 0):
        raise ValueError("weight_decays must be a strictly increasing 1-d array")
    if c.ndim != 2 or c.shape[0] != g.size:
        raise ValueError(f"collapsed must have shape ({g.size}, seeds); got {c.shape}")
    # suffix of all-True rows: the first index from which on every entry is collapsed
    tail = np.flip(np.cumprod(np.flip(c, 0), axis=0), 0).astype(bool)
    first = np.where(tail.any(0), tail.argmax(0), g.size)
    return np.where(first < g.size, g[np.minimum(first, g.size - 1)], np.inf)


def _gammas(lo, hi, n):
    return np.round(np.logspace(np.log10(lo), np.log10(hi), n), 6).tolist()


def collapse_digits_shards(scale: str) -> list:
    """One config per (model, loss); its networks are every (weight decay, seed)."""
    common = dict(
        dtype="float32",
        split_seed=0,
        n_train=by_scale(ci=600, default=600, full=None, scale=scale),
        cnn_width=by_scale(ci=8, default=8, full=16, scale=scale),
        epochs=by_scale(ci=10, default=20, full=150, scale=scale),
        batch_size=by_scale(ci=32, default=64, full=128, scale=scale),
        momentum=0.9,
        seeds=by_scale(ci=2, default=2, full=6, scale=scale),
        weight_decays=by_scale(
            ci=[1e-3, 0.03, 0.1, 0.3],
            default=_gammas(1e-3, 1.0, 7),
            full=_gammas(1e-3, 1.0, 19),
            scale=scale,
        ),
    )
    models = by_scale(
        ci=["linear", "deeplinear2", "mlp", "cnn"],
        default=["linear", "deeplinear1", "deeplinear2", "deeplinear4", "mlp", "cnn"],
        full=[
            "linear",
            "deeplinear1",
            "deeplinear2",
            "deeplinear3",
            "deeplinear4",
            "deeplinear6",
            "mlp",
            "cnn",
        ],
        scale=scale,
    )
    lrs = {"linear": 0.05, "mlp": 0.05, "cnn": 0.05}
    return [
        dict(
            common,
            model=m,
            loss=loss,
            lr=lrs.get(m, 0.02),
            init="lecun" if m.startswith("deeplinear") else "kaiming",
        )
        for loss in COLLAPSE_LOSSES
        for m in models
    ]


def _mlp_spec(model, input_dim):
    from ..nets import mlp_spec

    if model == "linear":
        return mlp_spec(input_dim, [], 10, bias=True)
    if model.startswith("deeplinear"):
        depth = int(model[len("deeplinear") :])
        return mlp_spec(input_dim, [32] * depth, 10, activation="linear", bias=False)
    if model == "mlp":
        return mlp_spec(input_dim, [64] * 3, 10, activation="relu", bias=True)
    raise ValueError(f"unknown fully connected model {model!r}")


def _sweep(config, device, X, y, X_test, y_test, build=None):
    """Train every (weight decay, seed) of a shard; summaries ``[decay, seed]``."""
    import torch

    from ..models import train_classifier
    from ..nets import mlp_forward, train_mlp

    decays, n_seeds = config["weight_decays"], config["seeds"]
    wds = [g for g in decays for _ in range(n_seeds)]
    seeds = [(s,) for _ in decays for s in range(n_seeds)]  # same init at every decay
    epochs, bs = config["epochs"], config["batch_size"]
    if build is not None:
        res = train_classifier(
            build,
            X,
            y,
            seeds=seeds,
            epochs=epochs,
            lr=config["lr"],
            weight_decay=wds,
            optimizer="sgd",
            momentum=config["momentum"],
            decay="loss",
            loss=config["loss"],
            batch_size=bs,
            X_test=X_test,
            y_test=y_test,
            device=device,
            dtype=config["dtype"],
        )
        outputs = res.test_outputs
        train_loss = res.train_loss[:, -1]
        curve = res.test_accuracy  # (N, epochs)
    else:
        Xf, Xtf = X.reshape(len(X), -1), X_test.reshape(len(X_test), -1)
        spec = _mlp_spec(config["model"], Xf.shape[1])
        target = y if config["loss"] == "cross_entropy" else np.eye(10)[y]
        per_epoch = -(-len(Xf) // bs)
        steps = epochs * per_epoch
        res = train_mlp(
            spec,
            Xf,
            target,
            seeds=seeds,
            steps=steps,
            lr=config["lr"],
            optimizer="sgd",
            momentum=config["momentum"],
            batch_size=bs,
            weight_decay=wds,
            decay="loss",
            loss=config["loss"],
            init=config.get("init", "kaiming"),
            record_steps=[steps],
            device=device,
            dtype=config["dtype"],
        )
        outputs = mlp_forward(spec, res.params, Xtf)
        train_loss = res.records["loss"][-1]
        curve = None
    if device is not None and str(device).startswith("cuda"):
        torch.cuda.synchronize()
    shape = (len(decays), n_seeds)
    summary = output_summary(outputs, y_test)
    out = {k: v.reshape(shape) for k, v in summary.items()}
    out["train_loss"] = np.asarray(train_loss, dtype=float).reshape(shape)
    if curve is not None:
        out["accuracy_curve"] = curve.reshape(shape + (epochs,))
    return out


def run_collapse_digits_shard(config: dict, device=None) -> dict:
    """Train one shard of ``collapse-digits``: one model and loss, every (weight
    decay, seed) at once."""
    from ..data import digits
    from ..models import residual_cnn

    split = digits(seed=config["split_seed"], images=True)
    n = config["n_train"] or len(split.X_train)
    X, y = split.X_train[:n], split.y_train[:n]
    mean = X.mean(axis=0, keepdims=True)
    build = None
    if config["model"] == "cnn":
        width = config["cnn_width"]

        def build(k):
            return residual_cnn(10, in_channels=1, width=width, blocks=2, n_models=k)

    return _sweep(config, device, X - mean, y, split.X_test - mean, split.y_test, build)


def collapse_cifar_shards(scale: str) -> list:
    """One config per model (ResNet-18 and the linear classifier); cross-entropy."""
    common = dict(
        dtype="float32",
        data=by_scale(ci="standin", default="standin", full="cifar10", scale=scale),
        standin=by_scale(
            ci=[200, 100], default=[300, 100], full=None, scale=scale
        ),  # stand-in sizes (train, test)
        loss="cross_entropy",
        epochs=by_scale(ci=2, default=3, full=15, scale=scale),
        batch_size=by_scale(ci=64, default=128, full=256, scale=scale),
        momentum=0.9,
        seeds=by_scale(ci=1, default=1, full=2, scale=scale),
        weight_decays=by_scale(
            ci=[1e-4, 0.1],
            default=[1e-4, 0.1],
            full=_gammas(1e-5, 0.1, 9),
            scale=scale,
        ),
    )
    width = by_scale(ci=4, default=8, full=64, scale=scale)
    return [
        dict(common, model="linear", lr=0.005),
        dict(common, model="resnet18", width=width, lr=0.05),
    ]


def run_collapse_cifar_shard(config: dict, device=None) -> dict:
    """Train one shard of ``collapse-cifar`` on CIFAR-10 (``data="cifar10"``: the
    folder named by ``DLN_DATA``) or on the synthetic stand-in (``"standin"``)."""
    from ..data import load_cifar10, write_cifar10_standin
    from ..models import resnet18

    if config["data"] == "standin":
        n_train, n_test = config["standin"]
        with tempfile.TemporaryDirectory() as tmp:
            write_cifar10_standin(tmp, n_train=n_train, n_test=n_test, seed=0)
            split = load_cifar10(tmp)
    elif config["data"] == "cifar10":
        split = load_cifar10(os.environ.get("DLN_DATA"))
    else:
        raise ValueError(f"data must be 'standin' or 'cifar10'; got {config['data']!r}")
    build = None
    if config["model"] == "resnet18":
        width = config["width"]

        def build(k):
            return resnet18(10, width=width, n_models=k)

    return _sweep(
        config, device, split.X_train, split.y_train, split.X_test, split.y_test, build
    )


def merge_collapse(configs, results) -> dict:
    """Arrays indexed ``[shard, weight decay, seed]`` (shards in the order of the
    configs), with the coordinates ``models``, ``losses`` and ``weight_decays``;
    ``accuracy_curve`` (test accuracy after each epoch, ``[shard, decay, seed,
    epoch]``) is kept for the convolutional networks under ``accuracy_curve_<i>``
    with ``i`` the shard."""
    out = {k: np.stack([r[k] for r in results]) for k in _SUMMARY_KEYS}
    out["models"] = np.array([c["model"] for c in configs])
    out["losses"] = np.array([c["loss"] for c in configs])
    out["weight_decays"] = np.array(configs[0]["weight_decays"])
    for i, r in enumerate(results):
        if "accuracy_curve" in r:
            out[f"accuracy_curve_{i}"] = r["accuracy_curve"]
    return out


def digits_regression(config) -> tuple:
    """The training data of a ``collapse-digits`` shard as a regression problem:
    centred inputs ``(n, 64)`` and one-hot targets ``(n, 10)``, exactly what its
    networks are trained on.

    Raises
    ------
    ValueError
        If ``config`` is not a ``collapse-digits`` config (a dict with
        ``split_seed`` and ``n_train``).
    """
    from ..data import digits

    if not isinstance(config, dict) or not {"split_seed", "n_train"} <= set(config):
        raise ValueError(
            "config must be a collapse-digits shard config with 'split_seed' and "
            f"'n_train'; got {str(config)[:80]}"
        )
    split = digits(seed=config["split_seed"])
    n = config["n_train"] or len(split.X_train)
    X = split.X_train[:n]
    return X - X.mean(axis=0), np.eye(10)[split.y_train[:n]]


def linear_thresholds(X, Y, depths, *, width=32, direction=None) -> tuple:
    """The linear theory's weight decays at which the global minimum of a deep linear
    network without noise becomes trivial, for a multi-output regression, through the
    rank-one reduction: the scalar problem with label ``e . y``.

    Parameters
    ----------
    X : (n, d) array
        Inputs (the network has no bias: the moments are not centred further).
    Y : (n, c) array
        Targets.
    depths : sequence of int
        Numbers of hidden layers ``D >= 1``.
    width : int
        Hidden width (it does not matter without noise, as long as it is >= 1).
    direction : (c,) array, optional
        The output direction ``e``; default the top right singular vector of
        ``E[x y^T] = X^T Y / n``.

    Returns
    -------
    (gamma_global, gamma_exist) : tuple of (len(depths),) arrays
        For each depth, the weight decay below which the scalar problem's global
        minimum is nontrivial, and the one below which a nontrivial solution exists
        (Ziyin et al. 2022, Theorem 3 and Proposition 3 bound them), from
        :func:`dln.critical_signals` and its scaling law ``s_c(gamma) = s_c(1)
        gamma^((D+1)/(2D))``. For ``D = 1`` both equal ``||E[x (e.y)]||``.
    """
    from ..phase import critical_signals
    from ..stats import DataStats

    X = np.asarray(X, dtype=float)
    Y = np.asarray(Y, dtype=float)
    if X.ndim != 2 or Y.ndim != 2 or len(X) != len(Y) or len(X) == 0:
        raise ValueError(f"X (n, d) and Y (n, c) must match; got {X.shape}, {Y.shape}")
    n = len(X)
    if direction is None:
        direction = np.linalg.svd(X.T @ Y / n)[2][0]
    e = np.asarray(direction, dtype=float)
    if e.shape != (Y.shape[1],) or not np.linalg.norm(e) > 0:
        raise ValueError(f"direction must be a nonzero vector of length {Y.shape[1]}")
    y = Y @ (e / np.linalg.norm(e))
    stats = DataStats(X.T @ X / n, X.T @ y / n, float(y @ y / n))
    g_glob, g_exist = [], []
    for D in depths:
        s_exist, s_global = critical_signals(
            stats, depth=int(D), width=width, sigma2=0.0, gamma=1.0
        )
        power = 2 * D / (D + 1)
        g_glob.append((stats.signal / s_global) ** power)
        g_exist.append((stats.signal / s_exist) ** power)
    return np.array(g_glob), np.array(g_exist)


_MODEL_NAMES = {"linear": "linear", "resnet18": "ResNet-18"}


def cifar_table(arrays) -> str:
    """A Markdown table of a ``collapse-cifar`` result: the mean test accuracy over
    seeds (rows: models; columns: weight decays)."""
    if not isinstance(arrays, dict) or "test_accuracy" not in arrays:
        raise ValueError("arrays must be a collapse-cifar result (test_accuracy, ...)")
    g = np.asarray(arrays["weight_decays"], dtype=float)
    acc = np.asarray(arrays["test_accuracy"], dtype=float).mean(-1)
    head = "| model | " + " | ".join(f"γ = {v:.2g}" for v in g) + " |"
    rows = [head, "|---" * (g.size + 1) + "|"]
    for m, a in zip(arrays["models"], acc):
        cells = " | ".join(f"{v:.2f}" for v in a)
        rows.append(f"| {_MODEL_NAMES.get(str(m), str(m))} | {cells} |")
    return "\n".join(rows)


experiment(
    "collapse-digits",
    shards=collapse_digits_shards,
    merge=merge_collapse,
    description="Ziyin et al. 2022 Fig. 1 right on digits: collapse under decay",
)(run_collapse_digits_shard)

experiment(
    "collapse-cifar",
    shards=collapse_cifar_shards,
    merge=merge_collapse,
    description="Ziyin et al. 2022 Fig. 1 right: ResNet-18 vs linear on CIFAR-10",
)(run_collapse_cifar_shard)

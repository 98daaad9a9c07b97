"""The initialisation-trap workload ``init-trap`` (Ziyin et al. 2022, Figure 3 and
Appendix A).

Networks with two hidden layers of width 32 with biases, ReLU or tanh, Kaiming
initialisation, full-batch gradient descent with learning rate 0.1 on ``L = mean (f(x) -
y)^2 + gamma ||theta||^2``, ``x ~ N(0, I_5)``, ``y = v . x`` with ``||v|| = ||E[xy]||``
swept, several seeds. The paper does not state ``gamma``: it is swept. One shard per
activation, batched over weight decays (one per network), signals and seeds; each seed
fixes the data (the same inputs and direction of ``v`` at every signal) and the
initialisation (the same at every signal and weight decay), so the sweep compares like
with like. Stored: the training loss at the recorded steps, the final objective and
squared parameter norm, and for reference the training loss of ridge regression with the
same ``gamma`` (the depth-0 model, with bias) and ``mean y^2`` (the loss of the zero
predictor). Trained in float32 on every device, as the paper did.
"""

from __future__ import annotations

import numpy as np

from ..data import gaussian_task
from ..experiments import experiment
from ..nets import mlp_spec, train_mlp
from ..scale import by_scale

__all__ = ["init_trap_shards", "run_init_trap_shard", "merge_init_trap", "ridge_loss"]


def ridge_loss(X, y, gamma) -> float:
    """Training loss ``mean (w.x + c - y)^2`` of the minimiser of ``mean (w.x + c -
    y)^2 + gamma (||w||^2 + c^2)`` (ridge regression with a decayed bias)."""
    Xb = np.hstack([X, np.ones((len(X), 1))])
    n = len(X)
    w = np.linalg.solve(Xb.T @ Xb / n + gamma * np.eye(Xb.shape[1]), Xb.T @ y / n)
    return float(np.mean((Xb @ w - y) ** 2))


def init_trap_shards(scale: str) -> list:
    """One config per activation; its networks are every (weight decay, signal, seed)
    triple, trained in one batch with per-network weight decays."""
    common = dict(
        dtype="float32",
        dim=5,
        width=32,
        hidden_layers=2,
        lr=0.1,
        init="kaiming",
        n=by_scale(ci=128, default=128, full=1000, scale=scale),
        steps=by_scale(ci=500, default=2000, full=10_000, scale=scale),
        records=by_scale(ci=11, default=21, full=101, scale=scale),
        signals=by_scale(
            ci=[0.03, 0.3, 1.0, 3.0],
            default=np.round(np.logspace(-2, 0.5, 6), 4).tolist(),
            full=np.round(np.logspace(-2, 0.5, 10), 4).tolist(),
            scale=scale,
        ),
        seeds=by_scale(ci=2, default=2, full=5, scale=scale),
        weight_decays=by_scale(
            ci=[1e-3, 3e-2, 1e-1],
            default=[1e-3, 1e-2, 3e-2, 1e-1],
            full=[1e-3, 1e-2, 3e-2, 1e-1],
            scale=scale,
        ),
    )
    return [dict(common, activation=a) for a in ("relu", "tanh")]


def run_init_trap_shard(config: dict, device=None) -> dict:
    """Train one shard of ``init-trap``: every (weight decay, signal, seed) at once."""
    decays, signals, n_seeds = (
        config["weight_decays"],
        config["signals"],
        config["seeds"],
    )
    tasks = [
        [gaussian_task(config["n"], config["dim"], v, seed=s) for s in range(n_seeds)]
        for v in signals
    ]
    X, Y, wds, ridge, y2, seeds = [], [], [], [], [], []
    for g in decays:
        for row in tasks:
            for s, task in enumerate(row):
                X.append(task.X)
                Y.append(task.y[:, None])
                wds.append(g)
                ridge.append(ridge_loss(task.X, task.y, g))
                y2.append(np.mean(task.y**2))
                seeds.append((s,))  # the same initialisation at every signal and decay
    spec = mlp_spec(
        config["dim"],
        [config["width"]] * config["hidden_layers"],
        1,
        activation=config["activation"],
        bias=True,
    )
    steps = config["steps"]
    marks = np.unique(np.linspace(0, steps, config["records"]).round().astype(int))
    res = train_mlp(
        spec,
        np.stack(X),
        np.stack(Y),
        seeds=seeds,
        steps=steps,
        lr=config["lr"],
        optimizer="gd",
        weight_decay=wds,
        decay="loss",
        loss="mse",
        init=config["init"],
        record_steps=marks.tolist(),
        record=("loss", "objective"),
        device=device,
        dtype=config["dtype"],
    )
    shape = (len(decays), len(signals), n_seeds)
    norm2 = sum((v**2).reshape(len(seeds), -1).sum(1) for v in res.params.values())
    return {
        "steps": res.steps,
        "loss": res.records["loss"]
        .reshape((len(marks),) + shape)
        .transpose(1, 0, 2, 3),
        "objective": res.records["objective"][-1].reshape(shape),
        "param_norm2": norm2.reshape(shape),
        "ridge_loss": np.reshape(ridge, shape),
        "mean_y2": np.reshape(y2, shape),
    }


def merge_init_trap(configs, results) -> dict:
    """Arrays indexed ``[activation, weight decay, signal, seed]`` (``loss`` has the
    recorded step after the activation and weight decay axes), with the coordinates
    ``activations``, ``weight_decays``, ``signals`` and ``steps``."""
    keys = ("loss", "objective", "param_norm2", "ridge_loss", "mean_y2")
    out = {key: np.stack([r[key] for r in results]) for key in keys}
    out["activations"] = np.array([c["activation"] for c in configs])
    out["weight_decays"] = np.array(configs[0]["weight_decays"])
    out["signals"] = np.array(configs[0]["signals"])
    out["steps"] = results[0]["steps"]
    return out


experiment(
    "init-trap",
    shards=init_trap_shards,
    merge=merge_init_trap,
    description="Ziyin et al. 2022 Fig. 3: deep ReLU/tanh nets trapped at zero",
)(run_init_trap_shard)

"""The condensation workload ``condense-5-50-1`` (Zhou et al. 2022, Section 4.3,
Figure 3).

5-50-1 networks with biases and the activations tanh, x tanh x, x^2 tanh x, sigmoid and
softplus; every parameter drawn from ``N(0, 0.005^2)``; full-batch Adam on the half mean
squared error with the paper's learning rate per activation; 80 points ``x`` uniform in
``[-4, 2]^5``, ``y = sum_k 3.5 sin(5 x_k + 1)``, a fresh sample per seed. One shard per
activation, batched over seeds. Stored: the input weights ``(W_1 | b_1)`` of every
neuron at the recorded epochs and the training loss at every epoch. Trained in float32
on every device, as the paper did.
"""

from __future__ import annotations

import numpy as np

from ..data import sine_task
from ..experiments import experiment
from ..nets import mlp_spec, train_mlp
from ..scale import by_scale

__all__ = [
    "CONDENSE_ACTIVATIONS",
    "condense_shards",
    "run_condense_shard",
    "merge_condense",
]

#: (activation, Adam learning rate) of Zhou et al. 2022, Figure 3 (a)-(e).
CONDENSE_ACTIVATIONS = (
    ("tanh", 1e-3),
    ("xtanh", 1e-3),
    ("x2tanh", 1e-3),
    ("sigmoid", 8e-4),
    ("softplus", 2.5e-4),
)


def condense_shards(scale: str) -> list:
    """One config per activation."""
    steps = by_scale(ci=100, default=1000, full=3000, scale=scale)
    epochs = [e for e in (0, 10, 20, 50, 100, 200, 300, 500, 1000, 2000, 3000)]
    common = dict(
        dtype="float32",
        n=80,
        dim=5,
        width=50,
        init_std=0.005,
        amplitude=3.5,
        frequency=5.0,
        phase=1.0,
        low=-4.0,
        high=2.0,
        steps=steps,
        record_epochs=[e for e in epochs if e <= steps],
        seeds=by_scale(ci=4, default=16, full=64, scale=scale),
    )
    return [dict(common, activation=a, lr=lr) for a, lr in CONDENSE_ACTIVATIONS]


def run_condense_shard(config: dict, device=None) -> dict:
    """Train one activation of ``condense-5-50-1`` for every seed at once."""
    n_seeds = config["seeds"]
    tasks = [
        sine_task(
            config["n"],
            config["dim"],
            amplitude=config["amplitude"],
            frequency=config["frequency"],
            phase=config["phase"],
            low=config["low"],
            high=config["high"],
            seed=s,
        )
        for s in range(n_seeds)
    ]
    spec = mlp_spec(
        config["dim"], [config["width"]], 1, activation=config["activation"], bias=True
    )
    res = train_mlp(
        spec,
        np.stack([t.X for t in tasks]),
        np.stack([t.y[:, None] for t in tasks]),
        seeds=[(s,) for s in range(n_seeds)],
        steps=config["steps"],
        lr=config["lr"],
        optimizer="adam",
        loss="half_mse",
        init="normal",
        init_std=config["init_std"],
        record_steps=config["record_epochs"],
        record=("loss", "input_weights1"),
        device=device,
        dtype=config["dtype"],
    )
    return {
        "input_weights": res.records["input_weights1"],
        "loss": np.vstack([res.batch_loss, res.records["loss"][-1:]]),
        "epochs": res.steps,
    }


def merge_condense(configs, results) -> dict:
    """``input_weights[activation, epoch, seed, neuron, :]`` (the last entry of a
    neuron's input weight is its bias), ``loss[activation, epoch, seed]`` at every
    epoch ``0..steps``, with the coordinates ``activations``, ``lrs`` and ``epochs``."""
    return {
        "input_weights": np.stack([r["input_weights"] for r in results]),
        "loss": np.stack([r["loss"] for r in results]),
        "activations": np.array([c["activation"] for c in configs]),
        "lrs": np.array([c["lr"] for c in configs]),
        "epochs": results[0]["epochs"],
    }


experiment(
    "condense-5-50-1",
    shards=condense_shards,
    merge=merge_condense,
    description="Zhou et al. 2022 Fig. 3: 5-50-1 nets, small init, Adam; input weights",
)(run_condense_shard)

"""Benchmark of the batched training engine (issue 13): ratios measured side by side
in one run, printed (not a timed test).

The workload is the ``init-trap`` sweep at ``ci`` scale (every network of every shard:
two hidden layers of width 32 with biases, ReLU and tanh, full-batch gradient descent
with an L2 term, one data set per network), in the sweep's own precision (float32)
and, for comparison, in float64.

(a) ``dln.train_mlp`` (one batched model per shard, as the runner trains it: one shard
    per activation, the weight decays, signals and seeds batched) against a
    per-network Python loop: a plain ``torch.nn`` model and ``torch.optim.SGD`` for
    each network in turn, what a PyTorch user writes first; target >= 5.
(b) against the ``torch.func`` ensembling recipe: ``stack_module_state`` + ``vmap`` +
    ``functional_call`` + ``grad``, with the same per-network weight decay and data;
    target >= 1.
(c) the sweep's rate of matrix-product FLOPs (forward and backward) as a fraction of
    the rate of one large matrix product (2048 x 2048, same precision, same threads)
    measured in the same run; target >= 25% on a CPU, >= 50% on a GPU.
(d) on a GPU, the wall time of the paper-scale sweep (400 networks, n = 1000, 10^4
    steps); target <= 10 s on one H200. Skipped without a GPU (said so).

Every time is the minimum over ``--repeat`` interleaved repetitions (the machine may
be shared). Before the figures, the effect of ``torch.set_num_threads`` and
``torch.set_flush_denormal`` on the batched engine is measured and the fastest setting
is used for everything else. The last line reads ``batched/loop = X, batched/vmap = Y,
matmul fraction = Z``.

Run: ``python benchmarks/bench_training.py`` (about two minutes on 2 CPU cores);
``--device cuda`` runs (a)-(c) on the GPU (the matrix-product reference is then
8192^3). Outputs measured on the H200 lent to this project are in
``benchmarks/results/``.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

import dln
from dln.workloads import init_trap_shards

DTYPES = {"float32": torch.float32, "float64": torch.float64}
DEVICE = "cpu"  # --device: where (a)-(c) run; (d) always runs on the GPU


def shard_data(config):
    """The networks of one shard: data, targets, seeds, weight decays (as the
    workload builds them)."""
    X, Y, seeds, wds = [], [], [], []
    for g in config["weight_decays"]:
        for signal in config["signals"]:
            for s in range(config["seeds"]):
                task = dln.gaussian_task(config["n"], config["dim"], signal, seed=s)
                X.append(task.X)
                Y.append(task.y[:, None])
                seeds.append((s,))
                wds.append(g)
    return np.stack(X), np.stack(Y), seeds, np.array(wds)


def spec_of(config):
    return dln.mlp_spec(
        config["dim"],
        [config["width"]] * config["hidden_layers"],
        1,
        activation=config["activation"],
    )


def batched(configs, data, dtype, steps):
    for config, (X, Y, seeds, wds) in zip(configs, data):
        dln.train_mlp(
            spec_of(config),
            X,
            Y,
            seeds=seeds,
            steps=steps,
            lr=config["lr"],
            weight_decay=wds,
            record_steps=[0, steps],
            dtype=dtype,
            device=DEVICE,
        )


def torch_models(config, seeds, dtype):
    spec = spec_of(config)
    models = []
    act = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh}[config["activation"]]
    for seed in seeds:
        p = {k: v[0] for k, v in dln.init_mlp(spec, [seed]).items()}
        layers = []
        for i, (out, inp) in enumerate(spec.layer_shapes, start=1):
            lin = torch.nn.Linear(inp, out)
            with torch.no_grad():
                lin.weight.copy_(torch.as_tensor(p[f"W{i}"]))
                lin.bias.copy_(torch.as_tensor(p[f"b{i}"]))
            layers += [lin, act()] if i < spec.n_layers else [lin]
        models.append(torch.nn.Sequential(*layers).to(DTYPES[dtype]).to(DEVICE))
    return models


def loop(configs, data, dtype, steps):
    """One plain torch.nn model + torch.optim.SGD per network, one after another."""
    for config, (X, Y, seeds, wds) in zip(configs, data):
        for k, model in enumerate(torch_models(config, seeds, dtype)):
            gamma = float(wds[k])
            x = torch.as_tensor(X[k], dtype=DTYPES[dtype], device=DEVICE)
            y = torch.as_tensor(Y[k], dtype=DTYPES[dtype], device=DEVICE)
            opt = torch.optim.SGD(model.parameters(), lr=config["lr"])
            for _ in range(steps):
                opt.zero_grad()
                loss = ((model(x) - y) ** 2).mean()
                loss = loss + gamma * sum((p * p).sum() for p in model.parameters())
                loss.backward()
                opt.step()


def vmap_recipe(configs, data, dtype, steps):
    """The torch.func ensembling recipe, one ensemble per shard."""
    from torch.func import functional_call, grad, stack_module_state, vmap

    for config, (X, Y, seeds, wds) in zip(configs, data):
        models = torch_models(config, seeds, dtype)
        params, buffers = stack_module_state(models)
        base = models[0].to("meta")
        x = torch.as_tensor(X, dtype=DTYPES[dtype], device=DEVICE)
        y = torch.as_tensor(Y, dtype=DTYPES[dtype], device=DEVICE)
        gammas = torch.as_tensor(wds, dtype=DTYPES[dtype], device=DEVICE)
        lr = config["lr"]

        def objective(p, b, xi, yi, gamma):
            out = functional_call(base, (p, b), (xi,))
            return ((out - yi) ** 2).mean() + gamma * sum(
                (v * v).sum() for v in p.values()
            )

        step_grad = vmap(grad(objective))
        for _ in range(steps):
            grads = step_grad(params, buffers, x, y, gammas)
            with torch.no_grad():
                for name in params:
                    params[name] -= lr * grads[name]


def sweep_flops(configs, steps):
    """Matrix-product FLOPs of forward and backward passes (biases, activations and the
    optimiser not counted)."""
    total = 0
    for config in configs:
        spec = spec_of(config)
        per_sample = 0
        for i, (out, inp) in enumerate(spec.layer_shapes):
            per_sample += 2 * out * inp * (3 if i > 0 else 2)  # fwd, dW, and dX
        nets = len(config["weight_decays"]) * len(config["signals"]) * config["seeds"]
        total += per_sample * config["n"] * nets * steps
    return total


def matmul_rate(dtype, size=2048):
    if DEVICE != "cpu":
        size = 8192  # a GPU needs a larger product to reach its rate
    a = torch.randn(size, size, dtype=DTYPES[dtype], device=DEVICE)
    b = torch.randn(size, size, dtype=DTYPES[dtype], device=DEVICE)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(5))
    return 2 * size**3 / best


def _timed(fn):
    if DEVICE != "cpu":
        torch.cuda.synchronize()
    t = time.perf_counter()
    fn()
    if DEVICE != "cpu":
        torch.cuda.synchronize()
    return time.perf_counter() - t


def interleaved(fns, repeat):
    """Minimum time of each function over ``repeat`` rounds, run in turn."""
    best = {name: float("inf") for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            best[name] = min(best[name], _timed(fn))
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--steps", type=int, default=None, help="default: ci steps")
    parser.add_argument(
        "--device", default="cpu", help="where (a)-(c) run: cpu (default) or cuda"
    )
    args = parser.parse_args()
    global DEVICE
    DEVICE = args.device
    if DEVICE != "cpu" and not torch.cuda.is_available():
        parser.error(f"--device {DEVICE}: no GPU on this machine")
    configs = init_trap_shards("ci")
    steps = args.steps or configs[0]["steps"]
    data = [shard_data(c) for c in configs]
    nets = sum(len(d[2]) for d in data)
    print(
        f"init-trap at ci scale: {len(configs)} shards, {nets} networks, n = "
        f"{configs[0]['n']}, {steps} steps; load average {os.getloadavg()}"
    )
    print(
        f"torch {torch.__version__}, {os.cpu_count()} CPU cores, CUDA: "
        f"{torch.cuda.is_available()}"
    )

    # settings: threads and denormal flushing, measured on the batched engine
    settings = {}
    cpu_threads = sorted({1, os.cpu_count() or 1}) if DEVICE == "cpu" else []
    for threads in cpu_threads:
        for flush in (False, True):
            torch.set_num_threads(threads)
            torch.set_flush_denormal(flush)
            settings[(threads, flush)] = min(
                _timed(lambda: batched(configs, data, "float32", steps))
                for _ in range(args.repeat)
            )
    for (threads, flush), t in settings.items():
        print(
            f"  batched float32: {threads} thread(s), flush denormals {flush}: "
            f"{t:.3f} s"
        )
    if settings:
        threads, flush = min(settings, key=settings.get)
        torch.set_num_threads(threads)
        torch.set_flush_denormal(flush)
        print(f"chosen: {threads} thread(s), flush denormals {flush}")
    else:
        print(f"(a)-(c) on {DEVICE}: {torch.cuda.get_device_name(0)}")

    flops = sweep_flops(configs, steps)
    results = {}
    for dtype in ("float32", "float64"):
        times = interleaved(
            {
                "batched": lambda: batched(configs, data, dtype, steps),
                "loop": lambda: loop(configs, data, dtype, steps),
                "vmap": lambda: vmap_recipe(configs, data, dtype, steps),
            },
            args.repeat,
        )
        peak = matmul_rate(dtype)
        rate = flops / times["batched"]
        results[dtype] = (
            times["loop"] / times["batched"],
            times["vmap"] / times["batched"],
            rate / peak,
        )
        print(
            f"{dtype}: batched {times['batched']:.3f} s, loop {times['loop']:.3f} s, "
            f"vmap {times['vmap']:.3f} s; sweep {rate / 1e9:.1f} GFLOP/s, one "
            f"{2048 if DEVICE == 'cpu' else 8192}^3 product {peak / 1e9:.1f} GFLOP/s"
        )
        print(
            f"  {dtype}: batched/loop = {results[dtype][0]:.2f}, batched/vmap = "
            f"{results[dtype][1]:.2f}, matmul fraction = {results[dtype][2]:.2f}"
        )
    # context for (c): one larger shard (every network of the ReLU half of the sweep
    # at default scale; at full scale on a GPU), a few steps
    big_scale = "default" if DEVICE == "cpu" else "full"
    big = init_trap_shards(big_scale)[:1]
    big_data = [shard_data(c) for c in big]
    for dtype in ("float32", "float64"):
        batched(big, big_data, dtype, 2)
        t = min(_timed(lambda: batched(big, big_data, dtype, 20)) for _ in range(2))
        rate = sweep_flops(big, 20) / t
        print(
            f"  {big_scale}-scale ReLU shard ({len(big_data[0][2])} networks, n = "
            f"{big[0]['n']}), {dtype}: {rate / 1e9:.1f} GFLOP/s, matmul fraction "
            f"{rate / matmul_rate(dtype):.2f}"
        )
    if torch.cuda.is_available():
        full = init_trap_shards("full")
        t = time.perf_counter()
        for c in full:
            X, Y, seeds, wds = shard_data(c)
            dln.train_mlp(
                spec_of(c),
                X,
                Y,
                seeds=seeds,
                steps=c["steps"],
                lr=c["lr"],
                weight_decay=wds,
                record_steps=[0, c["steps"]],
                device="cuda",
                dtype="float32",
            )
        torch.cuda.synchronize()
        print(
            f"(d) paper-scale init-trap on {torch.cuda.get_device_name(0)}: "
            f"{time.perf_counter() - t:.1f} s"
        )
    else:
        print("(d) no GPU on this machine: the paper-scale GPU timing was not measured")
    a, b, c = results["float32"]
    print(f"batched/loop = {a:.2f}, batched/vmap = {b:.2f}, matmul fraction = {c:.2f}")


if __name__ == "__main__":
    main()

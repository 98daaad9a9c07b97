"""Training many small networks at once: weights stacked on a leading axis, one batched
torch model.

Two objectives: the exact expected loss (:func:`train_exact`, gradient descent on Eq. 9
with the noise averaged out exactly) and the sampled loss (:func:`train_sampled`,
minibatch SGD with real noise draws, as in practice). Both run on CUDA when available
(``device=None``) and on the CPU otherwise, in float64, seeded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import finite_array, positive_int, positive_scalar, samples
from .loss import NOISE_KINDS, loss_kernel
from .network import NetworkSpec, network_spec
from .stats import as_stats, data_stats

__all__ = [
    "TrainResult",
    "init_weights",
    "train_exact",
    "train_sampled",
    "optimise_batched",
    "check_init",
    "OPTIMIZERS",
]

OPTIMIZERS = ("gd", "adam", "lbfgs")


@dataclass(frozen=True)
class TrainResult:
    """Outcome of a batched training run.

    Attributes
    ----------
    weights : list of arrays
        ``[W_1, ..., W_D, U]``, each with a leading axis of length ``n_nets``.
    loss : ndarray, shape (n_nets,)
        Exact expected loss of every network at the end.
    history : ndarray, shape (len(steps), n_nets)
        Exact expected loss at the recorded steps.
    steps : ndarray
        The recorded step numbers (0 is the initialisation).
    device : str
        Where the run happened.
    """

    weights: list
    loss: np.ndarray
    history: np.ndarray
    steps: np.ndarray
    device: str

    @property
    def n_nets(self) -> int:
        return self.loss.shape[0]

    def network(self, k: int) -> list:
        """The weight list ``[W_1, ..., W_D, U]`` of network ``k``."""
        return [W[k] for W in self.weights]


def _device(device):
    import torch

    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but CUDA is not available")
    return torch.device(device)


def init_weights(n_nets, input_dim, spec: NetworkSpec, *, init_scale, seed) -> list:
    """Gaussian initialisation of ``n_nets`` networks: entries ``N(0, init_scale^2 /
    fan_in)``.

    ``init_scale = 1`` is the Kaiming/LeCun scale of a linear layer; small values start
    near the origin.
    """
    n_nets = positive_int(n_nets, "n_nets")
    input_dim = positive_int(input_dim, "input_dim")
    init_scale = positive_scalar(init_scale, "init_scale", allow_zero=True)
    rng = np.random.default_rng(seed)
    fan_in = (input_dim,) + spec.widths
    weights = [
        rng.standard_normal((n_nets, w, f)) * init_scale / np.sqrt(f)
        for w, f in zip(spec.widths, fan_in[:-1])
    ]
    weights.append(
        rng.standard_normal((n_nets, spec.widths[-1]))
        * init_scale
        / np.sqrt(spec.widths[-1])
    )
    return weights


def check_init(init, n_nets, input_dim, spec):
    """Check initial weights ``[W_1, ..., W_D, U]`` with a leading axis ``n_nets``
    against ``spec``; return float arrays."""
    shapes = [
        (n_nets, w, f) for w, f in zip(spec.widths, (input_dim,) + spec.widths[:-1])
    ] + [(n_nets, spec.widths[-1])]
    if len(init) != len(shapes):
        raise ValueError(f"init must hold {len(shapes)} arrays; got {len(init)}")
    out = []
    for i, (W, shape) in enumerate(zip(init, shapes)):
        W = finite_array(W, f"init[{i}]")
        if W.shape != shape:
            raise ValueError(f"init[{i}] must have shape {shape}; got {W.shape}")
        out.append(W)
    return out


def _record_points(steps, record_every):
    record_every = (
        max(1, steps // 200)
        if record_every is None
        else positive_int(record_every, "record_every")
    )
    return set(range(0, steps + 1, record_every)) | {steps}


def _run(params, step_fn, exact_fn, steps, record_every, device):
    import torch

    marks = _record_points(steps, record_every)
    rec_steps, history = [], []
    for t in range(steps + 1):
        if t in marks:
            with torch.no_grad():
                history.append(exact_fn().cpu().numpy())
            rec_steps.append(t)
        if t < steps:
            step_fn()
    weights = [P.detach().cpu().numpy() for P in params]
    return TrainResult(
        weights, history[-1], np.array(history), np.array(rec_steps), str(device)
    )


def _common(
    stats,
    depth,
    width,
    gamma,
    sigma2,
    n_nets,
    steps,
    lr,
    optimizer,
    init,
    init_scale,
    seed,
    device,
    label_scale=None,
):
    import torch

    spec = network_spec(depth, width, gamma, sigma2)
    n_nets = positive_int(n_nets, "n_nets")
    steps = positive_int(steps, "steps")
    lr = positive_scalar(lr, "lr")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}; got {optimizer!r}")
    dev = _device(device)
    if init is None:
        init = init_weights(n_nets, stats.dim, spec, init_scale=init_scale, seed=seed)
    else:
        init = check_init(init, n_nets, stats.dim, spec)
    params = [
        torch.tensor(W, dtype=torch.float64, device=dev, requires_grad=True)
        for W in init
    ]
    A0 = torch.tensor(np.array(stats.A0), dtype=torch.float64, device=dev)
    Exy, Ey2 = np.array(stats.Exy), stats.Ey2
    if label_scale is not None:
        # network n sees the labels scaled by c_n: E[xy] -> c_n E[xy], E[y^2] -> c_n^2
        c = finite_array(label_scale, "label_scale", ndim=1)
        if c.shape != (n_nets,) or np.any(c <= 0):
            raise ValueError(
                f"label_scale must hold {n_nets} positive values (one per network); "
                f"got shape {c.shape}"
            )
        Exy = c[:, None] * Exy
        Ey2 = torch.tensor(c**2 * Ey2, dtype=torch.float64, device=dev)
    Exy = torch.tensor(Exy, dtype=torch.float64, device=dev)
    eye = lambda n: torch.eye(n, dtype=torch.float64, device=dev)  # noqa: E731

    def exact():
        return loss_kernel(params, A0, Exy, Ey2, spec.gammas, spec.sigma2s, eye)

    return spec, params, exact, dev, steps, lr


def _optimizer(params, optimizer, lr):
    import torch

    if optimizer == "gd":
        return torch.optim.SGD(params, lr=lr)
    if optimizer == "adam":
        return torch.optim.Adam(params, lr=lr)
    return torch.optim.LBFGS(
        params,
        lr=lr,
        max_iter=20,
        history_size=50,
        line_search_fn="strong_wolfe",
        tolerance_grad=1e-14,
        tolerance_change=1e-16,
    )


def train_exact(
    A0,
    Exy=None,
    Ey2=None,
    *,
    depth,
    width,
    gamma,
    sigma2,
    n_nets=16,
    steps=2000,
    lr=1e-2,
    optimizer="gd",
    init=None,
    init_scale=1.0,
    seed=0,
    device=None,
    record_every=None,
    label_scale=None,
) -> TrainResult:
    """Minimise the exact expected loss (paper Eq. 9) for ``n_nets`` independent
    initialisations at once.

    Parameters
    ----------
    A0, Exy, Ey2 : data moments, or a :class:`DataStats` as ``A0``
    depth, width, gamma, sigma2 : architecture, as in :func:`dln.expected_loss` (weight
    decay may be 0)
    n_nets : int
        Number of networks trained side by side.
    steps, lr, optimizer : int, float, {"gd", "adam", "lbfgs"}
        Full-batch steps on the sum of the networks' losses (the networks do not
        interact: the sum's gradient is each network's own gradient; "lbfgs" makes one
        call of 20 inner iterations per step).
    init : list of arrays, optional
        Initial weights with a leading axis ``n_nets``; otherwise :func:`init_weights`
        with ``init_scale``.
    seed : int
        Seed of the initialisation.
    device : str, optional
        ``"cpu"`` or ``"cuda"``; default CUDA when available.
    record_every : int, optional
        Record the loss every this many steps (default: about 200 records).
    label_scale : 1-d array of ``n_nets`` positive floats, optional
        Train network ``n`` on the labels scaled by ``label_scale[n]`` (``E[xy]`` times
        ``c_n``, ``E[y^2]`` times ``c_n^2``): many signal strengths in one batch. The
        recorded losses are then each network's loss on its own scaled labels.

    Raises
    ------
    ValueError
        On invalid moments, architecture, ``init`` shapes, optimiser, or a
        ``label_scale`` that is not ``n_nets`` positive finite values.
    """
    stats = as_stats(A0, Exy, Ey2)
    spec, params, exact, dev, steps, lr = _common(
        stats,
        depth,
        width,
        gamma,
        sigma2,
        n_nets,
        steps,
        lr,
        optimizer,
        init,
        init_scale,
        seed,
        device,
        label_scale,
    )
    return optimise_batched(
        params,
        exact,
        steps=steps,
        lr=lr,
        optimizer=optimizer,
        record_every=record_every,
        device=dev,
    )


def optimise_batched(
    params, loss_fn, *, steps, lr, optimizer, record_every, device
) -> TrainResult:
    """Full-batch optimisation of many independent problems at once, unvalidated.

    The engine behind :func:`train_exact` (and the brute force with biases):
    ``params`` is a list of leaf tensors with ``requires_grad`` and a leading batch
    axis, ``loss_fn()`` returns the batch of losses (shape ``(n,)``); each step
    minimises their sum (the problems do not interact, so its gradient is each
    problem's own). The recorded losses are ``loss_fn()`` values.
    """
    opt = _optimizer(params, optimizer, lr)

    def closure():
        opt.zero_grad()
        total = loss_fn().sum()
        total.backward()
        return total

    def step():
        opt.step(closure)

    return _run(params, step, loss_fn, steps, record_every, device)


def train_sampled(
    X,
    y,
    *,
    depth,
    width,
    gamma,
    sigma2,
    noise="dropout",
    n_nets=16,
    steps=2000,
    lr=1e-2,
    batch_size=32,
    optimizer="gd",
    init=None,
    init_scale=1.0,
    seed=0,
    device=None,
    record_every=None,
) -> TrainResult:
    """Minibatch training with sampled noise (real dropout or Gaussian), as a
    practitioner would train.

    Each step draws a minibatch of ``batch_size`` samples (independently for every
    network) and fresh noise for every sample, neuron and network, and takes a step on
    ``mean (f(x) - y)^2 + weight decay``. The recorded losses are the *exact* expected
    losses on the empirical distribution of ``(X, y)``, so the run can be compared with
    the solver.
    """
    import torch

    X, y = samples(X, y)
    if noise not in NOISE_KINDS:
        raise ValueError(f"noise must be one of {NOISE_KINDS}; got {noise!r}")
    batch_size = positive_int(batch_size, "batch_size")
    if optimizer == "lbfgs":
        raise ValueError(
            "train_sampled uses stochastic steps: optimizer must be 'gd' or 'adam'"
        )
    stats = data_stats(X, y)
    spec, params, exact, dev, steps, lr = _common(
        stats,
        depth,
        width,
        gamma,
        sigma2,
        n_nets,
        steps,
        lr,
        optimizer,
        init,
        init_scale,
        seed,
        device,
    )
    opt = _optimizer(params, optimizer, lr)
    gen = torch.Generator(device=dev).manual_seed(int(seed) + 1)
    Xt = torch.tensor(X, dtype=torch.float64, device=dev)
    yt = torch.tensor(y, dtype=torch.float64, device=dev)
    n = Xt.shape[0]

    def draw_noise(shape, s2):
        if noise == "gaussian":
            return 1 + np.sqrt(s2) * torch.randn(
                shape, generator=gen, dtype=torch.float64, device=dev
            )
        q = 1.0 / (1.0 + s2)
        return (
            torch.rand(shape, generator=gen, dtype=torch.float64, device=dev) < q
        ).to(torch.float64) / q

    def step():
        idx = torch.randint(
            0, n, (len(params[0]), batch_size), generator=gen, device=dev
        )
        h = Xt[idx]  # (n_nets, batch, d)
        for W, s2 in zip(params[:-1], spec.sigma2s):
            h = h @ W.swapaxes(-1, -2)
            h = h * draw_noise(h.shape, s2)
        out = (h @ params[-1][..., None])[..., 0]
        mse = ((out - yt[idx]) ** 2).mean(dim=-1)
        reg = spec.gammas[-1] * (params[-1] ** 2).sum(-1)
        for g, W in zip(spec.gammas[:-1], params[:-1]):
            reg = reg + g * (W**2).sum((-1, -2))
        opt.zero_grad()
        (mse + reg).sum().backward()
        opt.step()

    return _run(params, step, exact, steps, record_every, dev)

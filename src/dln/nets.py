"""Many fully connected networks trained at once: weights stacked on a leading axis,
one batched model on the CPU or a GPU.

A network is described by an :class:`MLPSpec` (built with :func:`mlp_spec`): input
dimension, hidden widths, output dimension, one activation per hidden layer (a name
from ``ACTIVATIONS`` or any elementwise torch function), optional biases and
optional residual connections. Layer ``l`` (``l = 1, ..., L+1``, the last one linear,
the output) maps ``h_{l-1}`` to

    ``z_l = W_l h_{l-1} + b_l``,   ``h_l = sigma_l(z_l)`` (``+ h_{l-1}`` if residual),

the convention of Zhou et al. 2022 (Eq. 2; residual form of Section 4.3). A residual
connection is added to every hidden layer whose input and output widths agree.

:func:`train_mlp` trains ``N`` independent networks as one model: every parameter of
every network lives in one ``(N, P)`` tensor, the forward pass is a chain of batched
matrix products, and the optimisers (full-batch gradient descent, minibatch SGD with
optional momentum, Adam) act on all networks with per-network learning rates and weight
decays. Each network has its own seed (:func:`network_seeds`), which fixes its
initialisation and its minibatch order: network ``k`` follows the same trajectory
whether it is trained alone or in a batch (up to the last bits of the float arithmetic).

Weight decay comes in two clearly different forms (``decay=``):

``"loss"``
    an explicit term ``gamma * ||theta||^2`` in the objective, as in the papers
    (Ziyin et al. 2022, Eq. 1), so the gradient gains ``2 gamma theta``;
``"decoupled"``
    the step shrinks the parameters, ``theta <- (1 - lr * gamma) theta``, before the
    optimiser's update (``torch.optim.AdamW``'s rule; for SGD the same shrink).

Precision: float64 by default on the CPU (exactness checks), float32 by default on
CUDA; TF32 matrix products only when ``tf32=True`` is passed (and recorded).

Example: the condensation experiments (Zhou et al. 2022, Section 4.3): 5-50-1 networks
with bias, parameters drawn from ``N(0, 0.005^2)``, full-batch Adam on the half mean
squared error, the input weights ``(W_1 | b_1)`` of every neuron saved at chosen
epochs, eight seeds at once:

>>> import numpy as np
>>> import dln
>>> rng = np.random.default_rng(0)
>>> X = rng.uniform(-4, 2, size=(80, 5))
>>> y = (3.5 * np.sin(5 * X + 1)).sum(axis=1)
>>> spec = dln.mlp_spec(5, [50], 1, activation="xtanh", bias=True)
>>> res = dln.train_mlp(
...     spec,
...     X,
...     y,
...     seeds=dln.network_seeds(0, 8),
...     steps=100,
...     optimizer="adam",
...     lr=1e-3,
...     loss="half_mse",
...     init="normal",
...     init_std=0.005,
...     record_steps=[0, 50, 100],
...     record=("loss", "input_weights1"),
... )
>>> res.records["input_weights1"].shape  # (epochs, networks, neurons, d + 1)
(3, 8, 50, 6)
>>> bool(np.all(res.records["loss"][-1] < res.records["loss"][0]))
True
"""

from __future__ import annotations

import numbers
import re
import time
from dataclasses import dataclass, field

import numpy as np

from ._validation import (
    finite_array,
    per_network,
    positive_int,
    positive_scalar,
    seed_list,
    seed_tuple,
)
from .optim import DECAY_KINDS as DECAYS
from .optim import OPTIMIZER_KINDS as OPTIMIZERS
from .optim import BatchedOptimizer

__all__ = [
    "ACTIVATIONS",
    "INITS",
    "LOSSES",
    "OPTIMIZERS",
    "DECAYS",
    "activation_function",
    "MLPSpec",
    "mlp_spec",
    "network_seeds",
    "init_mlp",
    "mlp_forward",
    "train_mlp",
    "MLPResult",
    "torch_device",
    "torch_dtype",
]

#: Names of the built-in activations (``swish`` is an alias of ``silu``, ``identity``
#: of ``linear``).
ACTIVATIONS = (
    "linear",
    "relu",
    "tanh",
    "silu",
    "gelu",
    "sigmoid",
    "softplus",
    "xtanh",
    "x2tanh",
)
_ALIASES = {"swish": "silu", "identity": "linear"}
#: Initialisation schemes of :func:`init_mlp`.
INITS = ("kaiming", "lecun", "torch", "normal")
#: Training losses of :func:`train_mlp`.
LOSSES = ("mse", "half_mse", "cross_entropy")


def activation_function(activation):
    """The elementwise torch function of an activation.

    Parameters
    ----------
    activation : str or callable
        A name from ``dln.nets.ACTIVATIONS`` (or the aliases ``swish``, ``identity``):
        ``xtanh`` is ``x tanh(x)`` and ``x2tanh`` is ``x^2 tanh(x)`` (Zhou et al. 2022,
        Section 4); ``gelu`` is the exact (erf) form; ``softplus`` is
        ``log(1 + e^x)``. A callable is returned as it is (it must act elementwise on
        tensors).

    Returns
    -------
    callable
        ``f(tensor) -> tensor``.
    """
    if callable(activation):
        return activation
    name = _activation_name(activation)
    import torch
    import torch.nn.functional as F

    return {
        "linear": lambda x: x,
        "relu": torch.relu,
        "tanh": torch.tanh,
        "silu": F.silu,
        "gelu": F.gelu,
        "sigmoid": torch.sigmoid,
        "softplus": F.softplus,
        "xtanh": lambda x: x * torch.tanh(x),
        "x2tanh": lambda x: x * x * torch.tanh(x),
    }[name]


def _activation_name(activation) -> str:
    if not isinstance(activation, str):
        raise ValueError(
            f"an activation is a name from {ACTIVATIONS} or a callable; "
            f"got {activation!r}"
        )
    name = _ALIASES.get(activation.lower(), activation.lower())
    if name not in ACTIVATIONS:
        raise ValueError(
            f"unknown activation {activation!r}; the built-in ones are {ACTIVATIONS} "
            "(or pass a callable)"
        )
    return name


@dataclass(frozen=True)
class MLPSpec:
    """A fully connected architecture; build it with :func:`mlp_spec`.

    Attributes
    ----------
    input_dim : int
        The input dimension ``d``.
    output_dim : int
        The number of outputs.
    widths : tuple of int
        Hidden widths ``m_1, ..., m_L`` (empty: a linear model).
    activations : tuple
        One activation (name or callable) per hidden layer.
    bias : bool
        Whether every layer, the output included, has a bias.
    residual : bool
        Whether hidden layers of equal input and output width add their input.
    """

    input_dim: int
    widths: tuple
    output_dim: int
    activations: tuple
    bias: bool
    residual: bool

    @property
    def n_layers(self) -> int:
        """Number of weight matrices, ``L + 1`` (the output layer included)."""
        return len(self.widths) + 1

    @property
    def layer_shapes(self) -> tuple:
        """``(out, in)`` of ``W_1, ..., W_{L+1}``."""
        dims = (self.input_dim,) + tuple(self.widths) + (self.output_dim,)
        return tuple((dims[i + 1], dims[i]) for i in range(self.n_layers))

    @property
    def residual_layers(self) -> tuple:
        """For each hidden layer, whether it adds its input (residual connection)."""
        return tuple(
            self.residual and out == inp for out, inp in self.layer_shapes[:-1]
        )

    @property
    def param_shapes(self) -> dict:
        """The shape of each parameter of one network, ``W1``, ``b1``, ...,
        ``W{L+1}``, ``b{L+1}`` (input layer first; biases only with ``bias=True``)."""
        shapes = {}
        for i, (out, inp) in enumerate(self.layer_shapes, start=1):
            shapes[f"W{i}"] = (out, inp)
            if self.bias:
                shapes[f"b{i}"] = (out,)
        return shapes

    @property
    def n_params(self) -> int:
        """Number of parameters of one network."""
        return int(sum(np.prod(s) for s in self.param_shapes.values()))

    def describe(self) -> dict:
        """A JSON-friendly description (callable activations by their name)."""
        return {
            "input_dim": self.input_dim,
            "widths": list(self.widths),
            "output_dim": self.output_dim,
            "activations": [
                a if isinstance(a, str) else getattr(a, "__name__", repr(a))
                for a in self.activations
            ],
            "bias": self.bias,
            "residual": self.residual,
        }


def mlp_spec(
    input_dim, widths, output_dim=1, *, activation="relu", bias=True, residual=False
) -> MLPSpec:
    """Validate a fully connected architecture.

    Parameters
    ----------
    input_dim : int
        Input dimension ``d``.
    widths : int or sequence of int
        Hidden widths (an int is one hidden layer; an empty sequence is a linear
        model).
    output_dim : int
        Number of outputs (classes for the cross-entropy loss).
    activation : str or callable, or a sequence of them
        One for every hidden layer, or one per hidden layer (see
        :func:`activation_function`); the output layer is linear.
    bias : bool
        Biases in every layer (the paper's input weight of a neuron is ``(w, b)``).
    residual : bool
        Add ``h_{l-1}`` to the output of every hidden layer whose width equals its
        input width (Zhou et al. 2022, Section 4.3).

    Examples
    --------
    >>> spec = mlp_spec(5, [32, 32], 1, activation="tanh")
    >>> spec.layer_shapes, spec.n_params
    (((32, 5), (32, 32), (1, 32)), 1281)
    """
    input_dim = positive_int(input_dim, "input_dim")
    output_dim = positive_int(output_dim, "output_dim")
    if isinstance(widths, (numbers.Integral, np.integer)) and not isinstance(
        widths, bool
    ):
        widths = (widths,)
    try:
        widths = tuple(widths)
    except TypeError as exc:
        raise ValueError(
            f"widths must be an int or a sequence of ints; got {widths!r}"
        ) from exc
    widths = tuple(positive_int(w, f"widths[{i}]") for i, w in enumerate(widths))
    if isinstance(activation, str) or callable(activation):
        acts = (activation,) * len(widths)
    else:
        acts = tuple(activation)
        if len(acts) != len(widths):
            raise ValueError(
                f"activation must be one activation or {len(widths)} (one per hidden "
                f"layer); got {len(acts)}"
            )
    acts = tuple(a if callable(a) else _activation_name(a) for a in acts)
    for name, flag in (("bias", bias), ("residual", residual)):
        if not isinstance(flag, (bool, np.bool_)):
            raise ValueError(f"{name} must be True or False; got {flag!r}")
    return MLPSpec(input_dim, widths, output_dim, acts, bool(bias), bool(residual))


def network_seeds(seed, n_nets) -> list:
    """Seeds of ``n_nets`` networks of one sweep: ``[(seed, 0), ..., (seed, n-1)]``.

    A network's seed (an int or a tuple of ints) fixes its initialisation and its
    minibatch order; network ``k`` of a batch is reproduced alone by passing
    ``seeds=[(seed, k)]``. The streams are ``numpy.random.default_rng((0, *seed))`` for
    the initialisation of :func:`init_mlp`, ``default_rng((1, *seed))`` for the
    minibatch permutations of :func:`train_mlp` and ``default_rng((2, *seed))`` for
    :func:`dln.init_model`.

    Examples
    --------
    >>> network_seeds(3, 2)
    [(3, 0), (3, 1)]
    """
    seed = seed_tuple(seed, "seed")
    n_nets = positive_int(n_nets, "n_nets")
    return [seed + (k,) for k in range(n_nets)]


def _rng(seed: tuple, stream: int):
    return np.random.default_rng((stream,) + seed)


_INIT_STREAM, _BATCH_STREAM = 0, 1


def init_mlp(spec: MLPSpec, seeds, *, init="kaiming", scale=1.0, std=None) -> dict:
    """Initial parameters of ``len(seeds)`` networks, each drawn from its own seed.

    Parameters
    ----------
    spec : MLPSpec
        The architecture.
    seeds : sequence
        One seed per network (ints or tuples of ints, see :func:`network_seeds`).
    init : {"kaiming", "lecun", "torch", "normal"}
        ``kaiming``: ``W ~ N(0, 2 / fan_in)``, zero biases (He et al. 2015, the ReLU
        gain); ``lecun``: ``W ~ N(0, 1 / fan_in)``, zero biases; ``torch``: weights and
        biases ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``, the default of
        ``torch.nn.Linear``; ``normal``: every parameter, biases included,
        ``N(0, std^2)`` as in Zhou et al. 2022 (Section 4.1), with ``std`` one number
        or one per layer (e.g. ``[m ** -1.5 for m in widths]`` for their
        ``N(0, 1 / m^3)``).
    scale : float or sequence of float
        Multiplies every drawn value (standard deviation or range); one value or one
        per network (a sweep of the initialisation scale in one batch). ``scale < 1``
        with ``kaiming`` is a "small" initialisation.
    std : float or sequence of float, optional
        Standard deviations of the ``normal`` scheme.

    Returns
    -------
    dict
        ``W1``, ``b1``, ... (see :attr:`MLPSpec.param_shapes`), float64, each with a
        leading axis of length ``len(seeds)``.
    """
    if not isinstance(spec, MLPSpec):
        raise ValueError(f"spec must be an MLPSpec (see dln.mlp_spec); got {spec!r}")
    seeds = seed_list(seeds)
    n = len(seeds)
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}; got {init!r}")
    scales = per_network(scale, n, "scale", allow_zero=True)
    if init == "normal":
        if std is None:
            raise ValueError("init='normal' needs std (one value or one per layer)")
        stds = np.broadcast_to(
            np.asarray(
                [positive_scalar(s, "std", allow_zero=True) for s in np.ravel(std)]
            ),
            (spec.n_layers,),
        )
        if np.ndim(std) and len(np.ravel(std)) not in (1, spec.n_layers):
            raise ValueError(
                f"std must be one value or {spec.n_layers} (one per layer); got "
                f"{len(np.ravel(std))}"
            )
    elif std is not None:
        raise ValueError(f"std is used only with init='normal'; got init={init!r}")
    shapes = spec.param_shapes
    out = {name: np.empty((n,) + s) for name, s in shapes.items()}
    for k, seed in enumerate(seeds):
        rng = _rng(seed, _INIT_STREAM)
        for i, (m, fan_in) in enumerate(spec.layer_shapes, start=1):
            if init == "torch":
                bound = scales[k] / np.sqrt(fan_in)
                out[f"W{i}"][k] = rng.uniform(-bound, bound, (m, fan_in))
                if spec.bias:
                    out[f"b{i}"][k] = rng.uniform(-bound, bound, m)
                continue
            if init == "normal":
                sd = scales[k] * stds[i - 1]
            else:
                gain = 2.0 if init == "kaiming" else 1.0
                sd = scales[k] * np.sqrt(gain / fan_in)
            out[f"W{i}"][k] = rng.standard_normal((m, fan_in)) * sd
            if spec.bias:
                out[f"b{i}"][k] = (
                    rng.standard_normal(m) * sd if init == "normal" else 0.0
                )
    return out


def torch_device(device=None):
    """``torch.device`` from ``None`` (CUDA when available, else CPU), ``"cpu"``,
    ``"cuda"`` or ``"cuda:i"``; a ``ValueError`` if CUDA is asked for and absent."""
    import torch

    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"unknown device {device!r}") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but CUDA is not available")
    return dev


def torch_dtype(dtype, device):
    """float64 on the CPU and float32 on other devices unless ``dtype`` says otherwise
    (``"float32"``, ``"float64"`` or a torch dtype)."""
    import torch

    if dtype is None:
        return torch.float64 if device.type == "cpu" else torch.float32
    table = {"float32": torch.float32, "float64": torch.float64}
    if isinstance(dtype, str) and dtype in table:
        return table[dtype]
    if dtype in (torch.float32, torch.float64):
        return dtype
    raise ValueError(f"dtype must be 'float32' or 'float64'; got {dtype!r}")


class _Layout:
    """Where each parameter of a network sits in the flat ``(N, P)`` vector."""

    def __init__(self, spec: MLPSpec):
        self.spec = spec
        self.slices = {}
        start = 0
        for name, shape in spec.param_shapes.items():
            size = int(np.prod(shape))
            self.slices[name] = (start, start + size, shape)
            start += size
        self.size = start
        self.acts = [activation_function(a) for a in spec.activations]

    def flatten(self, params: dict, n: int) -> np.ndarray:
        flat = np.empty((n, self.size))
        for name, (a, b, shape) in self.slices.items():
            if name not in params:
                raise ValueError(f"params lacks {name!r}")
            arr = finite_array(params[name], f"params[{name!r}]")
            if arr.shape != (n,) + shape:
                raise ValueError(
                    f"params[{name!r}] must have shape {(n,) + shape}; got {arr.shape}"
                )
            flat[:, a:b] = arr.reshape(n, -1)
        extra = set(params) - set(self.slices)
        if extra:
            raise ValueError(f"params has unknown entries {sorted(extra)}")
        return flat

    def view(self, flat, name):
        a, b, shape = self.slices[name]
        return flat[:, a:b].reshape((flat.shape[0],) + shape)

    def unflatten(self, flat) -> dict:
        return {name: self.view(flat, name) for name in self.slices}

    def forward(self, flat, X):
        """Outputs ``(N, n, out)`` of the networks in ``flat`` on ``X`` (``(S, n, d)``
        with ``S`` 1 or N)."""
        import torch

        spec = self.spec
        h = X
        n_hidden = len(spec.widths)
        for i in range(1, spec.n_layers + 1):
            W = self.view(flat, f"W{i}")
            if h.shape[0] != W.shape[0]:
                h = h.expand(W.shape[0], -1, -1)
            if spec.bias:
                z = torch.baddbmm(
                    self.view(flat, f"b{i}")[:, None, :], h, W.transpose(1, 2)
                )
            else:
                z = torch.bmm(h, W.transpose(1, 2))
            if i > n_hidden:
                return z
            a = self.acts[i - 1](z)
            h = a + h if spec.residual_layers[i - 1] else a
        raise AssertionError("unreachable")

    @property
    def manual(self) -> bool:
        """Whether every activation has a hand-written derivative (fast path)."""
        return all(isinstance(a, str) for a in self.spec.activations)

    def loss_and_grad(self, flat, X, y, kind):
        """Per-network losses ``(N,)`` and their gradient ``(N, P)``, by a
        hand-written backward pass (the same formulas as autograd's, see
        :func:`_activation_backward`)."""
        import torch

        spec = self.spec
        N = flat.shape[0]
        n_hidden = len(spec.widths)
        hs, zs, acts = [X if X.shape[0] == N else X.expand(N, -1, -1)], [], []
        for i in range(1, spec.n_layers + 1):
            W = self.view(flat, f"W{i}")
            h = hs[-1]
            if spec.bias:
                z = torch.baddbmm(
                    self.view(flat, f"b{i}")[:, None, :], h, W.transpose(1, 2)
                )
            else:
                z = torch.bmm(h, W.transpose(1, 2))
            if i > n_hidden:
                break
            name = spec.activations[i - 1]
            a, aux = _activation_forward(name, z)
            zs.append(z)
            acts.append((a, aux))
            hs.append(a + h if spec.residual_layers[i - 1] else a)
        out, n = z, X.shape[1]
        if kind == "cross_entropy":
            logp = torch.log_softmax(out, dim=-1)
            yy = y if y.shape[0] == N else y.expand(N, -1)
            losses = -logp.gather(-1, yy[..., None])[..., 0].mean(dim=-1)
            g = torch.exp(logp)
            g.scatter_add_(-1, yy[..., None], torch.full_like(g[..., :1], -1.0))
            g.div_(n)
        else:
            r = out - y
            losses = (r * r).sum(dim=-1).mean(dim=-1)
            if kind == "half_mse":
                losses = 0.5 * losses
                g = r / n
            else:
                g = r * (2.0 / n)
        grad = torch.empty_like(flat)
        g_residual = None  # dL/dh_{i-1} of the layer above, for residual layers
        for i in range(spec.n_layers, 0, -1):
            a0, b0, _ = self.slices[f"W{i}"]
            h = hs[i - 1]
            grad[:, a0:b0] = torch.bmm(g.transpose(1, 2), h).reshape(N, -1)
            if spec.bias:
                a1, b1, _ = self.slices[f"b{i}"]
                grad[:, a1:b1] = g.sum(dim=1)
            if i == 1:
                break
            gh = torch.bmm(g, self.view(flat, f"W{i}"))
            if i <= n_hidden and spec.residual_layers[i - 1]:
                gh = gh + g_residual
            name = spec.activations[i - 2]
            a, aux = acts[i - 2]
            g_residual = gh
            g = _activation_backward(name, gh, zs[i - 2], a, aux)
        return losses, grad


def _auto_chunk(spec: MLPSpec, batch: int, dtype, device) -> int:
    """Networks per pass: all on a GPU; on the CPU about 8 MB of intermediates."""
    if device.type != "cpu":
        return 1 << 30
    itemsize = 8 if str(dtype).endswith("64") else 4
    per_net = 4 * batch * (sum(spec.widths) + spec.output_dim) * itemsize
    return max(1, (8 << 20) // max(per_net, 1))


def _chunked_loss_and_grad(layout, theta, X, y, kind, chunk):
    """Losses ``(N,)`` and gradient ``(N, P)``, ``chunk`` networks at a time."""
    import torch

    def one(th, Xc, yc):
        if layout.manual:
            return layout.loss_and_grad(th, Xc, yc, kind)
        th = th.detach().requires_grad_()
        with torch.enable_grad():
            losses = _losses(kind, layout.forward(th, Xc), yc)
            (grad,) = torch.autograd.grad(losses.sum(), th)
        return losses.detach(), grad

    N = theta.shape[0]
    if chunk >= N:
        return one(theta, X, y)
    losses = torch.empty(N, dtype=theta.dtype, device=theta.device)
    grad = torch.empty_like(theta)
    for c0 in range(0, N, chunk):
        c1 = min(N, c0 + chunk)
        Xc = X[c0:c1] if X.shape[0] == N else X
        yc = y[c0:c1] if y.shape[0] == N else y
        losses[c0:c1], grad[c0:c1] = one(theta[c0:c1], Xc, yc)
    return losses, grad


def _activation_forward(name, z):
    """``(a, aux)``: the activation and what its derivative needs."""
    import torch
    import torch.nn.functional as F

    if name == "linear":
        return z, None
    if name == "relu":
        return torch.relu(z), None
    if name == "tanh":
        return torch.tanh(z), None
    if name == "sigmoid":
        return torch.sigmoid(z), None
    if name == "silu":
        return F.silu(z), None
    if name == "gelu":
        return F.gelu(z), None
    if name == "softplus":
        return F.softplus(z), None
    t = torch.tanh(z)
    if name == "xtanh":
        return z * t, t
    return z * z * t, t  # x2tanh


def _activation_backward(name, g, z, a, t):
    """``g * sigma'(z)``: autograd's own backward kernels for the standard
    activations; the product rule for ``x tanh x`` and ``x^2 tanh x``."""
    import torch

    aten = torch.ops.aten
    if name == "linear":
        return g
    if name == "relu":
        return aten.threshold_backward(g, a, 0)
    if name == "tanh":
        return aten.tanh_backward(g, a)
    if name == "sigmoid":
        return aten.sigmoid_backward(g, a)
    if name == "silu":
        return aten.silu_backward(g, z)
    if name == "gelu":
        return aten.gelu_backward(g, z)
    if name == "softplus":
        return aten.softplus_backward(g, z, 1.0, 20.0)
    sech2 = 1 - t * t
    if name == "xtanh":  # d/dz z t = t + z (1 - t^2)
        return g * (t + z * sech2)
    return g * (z * (2 * t + z * sech2))  # d/dz z^2 t = 2 z t + z^2 (1 - t^2)


def _losses(kind, out, y):
    """Per-network loss ``(N,)`` of outputs ``(N, n, c)`` against targets."""
    import torch

    if kind == "cross_entropy":
        logp = torch.log_softmax(out, dim=-1)
        if y.shape[0] != out.shape[0]:
            y = y.expand(out.shape[0], -1)
        return -logp.gather(-1, y[..., None])[..., 0].mean(dim=-1)
    sq = ((out - y) ** 2).sum(dim=-1).mean(dim=-1)
    return 0.5 * sq if kind == "half_mse" else sq


def _accuracy(out, y):
    if y.shape[0] != out.shape[0]:
        y = y.expand(out.shape[0], -1)
    return (out.argmax(dim=-1) == y).double().mean(dim=-1)


def _prepare(spec, X, y, n_nets, loss, dev, dtype, label):
    """Data as ``X (S, n, d)`` and targets ``(S', n, out)`` (regression) or
    ``(S', n)`` integer labels, ``S, S'`` in ``{1, N}``."""
    import torch

    X = finite_array(X, f"X{label}")
    if X.ndim == 2:
        X = X[None]
    if X.ndim != 3 or X.shape[-1] != spec.input_dim:
        raise ValueError(
            f"X{label} must have shape (n, {spec.input_dim}) or (n_nets, n, "
            f"{spec.input_dim}); got {X.shape}"
        )
    if X.shape[0] not in (1, n_nets):
        raise ValueError(
            f"X{label} holds {X.shape[0]} data sets; expected 1 or one per network "
            f"({n_nets})"
        )
    n = X.shape[1]
    if n < 1:
        raise ValueError(f"X{label} holds no samples")
    if loss == "cross_entropy":
        yarr = np.asarray(y)
        if yarr.ndim == 1:
            yarr = yarr[None]
        if (
            yarr.ndim != 2
            or yarr.shape[1] != n
            or yarr.shape[0] not in (1, n_nets)
            or not np.issubdtype(yarr.dtype, np.integer)
        ):
            raise ValueError(
                f"y{label} must hold integer class labels of shape ({n},) or "
                f"({n_nets}, {n}); got shape {yarr.shape} of {yarr.dtype}"
            )
        if yarr.min() < 0 or yarr.max() >= spec.output_dim:
            raise ValueError(
                f"y{label} labels must lie in [0, {spec.output_dim}); got "
                f"[{yarr.min()}, {yarr.max()}]"
            )
        yt = torch.as_tensor(yarr, dtype=torch.long, device=dev)
    else:
        yarr = finite_array(y, f"y{label}")
        out = spec.output_dim
        if yarr.shape == (n,) and out == 1:
            yarr = yarr[None, :, None]
        elif yarr.shape == (n, out):
            yarr = yarr[None]
        elif not (
            yarr.ndim == 3 and yarr.shape[0] == n_nets and yarr.shape[1:] == (n, out)
        ):
            raise ValueError(
                f"y{label} must have shape ({n},) (one output), ({n}, {out}), or "
                f"({n_nets}, {n}, {out}) (one target set per network); got "
                f"{yarr.shape}"
            )
        yt = torch.as_tensor(yarr, dtype=dtype, device=dev)
    return torch.as_tensor(X, dtype=dtype, device=dev), yt


def mlp_forward(spec: MLPSpec, params: dict, X):
    """Outputs of a stack of networks: ``(N, n, output_dim)``.

    Parameters
    ----------
    spec : MLPSpec
    params : dict of arrays
        As returned by :func:`init_mlp` or held in ``MLPResult.params`` (leading axis
        ``N``).
    X : array, shape (n, d) or (N, n, d)
        Inputs, shared or one set per network.

    Returns
    -------
    ndarray
        float64 outputs, computed on the CPU.
    """
    import torch

    if not isinstance(spec, MLPSpec):
        raise ValueError(f"spec must be an MLPSpec; got {spec!r}")
    if not isinstance(params, dict) or "W1" not in params:
        raise ValueError("params must be a dict of stacked parameters with 'W1'")
    n = np.shape(params["W1"])[0]
    layout = _Layout(spec)
    flat = torch.as_tensor(layout.flatten(params, n))
    Xt = finite_array(X, "X")
    if Xt.ndim == 2:
        Xt = Xt[None]
    if Xt.ndim != 3 or Xt.shape[-1] != spec.input_dim or Xt.shape[0] not in (1, n):
        raise ValueError(
            f"X must have shape (n, {spec.input_dim}) or ({n}, n, {spec.input_dim}); "
            f"got {np.shape(X)}"
        )
    with torch.no_grad():
        return layout.forward(flat, torch.as_tensor(Xt)).numpy()


@dataclass(frozen=True)
class MLPResult:
    """Outcome of :func:`train_mlp`.

    Attributes
    ----------
    spec : MLPSpec
        The architecture.
    params : dict
        Final parameters by name (``W1``, ``b1``, ...), each with a leading axis of
        length ``n_nets`` (float64).
    steps : ndarray of int
        The recorded steps (0 is the initialisation; a step is one parameter update).
    records : dict
        Each recorded quantity with shape ``(len(steps), n_nets, ...)``.
    batch_loss : ndarray, shape (steps, n_nets)
        The data loss of the batch used by each update, at the parameters before it
        (full batch: the training loss at every step, at no extra cost).
    seeds : list of tuple
        The networks' seeds.
    device : str
        Where the run happened.
    dtype : str
        The precision of the run.
    settings : dict
        The optimiser settings (JSON-friendly), TF32 included.
    wall_time_s : float
        Seconds spent in the training loop.
    """

    spec: MLPSpec
    params: dict
    steps: np.ndarray
    records: dict
    batch_loss: np.ndarray
    seeds: list
    device: str
    dtype: str
    settings: dict = field(default_factory=dict)
    wall_time_s: float = 0.0

    @property
    def n_nets(self) -> int:
        """Number of networks."""
        return len(self.seeds)

    @property
    def loss(self) -> np.ndarray:
        """The training loss of every network at the last recorded step."""
        return self.records["loss"][-1]

    def network(self, k: int) -> dict:
        """Parameters of network ``k`` (no leading axis)."""
        if not 0 <= k < self.n_nets:
            raise ValueError(f"k must lie in [0, {self.n_nets}); got {k}")
        return {name: arr[k] for name, arr in self.params.items()}

    def predict(self, X) -> np.ndarray:
        """Outputs ``(n_nets, n, output_dim)`` of the trained networks on ``X``."""
        return mlp_forward(self.spec, self.params, X)


_RECORD_RE = re.compile(r"^(input_weights|W|b)(\d+)$")
_SCALAR_RECORDS = ("loss", "objective", "test_loss", "accuracy", "test_accuracy")


def _check_records(record, spec, loss, has_test):
    if isinstance(record, str):
        record = (record,)
    names = []
    for r in record:
        if callable(r):
            names.append(r)
            continue
        if not isinstance(r, str):
            raise ValueError(f"record entries are names or callables; got {r!r}")
        m = _RECORD_RE.match(r)
        if r in _SCALAR_RECORDS:
            if r.startswith("test") and not has_test:
                raise ValueError(f"recording {r!r} needs X_test and y_test")
            if "accuracy" in r and loss != "cross_entropy":
                raise ValueError(f"{r!r} needs loss='cross_entropy'")
        elif r == "params":
            pass
        elif m is None or not 1 <= int(m.group(2)) <= spec.n_layers:
            raise ValueError(
                f"cannot record {r!r}: use {_SCALAR_RECORDS}, 'params', or 'W<l>', "
                f"'b<l>', 'input_weights<l>' with l in 1..{spec.n_layers}"
            )
        elif m.group(1) == "b" and not spec.bias:
            raise ValueError(f"cannot record {r!r}: the networks have no bias")
        names.append(r)
    if "loss" not in names:
        names.insert(0, "loss")
    return names


def _record_steps(record_steps, steps):
    if record_steps is None:
        marks = np.unique(np.linspace(0, steps, min(steps, 100) + 1).round())
        return [int(t) for t in marks]
    values = np.ravel(np.asarray(record_steps, dtype=object))
    if values.size == 0:
        raise ValueError("record_steps must hold at least one step")
    marks = set()
    for t in values:
        if isinstance(t, bool) or not isinstance(t, (numbers.Integral, np.integer)):
            raise ValueError(f"record_steps must be integers; got {t!r}")
        if not 0 <= t <= steps:
            raise ValueError(f"record_steps must lie in [0, steps={steps}]; got {t}")
        marks.add(int(t))
    return sorted(marks)


def train_mlp(
    spec: MLPSpec,
    X,
    y,
    *,
    seeds,
    steps,
    lr,
    optimizer="gd",
    batch_size=None,
    momentum=0.0,
    betas=(0.9, 0.999),
    eps=1e-8,
    weight_decay=0.0,
    decay="loss",
    decay_biases=True,
    loss="mse",
    init="kaiming",
    init_scale=1.0,
    init_std=None,
    params=None,
    record_steps=None,
    record=("loss",),
    X_test=None,
    y_test=None,
    device=None,
    dtype=None,
    tf32=False,
    chunk=None,
    progress=False,
) -> MLPResult:
    """Train ``len(seeds)`` independent networks at once.

    Parameters
    ----------
    spec : MLPSpec
        The architecture (:func:`mlp_spec`).
    X : array, shape (n, d) or (N, n, d)
        Training inputs, shared by all networks or one set per network.
    y : array
        Regression targets of shape ``(n,)`` (one output), ``(n, out)`` or
        ``(N, n, out)`` (one target set per network, with shared or per-network
        ``X``); for ``loss="cross_entropy"`` integer labels ``(n,)`` or ``(N, n)``.
    seeds : sequence
        One seed per network (:func:`network_seeds`); it fixes the initialisation and
        the minibatch order, so network ``k`` is the same alone or in a batch.
    steps : int
        Number of parameter updates (full-batch: epochs).
    lr : float or sequence of float
        Learning rate, one value or one per network.
    optimizer : {"gd", "sgd", "adam"}
        ``gd`` and ``sgd`` are the same update (with ``momentum`` as in
        ``torch.optim.SGD``); Adam follows ``torch.optim.Adam`` (``betas``, ``eps``).
        Minibatches are used when ``batch_size < n``.
    momentum : float
        Heavy-ball momentum of ``gd``/``sgd`` (0: none).
    betas, eps : tuple of float, float
        Adam's decay rates and its ``epsilon``.
    batch_size : int, optional
        Minibatch size; default (or ``>= n``) full batch. Each network draws a fresh
        permutation of its samples every epoch from its own seed; the last minibatch
        of an epoch may be smaller.
    weight_decay : float or sequence of float
        ``gamma``, one value or one per network (a weight-decay sweep in one batch).
    decay : {"loss", "decoupled"}
        ``loss``: the objective is ``loss + gamma * ||theta||^2`` (the papers' form);
        ``decoupled``: ``theta <- (1 - lr gamma) theta`` before each update (AdamW).
    decay_biases : bool
        Whether biases are decayed too (default, as in the papers' ``||theta||^2``).
    loss : {"mse", "half_mse", "cross_entropy"}
        ``mse``: ``(1/n) sum_i ||f(x_i) - y_i||^2``; ``half_mse``: half of it, the
        ``R`` of Zhou et al. 2022 (Eq. 3); ``cross_entropy``: mean of
        ``-log softmax(f(x_i))[y_i]``.
    init, init_scale, init_std : see :func:`init_mlp`
        Ignored when ``params`` is given.
    params : dict of arrays, optional
        Initial parameters with a leading axis ``N``.
    record_steps : sequence of int, optional
        Steps at which to record (default: about 100 evenly spaced, 0 and ``steps``
        included).
    record : sequence
        What to record: ``"loss"`` (always; on the full training set),
        ``"objective"`` (loss plus the L2 term), ``"test_loss"``, ``"accuracy"``,
        ``"test_accuracy"``, ``"params"``, ``"W<l>"``, ``"b<l>"``,
        ``"input_weights<l>"`` (the rows ``(W_l | b_l)``: each neuron's input weight
        with its bias, shape ``(m_l, m_{l-1} + 1)``), or a callable
        ``f(params: dict of tensors) -> tensor (N, ...)``.
    X_test, y_test : arrays, optional
        Held-out data for ``test_loss`` / ``test_accuracy``.
    device : str, optional
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``; default CUDA when available.
    dtype : {"float32", "float64"}, optional
        Default float64 on the CPU, float32 on CUDA.
    tf32 : bool
        Allow TF32 matrix products on CUDA during this run (off by default).
    chunk : int, optional
        Networks per pass of the forward and backward computation. Default: all on a
        GPU; on the CPU as many as keep the pass's intermediate arrays within about
        8 MB, so that they stay in the processor's cache (measured about twice as fast
        as one pass over 24 networks of width 32 on 1000 samples). The results do not
        depend on it.
    progress : bool
        Show a tqdm progress bar over the steps.

    Returns
    -------
    MLPResult
    """
    import torch

    if not isinstance(spec, MLPSpec):
        raise ValueError(f"spec must be an MLPSpec (see dln.mlp_spec); got {spec!r}")
    seeds = seed_list(seeds)
    N = len(seeds)
    steps = int(positive_scalar(steps, "steps", allow_zero=True))
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}; got {optimizer!r}")
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}; got {loss!r}")
    if decay not in DECAYS:
        raise ValueError(f"decay must be one of {DECAYS}; got {decay!r}")
    lrs = per_network(lr, N, "lr", allow_zero=False)
    wds = per_network(weight_decay, N, "weight_decay", allow_zero=True)
    dev = torch_device(device)
    dt = torch_dtype(dtype, dev)
    Xt, yt = _prepare(spec, X, y, N, loss, dev, dt, "")
    n = Xt.shape[1]
    has_test = X_test is not None or y_test is not None
    if has_test:
        if X_test is None or y_test is None:
            raise ValueError("pass both X_test and y_test, or neither")
        Xv, yv = _prepare(spec, X_test, y_test, N, loss, dev, dt, "_test")
    names = _check_records(record, spec, loss, has_test)
    marks = _record_steps(record_steps, steps)
    if batch_size is None:
        batch_size = n
    batch_size = min(positive_int(batch_size, "batch_size"), n)
    full_batch = batch_size == n
    if chunk is not None:
        chunk = positive_int(chunk, "chunk")

    layout = _Layout(spec)
    init_used = "given" if params is not None else init
    if params is None:
        params = init_mlp(spec, seeds, init=init, scale=init_scale, std=init_std)
    flat0 = layout.flatten(params, N)
    theta = torch.tensor(flat0, dtype=dt, device=dev)
    mask = None
    if not decay_biases and spec.bias:
        mask = torch.ones(layout.size, dtype=dt, device=dev)
        for name, (a, b, _) in layout.slices.items():
            if name.startswith("b"):
                mask[a:b] = 0
    opt = BatchedOptimizer(
        [theta.data],
        optimizer,
        torch.tensor(lrs, dtype=dt, device=dev),
        torch.tensor(wds, dtype=dt, device=dev),
        decay=decay,
        decay_masks=[mask],
        momentum=momentum,
        betas=betas,
        eps=eps,
    )

    def recorded(th, name, train_loss):
        if callable(name):
            return name(layout.unflatten(th))
        if name == "loss":
            return train_loss
        if name == "objective":
            return train_loss + opt.penalty()
        if name == "params":
            return th.clone()
        if name == "accuracy":
            return _accuracy(layout.forward(th, Xt), yt)
        if name.startswith("test"):
            out = layout.forward(th, Xv)
            return (
                _accuracy(out, yv)
                if name == "test_accuracy"
                else _losses(loss, out, yv)
            )
        kind, layer = _RECORD_RE.match(name).groups()
        if kind != "input_weights":
            return layout.view(th, name).clone()
        W = layout.view(th, f"W{layer}")
        if not spec.bias:
            return W.clone()
        return torch.cat([W, layout.view(th, f"b{layer}")[..., None]], dim=-1)

    history = {
        name if isinstance(name, str) else f"callable{i}": []
        for i, name in enumerate(names)
    }
    keys = list(history)

    def record_all(th, train_loss):
        with torch.no_grad():
            if train_loss is None:
                train_loss = _losses(loss, layout.forward(th, Xt), yt)
            for key, name in zip(keys, names):
                history[key].append(recorded(th, name, train_loss))

    arangeN = torch.arange(N, device=dev)[:, None]
    perms, cursor = None, n
    batch_rngs = [_rng(s, _BATCH_STREAM) for s in seeds] if not full_batch else None

    def next_batch():
        nonlocal perms, cursor
        if cursor >= n:
            perms = torch.as_tensor(
                np.stack([rng.permutation(n) for rng in batch_rngs]), device=dev
            )
            cursor = 0
        idx = perms[:, cursor : cursor + batch_size]
        cursor += batch_size
        Xb = Xt[arangeN if Xt.shape[0] == N else 0, idx]
        yb = yt[arangeN if yt.shape[0] == N else 0, idx]
        return Xb, yb

    if chunk is None:
        chunk = _auto_chunk(spec, batch_size, dt, dev)
    chunk = positive_int(chunk, "chunk")
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, desc="training", unit="step", leave=False)
    mark_set = set(marks)
    prev_tf32 = None
    if dev.type == "cuda":
        prev_tf32 = torch.backends.cuda.matmul.allow_tf32
        torch.backends.cuda.matmul.allow_tf32 = bool(tf32)
    curve = torch.empty((steps, N), dtype=dt, device=dev)
    start = time.perf_counter()
    try:
        for t in range(steps + 1):
            if t == steps:
                if t in mark_set:
                    record_all(theta.detach(), None)
                break
            Xb, yb = (Xt, yt) if full_batch else next_batch()
            data_loss, grad = _chunked_loss_and_grad(layout, theta, Xb, yb, loss, chunk)
            curve[t] = data_loss.detach()
            if t in mark_set:
                record_all(theta.detach(), data_loss.detach() if full_batch else None)
            opt.step([grad])
            if bar is not None:
                bar.update(1)
    finally:
        if prev_tf32 is not None:
            torch.backends.cuda.matmul.allow_tf32 = prev_tf32
        if bar is not None:
            bar.close()
    wall = time.perf_counter() - start
    records = {
        key: torch.stack(vals).detach().cpu().double().numpy()
        for key, vals in history.items()
    }
    final = theta.detach().cpu().double().numpy()
    settings = {
        "optimizer": optimizer,
        "steps": steps,
        "lr": lrs.tolist(),
        "batch_size": batch_size,
        "momentum": opt.momentum,
        "betas": [opt.b1, opt.b2],
        "eps": opt.eps,
        "weight_decay": wds.tolist(),
        "decay": decay,
        "decay_biases": bool(decay_biases),
        "loss": loss,
        "init": init_used,
        "tf32": bool(tf32) and dev.type == "cuda",
    }
    return MLPResult(
        spec=spec,
        params={k: np.array(v) for k, v in layout.unflatten(final).items()},
        steps=np.array(marks),
        records=records,
        batch_loss=curve.cpu().double().numpy(),
        seeds=seeds,
        device=str(dev),
        dtype=str(dt).replace("torch.", ""),
        settings=settings,
        wall_time_s=wall,
    )

"""Convolutional models for image data, several trained at once: a small residual CNN
and ResNet-18 for 32x32 images, each optionally ending in fully connected layers of a
chosen activation.

Batching without copies of the code: a model built with ``n_models=K`` holds ``K``
independent networks side by side. Every convolution is a grouped convolution with
``K`` groups (group ``k`` sees only network ``k``'s channels), every batch
normalisation has per-channel statistics (so per network), and the fully connected
head is a batched matrix product. The input images are shared; the output has shape
``(K, batch, classes)``. Every parameter therefore carries the networks on its leading
axis (``(K * C, ...)`` for convolutions and normalisations, ``(K, out, in)`` for the
head), which is what lets :class:`dln.optim.BatchedOptimizer` give each network its
own weight decay and learning rate. :func:`train_classifier` trains a sweep in chunks of
``chunk`` networks: all at once where memory allows, one at a time (``chunk=1``)
otherwise.

ResNet-18 here is the CIFAR variant of He et al. 2016 (3x3 stem, no max-pooling, four
stages of two basic blocks with 64, 128, 256, 512 channels, global average pooling;
11,173,962 parameters with ten classes), written out because torchvision is not a
dependency. ``classifier=(1024, 1024), activation="tanh"`` replaces its last layer by
the fully connected layers of Zhou et al. 2022 (Figure 2).

Each network is initialised from its own seed (:func:`init_model`), so network ``k`` is
the same alone or in a batch; the minibatch order is shared and fixed by ``data_seed``.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field

import numpy as np

from ._validation import (
    finite_array,
    per_network,
    positive_int,
    positive_scalar,
    seed_list,
)

__all__ = [
    "resnet18",
    "residual_cnn",
    "init_model",
    "train_classifier",
    "ClassifierResult",
    "CONV_INITS",
]

#: Initialisations of the convolutions: ``kaiming`` (normal, fan-out, ReLU gain, as
#: torchvision's ResNet) or ``glorot`` (normal, Zhou et al. 2022, Figure 2).
CONV_INITS = ("kaiming", "glorot")


@functools.cache
def _classes():
    """The torch modules, defined on first use so that ``import dln`` stays light."""
    import torch
    from torch import nn

    from .nets import activation_function

    class GroupedConv(nn.Conv2d):
        def __init__(self, k, cin, cout, size, stride=1):
            super().__init__(
                k * cin,
                k * cout,
                size,
                stride=stride,
                padding=size // 2,
                groups=k,
                bias=False,
            )

    class BasicBlock(nn.Module):
        def __init__(self, k, cin, cout, stride):
            super().__init__()
            self.conv1 = GroupedConv(k, cin, cout, 3, stride)
            self.bn1 = nn.BatchNorm2d(k * cout)
            self.conv2 = GroupedConv(k, cout, cout, 3, 1)
            self.bn2 = nn.BatchNorm2d(k * cout)
            self.shortcut = nn.Sequential()
            if stride != 1 or cin != cout:
                self.shortcut = nn.Sequential(
                    GroupedConv(k, cin, cout, 1, stride), nn.BatchNorm2d(k * cout)
                )

        def forward(self, x):
            out = torch.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return torch.relu(out + self.shortcut(x))

    class BatchedLinear(nn.Module):
        def __init__(self, k, fan_in, fan_out):
            super().__init__()
            self.weight = nn.Parameter(torch.empty(k, fan_out, fan_in))
            self.bias = nn.Parameter(torch.empty(k, fan_out))

        def forward(self, h):  # h: (K, B, fan_in)
            return torch.baddbmm(self.bias[:, None, :], h, self.weight.transpose(1, 2))

    class BatchedConvNet(nn.Module):
        """Stem, residual stages, global average pooling, fully connected head."""

        def __init__(
            self, k, in_channels, stem, stages, classifier, activation, classes
        ):
            super().__init__()
            self.n_models, self.in_channels = k, in_channels
            self.stem = nn.Sequential(
                GroupedConv(k, in_channels, stem, 3),
                nn.BatchNorm2d(k * stem),
                nn.ReLU(),
            )
            blocks, cin = [], stem
            for cout, n_blocks, stride in stages:
                for b in range(n_blocks):
                    blocks.append(BasicBlock(k, cin, cout, stride if b == 0 else 1))
                    cin = cout
            self.blocks = nn.Sequential(*blocks)
            self.features = cin
            widths = (cin,) + tuple(classifier) + (classes,)
            self.head = nn.ModuleList(
                BatchedLinear(k, widths[i], widths[i + 1])
                for i in range(len(widths) - 1)
            )
            self.act = activation_function(activation)

        def forward(self, x):  # x: (B, C, H, W), shared by the K networks
            x = x.repeat(1, self.n_models, 1, 1)
            h = self.blocks(self.stem(x))
            h = h.mean(dim=(2, 3))  # (B, K * features)
            h = h.reshape(h.shape[0], self.n_models, self.features).transpose(0, 1)
            for i, layer in enumerate(self.head):
                h = layer(h)
                if i < len(self.head) - 1:
                    h = self.act(h)
            return h  # (K, B, classes)

    return BatchedConvNet, GroupedConv, BatchedLinear


def _check_head(classifier, activation, num_classes, n_models):
    from .nets import activation_function

    num_classes = positive_int(num_classes, "num_classes")
    n_models = positive_int(n_models, "n_models")
    classifier = tuple(
        positive_int(w, f"classifier[{i}]") for i, w in enumerate(classifier)
    )
    activation_function(activation)  # validates the name
    return classifier, num_classes, n_models


def resnet18(
    num_classes=10,
    *,
    in_channels=3,
    width=64,
    classifier=(),
    activation="relu",
    n_models=1,
):
    """ResNet-18 for 32x32 images (the CIFAR variant), ``n_models`` at once.

    Parameters
    ----------
    num_classes : int
        Outputs of the last layer.
    in_channels : int
        Image channels.
    width : int
        Channels of the first stage (64 in ResNet-18; smaller for tests).
    classifier : sequence of int
        Hidden widths of fully connected layers between the pooled features and the
        output (``(1024, 1024)`` for Zhou et al. 2022, Figure 2); empty: one linear
        layer, the standard ResNet-18.
    activation : str or callable
        Activation of those hidden layers (the convolutional part uses ReLU).
    n_models : int
        Number of independent networks held side by side.

    Returns
    -------
    torch.nn.Module
        ``forward(x)`` maps images ``(B, C, H, W)`` to logits ``(n_models, B,
        num_classes)``. Initialise it with :func:`init_model`.
    """
    classifier, num_classes, n_models = _check_head(
        classifier, activation, num_classes, n_models
    )
    width = positive_int(width, "width")
    in_channels = positive_int(in_channels, "in_channels")
    net, _, _ = _classes()
    stages = [(width * 2**i, 2, 1 if i == 0 else 2) for i in range(4)]
    return net(
        n_models, in_channels, width, stages, classifier, activation, num_classes
    )


def residual_cnn(
    num_classes=10,
    *,
    in_channels=1,
    width=16,
    blocks=2,
    classifier=(),
    activation="relu",
    n_models=1,
):
    """A small residual CNN: a 3x3 stem, ``blocks`` basic blocks of ``width`` channels,
    global average pooling and a fully connected head; any image size (e.g. the 8x8
    digits).

    Parameters are as in :func:`resnet18`; the output has shape ``(n_models, B,
    num_classes)``.
    """
    classifier, num_classes, n_models = _check_head(
        classifier, activation, num_classes, n_models
    )
    width = positive_int(width, "width")
    blocks = positive_int(blocks, "blocks")
    in_channels = positive_int(in_channels, "in_channels")
    net, _, _ = _classes()
    return net(
        n_models,
        in_channels,
        width,
        [(width, blocks, 1)],
        classifier,
        activation,
        num_classes,
    )


def init_model(model, seeds, *, conv_init="kaiming", fc_std=None) -> None:
    """Initialise the networks of a batched model in place, network ``k`` from
    ``seeds[k]``.

    Parameters
    ----------
    model : torch.nn.Module
        From :func:`resnet18` or :func:`residual_cnn`.
    seeds : sequence
        One seed (int or tuple of ints) per network.
    conv_init : {"kaiming", "glorot"}
        Convolutions: ``N(0, 2 / fan_out)`` (torchvision's ResNet) or Glorot normal
        ``N(0, 2 / (fan_in + fan_out))``; batch normalisations start at weight 1, bias
        0.
    fc_std : float or sequence of float, optional
        Fully connected layers: ``None`` gives ``torch.nn.Linear``'s default
        ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` for weights and biases; a number (or one
        per layer) draws weights and biases from ``N(0, std^2)`` (Zhou et al. 2022 use
        ``std = m^(-3/2)``, with ``m`` the layer's width).
    """
    import torch

    net_cls, conv_cls, linear_cls = _classes()
    if not isinstance(model, net_cls):
        raise ValueError("model must come from dln.resnet18 or dln.residual_cnn")
    if conv_init not in CONV_INITS:
        raise ValueError(f"conv_init must be one of {CONV_INITS}; got {conv_init!r}")
    k = model.n_models
    seeds = seed_list(seeds)
    if len(seeds) != k:
        raise ValueError(
            f"seeds must hold one seed per network ({k}); got {len(seeds)}"
        )
    # a network's stream: numpy.random.default_rng((2, *seed))
    rngs = [np.random.default_rng((2,) + s) for s in seeds]
    heads = list(model.head)
    if fc_std is not None:
        stds = np.broadcast_to(np.ravel(np.asarray(fc_std, dtype=float)), (len(heads),))
        if np.ndim(fc_std) and np.size(fc_std) not in (1, len(heads)):
            raise ValueError(
                f"fc_std must be one value or {len(heads)} (one per layer)"
            )
        for s in stds:
            positive_scalar(s, "fc_std", allow_zero=True)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, conv_cls):
                w = module.weight  # (K * cout, cin, kh, kw)
                cout = w.shape[0] // k
                fan_in = w.shape[1] * w.shape[2] * w.shape[3]
                fan_out = cout * w.shape[2] * w.shape[3]
                std = (
                    np.sqrt(2.0 / fan_out)
                    if conv_init == "kaiming"
                    else np.sqrt(2.0 / (fan_in + fan_out))
                )
                draws = [r.standard_normal((cout,) + tuple(w.shape[1:])) for r in rngs]
                w.copy_(torch.as_tensor(np.concatenate(draws) * std))
            elif isinstance(module, torch.nn.BatchNorm2d):
                module.reset_parameters()
        for i, layer in enumerate(heads):
            fan_out, fan_in = layer.weight.shape[1:]
            for j, r in enumerate(rngs):
                if fc_std is None:
                    bound = 1 / np.sqrt(fan_in)
                    w = r.uniform(-bound, bound, (fan_out, fan_in))
                    b = r.uniform(-bound, bound, fan_out)
                else:
                    w = r.standard_normal((fan_out, fan_in)) * stds[i]
                    b = r.standard_normal(fan_out) * stds[i]
                layer.weight[j] = torch.as_tensor(w)
                layer.bias[j] = torch.as_tensor(b)


@dataclass(frozen=True)
class ClassifierResult:
    """Outcome of :func:`train_classifier`; arrays have one row per network.

    Attributes
    ----------
    train_loss : ndarray
        ``(N, epochs)``: the mean minibatch loss (cross-entropy, or the squared error
        with ``loss="mse"``) of each epoch (training mode).
    test_loss : ndarray
        ``(N, epochs)``: the same loss on the test set after each epoch (evaluation
        mode); ``nan`` without test data.
    test_accuracy : ndarray
        ``(N, epochs)``: the accuracy on the test set after each epoch.
    fc_weights : dict
        Epoch to array: at the epochs asked for (0 is the initialisation), the first
        fully connected layer's input weights with their biases,
        ``(N, m, features + 1)``.
    weight_decay : ndarray
        Each network's weight decay.
    test_outputs : ndarray or None
        ``(N, m, classes)``: the outputs (logits) on the test set after the last epoch
        (evaluation mode); ``None`` without test data.
    lr : ndarray
        Each network's learning rate.
    seeds : list
        Each network's seed.
    device : str
        Where the run happened.
    dtype : str
        Its precision.
    settings : dict
        The optimiser settings.
    wall_time_s : float
        Seconds of training.
    """

    train_loss: np.ndarray
    test_loss: np.ndarray
    test_accuracy: np.ndarray
    fc_weights: dict
    weight_decay: np.ndarray
    lr: np.ndarray
    seeds: list
    device: str
    dtype: str
    settings: dict = field(default_factory=dict)
    wall_time_s: float = 0.0
    test_outputs: np.ndarray | None = None


def train_classifier(
    build,
    X,
    y,
    *,
    seeds,
    epochs,
    lr,
    weight_decay=0.0,
    optimizer="sgd",
    momentum=0.9,
    decay="loss",
    loss="cross_entropy",
    batch_size=128,
    data_seed=0,
    chunk=None,
    X_test=None,
    y_test=None,
    record_fc_epochs=(),
    conv_init="kaiming",
    fc_std=None,
    device=None,
    dtype=None,
    progress=False,
) -> ClassifierResult:
    """Train a sweep of image classifiers, ``chunk`` networks per batched model.

    Parameters
    ----------
    build : callable
        ``build(n_models) -> model``, e.g.
        ``lambda k: dln.resnet18(10, n_models=k)``.
    X : array, shape (n, C, H, W)
        Training images (shared by every network).
    y : array of int, shape (n,)
        Labels.
    seeds : sequence
        One seed per network (initialisation).
    epochs : int
        Passes over the training set.
    lr, weight_decay : float or sequence of float
        One value or one per network (a weight-decay sweep).
    optimizer : {"sgd", "adam"}
        SGD with ``momentum`` (``torch.optim.SGD`` rule) or Adam.
    decay : {"loss", "decoupled"}
        ``loss``: ``gamma ||theta||^2`` in the objective (every parameter, batch
        normalisations included); ``decoupled``: AdamW-style shrinking.
    loss : {"cross_entropy", "mse"}
        ``cross_entropy``: mean of ``-log softmax(f(x))[y]``; ``mse``: mean of
        ``||f(x) - e_y||^2`` with ``e_y`` the one-hot label (the squared error of
        Ziyin et al. 2022, Eq. 1, summed over the outputs).
    batch_size : int
        Minibatch size; the order is a fresh permutation per epoch from ``data_seed``,
        the same for every network.
    chunk : int, optional
        Networks per batched model; 1 trains them one after another. Default: all at
        once, halved (and the chunk started again) whenever the device runs out of
        memory, so a sweep is batched where memory allows and looped otherwise.
    X_test, y_test : arrays, optional
        Test data, evaluated after every epoch.
    record_fc_epochs : sequence of int
        Epochs at which to save the first fully connected layer's input weights.
    conv_init, fc_std : see :func:`init_model`.
    device, dtype : as in :func:`dln.train_mlp` (float64 on the CPU by default).
    progress : bool
        A tqdm bar over epochs and chunks.

    Returns
    -------
    ClassifierResult
    """
    import torch

    from .nets import torch_device, torch_dtype
    from .optim import BatchedOptimizer

    if not callable(build):
        raise ValueError("build must be a callable n_models -> model")
    seeds = seed_list(seeds)
    n_nets = len(seeds)
    epochs = positive_int(epochs, "epochs")
    batch_size = positive_int(batch_size, "batch_size")
    auto_chunk = chunk is None
    chunk = n_nets if chunk is None else positive_int(chunk, "chunk")
    if optimizer not in ("sgd", "adam"):
        raise ValueError(f"optimizer must be 'sgd' or 'adam'; got {optimizer!r}")
    if loss not in ("cross_entropy", "mse"):
        raise ValueError(f"loss must be 'cross_entropy' or 'mse'; got {loss!r}")
    lrs = per_network(lr, n_nets, "lr", False)
    wds = per_network(weight_decay, n_nets, "weight_decay", True)
    X = finite_array(X, "X")
    if X.ndim != 4:
        raise ValueError(f"X must have shape (n, C, H, W); got {X.shape}")
    y = _labels(y, X.shape[0], "y")
    has_test = X_test is not None
    if has_test != (y_test is not None):
        raise ValueError("pass both X_test and y_test, or neither")
    if has_test:
        X_test = finite_array(X_test, "X_test")
        if X_test.ndim != 4 or X_test.shape[1:] != X.shape[1:]:
            raise ValueError(f"X_test must have shape (m,) + {X.shape[1:]}")
        y_test = _labels(y_test, X_test.shape[0], "y_test")
    fc_epochs = sorted({int(e) for e in record_fc_epochs})
    if fc_epochs and not 0 <= fc_epochs[0] <= fc_epochs[-1] <= epochs:
        raise ValueError(f"record_fc_epochs must lie in [0, {epochs}]")
    dev = torch_device(device)
    dt = torch_dtype(dtype, dev)
    Xt = torch.as_tensor(X, dtype=dt, device=dev)
    yt = torch.as_tensor(y, device=dev)
    if has_test:
        Xv = torch.as_tensor(X_test, dtype=dt, device=dev)
        yv = torch.as_tensor(y_test, device=dev)
    n = Xt.shape[0]
    train_loss = np.full((n_nets, epochs), np.nan)
    test_loss = np.full((n_nets, epochs), np.nan)
    test_acc = np.full((n_nets, epochs), np.nan)
    fc = {e: [] for e in fc_epochs}
    outputs = [None] * n_nets

    def sample_losses(logits, labels):
        """``(k, B)`` per-sample losses of logits ``(k, B, classes)``."""
        if loss == "mse":
            onehot = torch.nn.functional.one_hot(labels, logits.shape[-1])
            return ((logits - onehot.to(logits.dtype)) ** 2).sum(-1)
        k, b, c = logits.shape
        return torch.nn.functional.cross_entropy(
            logits.reshape(-1, c), labels.repeat(k), reduction="none"
        ).reshape(k, b)

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=epochs * -(-n_nets // chunk), desc="epochs", leave=False)
    start = time.perf_counter()

    def train_chunk(ids):
        """Train the networks ``ids`` as one batched model; their fully connected
        snapshots by epoch."""
        fc_chunk = {e: [] for e in fc_epochs}
        k = len(ids)
        model = build(k)
        net_cls = _classes()[0]
        if not isinstance(model, net_cls) or model.n_models != k:
            raise ValueError(
                f"build({k}) must return a dln.resnet18 / dln.residual_cnn model "
                f"with n_models={k}"
            )
        if model.in_channels != X.shape[1]:
            raise ValueError(
                f"the model takes {model.in_channels} channels; X has {X.shape[1]}"
            )
        classes = model.head[-1].weight.shape[1]
        top = max(y.max(), y_test.max() if has_test else 0)
        if y.min() < 0 or top >= classes:
            raise ValueError(f"labels must lie in [0, {classes}); got up to {top}")
        init_model(model, [seeds[i] for i in ids], conv_init=conv_init, fc_std=fc_std)
        model = model.to(device=dev, dtype=dt)
        params = [p.view(k, -1) for p in model.parameters()]
        opt = BatchedOptimizer(
            params,
            optimizer,
            torch.tensor(lrs[ids], dtype=dt, device=dev),
            torch.tensor(wds[ids], dtype=dt, device=dev),
            decay=decay,
            momentum=momentum if optimizer == "sgd" else 0.0,
        )
        gen = np.random.default_rng(data_seed)

        def snapshot(layer=model.head[0]):
            return torch.cat([layer.weight, layer.bias[..., None]], -1).detach()

        if 0 in fc_chunk:
            fc_chunk[0].append(snapshot().cpu().double().numpy())
        for epoch in range(epochs):
            model.train()
            perm = torch.as_tensor(gen.permutation(n), device=dev)
            total = torch.zeros(k, dtype=dt, device=dev)
            batches = 0
            for b0 in range(0, n, batch_size):
                idx = perm[b0 : b0 + batch_size]
                logits = model(Xt[idx])  # (k, B, classes)
                losses = sample_losses(logits, yt[idx]).mean(dim=1)
                grads = torch.autograd.grad(losses.sum(), list(model.parameters()))
                opt.step([g.reshape(k, -1) for g in grads])
                total += losses.detach()
                batches += 1
            train_loss[ids, epoch] = (total / batches).cpu().numpy()
            if has_test:
                model.eval()
                with torch.no_grad():
                    correct = torch.zeros(k, dtype=dt, device=dev)
                    lsum = torch.zeros(k, dtype=dt, device=dev)
                    last = []
                    for b0 in range(0, Xv.shape[0], batch_size):
                        logits = model(Xv[b0 : b0 + batch_size])
                        lab = yv[b0 : b0 + batch_size]
                        lsum += sample_losses(logits, lab).sum(dim=1)
                        correct += (logits.argmax(-1) == lab).sum(dim=1)
                        if epoch == epochs - 1:
                            last.append(logits.cpu().double().numpy())
                    test_loss[ids, epoch] = (lsum / Xv.shape[0]).cpu().numpy()
                    test_acc[ids, epoch] = (correct / Xv.shape[0]).cpu().numpy()
                    if last:
                        for j, i in enumerate(ids):
                            outputs[i] = np.concatenate([o[j] for o in last])
            if epoch + 1 in fc_chunk:
                fc_chunk[epoch + 1].append(snapshot().cpu().double().numpy())
            if bar is not None:
                bar.update(1)
        return fc_chunk

    c0 = 0
    while c0 < n_nets:
        ids = list(range(c0, min(n_nets, c0 + chunk)))
        try:
            fc_chunk = train_chunk(ids)
        except (RuntimeError, MemoryError) as exc:
            out_of_memory = isinstance(exc, MemoryError) or "out of memory" in str(exc)
            if not (auto_chunk and out_of_memory and len(ids) > 1):
                raise
            chunk = len(ids) // 2  # too many networks at once: fewer per model
            if dev.type == "cuda":
                torch.cuda.empty_cache()
            continue
        for e, parts in fc_chunk.items():
            fc[e].extend(parts)
        c0 += len(ids)
    if bar is not None:
        bar.close()
    return ClassifierResult(
        train_loss=train_loss,
        test_loss=test_loss,
        test_accuracy=test_acc,
        fc_weights={e: np.concatenate(v) for e, v in fc.items()},
        weight_decay=wds,
        lr=lrs,
        seeds=seeds,
        device=str(dev),
        dtype=str(dt).replace("torch.", ""),
        settings={
            "optimizer": optimizer,
            "momentum": momentum if optimizer == "sgd" else None,
            "decay": decay,
            "loss": loss,
            "batch_size": batch_size,
            "epochs": epochs,
            "data_seed": data_seed,
            "chunk": chunk,
            "conv_init": conv_init,
            "fc_std": None if fc_std is None else np.ravel(fc_std).tolist(),
        },
        wall_time_s=time.perf_counter() - start,
        test_outputs=np.stack(outputs) if has_test else None,
    )


def _labels(y, n, name):
    arr = np.asarray(y)
    if arr.shape != (n,) or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must hold {n} integer labels; got {arr.shape}")
    return arr.astype(np.int64)

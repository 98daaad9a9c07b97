"""Optimisers for many networks at once: per-network learning rates and weight decays.

Every parameter tensor carries the networks on its leading axis (``(N, ...)``); the
learning rate and the weight decay are vectors of length ``N``, broadcast over the
other axes. The update rules are those of ``torch.optim.SGD`` (with momentum),
``torch.optim.Adam`` and, for ``decay="decoupled"``, ``torch.optim.AdamW``, written
out so that one call updates every network with its own hyperparameters. Weight decay
comes in two forms:

``"loss"``
    the objective holds ``gamma * ||theta||^2`` (the papers' convention, Ziyin et al.
    2022, Eq. 1): the gradient gains ``2 gamma theta``;
``"decoupled"``
    ``theta <- (1 - lr gamma) theta`` before the update (AdamW's rule, for SGD too).
"""

from __future__ import annotations

import numpy as np

from ._validation import positive_scalar

__all__ = ["BatchedOptimizer", "OPTIMIZER_KINDS", "DECAY_KINDS"]

#: Update rules (``"gd"`` and ``"sgd"`` are the same rule; the data decide the batch).
OPTIMIZER_KINDS = ("gd", "sgd", "adam")
#: The two forms of weight decay.
DECAY_KINDS = ("loss", "decoupled")


class BatchedOptimizer:
    """One optimiser for ``N`` independent networks.

    Parameters
    ----------
    params : list of torch tensors
        Each of shape ``(N, ...)``; updated in place by :meth:`step`.
    kind : {"gd", "sgd", "adam"}
        The update rule.
    lr, weight_decay : torch tensors of shape (N,)
        Per-network learning rates and weight decays.
    decay : {"loss", "decoupled"}
        The form of weight decay (see the module docstring).
    decay_masks : list, optional
        Per parameter, ``None`` (decay all of it) or a tensor broadcastable to the
        parameter with ones where it decays and zeros where it does not.
    momentum : float
        Heavy-ball momentum of ``gd``/``sgd`` (``torch.optim.SGD`` convention: the
        buffer starts at the first gradient).
    betas, eps : Adam's constants.
    """

    def __init__(
        self,
        params,
        kind,
        lr,
        weight_decay,
        *,
        decay="loss",
        decay_masks=None,
        momentum=0.0,
        betas=(0.9, 0.999),
        eps=1e-8,
    ):
        if kind not in OPTIMIZER_KINDS:
            raise ValueError(
                f"optimizer must be one of {OPTIMIZER_KINDS}; got {kind!r}"
            )
        if decay not in DECAY_KINDS:
            raise ValueError(f"decay must be one of {DECAY_KINDS}; got {decay!r}")
        self.params = list(params)
        if not self.params:
            raise ValueError("params must hold at least one tensor")
        n = self.params[0].shape[0]
        if any(p.shape[0] != n for p in self.params):
            raise ValueError("every parameter must carry the same number of networks")
        if lr.shape != (n,) or weight_decay.shape != (n,):
            raise ValueError(f"lr and weight_decay must have shape ({n},)")
        self.kind, self.decay = kind, decay
        self.momentum = positive_scalar(momentum, "momentum", allow_zero=True)
        if self.momentum >= 1:
            raise ValueError(f"momentum must lie in [0, 1); got {momentum}")
        if self.momentum and kind == "adam":
            raise ValueError("momentum applies to 'gd'/'sgd'; Adam uses betas")
        self.b1, self.b2 = (positive_scalar(b, "betas", allow_zero=True) for b in betas)
        if not (self.b1 < 1 and self.b2 < 1):
            raise ValueError(f"betas must lie in [0, 1); got {tuple(betas)}")
        self.eps = positive_scalar(eps, "eps")
        masks = decay_masks or [None] * len(self.params)
        if len(masks) != len(self.params):
            raise ValueError("decay_masks must hold one entry per parameter")
        self.lrs, self.wds = [], []
        for p, mask in zip(self.params, masks):
            shape = (n,) + (1,) * (p.dim() - 1)
            wd = weight_decay.reshape(shape).to(p)
            self.lrs.append(lr.reshape(shape).to(p))
            self.wds.append(wd if mask is None else wd * mask)
        self.has_decay = bool(np.any(weight_decay.detach().cpu().numpy() > 0))
        self.t = 0
        self.m = [None] * len(self.params)
        self.v = [None] * len(self.params)

    def step(self, grads) -> None:
        """Update every parameter in place from its gradient (same order)."""
        import torch

        self.t += 1
        t = self.t
        with torch.no_grad():
            for i, (p, g) in enumerate(zip(self.params, grads)):
                lr, wd = self.lrs[i], self.wds[i]
                if self.has_decay and self.decay == "loss":
                    g = g + 2 * wd * p
                if self.has_decay and self.decay == "decoupled":
                    p.mul_(1 - lr * wd)
                if self.kind == "adam":
                    if self.m[i] is None:
                        self.m[i] = torch.zeros_like(p)
                        self.v[i] = torch.zeros_like(p)
                    m, v = self.m[i], self.v[i]
                    m.mul_(self.b1).add_(g, alpha=1 - self.b1)
                    v.mul_(self.b2).addcmul_(g, g, value=1 - self.b2)
                    bc1 = 1 - self.b1**t
                    bc2_sqrt = (1 - self.b2**t) ** 0.5
                    denom = (v.sqrt() / bc2_sqrt).add_(self.eps)
                    p.sub_((lr / bc1) * (m / denom))
                elif self.momentum:
                    if self.m[i] is None:
                        self.m[i] = g.detach().clone()
                    else:
                        self.m[i].mul_(self.momentum).add_(g)
                    p.sub_(lr * self.m[i])
                else:
                    p.sub_(lr * g)

    def penalty(self):
        """``sum_i gamma * ||theta_i||^2`` per network, shape ``(N,)`` (zero for the
        decoupled form, which has no term in the objective)."""
        import torch

        with torch.no_grad():
            total = torch.zeros_like(self.lrs[0].reshape(-1))
            if self.decay == "loss":
                for p, wd in zip(self.params, self.wds):
                    total = total + (wd * p * p).reshape(p.shape[0], -1).sum(dim=1)
            return total

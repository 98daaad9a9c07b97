"""The book's registered workloads, one module per chapter's experiments (run them
with ``python -m dln.experiments NAME``; ``python -m dln.experiments`` lists them).

``init-trap``
    :mod:`dln.workloads.init_trap`: Ziyin et al. 2022, Figure 3 (deep ReLU/tanh
    networks trapped at the zero predictor by weight decay).
``collapse-digits``, ``collapse-cifar``
    :mod:`dln.workloads.collapse`: Ziyin et al. 2022, Figure 1 right (deep networks
    collapse to the trivial predictor under weight decay where a linear model still
    learns; digits, and ResNet-18 on CIFAR-10).
``condense-5-50-1``
    :mod:`dln.workloads.condense`: Zhou et al. 2022, Figure 3 (condensation of 5-50-1
    networks from small initialisation).
``condexp-gd``, ``condexp-init-scale``, ``condexp-resnet6``, ``condexp-cifar10``
    :mod:`dln.workloads.condensation_experiments`: Zhou et al. 2022, Figures 2-4
    (plain gradient descent, the initialisation scale from small to Kaiming, six-layer
    networks with and without residual connections, ResNet-18 on CIFAR-10).

Scales: ``ci`` runs in seconds (the tests run it), ``default`` in minutes on a laptop
CPU, ``full`` is the paper's scale (for a GPU). The array layouts are in each merge
function's docstring.
"""

from __future__ import annotations

from . import collapse, condensation_experiments, condense, init_trap

_MODULES = (init_trap, condense, collapse, condensation_experiments)


def _flat_names() -> list:
    """Every public name of the workload modules, once (a name in two modules would
    be ambiguous here: refuse it)."""
    names = []
    for module in _MODULES:
        for name in module.__all__:
            if name in names:
                raise ImportError(f"dln.workloads: {name!r} is public in two modules")
            names.append(name)
    return names


# the modules' public names, also at the package level (``dln.workloads.NAME``)
globals().update({n: getattr(m, n) for m in _MODULES for n in m.__all__})
__all__ = [m.__name__.rsplit(".", 1)[1] for m in _MODULES] + _flat_names()

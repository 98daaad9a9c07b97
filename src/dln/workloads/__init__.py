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

Scales: ``ci`` runs in seconds (the tests run it), ``default`` in minutes on a laptop
CPU, ``full`` is the paper's scale (for a GPU). The array layouts are in each merge
function's docstring.
"""

from __future__ import annotations

from . import collapse, condense, init_trap
from .collapse import (
    COLLAPSE_LOSSES,
    cifar_table,
    collapse_cifar_shards,
    collapse_digits_shards,
    collapse_point,
    digits_regression,
    linear_thresholds,
    merge_collapse,
    output_summary,
    run_collapse_cifar_shard,
    run_collapse_digits_shard,
)
from .condense import (
    CONDENSE_ACTIVATIONS,
    condense_shards,
    merge_condense,
    run_condense_shard,
)
from .init_trap import (
    init_trap_shards,
    merge_init_trap,
    ridge_loss,
    run_init_trap_shard,
)

__all__ = [
    "collapse",
    "condense",
    "init_trap",
    "CONDENSE_ACTIVATIONS",
    "condense_shards",
    "run_condense_shard",
    "merge_condense",
    "init_trap_shards",
    "run_init_trap_shard",
    "merge_init_trap",
    "ridge_loss",
    "COLLAPSE_LOSSES",
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
]

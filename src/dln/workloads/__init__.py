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
from .condensation_experiments import (
    CIFAR_ACTIVATIONS,
    GD_LEARNING_RATES,
    RESNET6_ACTIVATIONS,
    cifar_shards,
    gd_shards,
    init_scale_shards,
    init_scale_stds,
    merge_cifar,
    merge_gd,
    merge_init_scale,
    merge_resnet6,
    plot_cifar_result,
    resnet6_shards,
    run_cifar_shard,
    run_gd_shard,
    run_init_scale_shard,
    run_resnet6_shard,
    stage_snapshot,
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
    "condensation_experiments",
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
    "GD_LEARNING_RATES",
    "RESNET6_ACTIVATIONS",
    "CIFAR_ACTIVATIONS",
    "stage_snapshot",
    "gd_shards",
    "run_gd_shard",
    "merge_gd",
    "init_scale_shards",
    "init_scale_stds",
    "run_init_scale_shard",
    "merge_init_scale",
    "resnet6_shards",
    "run_resnet6_shard",
    "merge_resnet6",
    "cifar_shards",
    "run_cifar_shard",
    "merge_cifar",
    "plot_cifar_result",
]

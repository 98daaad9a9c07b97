"""dln -- exact solutions of stochastic deep linear networks with weight decay, the
package behind the book.

Catalogue of public names (weight lists are always ``[W_1, ..., W_D, U]``, input layer
first):

Data
    DataStats        -- validated moments ``A0 = E[xx^T]``, ``E[xy]``, ``E[y^2]`` and
                     the eigenbasis of ``A0``
    data_stats       -- the empirical moments of a sample ``(X, y)``
    random_stats     -- random consistent moments with a prescribed spectrum and signal
                     strength
Architecture
    NetworkSpec, network_spec -- depth, widths, weight decays ``[gamma_1..gamma_D,
    gamma_u]``, noise variances
Loss
    expected_loss         -- exact expected loss over the noise, any weights, any depth
                          (paper Eq. 9)
    expected_loss_torch   -- the same formula in torch, differentiable
    end_to_end            -- noise-averaged linear map ``p`` (``E_eps f(x) = p.x``)
    output_second_moment  -- ``Q_0`` with ``E_eps f(x)^2 = x^T Q_0 x``
    monte_carlo_loss      -- sampled estimate with standard error (only to check
                          ``expected_loss``)
    sample_noise          -- multiplicative noise with mean 1 and variance sigma^2
                          (gaussian or dropout)
Solution
    global_minimum   -- the global minimum in closed form up to one scalar (Theorems
                     1-2), all roots found
    Solution         -- its result: loss, is_trivial, weights, b, roots, root_losses,
                     tau
    profile_loss     -- the loss along the output scale ``b`` (the reduced loss)
Conditions and bounds (each names the paper's inequality and equation)
    two_layer_critical_signal, two_layer_is_trivial -- the threshold ``||E[xy]||^2 <=
    gamma_u gamma_w`` (Thm 1, Eq. 4) two_layer_curvature_at_origin -- ``L''(0)`` of the
    two-layer reduced loss (Eq. 37, sign corrected) two_layer_b_bounds   -- bounds on
    ``b*`` from the extreme eigenvalues of ``A0`` (Eq. 8) two_layer_whitened_b,
    two_layer_whitened_row -- closed form for ``A0 = sigma_x^2 I`` (App. C, Eqs.
    104-105)
Landscape
    gradient, hessian     -- exact gradient and Hessian of the exact loss on the
    flattened weights (torch autograd) classify_critical_point, classify_hessian,
    CriticalPoint -- minimum / strict saddle / degenerate by Hessian spectrum
    flatten_weights, unflatten_weights -- ``[W_1, ..., W_D, U]`` <-> one parameter
    vector
Training (many networks at once, CPU or CUDA)
    train_exact      -- gradient descent / Adam / L-BFGS on the exact loss, batched over
                     initialisations
    train_sampled    -- minibatch SGD with real dropout or Gaussian noise draws, batched
    init_weights     -- seeded Gaussian initialisation with a scale (1 = Kaiming/LeCun)
    TrainResult      -- final weights, exact losses and loss history
Scale
    current_scale, by_scale, SCALES -- the experiment scale from ``DLN_SCALE`` (ci |
    default | full)
Plotting
    use_house_style, PALETTE -- one figure style for the whole book
Experiments (submodule ``dln.experiments``)
    experiment, run_experiment, save_results, load_results, provenance -- register
    ``f(scale) -> arrays``, run it and save the result with its provenance; ``python -m
    dln.experiments NAME --scale full``
"""

from .conditions import (
    two_layer_b_bounds,
    two_layer_critical_signal,
    two_layer_curvature_at_origin,
    two_layer_is_trivial,
    two_layer_whitened_b,
    two_layer_whitened_row,
)
from .landscape import (
    CriticalPoint,
    classify_critical_point,
    classify_hessian,
    flatten_weights,
    gradient,
    hessian,
    unflatten_weights,
)
from .loss import (
    end_to_end,
    expected_loss,
    expected_loss_torch,
    monte_carlo_loss,
    output_second_moment,
    sample_noise,
)
from .network import NetworkSpec, network_spec
from .plotting import PALETTE, use_house_style
from .scale import SCALES, by_scale, current_scale
from .solution import Solution, global_minimum, profile_loss
from .stats import DataStats, data_stats, random_stats
from .training import TrainResult, init_weights, train_exact, train_sampled

__version__ = "0.1.0"

__all__ = [
    "DataStats",
    "data_stats",
    "random_stats",
    "NetworkSpec",
    "network_spec",
    "expected_loss",
    "expected_loss_torch",
    "end_to_end",
    "output_second_moment",
    "monte_carlo_loss",
    "sample_noise",
    "global_minimum",
    "Solution",
    "profile_loss",
    "two_layer_critical_signal",
    "two_layer_is_trivial",
    "two_layer_curvature_at_origin",
    "two_layer_b_bounds",
    "two_layer_whitened_b",
    "two_layer_whitened_row",
    "gradient",
    "hessian",
    "classify_critical_point",
    "classify_hessian",
    "CriticalPoint",
    "flatten_weights",
    "unflatten_weights",
    "train_exact",
    "train_sampled",
    "init_weights",
    "TrainResult",
    "current_scale",
    "by_scale",
    "SCALES",
    "use_house_style",
    "PALETTE",
]

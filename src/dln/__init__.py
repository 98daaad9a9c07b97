"""dln: exact solutions of stochastic deep linear networks with weight decay, the
package behind the book.

Catalogue of public names, one line each (weight lists are always
``[W_1, ..., W_D, U]``, input layer first):

Data
    DataStats              -- validated moments A0 = E[xx^T], E[xy], E[y^2] (and E[x],
                              E[y]); eigenbasis; centred() and with_means()
    data_stats             -- the empirical moments and means of a sample (X, y)
    random_stats           -- random consistent moments with a given spectrum and signal
Architecture
    NetworkSpec            -- depth, widths, weight decays, noise variances
    network_spec           -- validate and broadcast an architecture
Loss
    expected_loss          -- exact expected loss over the noise, any depth (Eq. 9)
    loss_gain              -- E[y^2] - L, the gain over the origin, without cancellation
    expected_loss_torch    -- the same formula in torch, differentiable
    end_to_end             -- noise-averaged linear map p, E_eps f(x) = p.x
    output_second_moment   -- Q_0 with E_eps f(x)^2 = x^T Q_0 x
    monte_carlo_loss       -- sampled estimate with standard error (checks only)
    sample_noise           -- multiplicative noise, mean 1, variance sigma^2
Solution
    global_minimum         -- the global minimum up to one scalar, every root found
    Solution               -- its result: loss, is_trivial, weights, b, roots, tau
    profile_loss           -- the loss along the output scale b (the reduced loss)
Phase diagrams
    phase_diagram          -- the global minimum over a grid of weight decay x signal
    PhaseDiagram           -- its result: b, is_trivial, phase, gain, n_roots per point
    PHASES                 -- the phase codes (a)-(d) of the landscape at the origin
    critical_signals       -- exact signal thresholds: a solution exists / is global
Conditions and bounds (each names the paper's inequality and equation)
    two_layer_critical_signal     -- sqrt(gamma_u gamma_w), the threshold of Eq. 4
    two_layer_is_trivial          -- whether ||E[xy]||^2 <= gamma_u gamma_w (Eq. 4)
    two_layer_curvature_at_origin -- L''(0) of the reduced loss (Eq. 37, corrected)
    two_layer_b_bounds            -- bounds on b* from the spectrum of A0 (Eq. 8)
    two_layer_whitened_b          -- closed-form b* for A0 = sigma_x^2 I (Eq. 104)
    two_layer_whitened_row        -- closed-form rows of W for whitened data (Eq. 105)
    deep_signal_bounds            -- Proposition 3's signal thresholds (Eqs. 14, 15)
    deep_global_signal            -- Theorem 3's signal threshold (Eq. 18)
    deep_b_bounds                 -- bounds on every solution b > 0 (Eq. 16, corrected)
Landscape
    gradient               -- exact gradient of the exact loss (autograd)
    hessian                -- exact Hessian of the exact loss (autograd)
    newton_step            -- H^+ g and its decrement: distance to the nearby minimiser
    classify_critical_point -- minimum / strict saddle / degenerate at given weights
    classify_hessian       -- the same from a Hessian and a gradient norm
    CriticalPoint          -- the classification and the Hessian spectrum
    flatten_weights        -- [W_1, ..., W_D, U] to one parameter vector
    unflatten_weights      -- one parameter vector back to a weight list
Biases (paper Appendix D)
    expected_loss_bias     -- exact expected loss with a bias in every layer, any depth
    expected_loss_bias_torch -- the same formula in torch, differentiable
    monte_carlo_loss_bias  -- sampled estimate with standard error (checks only)
    centring_biases        -- the biases that make a network centre its own data
    two_layer_bias_minimum -- the global minimum with biases for D = 1 (Theorem 5,
                              corrected), up to one scalar
    BiasSolution           -- its result: weights, biases, b, loss, roots
Brute force
    minimize_exact         -- multi-start L-BFGS + Newton polish on the exact loss
    minimize_exact_bias    -- the same over weights and biases
    BruteForceResult       -- its result: weights, (biases,) loss, gradient norm
Training (many networks at once, CPU or CUDA)
    train_exact            -- GD / Adam / L-BFGS on the exact loss, batched
    train_sampled          -- minibatch SGD with sampled dropout or Gaussian noise
    init_weights           -- seeded Gaussian initialisation (scale 1 = Kaiming/LeCun)
    TrainResult            -- final weights, exact losses and loss history
Nonlinear networks (many at once, CPU or CUDA)
    mlp_spec               -- a fully connected architecture: widths, activations, bias
    MLPSpec                -- its validated form
    activation_function    -- the torch function of an activation name (or callable)
    network_seeds          -- one seed per network of a sweep
    init_mlp               -- Kaiming / LeCun / torch / N(0, std^2) initialisation
    mlp_forward            -- outputs of a stack of networks
    train_mlp              -- GD / SGD / Adam on many networks, per-network settings
    MLPResult              -- final parameters and recorded quantities
    BatchedOptimizer       -- GD / SGD / Adam updates with per-network lr and decay
Convolutional models (several at once)
    resnet18               -- ResNet-18 for 32x32 images, optional fully connected head
    residual_cnn           -- a small residual CNN (any image size, e.g. digits)
    init_model             -- seeded Kaiming / Glorot / N(0, std^2) initialisation
    train_classifier       -- SGD / Adam on a sweep of weight decays, batched or looped
    ClassifierResult       -- losses, test accuracies, first-layer weights by epoch
Data sets (never downloaded)
    gaussian_task          -- x ~ N(0, I), y = v.x or v.tanh(x) with a given ||E[xy]||
    sine_task              -- x uniform in a box, y = sum_k A sin(w x_k + phi)
    digits                 -- scikit-learn's bundled 8x8 digits, split
    load_cifar10           -- CIFAR-10 from a local folder (DLN_DATA), python format
    write_cifar10_standin  -- a tiny synthetic CIFAR-10 in the same format (tests)
Condensation at small initialisation (Zhou et al. 2022)
    multiplicity           -- multiplicity p of an activation at 0 (Definition 1), sympy
    leading_order          -- p and sigma^(p)(0): sigma'(z) ~ c_p z^(p-1) (Eq. 7)
    LeadingOrder           -- its result, with the coefficient c_p
    activation_expr        -- sympy expression of a named activation
    activation_functions   -- numpy sigma and sigma' of an activation
    count_orientations     -- condensed orientations of a layer's input weights
    cluster_orientations   -- the clustering behind it: labels, centres, lines
    Orientations           -- its result
    cosine_similarity      -- cosine similarities of input weights (Eq. 5)
    order_by_cluster       -- neurons ordered by orientation, for heat maps
    orientation_share      -- share of a layer in its k largest orientations
    plot_similarity        -- heat map of cosine similarities, ordered by cluster
    leading_order_field    -- leading-order velocity of an input weight (Eq. 7)
    direction_field        -- the full velocity field of an input weight (Sec. 4.4)
    invariant_lines        -- lines kept by the field, 1-d input (Eq. 9, Proposition 1)
    InvariantLines         -- their form, roots, angles and attraction
    initial_stage_end      -- where the loss first reaches 70% of its start (Sec. 3)
    polynomial_fit_residual -- relative residual of a degree-d polynomial fit (Fig. 5)
    gradient_flow          -- adaptive gradient flow of a two-layer network (Eq. 4)
    FlowResult             -- its trajectory
Scale
    current_scale          -- the experiment scale from DLN_SCALE
    by_scale               -- pick a value by scale (ci | default | full)
    SCALES                 -- the three scales
Plotting
    use_house_style        -- one figure style for the whole book
    PALETTE                -- the colour-blind-safe palette
    md_table               -- a Markdown table from a header and rows of cells
Submodules
    errata                 -- the registry of what the papers print and what holds
    experiments            -- registered experiments, runner, results with provenance
"""

from . import errata
from .bias import (
    BiasSolution,
    centring_biases,
    expected_loss_bias,
    expected_loss_bias_torch,
    monte_carlo_loss_bias,
    two_layer_bias_minimum,
)
from .bruteforce import BruteForceResult, minimize_exact, minimize_exact_bias
from .condensation import (
    FlowResult,
    InvariantLines,
    LeadingOrder,
    Orientations,
    activation_expr,
    activation_functions,
    cluster_orientations,
    cosine_similarity,
    count_orientations,
    direction_field,
    gradient_flow,
    initial_stage_end,
    invariant_lines,
    leading_order,
    leading_order_field,
    multiplicity,
    order_by_cluster,
    orientation_share,
    plot_similarity,
    polynomial_fit_residual,
)
from .conditions import (
    deep_b_bounds,
    deep_global_signal,
    deep_signal_bounds,
    two_layer_b_bounds,
    two_layer_critical_signal,
    two_layer_curvature_at_origin,
    two_layer_is_trivial,
    two_layer_whitened_b,
    two_layer_whitened_row,
)
from .data import (
    digits,
    gaussian_task,
    load_cifar10,
    sine_task,
    write_cifar10_standin,
)
from .landscape import (
    CriticalPoint,
    classify_critical_point,
    classify_hessian,
    flatten_weights,
    gradient,
    hessian,
    newton_step,
    unflatten_weights,
)
from .loss import (
    end_to_end,
    expected_loss,
    expected_loss_torch,
    loss_gain,
    monte_carlo_loss,
    output_second_moment,
    sample_noise,
)
from .models import (
    ClassifierResult,
    init_model,
    residual_cnn,
    resnet18,
    train_classifier,
)
from .nets import (
    MLPResult,
    MLPSpec,
    activation_function,
    init_mlp,
    mlp_forward,
    mlp_spec,
    network_seeds,
    train_mlp,
)
from .network import NetworkSpec, network_spec
from .optim import BatchedOptimizer
from .phase import PHASES, PhaseDiagram, critical_signals, phase_diagram
from .plotting import PALETTE, use_house_style
from .scale import SCALES, by_scale, current_scale
from .solution import Solution, global_minimum, profile_loss
from .stats import DataStats, data_stats, random_stats
from .tables import md_table
from .training import TrainResult, init_weights, train_exact, train_sampled

__version__ = "0.1.0"

__all__ = [
    "DataStats",
    "data_stats",
    "random_stats",
    "NetworkSpec",
    "network_spec",
    "expected_loss",
    "loss_gain",
    "expected_loss_torch",
    "end_to_end",
    "output_second_moment",
    "monte_carlo_loss",
    "sample_noise",
    "global_minimum",
    "Solution",
    "profile_loss",
    "phase_diagram",
    "PhaseDiagram",
    "PHASES",
    "critical_signals",
    "two_layer_critical_signal",
    "two_layer_is_trivial",
    "two_layer_curvature_at_origin",
    "two_layer_b_bounds",
    "two_layer_whitened_b",
    "two_layer_whitened_row",
    "deep_signal_bounds",
    "deep_global_signal",
    "deep_b_bounds",
    "gradient",
    "hessian",
    "newton_step",
    "classify_critical_point",
    "classify_hessian",
    "CriticalPoint",
    "flatten_weights",
    "unflatten_weights",
    "train_exact",
    "train_sampled",
    "init_weights",
    "TrainResult",
    "mlp_spec",
    "MLPSpec",
    "activation_function",
    "network_seeds",
    "init_mlp",
    "mlp_forward",
    "train_mlp",
    "MLPResult",
    "BatchedOptimizer",
    "resnet18",
    "residual_cnn",
    "init_model",
    "train_classifier",
    "ClassifierResult",
    "gaussian_task",
    "sine_task",
    "digits",
    "load_cifar10",
    "write_cifar10_standin",
    "current_scale",
    "by_scale",
    "SCALES",
    "use_house_style",
    "PALETTE",
    "md_table",
    "expected_loss_bias",
    "expected_loss_bias_torch",
    "monte_carlo_loss_bias",
    "centring_biases",
    "two_layer_bias_minimum",
    "BiasSolution",
    "minimize_exact",
    "minimize_exact_bias",
    "BruteForceResult",
    "errata",
    "multiplicity",
    "leading_order",
    "LeadingOrder",
    "activation_expr",
    "activation_functions",
    "count_orientations",
    "cluster_orientations",
    "Orientations",
    "cosine_similarity",
    "order_by_cluster",
    "orientation_share",
    "plot_similarity",
    "leading_order_field",
    "direction_field",
    "invariant_lines",
    "InvariantLines",
    "initial_stage_end",
    "polynomial_fit_residual",
    "gradient_flow",
    "FlowResult",
]

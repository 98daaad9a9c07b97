"""Condensation at small initialisation (Zhou et al. 2022): the multiplicity of an
activation, an objective count of condensed orientations, and the leading-order
direction field of a two-layer network with one-dimensional input.

The paper's objects, in the book's notation. A two-layer network is
``f(x) = sum_j a_j sigma(w_j . xt)`` with ``xt = (x, 1)`` (Eq. 1): the *input weight*
``w_j`` of neuron ``j`` carries its bias as the last entry. An activation has
*multiplicity* ``p`` when ``sigma^(s)(0) = 0`` for ``1 <= s < p`` and ``sigma^(p)(0) !=
0`` (Definition 1); then ``sigma'(z) ~ c_p z^(p-1)`` with ``c_p = sigma^(p)(0) / (p -
1)!`` (Eq. 7). Under gradient flow (Eq. 4) on the mean squared error (Eq. 3) every input
weight moves in one common field, ``dw_j/dt = a_j F(w_j)`` with ``F(omega) = -(1/n)
sum_i e_i xt_i sigma'(omega . xt_i)`` and residuals ``e_i = f(x_i) - y_i`` (Section
4.4); to leading order ``F`` is the gradient of the homogeneous polynomial
``Phi(omega) = -(c_p / (n p)) sum_i e_i (omega . xt_i)^p``. A neuron keeps its
orientation exactly on the lines where ``F`` is radial (Eq. 9); Proposition 1 bounds
their number.

sympy, torch, scipy and matplotlib are imported inside the functions that need them, so
that ``import dln`` stays light.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._validation import finite_array, finite_scalar, positive_int, positive_scalar

__all__ = [
    "ACTIVATIONS",
    "FlowResult",
    "InvariantLines",
    "LeadingOrder",
    "Orientations",
    "activation_expr",
    "activation_functions",
    "cluster_orientations",
    "cosine_similarity",
    "count_orientations",
    "direction_field",
    "gradient_flow",
    "initial_stage_end",
    "invariant_lines",
    "leading_order",
    "leading_order_field",
    "multiplicity",
    "order_by_cluster",
    "orientation_share",
    "plot_similarity",
    "polynomial_fit_residual",
]

# name -> sympy source in the symbol x (parsed lazily by :func:`activation_expr`)
ACTIVATIONS = {
    "linear": "x",
    "tanh": "tanh(x)",
    "sigmoid": "1/(1 + exp(-x))",
    "softplus": "log(1 + exp(x))",
    "silu": "x/(1 + exp(-x))",
    "gelu": "x*(1 + erf(x/sqrt(2)))/2",
    "xtanh": "x*tanh(x)",
    "x2tanh": "x**2*tanh(x)",
    "relu": "Max(0, x)",
}
_ALIASES = {"swish": "silu", "identity": "linear"}


# --------------------------------------------------------------------------------------
# Multiplicity (Definition 1)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeadingOrder:
    """The leading term of ``sigma'`` at 0 (Zhou et al. 2022, Definition 1 and Eq. 7).

    Attributes
    ----------
    p : int
        The multiplicity: the order of the first non-zero derivative ``sigma^(p)(0)``.
    derivative : object
        The exact value ``sigma^(p)(0)``, a sympy number.
    """

    p: int
    derivative: object

    @property
    def coefficient(self):
        """``c_p = sigma^(p)(0) / (p - 1)!``, so that ``sigma'(z) ~ c_p z^(p-1)`` (Eq.
        7); an exact sympy number."""
        return self.derivative / math.factorial(self.p - 1)


def activation_expr(name: str):
    """The sympy expression of a named activation, in the symbol ``x``.

    Parameters
    ----------
    name : str
        One of ``ACTIVATIONS`` (``linear``, ``tanh``, ``sigmoid``, ``softplus``,
        ``silu`` (alias ``swish``), ``gelu``, ``xtanh`` (``x tanh x``), ``x2tanh``
        (``x^2 tanh x``), ``relu``).

    Returns
    -------
    (expr, x) : tuple of sympy objects
        The expression and its symbol.
    """
    import sympy as sp

    if not isinstance(name, str):
        raise ValueError(f"activation name must be a string; got {name!r}")
    key = _ALIASES.get(name.lower(), name.lower())
    if key not in ACTIVATIONS:
        raise ValueError(
            f"unknown activation {name!r}; known: {sorted(ACTIVATIONS)} "
            f"(aliases {sorted(_ALIASES)})"
        )
    x = sp.Symbol("x")
    return sp.sympify(ACTIVATIONS[key], locals={"x": x}), x


def _check_expr(expr, x):
    import sympy as sp

    if not isinstance(x, sp.Symbol):
        raise ValueError(f"x must be a sympy Symbol; got {x!r}")
    if isinstance(expr, (int, float)) and not isinstance(expr, bool):
        expr = sp.sympify(expr)
    if not isinstance(expr, sp.Expr):
        raise ValueError(f"expr must be a sympy expression in {x}; got {expr!r}")
    extra = expr.free_symbols - {x}
    if extra:
        names = ", ".join(sorted(str(s) for s in extra))
        raise ValueError(
            f"expr has symbols other than {x} ({names}): substitute numbers first, "
            "since the multiplicity can depend on their values"
        )
    return expr


def _ordinal(s: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(s, f"{s}th")


def leading_order(expr, x, max_order: int = 12) -> LeadingOrder:
    """Multiplicity ``p`` of an activation at 0 and the value ``sigma^(p)(0)``, exactly.

    Definition 1 of Zhou et al. (2022): ``sigma`` has multiplicity ``p`` when
    ``sigma^(s)(0) = 0`` for ``s = 1, ..., p - 1`` and ``sigma^(p)(0) != 0``. The value
    ``sigma(0)`` itself plays no role (sigmoid and softplus have ``p = 1``).

    Each derivative at 0 is computed as the common value of the one-sided limits of the
    symbolic derivative, ``x -> 0+`` and ``x -> 0-`` (evaluated as ``t -> 0+`` of
    ``sigma^(s)(t)`` and ``sigma^(s)(-t)`` so that piecewise definitions pick their
    branch). By the mean-value theorem this is ``sigma^(s)(0)`` whenever
    ``sigma^(s-1)`` is continuous at 0, which the previous order established; if the
    one-sided limits differ or are infinite, ``sigma`` is not ``s`` times
    differentiable at 0. A removable singularity at 0 (``sin(x)/x``) is read as its
    continuous extension.

    Parameters
    ----------
    expr : sympy.Expr
        The activation, an expression in ``x`` alone.
    x : sympy.Symbol
        Its variable (it is treated as real).
    max_order : int
        The highest derivative tried before giving up.

    Returns
    -------
    LeadingOrder

    Raises
    ------
    ValueError
        If ``expr`` is not an expression in ``x`` alone; if it is identically zero or
        constant; if it is not ``p`` times differentiable at 0 (ReLU, ``|x|``,
        ``x |x|``), or its derivative has no limit there (``x^2 sin(1/x)``); or if no
        derivative of order ``1..max_order`` is non-zero (``exp(-1/x^2)``: no finite
        order).
    """
    import sympy as sp

    expr = _check_expr(expr, x)
    max_order = positive_int(max_order, "max_order")
    xr = sp.Dummy("x", real=True)
    t = sp.Dummy("t", positive=True)
    f = expr.subs(x, xr)
    if f.free_symbols and sp.simplify(f) == 0:
        raise ValueError(
            f"{expr} is identically zero: every derivative vanishes, so the "
            "multiplicity is undefined (Zhou et al. 2022, Definition 1)"
        )
    if not f.free_symbols:
        raise ValueError(
            f"{expr} is constant: every derivative vanishes, so the multiplicity is "
            "undefined (Zhou et al. 2022, Definition 1)"
        )
    if f.is_polynomial(xr):
        poly = sp.Poly(f, xr)
        for (k,), c in sorted(poly.terms()):
            if k >= 1 and c != 0:
                return LeadingOrder(int(k), sp.factorial(k) * c)
    for s in range(0, max_order + 1):
        d = sp.diff(f, xr, s) if s else f
        right = sp.limit(d.subs(xr, t), t, 0, "+")
        left = sp.limit(d.subs(xr, -t), t, 0, "+")
        what = f"{expr}" if s == 0 else f"the {_ordinal(s)} derivative of {expr}"
        order = {0: "continuous", 1: "differentiable"}.get(
            s, f"{s} times differentiable"
        )
        limits = f"(one-sided limits {left} from the left, {right} from the right)"
        for side in (right, left):
            if side.has(sp.AccumBounds) or side.is_real is not True:
                kind = "is infinite" if side.is_infinite else "has no finite real limit"
                raise ValueError(
                    f"{what} {kind} at 0 {limits}: {expr} is not {order} at 0 (or this "
                    "cannot be decided), so its multiplicity (Zhou et al. 2022, "
                    "Definition 1) is undefined"
                )
        jump = sp.simplify(right - left)
        if jump.is_zero is not True:
            raise ValueError(
                f"{what} jumps at 0 {limits}: {expr} is not {order} at 0, so its "
                "multiplicity (Zhou et al. 2022, Definition 1) is undefined; ReLU-like "
                "activations are outside the multiplicity analysis"
            )
        if s == 0:
            value = f.subs(xr, 0)
            if value.is_real and sp.simplify(value - right).is_zero is False:
                raise ValueError(
                    f"{expr} is not continuous at 0 (value {value}, limit {right}), so "
                    "its multiplicity (Zhou et al. 2022, Definition 1) is undefined"
                )
            continue
        value = sp.simplify(right)
        if value.is_zero is None:
            raise ValueError(
                f"cannot decide whether the {_ordinal(s)} derivative of {expr} at 0, "
                f"{value}, is zero"
            )
        if not value.is_zero:
            return LeadingOrder(s, value)
    raise ValueError(
        f"the derivatives of {expr} of orders 1..{max_order} all vanish at 0: no "
        f"finite multiplicity up to max_order={max_order} (Zhou et al. 2022, "
        "Definition 1)"
    )


def multiplicity(expr, x, max_order: int = 12) -> int:
    """The multiplicity ``p`` of an activation at 0 (Zhou et al. 2022, Definition 1).

    ``p`` is the order of the first non-vanishing derivative ``sigma^(p)(0)``, ``p >=
    1``; see :func:`leading_order` for how it is computed and when it is undefined.

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x")
    >>> multiplicity(sp.tanh(x), x), multiplicity(x * sp.tanh(x), x)
    (1, 2)
    """
    return leading_order(expr, x, max_order=max_order).p


def activation_functions(activation):
    """Numerical ``sigma`` and ``sigma'`` (numpy, vectorised) of an activation.

    Parameters
    ----------
    activation : str or (sympy.Expr, sympy.Symbol)
        A name of ``ACTIVATIONS`` or an expression with its symbol.

    Returns
    -------
    (sigma, dsigma) : tuple of callables
    """
    import sympy as sp

    if isinstance(activation, str):
        expr, x = activation_expr(activation)
    else:
        try:
            expr, x = activation
        except (TypeError, ValueError) as exc:
            raise ValueError(
                "activation must be a name or a pair (sympy expression, symbol); got "
                f"{activation!r}"
            ) from exc
        expr = _check_expr(expr, x)
    modules = ["scipy", "numpy"]
    sigma = sp.lambdify(x, expr, modules=modules)
    dsigma = sp.lambdify(x, sp.diff(expr, x), modules=modules)

    def vec(fun):
        return lambda z: np.asarray(fun(z), dtype=float) + np.zeros(np.shape(z))

    return vec(sigma), vec(dsigma)


# --------------------------------------------------------------------------------------
# Orientations: cosine similarity (Eq. 5) and an objective count
# --------------------------------------------------------------------------------------


def cosine_similarity(W) -> np.ndarray:
    """The matrix ``D(w_j, w_k)`` of cosine similarities between the rows of ``W``
    (Zhou et al. 2022, Eq. 5).

    Raises
    ------
    ValueError
        If ``W`` is not a finite 2-d array or has a zero row (no direction).
    """
    W = finite_array(W, "W", ndim=2)
    norms = np.linalg.norm(W, axis=1)
    if np.any(norms == 0):
        raise ValueError(
            f"W has {int(np.sum(norms == 0))} zero row(s): a zero weight has no "
            "direction"
        )
    U = W / norms[:, None]
    return np.clip(U @ U.T, -1.0, 1.0)


@dataclass(frozen=True)
class Orientations:
    """The condensed orientations of a set of input weights (see
    :func:`cluster_orientations`).

    Attributes
    ----------
    labels : ndarray of int, shape (n_neurons,)
        For each row of ``W``: the index of its counted orientation (``0 ..
        n_orientations - 1``), ``-1`` if it belongs to a cluster too small or too
        diffuse to count (an outlier), ``-2`` if its norm is negligible.
    centres : ndarray, shape (n_orientations, n_inputs)
        Unit vector of each counted orientation (the normalised mean of its members'
        unit vectors), largest cluster first.
    sizes : ndarray of int, shape (n_orientations,)
        Number of neurons in each counted orientation.
    lines : ndarray of int, shape (n_orientations,)
        The line (through the origin) of each orientation: two orientations share a line
        when their centres have cosine similarity ``<= -cos_threshold``.
    spreads : ndarray, shape (n_orientations,)
        Median angle (radians) between the members of each orientation and its centre.
    cos_threshold : float
        The neighbour threshold that was applied.
    min_size : int
        The smallest counted cluster.
    norm_tol : float
        The relative norm below which neurons were ignored.
    tightness : float
        The largest median angle of a counted cluster, as a fraction of ``alpha``.
    """

    labels: np.ndarray
    centres: np.ndarray
    sizes: np.ndarray
    lines: np.ndarray
    spreads: np.ndarray
    cos_threshold: float
    min_size: int
    norm_tol: float
    tightness: float

    @property
    def n_orientations(self) -> int:
        """Number of counted orientations."""
        return int(self.sizes.size)

    @property
    def n_lines(self) -> int:
        """Number of distinct lines among the counted orientations."""
        return int(np.unique(self.lines).size)

    @property
    def n_outliers(self) -> int:
        """Neurons with a non-negligible weight in no counted orientation."""
        return int(np.sum(self.labels == -1))

    @property
    def n_negligible(self) -> int:
        """Neurons ignored because their weight is negligible."""
        return int(np.sum(self.labels == -2))


def _check_threshold(cos_threshold):
    cos_threshold = finite_scalar(cos_threshold, "cos_threshold")
    if not 0 < cos_threshold < 1:
        raise ValueError(f"cos_threshold must lie in (0, 1); got {cos_threshold}")
    return cos_threshold


def cluster_orientations(
    W,
    cos_threshold: float = 0.95,
    *,
    norm_tol: float = 1e-2,
    min_fraction: float = 0.05,
    tightness: float = 0.1,
) -> Orientations:
    """Cluster the input weights of a layer into orientations, by a stated rule.

    The paper judges condensation by eye on heat maps of the cosine similarity (Eq. 5).
    This is an objective version of the same judgement.

    1. *Directions.* Each row ``w_j`` of ``W`` (input weights with the bias as the last
       column) is replaced by its unit vector ``u_j = w_j / ||w_j||``.
    2. *Negligible neurons.* A row with ``||w_j|| <= norm_tol * max_k ||w_k||`` is
       ignored (label ``-2``): its direction is not carried by a weight that matters.
    3. *Clusters (greedy leader).* Two unit vectors are *neighbours* when their cosine
       similarity is ``>= cos_threshold``. Repeatedly, among the neurons not yet
       assigned, take the one with the most unassigned neighbours (ties: the larger sum
       of cosine similarities to them, then the lexicographically larger unit vector),
       and make its unassigned neighbours one cluster. Every member lies within angle
       ``arccos(cos_threshold)`` of its cluster's leader.
    4. *Counted orientations.* A cluster counts when it holds at least ``min_size =
       max(2, ceil(min_fraction * n))`` neurons, ``n`` being the number of
       non-negligible neurons, and is *tight*: the median angle between its members
       and its centre (the normalised mean of its unit vectors) is at most
       ``tightness * alpha``, ``alpha = arccos(cos_threshold)``. Directions spread
       evenly over a neighbourhood have a median angle of about ``alpha / 2`` from its
       centre, so the default ``tightness = 0.1`` asks for members about five times
       more concentrated than an even spread: a diffuse, not yet condensed layer counts
       no orientation. The members of the other clusters are outliers (label ``-1``).
    5. *Lines.* A direction and its opposite are two orientations; they lie on one line
       when their centres have cosine similarity ``<= -cos_threshold`` (matched
       greedily, most opposite first).

    The result does not depend on the order of the rows, on multiplying all rows by one
    positive number, or on an orthogonal change of coordinates applied to every row;
    multiplying single rows by positive numbers changes it only through step 2. If the
    rows form groups of at least ``min_size`` rows whose unit vectors lie within angle
    ``beta <= tightness * alpha`` of a group centre (``tightness <= 1/2``), with centres
    more than ``alpha + 2 beta`` apart, every group is recovered as one counted
    orientation.

    Parameters
    ----------
    W : array_like, shape (m, k)
        One row per neuron.
    cos_threshold : float in (0, 1)
        Cosine similarity above which two directions are neighbours (0.95: about 18
        degrees).
    norm_tol : float in [0, 1)
        Relative norm below which a neuron is negligible.
    min_fraction : float in [0, 1]
        Smallest counted cluster, as a fraction of the non-negligible neurons (at least
        2 neurons).
    tightness : float in (0, 1]
        Largest median angle of a counted cluster, as a fraction of ``alpha``.

    Returns
    -------
    Orientations
    """
    W = finite_array(W, "W", ndim=2)
    if W.shape[0] == 0 or W.shape[1] == 0:
        raise ValueError(f"W must have at least one row and one column; got {W.shape}")
    cos_threshold = _check_threshold(cos_threshold)
    norm_tol = positive_scalar(norm_tol, "norm_tol", allow_zero=True)
    if norm_tol >= 1:
        raise ValueError(f"norm_tol must be < 1; got {norm_tol}")
    min_fraction = positive_scalar(min_fraction, "min_fraction", allow_zero=True)
    if min_fraction > 1:
        raise ValueError(f"min_fraction must be <= 1; got {min_fraction}")
    tightness = positive_scalar(tightness, "tightness")
    if tightness > 1:
        raise ValueError(f"tightness must be <= 1; got {tightness}")
    m = W.shape[0]
    norms = np.linalg.norm(W, axis=1)
    top = norms.max()
    if top == 0:
        raise ValueError("every row of W is zero: no direction to count")
    kept = np.flatnonzero(norms > norm_tol * top)
    labels = np.full(m, -2, dtype=int)
    U = W[kept] / norms[kept, None]
    n = kept.size
    min_size = max(2, math.ceil(min_fraction * n - 1e-12))
    S = np.clip(U @ U.T, -1.0, 1.0)
    near = S >= cos_threshold
    unassigned = np.ones(n, dtype=bool)
    clusters = []
    # lexicographic rank of each unit vector: the last tie-break (order-free)
    lex_rank = np.empty(n, dtype=int)
    lex_rank[np.lexsort(U.T[::-1])] = np.arange(n)
    while unassigned.any():
        nb = near & unassigned[None, :]
        count = np.where(unassigned, nb.sum(axis=1), -1)
        weight = np.where(unassigned, np.where(nb, S, 0.0).sum(axis=1), -np.inf)
        best = np.lexsort((lex_rank, weight, count))[-1]
        members = np.flatnonzero(nb[best])
        clusters.append(members)
        unassigned[members] = False
    alpha = math.acos(cos_threshold)
    counted, centres, spreads = [], [], []
    for c in clusters:
        if c.size < min_size:
            continue
        centre = U[c].sum(axis=0)
        centre = centre / np.linalg.norm(centre)
        spread = float(np.median(np.arccos(np.clip(U[c] @ centre, -1.0, 1.0))))
        if spread <= tightness * alpha:
            counted.append(c)
            centres.append(centre)
            spreads.append(spread)
    sizes = np.array([c.size for c in counted], dtype=int)
    order = np.lexsort(
        (np.array([lex_rank[c].max() for c in counted], dtype=int), -sizes)
    )
    labels[kept] = -1
    for new, old in enumerate(order):
        labels[kept[counted[old]]] = new
    k = W.shape[1]
    centres = np.array([centres[i] for i in order]).reshape(len(order), k)
    sizes = sizes[order]
    spreads = np.array([spreads[i] for i in order], dtype=float)
    lines = _pair_lines(centres, cos_threshold)
    return Orientations(
        labels=labels,
        centres=centres,
        sizes=sizes,
        lines=lines,
        spreads=spreads,
        cos_threshold=cos_threshold,
        min_size=min_size,
        norm_tol=norm_tol,
        tightness=tightness,
    )


def _pair_lines(centres, cos_threshold):
    """Greedy matching of opposite orientations into lines."""
    k = centres.shape[0]
    lines = np.full(k, -1, dtype=int)
    if k == 0:
        return lines
    S = centres @ centres.T
    pairs = [(S[i, j], i, j) for i in range(k) for j in range(i + 1, k)]
    pairs = sorted(p for p in pairs if p[0] <= -cos_threshold)
    line = 0
    for _, i, j in pairs:
        if lines[i] < 0 and lines[j] < 0:
            lines[i] = lines[j] = line
            line += 1
    for i in range(k):
        if lines[i] < 0:
            lines[i] = line
            line += 1
    # renumber lines in order of first appearance (largest orientation first)
    _, first = np.unique(lines, return_index=True)
    rank = {old: new for new, old in enumerate(lines[np.sort(first)])}
    return np.array([rank[v] for v in lines], dtype=int)


def count_orientations(W, cos_threshold: float = 0.95, **kwargs) -> int:
    """Number of condensed orientations among the rows of ``W``.

    ``W`` holds one neuron's input weight per row, with the bias as the last column (the
    paper's ``w_j = (w_j, b_j)``); a direction and its opposite count as two
    orientations (on one line). The rule (unit vectors, negligible neurons ignored,
    greedy clustering by cosine similarity, small clusters as outliers) is that of
    :func:`cluster_orientations`, which takes the same keyword arguments. Proposition 1
    of Zhou et al. (2022) bounds this count by ``2p`` in the initial stage.

    Examples
    --------
    >>> import numpy as np
    >>> W = np.array([[1.0, 0.0]] * 5 + [[-2.0, 0.0]] * 5 + [[0.0, 3.0]] * 5)
    >>> count_orientations(W)
    3
    """
    return cluster_orientations(W, cos_threshold, **kwargs).n_orientations


def orientation_share(
    W, k: int, cos_threshold: float = 0.95, *, weight="norm2", **kwargs
) -> float:
    """Share of a layer carried by its ``k`` largest orientations: a continuous
    measure of condensation, next to the count.

    The clusters are those of :func:`cluster_orientations` with ``tightness=1.0`` by
    default (every cluster of at least ``min_size`` neurons, tight or not; pass
    ``tightness=`` to change it). Each neuron weighs ``||w_j||^2`` (``weight="norm2"``)
    or 1 (``weight="count"``); the result is the weight of the ``k`` heaviest clusters
    over the total weight of all rows. Random directions in more than two dimensions
    give about 0 (neighbours within ``arccos(cos_threshold)`` are rare); a layer
    condensed onto at most ``k`` orientations gives 1. With ``norm2`` the neurons that
    grew out of a small initialisation dominate, which is what matters for the
    function the layer computes (Zhou et al. 2022, Section 4 judge by eye).

    Examples
    --------
    >>> import numpy as np
    >>> W = np.array([[1.0, 0.0, 0.0]] * 6 + [[0.0, 0.0, 2.0]] * 2)
    >>> orientation_share(W, 1), orientation_share(W, 1, weight="count")
    (0.5714285714285714, 0.75)
    >>> orientation_share(W, 2)
    1.0
    """
    if weight not in ("norm2", "count"):
        raise ValueError(f"weight must be 'norm2' or 'count'; got {weight!r}")
    k = positive_int(k, "k")
    kwargs.setdefault("tightness", 1.0)
    res = cluster_orientations(W, cos_threshold, **kwargs)
    W = np.asarray(W, dtype=float)
    w = np.sum(W**2, axis=1) if weight == "norm2" else np.ones(len(W))
    masses = np.sort([w[res.labels == lab].sum() for lab in range(res.n_orientations)])
    return float(masses[::-1][:k].sum() / w.sum())


def order_by_cluster(W, cos_threshold: float = 0.95, **kwargs) -> np.ndarray:
    """A permutation of the rows of ``W`` that puts each orientation's neurons together.

    Lines in order of their number of neurons, the two orientations of a line next to
    each other, within an orientation the neurons closest to its centre first; then the
    outliers and the negligible neurons. Keyword arguments as for
    :func:`cluster_orientations`.
    """
    res = cluster_orientations(W, cos_threshold, **kwargs)
    W = np.asarray(W, dtype=float)
    U = W / np.maximum(np.linalg.norm(W, axis=1, keepdims=True), np.finfo(float).tiny)
    line_size = {}
    for lab, line in enumerate(res.lines):
        line_size[line] = line_size.get(line, 0) + res.sizes[lab]
    keys = []
    for j, lab in enumerate(res.labels):
        if lab >= 0:
            line = res.lines[lab]
            closeness = float(U[j] @ res.centres[lab])
            keys.append((0, -line_size[line], line, lab, -closeness, j))
        else:
            keys.append((1 if lab == -1 else 2, 0, 0, 0, 0.0, j))
    return np.array([k[-1] for k in sorted(keys)], dtype=int)


def plot_similarity(W, ax=None, cos_threshold: float = 0.95, order=True, **kwargs):
    """Heat map of the cosine similarities (Eq. 5) of the rows of ``W``, neurons ordered
    by cluster (:func:`order_by_cluster`) with thin lines between orientations.

    Parameters
    ----------
    W : array_like, shape (m, k)
    ax : matplotlib Axes, optional
    cos_threshold, kwargs : passed to :func:`cluster_orientations`.
    order : bool
        Reorder the neurons by cluster (``False`` keeps the given order).

    Returns
    -------
    (image, permutation)
        The ``AxesImage`` (for a colour bar) and the order used.
    """
    import matplotlib.pyplot as plt

    W = finite_array(W, "W", ndim=2)
    if np.any(np.linalg.norm(W, axis=1) == 0):
        raise ValueError("W has a zero row: a zero weight has no direction")
    perm = order_by_cluster(W, cos_threshold, **kwargs) if order else np.arange(len(W))
    if ax is None:
        ax = plt.gca()
    S = cosine_similarity(W[perm])
    image = ax.imshow(S, cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
    if order:
        labels = cluster_orientations(W, cos_threshold, **kwargs).labels[perm]
        cuts = np.flatnonzero(np.diff(labels) != 0) + 0.5
        for c in cuts:
            ax.axhline(c, color="black", lw=0.4)
            ax.axvline(c, color="black", lw=0.4)
    ax.set_xlabel("neuron")
    ax.set_ylabel("neuron")
    ax.grid(False)
    return image, perm


# --------------------------------------------------------------------------------------
# The direction field (Section 4.4) and its invariant lines (Eq. 9, Proposition 1)
# --------------------------------------------------------------------------------------


def _augment(x, name="x"):
    x = finite_array(x, name)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"{name} must have shape (n,) or (n, d) with n >= 1")
    return np.hstack([x, np.ones((x.shape[0], 1))])


def _residuals(e, n):
    e = finite_array(e, "e", ndim=1)
    if e.shape[0] != n:
        raise ValueError(f"e must have one residual per sample ({n}); got {e.shape[0]}")
    return e


def _omega(omega, k):
    omega = finite_array(omega, "omega")
    if omega.ndim == 0 or omega.shape[-1] != k:
        raise ValueError(
            f"omega must have a last axis of length {k} (input weights with the bias "
            f"last); got shape {omega.shape}"
        )
    return omega


def leading_order_field(omega, x, e, p: int, coefficient: float = 1.0) -> np.ndarray:
    """The leading-order velocity ``F(omega) = -(c_p/n) sum_i e_i xt_i (omega .
    xt_i)^(p-1)`` of an input weight (Zhou et al. 2022, Section 4.4 with Eq. 7).

    The neuron ``j`` moves as ``dw_j/dt = a_j F(w_j)``; ``F`` is the gradient of
    ``Phi(omega) = -(c_p/(n p)) sum_i e_i (omega . xt_i)^p``.

    Parameters
    ----------
    omega : array_like, shape (..., d + 1)
        Points of weight space (bias last).
    x : array_like, shape (n,) or (n, d)
        Inputs; ``xt_i = (x_i, 1)``.
    e : array_like, shape (n,)
        Residuals ``f(x_i) - y_i``.
    p : int
        Multiplicity of the activation.
    coefficient : float
        ``c_p = sigma^(p)(0) / (p - 1)!`` (:attr:`LeadingOrder.coefficient`).

    Returns
    -------
    ndarray, shape (..., d + 1)
    """
    X = _augment(x)
    e = _residuals(e, X.shape[0])
    p = positive_int(p, "p")
    coefficient = finite_scalar(coefficient, "coefficient")
    omega = _omega(omega, X.shape[1])
    z = omega @ X.T
    power = z ** (p - 1) if p > 1 else np.ones_like(z)
    return -(coefficient / X.shape[0]) * (power * e) @ X


def direction_field(omega, x, e, dsigma) -> np.ndarray:
    """The full velocity ``F(omega) = -(1/n) sum_i e_i xt_i sigma'(omega . xt_i)`` of
    an input weight (Zhou et al. 2022, Section 4.4), before any expansion.

    Parameters
    ----------
    omega, x, e : as for :func:`leading_order_field`.
    dsigma : callable
        ``sigma'``, vectorised (e.g. from :func:`activation_functions`).
    """
    X = _augment(x)
    e = _residuals(e, X.shape[0])
    omega = _omega(omega, X.shape[1])
    if not callable(dsigma):
        raise ValueError(f"dsigma must be callable; got {dsigma!r}")
    return -(np.asarray(dsigma(omega @ X.T), dtype=float) * e) @ X / X.shape[0]


@dataclass(frozen=True)
class InvariantLines:
    """The lines of the weight plane ``(w, b)`` on which the leading-order field is
    radial (Eq. 9), for a layer with one-dimensional input (see
    :func:`invariant_lines`).

    Attributes
    ----------
    form : ndarray, shape (n_coefficients,)
        The ``p + 1`` coefficients ``g_0..g_p`` of the binary form ``G(u_1, u_2) =
        sum_k g_k u_1^k u_2^(p-k)`` whose zeros are the invariant directions ``u =
        (u_1, u_2)``.
    uhat_roots : ndarray of complex
        All roots of the paper's equation in ``uhat = u_1/u_2`` (``G(uhat, 1) = 0``);
        fewer than ``p`` when ``u_2 = 0`` is a solution.
    u2_zero : bool
        Whether ``u_2 = 0`` (the direction ``(1, 0)``: no bias) is invariant, i.e.
        ``g_p = 0`` to rounding.
    angles : ndarray, shape (n_lines,)
        Angle in ``[0, pi)`` of each invariant line.
    orientations : ndarray, shape (n_orientations, n_inputs)
        Both unit vectors ``(u_1, u_2)`` of each line (two per line, ``n_inputs =
        2``), sorted by angle.
    attracts : ndarray of int, shape (n_orientations,)
        ``+1`` where the orientation attracts neurons with ``a_j > 0`` (a local maximum
        of ``Phi`` on the unit circle), ``-1`` where it attracts neurons with ``a_j <
        0`` (a local minimum), ``0`` if degenerate.
    degenerate : bool
        ``G`` vanishes identically (to rounding): the field is radial everywhere and
        every direction is invariant.
    """

    form: np.ndarray
    uhat_roots: np.ndarray
    u2_zero: bool
    angles: np.ndarray
    orientations: np.ndarray
    attracts: np.ndarray
    degenerate: bool

    @property
    def n_lines(self) -> int:
        return int(self.angles.size)


def _phi_derivatives(theta, x, e, p, c):
    """phi'(theta) and phi''(theta) for phi(theta) = Phi(cos theta, sin theta)."""
    th = np.asarray(theta, dtype=float)[..., None]
    s = np.cos(th) * x + np.sin(th)
    ds = -np.sin(th) * x + np.cos(th)
    n = x.size
    sp1 = s ** (p - 1) if p > 1 else np.ones_like(s)
    d1 = -(c / n) * np.sum(e * sp1 * ds, axis=-1)
    sp2 = (p - 1) * s ** (p - 2) if p > 1 else np.zeros_like(s)
    d2 = -(c / n) * np.sum(e * (sp2 * ds**2 - s**p), axis=-1)
    return d1, d2


def invariant_lines(
    x, e, p: int, coefficient: float = 1.0, *, imag_tol: float = 1e-7
) -> InvariantLines:
    """Invariant lines of the leading-order field for a layer with one-dimensional input
    plus bias (Zhou et al. 2022, Eq. 9 and Proposition 1, case ``m_{k-1} = 1``).

    A direction ``u = (u_1, u_2)`` (weight, bias) keeps its orientation exactly when the
    leading-order field :func:`leading_order_field` is parallel to it, ``u_2 F_1(u) -
    u_1 F_2(u) = 0``. With moments ``mu_k = (1/n) sum_i e_i x_i^k`` this is the binary
    form of degree ``p``

    ``G(u) = sum_k g_k u_1^k u_2^(p-k)``, ``g_k = -c_p [C(p-1, k) mu_(k+1) - C(p-1,
    k-1) mu_(k-1)]``,

    which is the paper's degree-``p`` equation in ``uhat = u_1/u_2`` after division by
    ``u_2^p``. A non-zero binary form of degree ``p`` has at most ``p`` zeros on the
    projective line, ``u_2 = 0`` included, so there are at most ``p`` lines and ``2p``
    invariant orientations; if ``G`` vanishes identically there is no bound.

    Roots are taken in both charts (``u_1/u_2`` and ``u_2/u_1``, each where it has
    modulus at most 1), kept when their imaginary part is below ``imag_tol`` (relative),
    polished by Newton's method on ``phi'`` and merged.

    Parameters
    ----------
    x : array_like, shape (n,)
        The scalar inputs of the layer.
    e : array_like, shape (n,)
        Residuals ``f(x_i) - y_i``.
    p : int
        Multiplicity.
    coefficient : float
        ``c_p`` (its sign decides which orientations attract ``a_j > 0``).
    imag_tol : float
        Relative size of an imaginary part still read as a real root.

    Returns
    -------
    InvariantLines
    """
    x = finite_array(x, "x", ndim=1)
    if x.size == 0:
        raise ValueError("x must hold at least one sample")
    e = _residuals(e, x.size)
    p = positive_int(p, "p")
    c = finite_scalar(coefficient, "coefficient")
    if c == 0:
        raise ValueError("coefficient c_p must be non-zero (Definition 1)")
    imag_tol = positive_scalar(imag_tol, "imag_tol")
    mu = np.array([np.mean(e * x**k) for k in range(p + 1)])
    binom = lambda a, b: math.comb(a, b) if 0 <= b <= a else 0  # noqa: E731
    g = np.array(
        [
            -c
            * (
                binom(p - 1, k) * (mu[k + 1] if k + 1 <= p else 0.0)
                - binom(p - 1, k - 1) * (mu[k - 1] if k >= 1 else 0.0)
            )
            for k in range(p + 1)
        ]
    )
    scale = abs(c) * np.mean(np.abs(e) * (1 + np.abs(x)) ** p)
    tiny = 64 * np.finfo(float).eps * max(scale, np.finfo(float).tiny)
    degenerate = bool(np.max(np.abs(g)) <= tiny)
    u2_zero = bool(abs(g[p]) <= tiny)
    g_t = g.copy()
    if u2_zero:  # the paper's equation in uhat loses its top degree
        g_t[p] = 0.0
    poly_t = np.trim_zeros(g_t[::-1], "f")  # highest power of uhat first
    uhat_roots = np.roots(poly_t) if poly_t.size > 1 else np.array([], complex)
    if degenerate:
        empty = np.zeros(0)
        return InvariantLines(
            g, uhat_roots, u2_zero, empty, np.zeros((0, 2)), np.zeros(0, int), True
        )
    candidates = []
    for r in uhat_roots:  # u = (t, 1)
        if abs(r) <= 1 + 1e-9 and abs(r.imag) <= imag_tol * max(1.0, abs(r)):
            candidates.append(math.atan2(1.0, r.real))
    poly_s = np.trim_zeros(g, "f")  # in s = u2/u1, highest power first
    s_roots = np.roots(poly_s) if poly_s.size > 1 else np.array([], complex)
    for r in s_roots:  # u = (1, s)
        if abs(r) <= 1 + 1e-9 and abs(r.imag) <= imag_tol * max(1.0, abs(r)):
            candidates.append(math.atan2(r.real, 1.0))
    if u2_zero:
        candidates.append(0.0)
    angles = []
    for th in candidates:
        for _ in range(50):  # Newton on phi'(theta), one step at a time
            d1, d2 = _phi_derivatives(th, x, e, p, c)
            if d2 == 0:
                break
            step = float(d1 / d2)
            th -= step
            if abs(step) < 1e-15:
                break
        th = th % np.pi
        if all(min(abs(th - a), np.pi - abs(th - a)) > 1e-7 for a in angles):
            angles.append(th)
    angles = np.sort(np.array(angles))
    orient = np.concatenate([angles, angles + np.pi])
    orient = np.sort(orient)
    d1, d2 = _phi_derivatives(orient, x, e, p, c)
    curvature_tol = 1e-9 * scale
    attracts = np.where(d2 < -curvature_tol, 1, np.where(d2 > curvature_tol, -1, 0))
    return InvariantLines(
        form=g,
        uhat_roots=uhat_roots,
        u2_zero=u2_zero,
        angles=angles,
        orientations=np.stack([np.cos(orient), np.sin(orient)], axis=1),
        attracts=attracts.astype(int),
        degenerate=False,
    )


# --------------------------------------------------------------------------------------
# The initial stage, polynomial fits, gradient flow
# --------------------------------------------------------------------------------------


def initial_stage_end(losses, fraction: float = 0.7):
    """First index at which the loss has fallen to ``fraction`` of its initial value.

    Zhou et al. (2022, Section 3) call the *initial stage* the period before the loss
    decays to 70% of its initial value. Indices before the returned one are in the
    initial stage.

    Parameters
    ----------
    losses : array_like, shape (T,)
        A loss history, ``losses[0]`` at initialisation (positive).
    fraction : float in (0, 1)

    Returns
    -------
    int or None
        ``None`` when the loss never falls to ``fraction * losses[0]`` (the whole record
        is in the initial stage).
    """
    losses = finite_array(losses, "losses", ndim=1)
    fraction = finite_scalar(fraction, "fraction")
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must lie in (0, 1); got {fraction}")
    if losses.size == 0 or losses[0] <= 0:
        raise ValueError("losses must be non-empty with a positive initial loss")
    hit = np.flatnonzero(losses <= fraction * losses[0])
    return int(hit[0]) if hit.size else None


def polynomial_fit_residual(x, f, degree) -> np.ndarray:
    """Relative residual of the least-squares polynomial fit of ``f`` against ``x``.

    ``||f - P_d f|| / ||f - mean(f)||``, where ``P_d f`` is the best polynomial of
    degree ``d`` (so degree 0 gives 1). Used to check that a network with small weights
    computes, to leading order, a polynomial of degree ``p`` (Zhou et al. 2022, Figure
    5).

    Parameters
    ----------
    x, f : array_like, shape (n,)
    degree : int or sequence of int

    Returns
    -------
    ndarray
        One relative residual per degree (a 0-d array for an int).
    """
    x = finite_array(x, "x", ndim=1)
    f = finite_array(f, "f", ndim=1)
    if x.shape != f.shape:
        raise ValueError(f"x and f must have the same shape; got {x.shape}, {f.shape}")
    degrees = np.atleast_1d(np.asarray(degree))
    if degrees.dtype.kind not in "iu" or np.any(degrees < 0):
        raise ValueError(f"degree must be non-negative integers; got {degree!r}")
    if np.unique(x).size <= degrees.max():
        raise ValueError("x needs more distinct points than the largest degree")
    centred = np.linalg.norm(f - f.mean())
    if centred == 0:
        raise ValueError("f is constant: the relative residual is undefined")
    out = []
    for d in degrees:
        fit = np.polynomial.Polynomial.fit(x, f, int(d))
        out.append(np.linalg.norm(f - fit(x)) / centred)
    out = np.array(out)
    return out[0] if np.ndim(degree) == 0 else out


@dataclass(frozen=True)
class FlowResult:
    """Gradient-flow trajectory of a two-layer network (see :func:`gradient_flow`).

    Attributes
    ----------
    times : ndarray, shape (n_times,)
        The recorded times.
    W : ndarray, shape (n_times, n_neurons, n_inputs)
        Input weights (bias last) at each time.
    a : ndarray, shape (n_times, n_neurons)
        Output weights.
    loss : ndarray, shape (n_times,)
        The loss Eq. 3 at each time.
    level_times : ndarray
        For each requested loss level, the first time the loss fell to it (``nan`` if
        it did not before ``t_max``).
    """

    times: np.ndarray
    W: np.ndarray
    a: np.ndarray
    loss: np.ndarray
    level_times: np.ndarray


def gradient_flow(
    x,
    y,
    W0,
    a0,
    activation,
    t_max: float,
    *,
    times=None,
    levels=(),
    stop_level: float | None = None,
    rtol: float = 1e-8,
    atol: float = 1e-12,
) -> FlowResult:
    """Integrate the gradient flow (Eq. 4) of a two-layer network (Eq. 1) on the mean
    squared error (Eq. 3), with an adaptive Runge-Kutta method (scipy's ``DOP853``).

    ``f(x) = sum_j a_j sigma(w_j . xt)``, ``xt = (x, 1)``; ``dw_j/dt = -(a_j/n) sum_i
    e_i sigma'(w_j . xt_i) xt_i`` and ``da_j/dt = -(1/n) sum_i e_i sigma(w_j . xt_i)``.
    The adaptive step follows the slow escape from a small initialisation at no cost,
    where gradient descent with a fixed learning rate would need ``~ 1/eps^(p-1)``
    steps.

    Parameters
    ----------
    x : array_like, shape (n,) or (n, d)
    y : array_like, shape (n,)
    W0 : array_like, shape (m, d + 1)
        Initial input weights, bias last.
    a0 : array_like, shape (m,)
        Initial output weights.
    activation : str or (sympy.Expr, sympy.Symbol)
        As for :func:`activation_functions`.
    t_max : float
        Final time (the flow stops earlier at ``stop_level``).
    times : array_like, optional
        Times at which to record the state (always including 0 and the final time).
    levels : sequence of float
        Loss fractions ``q`` (of the initial loss) whose first crossing times are
        recorded; the state at each crossing is added to the record.
    stop_level : float, optional
        Stop when the loss falls to this fraction of its initial value.
    rtol, atol : float
        Tolerances of the integrator.

    Returns
    -------
    FlowResult
    """
    from scipy.integrate import solve_ivp

    X = _augment(x)
    n, k = X.shape
    y = finite_array(y, "y", ndim=1)
    if y.size != n:
        raise ValueError(f"y must have one value per sample ({n}); got {y.size}")
    W0 = finite_array(W0, "W0", ndim=2)
    if W0.shape[1] != k:
        raise ValueError(f"W0 must have {k} columns (bias last); got {W0.shape[1]}")
    m = W0.shape[0]
    a0 = finite_array(a0, "a0", ndim=1)
    if a0.size != m:
        raise ValueError(f"a0 must have one entry per row of W0 ({m}); got {a0.size}")
    t_max = positive_scalar(t_max, "t_max")
    sigma, dsigma = activation_functions(activation)
    levels = [finite_scalar(q, "levels") for q in levels]
    for q in levels + ([] if stop_level is None else [stop_level]):
        if not 0 < q < 1:
            raise ValueError(f"loss levels must lie in (0, 1); got {q}")

    def unpack(state):
        return state[: m * k].reshape(m, k), state[m * k :]

    def loss_of(state):
        W, a = unpack(state)
        r = sigma(X @ W.T) @ a - y
        return 0.5 * np.mean(r * r)

    def rhs(_t, state):
        W, a = unpack(state)
        Z = X @ W.T
        r = sigma(Z) @ a - y
        dW = -((dsigma(Z) * r[:, None]).T @ X) * a[:, None] / n
        da = -(sigma(Z).T @ r) / n
        return np.concatenate([dW.ravel(), da])

    state0 = np.concatenate([W0.ravel(), a0])
    L0 = loss_of(state0)
    if L0 <= 0:
        raise ValueError("the initial loss is zero: nothing to train")
    events = []
    for q in levels:
        ev = lambda t, s, q=q: loss_of(s) - q * L0  # noqa: E731
        ev.direction = -1
        events.append(ev)
    if stop_level is not None:
        ev = lambda t, s: loss_of(s) - stop_level * L0  # noqa: E731
        ev.direction = -1
        ev.terminal = True
        events.append(ev)
    sol = solve_ivp(
        rhs,
        (0.0, t_max),
        state0,
        method="DOP853",
        rtol=rtol,
        atol=atol,
        dense_output=True,
        events=events or None,
    )
    if sol.status == -1:
        raise RuntimeError(f"gradient flow integration failed: {sol.message}")
    t_end = float(sol.t[-1])
    level_times = np.array(
        [
            float(sol.t_events[i][0]) if len(sol.t_events[i]) else np.nan
            for i in range(len(levels))
        ]
    )
    grid = [0.0, t_end]
    if times is not None:
        times = finite_array(times, "times", ndim=1)
        grid += [t for t in times if 0 <= t <= t_end]
    grid += [t for t in level_times if np.isfinite(t)]
    grid = np.unique(np.array(grid))
    states = sol.sol(grid).T
    Ws = states[:, : m * k].reshape(-1, m, k)
    As = states[:, m * k :]
    losses = np.array([loss_of(s) for s in states])
    return FlowResult(times=grid, W=Ws, a=As, loss=losses, level_times=level_times)

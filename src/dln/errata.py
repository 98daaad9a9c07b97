"""The one registry of what the papers print, what holds, and where the book proves it.

Every entry names a place in a paper (an equation, a statement, a passage), what the
paper prints there, what actually holds, the kind of discrepancy, and the label of the
place in a chapter where a cell proves it. Results that the book checked and found to
hold are entries too (kind ``holds``), so the errata page shows the coverage of the
checks, not only the failures.

The chapters and the errata page (``book/errata.md``) both read this registry: the page
is generated from it, and the cell that proves an entry calls :func:`get` with its key,
which fails if the entry is missing. A unit test checks that each entry's label stands
in its chapter and is followed by a cell that calls :func:`get` with the entry's key.

Examples
--------
>>> from dln import errata
>>> errata.get("deep-c0").place
'Eq. (12)'
>>> errata.get("deep-c0").kind
'wrong'
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

__all__ = [
    "Erratum",
    "ERRATA",
    "PAPERS",
    "KINDS",
    "get",
    "entries",
    "markdown_table",
    "summary_table",
]

PAPERS = {
    "ziyin2022exact": "Exact Solutions of a Deep Linear Network",
    "branigan2021review": "The review of Kawaguchi and of Hardt & Ma",
    "zhou2022condensation": "Towards Understanding the Condensation of Neural Networks "
    "at Initial Training",
}
"""The papers the book checks, by their bibliography key."""

KINDS = ("wrong", "typo", "missing hypothesis", "holds")
"""``wrong``: the printed statement or formula is false; ``typo``: a slip whose intent
is clear and whose correction changes no conclusion; ``missing hypothesis``: true only
under a condition the paper does not state; ``holds``: checked and true as printed."""

_KEY = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Erratum:
    """One checked place of a paper.

    Attributes
    ----------
    key : str
        Unique identifier, lower-case words joined by hyphens.
    paper : str
        Bibliography key of the paper, one of :data:`PAPERS`.
    section : str
        The paper's section (``"3.2"``, ``"B.4"``), used to order the entries.
    place : str
        The equation, statement or passage (``"Eq. (12)"``).
    printed : str
        What the paper prints (MyST Markdown, inline math allowed).
    corrected : str
        What holds (for ``holds`` entries: what was checked).
    kind : str
        One of :data:`KINDS`.
    chapter : str
        The chapter's document name (``"book/deep"``).
    label : str
        The MyST label, in that chapter, of the place whose cell proves the entry.
    """

    key: str
    paper: str
    section: str
    place: str
    printed: str
    corrected: str
    kind: str
    chapter: str
    label: str

    def __post_init__(self):
        if not _KEY.match(self.key):
            raise ValueError(
                f"erratum key must be lower-case-hyphenated; got {self.key!r}"
            )
        if self.paper not in PAPERS:
            raise ValueError(
                f"erratum {self.key!r}: paper must be one of {tuple(PAPERS)}; "
                f"got {self.paper!r}"
            )
        if self.kind not in KINDS:
            raise ValueError(
                f"erratum {self.key!r}: kind must be one of {KINDS}; got {self.kind!r}"
            )
        if not self.chapter.startswith("book/"):
            raise ValueError(
                f"erratum {self.key!r}: chapter must be a document name like "
                f"'book/deep'; got {self.chapter!r}"
            )
        for name in ("section", "place", "printed", "corrected", "label"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ValueError(
                    f"erratum {self.key!r}: {name} must be a non-empty string"
                )


_Z, _R = "ziyin2022exact", "branigan2021review"
_C = "zhou2022condensation"

ERRATA = (
    # --- Ziyin, Li & Meng (2022): the model (book/model) ----------------------------
    Erratum(
        key="model-eq1-loss",
        paper=_Z,
        section="1",
        place="Eqs. (1) and (9), the objective",
        printed=r"$\mathbb E_x\mathbb E_\epsilon(\sum U_{i_D}\epsilon^{(D)}_{i_D}\cdots"
        r"\epsilon^{(1)}_{i_1}W^{(1)}_{i_1i}x_i-y)^2$ plus weight decay on every layer",
        corrected=r"its noise average is $\operatorname{tr}(Q_0A_0)"
        r"-2p^\top\mathbb E[xy]+\mathbb E[y^2]$ plus weight decay, for any weights "
        "and depth; Monte Carlo "
        "with dropout and Gaussian noise agrees (depths 1 to 3)",
        kind="holds",
        chapter="book/model",
        label="errata-model-eq1-loss",
    ),
    Erratum(
        key="model-noise-moments",
        paper=_Z,
        section="3",
        place="the noise convention after Eq. (2); dropout as its example (Sec. 1)",
        printed=r"$\mathbb E[\epsilon_i]=1$, $\mathbb E[\epsilon_i\epsilon_j]="
        r"\delta_{ij}\sigma^2+1$, e.g. dropout",
        corrected=r"inverted dropout $B/q$, $B\sim$ Bernoulli$(q)$, has these moments "
        r"with $\sigma^2=(1-q)/q$; plain dropout $B$ has mean $q$ and is an instance "
        "only after rescaling",
        kind="holds",
        chapter="book/model",
        label="errata-model-noise-moments",
    ),
    # --- Ziyin, Li & Meng (2022): the two-layer network (book/two_layer) -----------
    Erratum(
        key="two-layer-eq2-sum",
        paper=_Z,
        section="3",
        place="Eq. (2)",
        printed=r"inner sum $\sum_{i=1}^{d_1}W_{ji}x_i$",
        corrected=r"the inner sum runs over the $d$ inputs, $\sum_{i=1}^{d}W_{ji}x_i$; "
        r"read literally, Theorem 1 would fail for $d_1<d$",
        kind="typo",
        chapter="book/two_layer",
        label="errata-two-layer-eq2-sum",
    ),
    Erratum(
        key="two-layer-existence",
        paper=_Z,
        section="3",
        place="existence of a global minimum of Eq. (2)",
        printed="assumed in Section 3, proved for every depth in Proposition 1",
        corrected=r"holds for $\gamma_u,\gamma_w>0$: $L\ge\gamma_{\min}\|\theta\|^2$, "
        r"every minimiser in the ball $\|\theta\|^2\le\mathbb E[y^2]/\gamma_{\min}$; "
        r"with $\gamma_u=0$ the infimum is not attained",
        kind="holds",
        chapter="book/two_layer",
        label="holds-two-layer-existence",
    ),
    Erratum(
        key="two-layer-lemma1",
        paper=_Z,
        section="3.1",
        place="Lemma 1",
        printed=r"$U_j^2=\frac{\gamma_w}{\gamma_u}\sum_iW_{ji}^2$ "
        "at the global minimum",
        corrected="holds at every critical point (SymPy); met by gradient descent "
        "and by the brute-force minimisers",
        kind="holds",
        chapter="book/two_layer",
        label="holds-two-layer-lemma1",
    ),
    Erratum(
        key="two-layer-lemma2",
        paper=_Z,
        section="3.1",
        place="Lemma 2, Eq. (3)",
        printed=r"$U_i^2=U_j^2$ and $U_iW_{i:}=U_jW_{j:}$ at the global minimum",
        corrected=r"holds for $\sigma^2>0$ (fails for $\sigma^2=0$); the averaging "
        "move lowers the exact loss by the predicted amount",
        kind="holds",
        chapter="book/two_layer",
        label="holds-two-layer-lemma2",
    ),
    Erratum(
        key="two-layer-theorem1",
        paper=_Z,
        section="3.1",
        place="Theorem 1, Eqs. (4)–(6)",
        printed=r"origin iff $\|\mathbb E[xy]\|^2\le\gamma_u\gamma_w$; otherwise "
        r"$U=b\mathbf r$, $W=\mathbf r\,\mathbb E[xy]^\top b\,[\dots]^{-1}$ with $b$ "
        "from Eq. (6)",
        corrected="holds: brute force over all weights reaches the same gain and the "
        "predicted minimisers, also just below and just above the threshold",
        kind="holds",
        chapter="book/two_layer",
        label="holds-two-layer-theorem1",
    ),
    Erratum(
        key="two-layer-threshold-strict",
        paper=_Z,
        section="3.1",
        place="text after Theorem 1",
        printed=r"nontrivial solution when $\|\mathbb E[xy]\|^2\ge\gamma_u\gamma_w$",
        corrected=r"strict: $>$; at equality the origin is the unique global minimum",
        kind="wrong",
        chapter="book/two_layer",
        label="errata-two-layer-threshold-strict",
    ),
    Erratum(
        key="two-layer-closed-form",
        paper=_Z,
        section="3.1",
        place=r"text after Theorem 1: $b^*$ “generally not analytical by Galois "
        "theory”",
        printed=r"no closed form for $b^*$ in general; whitened data as the "
        "special case",
        corrected=r"holds, precisely: Eq. (6) has degree $2k$ in $b^2$, $k$ the "
        r"number of eigenvalues of $A_0$ carrying signal; radicals for $k\le2$, "
        r"Galois group $S_6$ for a $k=3$ instance",
        kind="holds",
        chapter="book/two_layer",
        label="holds-two-layer-closed-form",
    ),
    Erratum(
        key="two-layer-eq8",
        paper=_Z,
        section="3.2",
        place="Eq. (8)",
        printed=r"$b_*^2$ between $c/((\sigma^2+d_1)a_{\max})$ and "
        r"$c/((\sigma^2+d_1)a_{\min})$",
        corrected=r"holds on random instances with $\operatorname{cond}(A_0)$ up to "
        r"$10^8$",
        kind="holds",
        chapter="book/two_layer",
        label="holds-two-layer-eq8",
    ),
    Erratum(
        key="two-layer-lemma2-reg",
        paper=_Z,
        section="B.2",
        place="Eqs. (24)–(28), proof of Lemma 2",
        printed=r"$U_i=b_i$, $W_{i:}=b_iw_i$, weight decay "
        r"$(\gamma_u+\gamma_w)\lVert b\rVert^2$",
        corrected=r"balanced: $U_i=(\gamma_w/\gamma_u)^{1/4}b_i$, "
        r"$W_{i:}=(\gamma_u/\gamma_w)^{1/4}b_iw_i$, weight decay "
        r"$2\sqrt{\gamma_u\gamma_w}\lVert b\rVert^2$ (the printed one only for "
        r"$\gamma_u=\gamma_w$)",
        kind="wrong",
        chapter="book/two_layer",
        label="errata-two-layer-lemma2-reg",
    ),
    Erratum(
        key="two-layer-triangle",
        paper=_Z,
        section="B.2",
        place="proof of Lemma 2, its last step",
        printed=r"the triangle inequality is an equality only if "
        r"$U_iW_{i:}=U_jW_{j:}$",
        corrected="it is an equality for any two contributions pointing the same way; "
        r"equal contributions follow from the noise term, which drops by "
        r"$\frac{\sigma^2}{2}(p_i-p_j)^\top A_0(p_i-p_j)>0$",
        kind="wrong",
        chapter="book/two_layer",
        label="errata-two-layer-triangle",
    ),
    Erratum(
        key="two-layer-eq36",
        paper=_Z,
        section="B.3",
        place="Eqs. (30)–(33), (36)",
        printed=r"the reduced problem in $(b,v)$, its ridge solution, and the loss "
        r"along $b$",
        corrected="holds (SymPy, and the solver's weights have the ridge form)",
        kind="holds",
        chapter="book/two_layer",
        label="holds-two-layer-eq36",
    ),
    Erratum(
        key="two-layer-eq37",
        paper=_Z,
        section="B.3",
        place="Eq. (37)",
        printed=r"$2d_1\|\mathbb E[xy]\|^2/\gamma_w+2\gamma_ud_1$ (never negative)",
        corrected=r"$2d_1(\gamma_u-\|\mathbb E[xy]\|^2/\gamma_w)$",
        kind="wrong",
        chapter="book/two_layer",
        label="errata-two-layer-eq37",
    ),
    Erratum(
        key="two-layer-eq38",
        paper=_Z,
        section="B.4",
        place="Eq. (38), proof of Proposition 1",
        printed=r"“can be upper-bounded by”, before $\text{Eq. (9)}\ge\dots$",
        corrected="lower-bounded (as the inequality says and the proof needs)",
        kind="typo",
        chapter="book/two_layer",
        label="errata-two-layer-eq38",
    ),
    Erratum(
        key="two-layer-whitening",
        paper=_Z,
        section="C",
        place="the whitening map",
        printed=r"$x\to\sigma_x\sqrt{A_0^{-1}x}$",
        corrected=r"$x\to\sigma_xA_0^{-1/2}x$",
        kind="typo",
        chapter="book/two_layer",
        label="errata-two-layer-whitening",
    ),
    Erratum(
        key="two-layer-eq104",
        paper=_Z,
        section="C",
        place="Eq. (104)",
        printed=r"$b_*^2=(\sqrt{\gamma_w/\gamma_u}\|\mathbb E[xy]\|-\gamma_w)/"
        r"((\sigma^2+d_1)\sigma_x^2)$ for $A_0=\sigma_x^2I$",
        corrected="holds: equals the solver's root and weights on random whitened "
        "instances",
        kind="holds",
        chapter="book/two_layer",
        label="holds-two-layer-eq104",
    ),
    Erratum(
        key="two-layer-eq105-sign",
        paper=_Z,
        section="C",
        place="Eq. (105)",
        printed=r"$v=W_{i:}=\pm\sqrt{\cdots}\,\mathbb E[xy]/\|\mathbb E[xy]\|$, the "
        "sign left free",
        corrected=r"the sign of row $i$ is that of $U_i=b\mathbf r_i$; the opposite "
        r"pairing raises the loss by $4d_1b^*v^\top\mathbb E[xy]$",
        kind="typo",
        chapter="book/two_layer",
        label="errata-two-layer-eq105-sign",
    ),
    # --- Ziyin, Li & Meng (2022): networks of any depth (book/deep) ----------------
    Erratum(
        key="deep-existence",
        paper=_Z,
        section="4.1",
        place="Proposition 1",
        printed=r"for positive $\gamma_u,\gamma_1,\dots,\gamma_D$ a global minimum "
        "of Eq. (9) exists",
        corrected="holds: brute-force minimisers of depth 2-4 are strict local minima "
        "at the solver's loss, inside the ball; with one weight decay zero the "
        "infimum is not attained",
        kind="holds",
        chapter="book/deep",
        label="holds-deep-existence",
    ),
    Erratum(
        key="deep-structure",
        paper=_Z,
        section="4.1",
        place="Theorem 2",
        printed="every global minimum is rank one with sign vectors and a "
        "ridge-regression input row (Eq. 10)",
        corrected=r"holds under the standing assumption $\sigma_i^2>0$ of Eq. (9): "
        "brute-force minimisers of depth 2-4 have the form; with one noiseless "
        "layer, rotated global minima without it exist",
        kind="holds",
        chapter="book/deep",
        label="holds-deep-structure",
    ),
    Erratum(
        key="deep-eq10-constants",
        paper=_Z,
        section="4.1",
        place="Eq. (10)",
        printed=r"one $\sigma^2$ in $(\sigma^2+d_1)$ and $s^2$, and a weight decay "
        r"$\gamma_w$",
        corrected=r"$\sigma_1^2$ in $(\sigma_1^2+d_1)$, $\sigma_i^2$ inside $s^2$, and "
        r"$\gamma_1$: the loss has one noise level and weight decay per layer",
        kind="typo",
        chapter="book/deep",
        label="errata-deep-eq10-constants",
    ),
    Erratum(
        key="deep-eq11",
        paper=_Z,
        section="4.1",
        place="Eq. (11)",
        printed=r"$\gamma_{k+1}d_{k+1}b_{k+1}^2=\gamma_kd_{k-1}b_k^2$",
        corrected=r"holds at the brute-force minimiser, with $d_0=d$, "
        r"$d_{D+1}=1$ and $\gamma_{D+1}=\gamma_u$",
        kind="holds",
        chapter="book/deep",
        label="holds-deep-eq11",
    ),
    Erratum(
        key="deep-d0-clash",
        paper=_Z,
        section="4.1",
        place="Eq. (11) and Proposition 3 onwards",
        printed=r"$d_0$ is the input dimension in Eq. (11) and the common hidden width "
        "from Proposition 3 on",
        corrected=r"Eq. (11) needs $d_0=d$; the common width needs its own symbol",
        kind="typo",
        chapter="book/deep",
        label="errata-deep-d0",
    ),
    Erratum(
        key="deep-c0",
        paper=_Z,
        section="4.1",
        place="Eq. (12)",
        printed=r"$c_0$ with the factor $\sqrt{d_1}$ under the root",
        corrected=r"the factor is the product of all widths $\prod_{i=1}^Dd_i$; "
        r"$c_0=\sqrt{d_0}$ for equal widths",
        kind="wrong",
        chapter="book/deep",
        label="errata-deep-c0",
    ),
    Erratum(
        key="deep-eq13",
        paper=_Z,
        section="4.1",
        place="Eq. (13)",
        printed=r"right-hand side $d_2b^2$",
        corrected=r"$\frac{\gamma_2}{\gamma_1}d_2b^2$",
        kind="wrong",
        chapter="book/deep",
        label="errata-deep-eq13",
    ),
    Erratum(
        key="deep-landscape",
        paper=_Z,
        section="4.1",
        place="text after Definition 1 and Proposition 2; Section 4.2",
        printed=r"for $D=1$ the origin is a saddle or the global minimum; for "
        r"$D\ge2$ it is a local minimum, and there can be more than one local minimum",
        corrected="holds for the full loss: Hessians at the origin and at every root "
        "of the scalar equation (barriers strict saddles, wells strict minima), "
        "including cases with two wells",
        kind="holds",
        chapter="book/deep",
        label="holds-deep-landscape",
    ),
    Erratum(
        key="deep-eq17",
        paper=_Z,
        section="4.2",
        place="Eq. (17)",
        printed=r"$[d_0^D(\sigma^2+d_0)^Db^{2D}A_0+\gamma]^{-1}$",
        corrected=r"$+\gamma I$",
        kind="typo",
        chapter="book/deep",
        label="errata-deep-eq17",
    ),
    Erratum(
        key="deep-radius",
        paper=_Z,
        section="B.4",
        place="proof of Proposition 1",
        printed=r"radius $\mathbb E[y^2]/\gamma_{\min}$",
        corrected=r"radius $\sqrt{\mathbb E[y^2]/\gamma_{\min}}$",
        kind="wrong",
        chapter="book/deep",
        label="errata-deep-radius",
    ),
    Erratum(
        key="deep-eta-moments",
        paper=_Z,
        section="B.5",
        place=r"proof of Proposition 4, the moments of $\eta$",
        printed=r"$\mathbb E[\eta]=\prod_{i\ge2}d_i$, "
        r"$\mathbb E[\eta^2]=\prod_{i\ge2}d_i(\sigma_i^2+d_i)$",
        corrected="holds: sympy for depths 2 and 3, and Monte Carlo with dropout",
        kind="holds",
        chapter="book/deep",
        label="holds-deep-eta",
    ),
    Erratum(
        key="deep-eq45",
        paper=_Z,
        section="B.5",
        place="text after Eq. (45)",
        printed=r"trivial if $\mathbb E[xy]\le\gamma_2\gamma_1/(b_3^2\cdots b_u^2"
        r"\prod_{i=3}^Dd_i)$ (a vector against a scalar)",
        corrected=r"$\|\mathbb E[xy]\|^2\le\gamma_1\gamma_2/(b_3^2\cdots b_u^2\,d_2"
        r"\prod_{i=3}^Dd_i^2)$",
        kind="wrong",
        chapter="book/deep",
        label="errata-deep-eq45",
    ),
    Erratum(
        key="deep-eq46",
        paper=_Z,
        section="B.5",
        place="Eq. (46)",
        printed=r"$(b_2^*)^2d_3^2\cdots d_D^2b_u^2s^2$",
        corrected=r"$(b_2^*)^2b_3^2\cdots b_D^2b_u^2s^2$, as in Eq. (10)",
        kind="typo",
        chapter="book/deep",
        label="errata-deep-eq46",
    ),
    Erratum(
        key="deep-balance-lemma",
        paper=_Z,
        section="B.6",
        place="Lemma 3, Eq. (48)",
        printed=r"$\gamma_{k+1}\|W^{k+1}\|^2=\gamma_k\|W^k\|^2$ at any global minimum",
        corrected="holds, at every stationary point: brute-force minimisers of "
        "depth 2-4 are balanced to the bound their gradient sets",
        kind="holds",
        chapter="book/deep",
        label="holds-deep-balance",
    ),
    Erratum(
        key="deep-balance-scale",
        paper=_Z,
        section="B.6",
        place="proof of Lemma 3, the optimal rescaling",
        printed=r"$a^4=\gamma_k/\gamma_{k+1}$ (the same matrix above and below)",
        corrected=r"$a^4=\gamma_k\|W_k\|^2/(\gamma_{k+1}\|W_{k+1}\|^2)$",
        kind="typo",
        chapter="book/deep",
        label="errata-deep-balance-scale",
    ),
    # --- Ziyin, Li & Meng (2022): the landscape (book/landscape) ---------------------
    Erratum(
        key="landscape-prop2-constant",
        paper=_Z,
        section="4.1",
        place="Proposition 2",
        printed=r"at the origin, a diagonal positive-definite Hessian $\gamma I$",
        corrected=r"the Hessian is $2\operatorname{diag}(\gamma_1 I,\dots,\gamma_D I,"
        r"\gamma_u I)$ (as Eqs. 56–58 say); still a strict local minimum",
        kind="typo",
        chapter="book/landscape",
        label="errata-landscape-prop2-constant",
    ),
    Erratum(
        key="landscape-eq14",
        paper=_Z,
        section="4.1",
        place="Proposition 3, Eq. (14)",
        printed=r"if $\Phi(a_{\min})<\gamma$ the only solution is trivial",
        corrected="checked against the exact solver on random instances near the "
        "threshold (depth 2–6, cond up to 1e4): no failure",
        kind="holds",
        chapter="book/landscape",
        label="errata-landscape-eq14",
    ),
    Erratum(
        key="landscape-eq15",
        paper=_Z,
        section="4.1",
        place="Proposition 3, Eq. (15)",
        printed=r"if $\Phi(a_{\max})\ge\gamma$ nontrivial solutions exist",
        corrected="checked against the exact solver on random instances near the "
        "threshold: no failure",
        kind="holds",
        chapter="book/landscape",
        label="errata-landscape-eq15",
    ),
    Erratum(
        key="landscape-eq16-lower",
        paper=_Z,
        section="4.1",
        place="Proposition 3, Eq. (16), lower bound",
        printed=r"$b^*\ge\frac1{d_0}[\gamma/\|\mathbb E[xy]\|]^{1/(D-1)}$",
        corrected=r"holds at every solution, for the paper's scale $b_2$ "
        r"(the book's $b=\sqrt{d_0}\,b_2$)",
        kind="holds",
        chapter="book/landscape",
        label="errata-landscape-eq16-lower",
    ),
    Erratum(
        key="landscape-eq16-upper",
        paper=_Z,
        section="4.1",
        place="Proposition 3, Eq. (16), upper bound",
        printed=r"$b^*\le[\|\mathbb E[xy]\|/(d_0(\sigma^2+d_0)^Da_{\max})]^{1/(D+1)}$",
        corrected=r"$a_{\min}$ in place of $a_{\max}$ (as the proof's Eq. 71 derives)",
        kind="wrong",
        chapter="book/landscape",
        label="errata-landscape-eq16-upper",
    ),
    Erratum(
        key="landscape-footnote4",
        paper=_Z,
        section="4.1",
        place="footnote 4",
        printed=r"for $A_0=\sigma_x^2I$ Proposition 3 is necessary and sufficient",
        corrected="Eqs. 14 and 15 coincide with the exact existence threshold",
        kind="holds",
        chapter="book/landscape",
        label="errata-landscape-footnote4",
    ),
    Erratum(
        key="landscape-eq18",
        paper=_Z,
        section="4.2",
        place="Theorem 3, Eq. (18)",
        printed="sufficient condition for a nontrivial global minimum",
        corrected="checked against the exact solver on random instances near the "
        "threshold: no failure; exact for whitened data",
        kind="holds",
        chapter="book/landscape",
        label="errata-landscape-eq18",
    ),
    Erratum(
        key="landscape-eq19",
        paper=_Z,
        section="4.2",
        place="Eq. (19)",
        printed=r"as $D\to1^+$ Eq. 18 becomes $\|\mathbb E[xy]\|^2\ge\gamma^2$",
        corrected="the limit, by SymPy",
        kind="holds",
        chapter="book/landscape",
        label="errata-landscape-eq19",
    ),
    Erratum(
        key="landscape-eq20",
        paper=_Z,
        section="5",
        place="Eq. (20)",
        printed=r"$\|\mathbb E[xy]\|^2\ge4d_0^2a_{\max}\gamma\,"
        r"e^{D\log[(\sigma^2+d_0)/d_0]}+O(1)$",
        corrected=r"prefactor $4\gamma a_{\max}d_0/(\sigma^2+d_0)$, and the correction "
        r"is a factor $(\gamma/a_{\max})^{1/D}(1+O(D^{-2}))$, not an additive $O(1)$",
        kind="wrong",
        chapter="book/landscape",
        label="errata-landscape-eq20",
    ),
    Erratum(
        key="landscape-width",
        paper=_Z,
        section="5",
        place="learnability, dependence on width",
        printed="a factor that increases polynomially in the model width appears",
        corrected="at fixed depth the thresholds decrease with width, to a finite "
        "limit; only the growth with depth is exponential",
        kind="wrong",
        chapter="book/landscape",
        label="errata-landscape-width",
    ),
    Erratum(
        key="landscape-init-regime",
        paper=_Z,
        section="5",
        place="insufficiency of the initialization schemes",
        printed=r"bound $(\gamma/\|\mathbb E[xy]\|^{1/(D-1)})/d_0$; Kaiming starts "
        r"fail for $\mathbb E[xy]\ll\gamma/\sqrt{d_0}$",
        corrected=r"bound $(\gamma/\|\mathbb E[xy]\|)^{1/(D-1)}/d_0$; below "
        r"$\gamma/\sqrt{d_0}$ the origin is the global minimum unless $\gamma$ is "
        "huge; trapped runs occur just above the global threshold",
        kind="wrong",
        chapter="book/landscape",
        label="errata-landscape-init-regime",
    ),
    Erratum(
        key="landscape-eq53",
        paper=_Z,
        section="B.7",
        place="Eqs. (53)–(55)",
        printed=r"weight-decay terms such as $(1-\delta_{ij})2\gamma_u(U_i+U_j)$ in "
        "the second derivatives",
        corrected=r"the weight decay's Hessian is diagonal, $2\gamma$ per weight, at "
        "every point; the extra terms do not exist (they vanish at the origin)",
        kind="wrong",
        chapter="book/landscape",
        label="errata-landscape-eq53",
    ),
    Erratum(
        key="landscape-eq56",
        paper=_Z,
        section="B.7",
        place="Eqs. (56)–(58)",
        printed=r"at the origin the Hessian is $2\gamma_u\delta_{ij}$, 0 and "
        r"$2\gamma_w\delta$",
        corrected="SymPy (every entry, depths 1–3) and autograd (depths 2–8)",
        kind="holds",
        chapter="book/landscape",
        label="errata-landscape-eq56",
    ),
    Erratum(
        key="landscape-eq66",
        paper=_Z,
        section="B.8",
        place="Eq. (66)",
        printed=r"only the trivial solution if $\Phi(a_{\min})\le\gamma$",
        corrected=r"strict, $<$, as in Eq. 14: at equality whitened data have a "
        r"solution $b_2>0$",
        kind="typo",
        chapter="book/landscape",
        label="errata-landscape-eq66",
    ),
    Erratum(
        key="landscape-eq75",
        paper=_Z,
        section="B.8",
        place="Eq. (75) and footnote 5",
        printed=r"the limit is $\infty$ if $\mathbb E[xy]\ge\gamma$ and 0 if "
        r"$\mathbb E[xy]<\gamma$",
        corrected=r"0 if $\|\mathbb E[xy]\|>\gamma$, $\infty$ if "
        r"$\|\mathbb E[xy]\|\le\gamma$",
        kind="typo",
        chapter="book/landscape",
        label="errata-landscape-eq75",
    ),
    Erratum(
        key="landscape-eq86",
        paper=_Z,
        section="B.9",
        place="Eqs. (86)–(88)",
        printed=r"numerator $(2D-2)\gamma-2d_0^D(\sigma^2+d_0)^Da_{\max}d^{2D}$",
        corrected=r"$b^{2D}$ in place of $d^{2D}$",
        kind="typo",
        chapter="book/landscape",
        label="errata-landscape-eq86",
    ),
    # --- Ziyin, Li & Meng (2022): what it means for real networks (book/implications)
    Erratum(
        key="impl-fig2-tanh",
        paper=_Z,
        section="5",
        place="relevance to nonlinear models, Figure 2",
        printed="the tanh landscape is always close to the linear one near the origin",
        corrected=r"along the exact solution's form ($D=1$) the tanh and linear curves "
        r"agree to order $b^2$ and first differ at $b^4$ (by $2ws^4b^4/\gamma^3$ for "
        r"$y=v\cdot x$); quadrature, sympy and Monte Carlo",
        kind="holds",
        chapter="book/implications",
        label="errata-impl-fig2-tanh",
    ),
    Erratum(
        key="impl-fig2-minima",
        paper=_Z,
        section="5",
        place="relevance to nonlinear models, Figure 2",
        printed="Swish shows a similar tendency to the linear landscape; all "
        "landscapes agree qualitatively, with the same number of local minima at "
        "similar values of $b$",
        corrected=r"ReLU and Swish leave the linear curve at order $b^2$ "
        r"(coefficient $w\gamma>0$ at every signal, against $w(\gamma-s^2/\gamma)$): "
        "the origin stays a local minimum, so they have one minimum more than the "
        "linear network, with a much higher loss at the nontrivial one",
        kind="wrong",
        chapter="book/implications",
        label="errata-impl-fig2-minima",
    ),
    Erratum(
        key="impl-fig2-relu-side",
        paper=_Z,
        section="5",
        place="relevance to nonlinear models, Figure 2",
        printed="the ReLU landscape is not close to the linear one on one side of "
        "$b=0$ but agrees completely with it on the other side",
        corrected=r"for odd targets and symmetric $x$ every curve is even in $b$, and "
        r"the ReLU curve differs from the linear one on both sides, at order $b^2$",
        kind="wrong",
        chapter="book/implications",
        label="errata-impl-fig2-relu-side",
    ),
    Erratum(
        key="impl-fig3-trap",
        paper=_Z,
        section="5",
        place="insufficiency of the initialization schemes, Figure 3",
        printed="for sufficiently small $\\|\\mathbb E[xy]\\|$ the ReLU and tanh "
        "networks are stuck at the trivial solution, while linear regression is not",
        corrected=r"reproduced under weight decay $\gamma\gtrsim10^{-2}$; the "
        r"transition lies at the linear network's exact global threshold "
        r"$s_c(\gamma)$, where the zero predictor becomes the global minimum",
        kind="holds",
        chapter="book/implications",
        label="errata-impl-fig3-trap",
    ),
    Erratum(
        key="impl-thm4-width",
        paper=_Z,
        section="5",
        place="Theorem 4, item 1",
        printed=r"$\mathrm{Var}[f(x)]=O(d_0^{-1})$ for large width, and the rate is "
        "tight",
        corrected=r"holds and is tight: $\mathrm{Var}=[(1+\sigma^2/w)^D-1](\mathbb "
        r"E f)^2$ at every global minimum, fitted slope $-1$",
        kind="holds",
        chapter="book/implications",
        label="errata-impl-thm4-width",
    ),
    Erratum(
        key="impl-thm4-noise",
        paper=_Z,
        section="5",
        place="Theorem 4, item 2",
        printed=r"$\mathrm{Var}[f(x)]=O(\sigma^{-2D})$ for large $\sigma^2$",
        corrected=r"holds; at fixed $\gamma$ only vacuously (the global minimum is the "
        r"origin beyond a finite $\sigma^2$, variance 0); the rate $\sigma^{-2D}$ is "
        r"that of the nontrivial branch ($\gamma\to0$)",
        kind="holds",
        chapter="book/implications",
        label="errata-impl-thm4-noise",
    ),
    Erratum(
        key="impl-thm4-depth",
        paper=_Z,
        section="5",
        place="Theorem 4, item 3 (and Eq. (103))",
        printed=r"$\mathrm{Var}[f(x)]=O(e^{-2D\log[(\sigma^2+d_0)/d_0]})$ for "
        "large $D$",
        corrected=r"true at fixed $\gamma$ only because the variance becomes exactly 0 "
        r"(trivial minimum); where it has content the decay is "
        r"$e^{-D\log[(\sigma^2+d_0)/d_0]}$, half the printed exponent",
        kind="wrong",
        chapter="book/implications",
        label="errata-impl-thm4-depth",
    ),
    Erratum(
        key="impl-appa-gamma",
        paper=_Z,
        section="A",
        place="experimental details of Figure 3",
        printed="data, architecture, learning rate 0.1 and $10^4$ steps; no weight "
        "decay given",
        corrected=r"the effect needs weight decay: no network collapses at "
        r"$\gamma=10^{-3}$ on signals $\ge0.01$; it appears for $s\lesssim "
        r"s_c(\gamma)\propto\gamma^{3/4}$",
        kind="missing hypothesis",
        chapter="book/implications",
        label="errata-impl-appa-gamma",
    ),
    Erratum(
        key="impl-eq94",
        paper=_Z,
        section="B.10",
        place="Eqs. (94), (95), (98)",
        printed=r"$f=\eta d_0^Db^{2D}\mathbb E[xy]^\top x/\Delta$, its mean, and "
        r"$\mathrm{Var}=d_0^{3D}[(\sigma^2+d_0)^D-d_0^D]b^{4D}(\mathbb E[xy]^\top x)^2"
        r"/\Delta^2$",
        corrected="follow (sympy), and agree with the solver's global minima",
        kind="holds",
        chapter="book/implications",
        label="errata-impl-eq94",
    ),
    Erratum(
        key="impl-eq97",
        paper=_Z,
        section="B.10",
        place="Eq. (97)",
        printed=r"first term $(\sigma^2+d_0)^Dd_0^Db^{4D}(\mathbb E[xy]^\top x)^2"
        r"/\Delta^2$",
        corrected=r"$d_0^{3D}(\sigma^2+d_0)^Db^{4D}(\mathbb E[xy]^\top x)^2/\Delta^2$ "
        "(a factor $d_0^{2D}$ dropped; Eq. (98) has it)",
        kind="typo",
        chapter="book/implications",
        label="errata-impl-eq97",
    ),
    Erratum(
        key="impl-eq99",
        paper=_Z,
        section="B.10",
        place="Eq. (99)",
        printed=r"$d_0^{3D}[(\sigma^2+d_0)^D-d_0^D]b^{2D+2}(\mathbb E[xy]^\top x)^2/"
        r"\|\mathbb E[xy]\|^2$",
        corrected=r"$d_0^{D+2}$ in place of $d_0^{3D}$ (Eq. (100) uses the right "
        "power)",
        kind="typo",
        chapter="book/implications",
        label="errata-impl-eq99",
    ),
    Erratum(
        key="impl-eq100",
        paper=_Z,
        section="B.10",
        place="Eq. (100)",
        printed=r"$\mathrm{Var}\le d_0^D[(\sigma^2+d_0)^D-d_0^D]"
        r"(\mathbb E[xy]^\top x)^2/((\sigma^2+d_0)^{2D}\sigma_x^2)$",
        corrected=r"$\sigma_x^4$ in place of $\sigma_x^2$; as printed it fails for "
        r"$\sigma_x^2<1$",
        kind="typo",
        chapter="book/implications",
        label="errata-impl-eq100",
    ),
    Erratum(
        key="impl-eq101",
        paper=_Z,
        section="B.10",
        place="Eqs. (101)–(102)",
        printed=r"the bound is $O(1/d_0)$ in the width and $O(\sigma^{-2D})$ in the "
        "noise",
        corrected=r"follow: $d_0\cdot(\ldots)\to D\sigma^2$ and "
        r"$\sigma^{2D}\cdot(\ldots)\to d_0^D$ (sympy limits)",
        kind="holds",
        chapter="book/implications",
        label="errata-impl-eq101",
    ),
    Erratum(
        key="impl-eq103",
        paper=_Z,
        section="B.10",
        place="Eq. (103)",
        printed=r"$O(e^{-2D\log[(\sigma^2+d_0)/d_0]})$ as $D\to\infty$",
        corrected=r"the bound of Eq. (100) decays like "
        r"$e^{-D\log[(\sigma^2+d_0)/d_0]}$: no factor 2",
        kind="wrong",
        chapter="book/implications",
        label="errata-impl-eq103",
    ),
    # --- Ziyin, Li & Meng (2022): collapse on real data (book/collapse) ------------
    Erratum(
        key="collapse-fig1-linear",
        paper=_Z,
        section="1",
        place="Figure 1 (right)",
        printed="a linear regressor never drops to the performance of a trivial "
        "model, while ResNet-18 does",
        corrected="checked on the digits (squared error and cross-entropy): the linear "
        "model never collapses in the sweep, while every deep network (deep linear, "
        "MLP, residual CNN) collapses at a weight decay inside it",
        kind="holds",
        chapter="book/collapse",
        label="errata-collapse-fig1-linear",
    ),
    Erratum(
        key="collapse-effective-depth",
        paper=_Z,
        section="5",
        place="Section 5, effective depth; Figure 1 (right)",
        printed="ResNet-18 collapses like a deep linear net of similar depth, an "
        "effective depth between its number of bottlenecks and of layers",
        corrected="qualitative only, and only for a stated loss and training: on the "
        "digits with the squared error the deep linear networks collapse inside their "
        "exact windows, the MLP (three hidden layers) like depth two or more (three "
        "or more at full scale), the "
        "residual CNN (six weight layers, two width-changing maps) like depth one or "
        "two (two at full scale); under the cross-entropy the deep linear networks' "
        "collapse points hardly depend on depth; the loss and weight decays of the "
        "figure are not stated",
        kind="missing hypothesis",
        chapter="book/collapse",
        label="errata-collapse-effective-depth",
    ),
    Erratum(
        key="collapse-resnet-count",
        paper=_Z,
        section="A",
        place="Section 5 and Appendix A (ResNet-18)",
        printed=r"five bottlenecks, 18 layers, roughly $10^7$ parameters",
        corrected="counted on the model: 5 width-changing maps (stem, three shortcut "
        "projections, linear head), 18 main-path layers, 11.2 million parameters",
        kind="holds",
        chapter="book/collapse",
        label="errata-collapse-resnet-count",
    ),
    # --- Ziyin, Li & Meng (2022): bias terms (book/bias) ---------------------------
    Erratum(
        key="bias-eq108",
        paper=_Z,
        section="D.1",
        place="Eqs. (107)–(108)",
        printed=r"the loss with biases: mean term, noise term "
        r"$\sigma^2\sum_iU_i^2(W_{i:}x+\beta^W_i)^2$, biases decayed like their layer",
        corrected="holds (sympy expansion over noise and data; the exact loss of "
        "`dln.expected_loss_bias` agrees with it and with Monte Carlo)",
        kind="holds",
        chapter="book/bias",
        label="errata-bias-eq108",
    ),
    Erratum(
        key="bias-prop5",
        paper=_Z,
        section="D.1",
        place="Proposition 5",
        printed=r"$U_j^2=\frac{\gamma_w}{\gamma_u}(\sum_iW_{ji}^2+(\beta^W_j)^2)$ at "
        "the global minimum",
        corrected=r"holds, at every stationary point; with a separate bias decay "
        r"$\gamma_uU_j^2=\gamma_w\|W_{j:}\|^2+\gamma^b_w(\beta^W_j)^2$",
        kind="holds",
        chapter="book/bias",
        label="errata-bias-prop5",
    ),
    Erratum(
        key="bias-prop6",
        paper=_Z,
        section="D.1",
        place="Proposition 6, Eq. (112)",
        printed=r"third line $U_i\beta^W_i=U_j\beta^W_i$",
        corrected=r"$U_i\beta^W_i=U_j\beta^W_j$ (then it holds, for $\sigma^2>0$)",
        kind="typo",
        chapter="book/bias",
        label="errata-bias-prop6",
    ),
    Erratum(
        key="bias-theorem5",
        paper=_Z,
        section="D.1",
        place="Theorem 5, Eqs. (113)–(114)",
        printed=r"$\beta^W=-\mathbf r\frac{\gamma_u}{\gamma_w}b\beta^U$, and "
        r"$\beta^U$, $W$, the equation for $b$ built on it",
        corrected=r"$(W_{j:},\beta^W_j)=r_jb\,M^{-1}(e'-\beta^U\mu')$ with "
        r"$x'=(x,1)$, $M=b^2(d_1+\sigma^2)\mathbb E[x'x'^\top]+\Gamma$; "
        r"$\beta^U$ from one linear equation; "
        r"$\gamma_u=(e'-\beta^U\mu')^\top M^{-1}\Gamma M^{-1}(e'-\beta^U\mu')$",
        kind="wrong",
        chapter="book/bias",
        label="errata-bias-theorem5",
    ),
    Erratum(
        key="bias-eq115",
        paper=_Z,
        section="D.1",
        place="Eq. (115), first line",
        printed=r"$\partial L/\partial\beta^W$: "
        r"$2\mathbb E[UWx+U\beta^W+\beta^U-y]U+2\gamma_w\beta^W$",
        corrected=r"misses the noise term "
        r"$2\sigma^2U_i^2(W_{i:}\mathbb E[x]+\beta^W_i)$",
        kind="wrong",
        chapter="book/bias",
        label="errata-bias-eq115",
    ),
    Erratum(
        key="bias-eq117",
        paper=_Z,
        section="D.1",
        place="Eqs. (116)–(117)",
        printed=r"$\beta^W_i=-\frac{\gamma_u}{\gamma_w}U_i\beta^U$",
        corrected=r"$(\gamma_w+\sigma^2U_i^2)\beta^W_i=\gamma_uU_i\beta^U"
        r"-\sigma^2U_i^2W_{i:}\mathbb E[x]$ (opposite sign, and a noise term)",
        kind="wrong",
        chapter="book/bias",
        label="errata-bias-eq117",
    ),
    Erratum(
        key="bias-eqs118-125",
        paper=_Z,
        section="D.1",
        place="Eqs. (118)–(125)",
        printed=r"the reduced loss and its stationary point, with $S_1,\dots,S_4$",
        corrected="the exact loss only on the set where Eq. (117) holds, which misses "
        r"the minimum; also $S_1$, $S_2$ have $b$ where $b^2$ belongs, (124) an extra "
        r"factor $d_1$, (125) drops terms when $d\ge2$",
        kind="wrong",
        chapter="book/bias",
        label="errata-bias-eqs118-125",
    ),
    Erratum(
        key="bias-eq126",
        paper=_Z,
        section="D.1",
        place=r"Eq. (126), $\mathbb E[x]=0$",
        printed=r"$\beta^U=-\frac{S_3}{S_4}\mathbb E[y]$, "
        r"$\beta^W=\mathbf r\frac{\gamma_u}{\gamma_w}b\frac{S_3}{S_4}\mathbb E[y]$",
        corrected=r"$\beta^U=\mathbb E[y](\sigma^2b^2+\gamma_w)/\Delta$, "
        r"$\beta^W=\mathbf r\,\gamma_ub\,\mathbb E[y]/\Delta$, "
        r"$\Delta=(1+\gamma_u)(b^2(d_1+\sigma^2)+\gamma_w)-d_1b^2$; the line for $W$ "
        "holds",
        kind="wrong",
        chapter="book/bias",
        label="errata-bias-eq126",
    ),
    Erratum(
        key="bias-eq127",
        paper=_Z,
        section="D.1",
        place=r"Eq. (127), $\mathbb E[x]=0$",
        printed=r"extra term $\frac{\gamma_u^2}{\gamma_w}\mathbb E[y]^2"
        r"(S_3/S_4)^2$",
        corrected=r"$\frac{\gamma_u^2}{\gamma_w}\mathbb E[y]^2(\gamma_w/\Delta)^2$",
        kind="wrong",
        chapter="book/bias",
        label="errata-bias-eq127",
    ),
    Erratum(
        key="bias-eq131",
        paper=_Z,
        section="D.2",
        place="Eqs. (128)–(132)",
        printed=r"$f_b=$ the network without biases $+\,\mathrm{bias}(w,\beta)$, "
        r"the second free of $x$ and linear in $\beta$",
        corrected=r"holds (with $\beta^{D}$ in Eq. (129) read as $\beta^{(D)}$)",
        kind="holds",
        chapter="book/bias",
        label="errata-bias-eq131",
    ),
    Erratum(
        key="bias-theorem6",
        paper=_Z,
        section="D.2",
        place="Theorem 6",
        printed=r"$\mathbb E[x]=0$, $\mathbb E[y]=0$: all biases vanish at the global "
        "minima (equal weight decays)",
        corrected="holds for any depth and any positive, also unequal, weight decays "
        "of weights and biases; in fact every stationary point has zero biases",
        kind="holds",
        chapter="book/bias",
        label="errata-bias-theorem6",
    ),
    # --- Branigan & Velu (2021): Kawaguchi (book/no_bad_minima) ---------------------
    Erratum(
        key="nbm-baldi-hornik",
        paper=_R,
        section="1.1.3",
        place="Proposition 1.1.1 (Baldi and Hornik)",
        printed=r"$H=1$, $d_1<d_x=d_y$, distinct eigenvalues of $\Sigma$: convex in "
        "each weight matrix, every local minimum global",
        corrected=r"checked on $\tfrac12\|vu^\top-M\|_F^2$, $M=\mathrm{diag}(2,1)$: "
        "Hessian in each factor is a multiple of I; every critical point found by "
        "sympy is a global minimum or a strict saddle",
        kind="holds",
        chapter="book/no_bad_minima",
        label="errata-nbm-baldi-hornik",
    ),
    Erratum(
        key="nbm-kawaguchi-parts123",
        paper=_R,
        section="1.2",
        place="Theorem 2.3 (i)-(iii)",
        printed="non-convex and non-concave; every local minimum global; every other "
        "critical point a saddle",
        corrected="holds on Example 1.3.1 (all critical points, by sympy) and for "
        "gradient descent from many starts, 1 to 3 hidden layers: every run reaches "
        "the least-squares loss",
        kind="holds",
        chapter="book/no_bad_minima",
        label="errata-nbm-kawaguchi-parts123",
    ),
    Erratum(
        key="nbm-kawaguchi-part4",
        paper=_R,
        section="1.2",
        place="Theorem 2.3 (iv)",
        printed=r"a negative Hessian eigenvalue at every saddle if $H=1$, or if "
        r"$H\ge2$ and $\operatorname{rank}(W_H\cdots W_2)=\min(d_H,\dots,d_1)$",
        corrected=r"holds at a saddle with $\operatorname{rank}W_2=p$ ($H=2$); the "
        r"condition is needed: the origin for $H\ge2$ is a saddle with zero Hessian",
        kind="holds",
        chapter="book/no_bad_minima",
        label="errata-nbm-kawaguchi-part4",
    ),
    Erratum(
        key="nbm-example-setup",
        paper=_R,
        section="1.3",
        place="Claim 1.3.1 and Example 1.3.1, assumptions and loss",
        printed=r"$XX^\top=5$, $XY^\top=10$, one eigenvalue of $\Sigma$; the loss "
        r"$\tfrac12((-2+s)^2+(-4+2s)^2)$",
        corrected=r"holds ($\Sigma=20$; the loss is $\tfrac52(s-2)^2$, "
        r"$s=a_1b_1+a_2b_2$)",
        kind="holds",
        chapter="book/no_bad_minima",
        label="errata-nbm-example-setup",
    ),
    Erratum(
        key="nbm-example-derivatives",
        paper=_R,
        section="1.3",
        place="Example 1.3.1, gradient and Hessian",
        printed=r"$\nabla\bar L$ and $\nabla^2\bar L$ with "
        r"$\mathcal E_1$, $\mathcal E_2$",
        corrected="holds (sympy); the gradient is $5(s-2)(b_1,b_2,a_1,a_2)$",
        kind="holds",
        chapter="book/no_bad_minima",
        label="errata-nbm-example-derivatives",
    ),
    Erratum(
        key="nbm-example-eigenvalues",
        paper=_R,
        section="1.3",
        place=r"Example 1.3.1, eigenvalues $\Lambda(AB)$",
        printed=r"$\pm5(2-s)$ and $\tfrac52(n\mp\mathcal S)$",
        corrected="holds: their product form equals the characteristic polynomial "
        "of the Hessian",
        kind="holds",
        chapter="book/no_bad_minima",
        label="errata-nbm-example-eigenvalues",
    ),
    Erratum(
        key="nbm-example-families",
        paper=_R,
        section="1.3",
        place="Example 1.3.1, the critical points",
        printed=r"$(a_1,a_2,b_1,(2-a_1b_1)/a_2)$ and $(a_1,0,2/a_1,b_2)$ "
        r"for $a_1,a_2,b_1,b_2\in\mathbb R$",
        corrected=r"the first family needs $a_2\ne0$, the second $a_1\ne0$; so "
        r"restricted they are exactly the surface $a_1b_1+a_2b_2=2$",
        kind="missing hypothesis",
        chapter="book/no_bad_minima",
        label="errata-nbm-example-families",
    ),
    Erratum(
        key="nbm-example-origin",
        paper=_R,
        section="1.3",
        place="Example 1.3.1, Hessian at the origin",
        printed=r"$\Lambda(0)=(-10,-10,10,10)$: a saddle",
        corrected="holds (a strict saddle)",
        kind="holds",
        chapter="book/no_bad_minima",
        label="errata-nbm-example-origin",
    ),
    Erratum(
        key="nbm-family-eigenvalues",
        paper=_R,
        section="1.3",
        place="Example 1.3.1, Hessian on the families",
        printed="the nonzero Hessian eigenvalue of each of the two families of "
        "critical points",
        corrected="the two eigenvalues belong to the other family (swapped)",
        kind="wrong",
        chapter="book/no_bad_minima",
        label="errata-nbm-family-eigenvalues",
    ),
    Erratum(
        key="nbm-distinct-eigenvalues",
        paper=_R,
        section="1.3",
        place="Remark 1.3.1, distinct eigenvalues",
        printed=r"the proof needs distinct eigenvalues of $\Sigma$; the conclusion "
        "may not",
        corrected=r"on $\tfrac12\|vu^\top-I\|_F^2$ the global minima form a "
        "continuum, BFGS ends on a uniformly spread direction, and no run ends at a "
        "bad minimum",
        kind="holds",
        chapter="book/no_bad_minima",
        label="errata-nbm-distinct-eigenvalues",
    ),
    # --- Branigan & Velu (2021): Hardt & Ma (book/identity_matters) ----------------
    Erratum(
        key="identity-thm21",
        paper=_R,
        section="2.2",
        place="Theorem 2.1",
        printed=r"for $l\ge3\gamma$ and $\det R>0$ a global minimum has "
        r"$\|A^\star\|\le(4\pi+3\gamma)/l$",
        corrected=r"holds on the review's first example at every depth $12\le l\le40$ "
        r"(explicit factorisations); for $\det R<0$ the conclusion holds up to "
        r"$l=23$ and fails from $l=24$",
        kind="holds",
        chapter="book/identity_matters",
        label="holds-identity-thm21",
    ),
    Erratum(
        key="identity-thm22",
        paper=_R,
        section="2.2",
        place="Theorem 2.2",
        printed=r"for $\tau<1$ every critical point in $\mathcal B_\tau$ is a global "
        "minimum",
        corrected=r"holds for zeros of the gradient, for any $A_0\succeq0$: a "
        "numerical search finds only global minima inside the unit ball",
        kind="holds",
        chapter="book/identity_matters",
        label="holds-identity-thm22",
    ),
    Erratum(
        key="identity-restricted",
        paper=_R,
        section="2.2",
        place="statement of Theorem 2.2",
        printed=r"any critical point of $f$ restricted to the domain "
        r"$\mathcal B_\tau$ is a global minimum",
        corrected=r"any critical point of $f$ (zero gradient) that lies in "
        r"$\mathcal B_\tau$; a minimiser of $f$ over the ball on its boundary need not "
        "be global",
        kind="wrong",
        chapter="book/identity_matters",
        label="errata-identity-restricted",
    ),
    Erratum(
        key="identity-proportional",
        paper=_R,
        section="2.2",
        place="discussion of Theorem 2.1",
        printed="the norm of the optimal solution is inversely proportional to the "
        "number of layers",
        corrected=r"Theorem 2.1 is an upper bound $(4\pi+3\gamma)/l$ on some global "
        r"minimum; $l\|A^\star\|$ is not constant (41 at $l=1$, below 8.4 at $l=12$ "
        r"on the review's example; 0 for $R=I$)",
        kind="wrong",
        chapter="book/identity_matters",
        label="errata-identity-proportional",
    ),
    Erratum(
        key="identity-claim-hypothesis",
        paper=_R,
        section="2.3",
        place="Claim 2.3.1",
        printed=r"global minimum iff $(I+A_l)\cdots(I+A_1)=R$ when $x\ne0$ "
        "with positive probability",
        corrected=r"needs $A_0\succ0$; in general the global minima are the "
        r"products $E$ with $(E-R)A_0=0$",
        kind="missing hypothesis",
        chapter="book/identity_matters",
        label="errata-identity-claim-hypothesis",
    ),
    Erratum(
        key="identity-examples",
        paper=_R,
        section="2.3",
        place="Counterexamples 2.3.1 and 2.3.2",
        printed=r"singular values 40 and 2, $\gamma=\log40\approx3.69$, "
        r"$\det R=\pm80$, $\|R-I\|=41>23.63\approx4\pi+3\gamma$",
        corrected="holds: every value recomputed exactly",
        kind="holds",
        chapter="book/identity_matters",
        label="holds-identity-examples",
    ),
    Erratum(
        key="identity-strengthened",
        paper=_R,
        section="2.3",
        place="Strengthened Theorem 2.1 ($l=1$)",
        printed=r"$\gamma\le1/3$ implies $\|R-I\|\le e^{1/3}+1$",
        corrected=r"holds, and is attained (by $R=-e^{1/3}I$, and with $\det R<0$)",
        kind="holds",
        chapter="book/identity_matters",
        label="holds-identity-strengthened",
    ),
    Erratum(
        key="identity-gamma-nonnegative",
        paper=_R,
        section="2.3",
        place="proof of the strengthened Theorem 2.1",
        printed=r"$\gamma>0$, so $e^{1/3}+1<4\pi<4\pi+3\gamma$",
        corrected=r"$\gamma\ge0$ ($\gamma=0$ for orthogonal $R$); "
        r"$e^{1/3}+1<4\pi\le4\pi+3\gamma$",
        kind="typo",
        chapter="book/identity_matters",
        label="errata-identity-gamma-zero",
    ),
    Erratum(
        key="identity-strong-value",
        paper=_R,
        section="2.3",
        place="strengthened bound for $l=1$",
        printed=r"$e^{1/3}+1\approx1.91$",
        corrected=rf"$e^{{1/3}}+1\approx{math.exp(1 / 3) + 1:.2f}$; "
        r"the comparison with $4\pi$ still holds",
        kind="typo",
        chapter="book/identity_matters",
        label="errata-identity-strong-value",
    ),
    # --- Zhou et al. (2022): condensation at small initialisation (book/condensation)
    Erratum(
        key="cond-multiplicity-examples",
        paper=_C,
        section="1",
        place="Introduction and Remark 3.1",
        printed=r"$\tanh$, sigmoid, softplus, GELU, Swish have multiplicity $p=1$; "
        r"$x\tanh x$ and $x^2\tanh x$ have $p=2$ and $p=3$",
        corrected="checked with one-sided limits and with Taylor series (sympy)",
        kind="holds",
        chapter="book/condensation",
        label="errata-cond-multiplicity-examples",
    ),
    Erratum(
        key="cond-fig5-initial-stage",
        paper=_C,
        section="4.4",
        place="Figure 5 and Section 3 (initial stage)",
        printed=r"the outputs at epoch 1000 are polynomials of degree $p$; every "
        "experiment stays above 70% of its initial loss",
        corrected=r"with the stated settings the $x^2\tanh x$ networks leave the "
        r"initial stage after a few hundred epochs, and their degree-3 fit misses by "
        "several percent at the last epoch",
        kind="wrong",
        chapter="book/condensation",
        label="errata-cond-fig5-initial-stage",
    ),
    Erratum(
        key="cond-fig6-lines",
        paper=_C,
        section="4.4",
        place="Figure 6",
        printed="with Adam the input weights condense on the stable lines of the "
        r"direction field: one, two, three lines for $\tanh x$, $x\tanh x$, "
        r"$x^2\tanh x$",
        corrected=r"the numbers of lines hold for $x\tanh x$ and $x^2\tanh x$, but "
        "the Adam orientations lie off the invariant lines; the neurons lie on them "
        r"under gradient flow from a small initialisation; $\tanh$ neurons gather "
        "only loosely while their leading-order field vanishes",
        kind="missing hypothesis",
        chapter="book/condensation",
        label="errata-cond-fig6-lines",
    ),
    Erratum(
        key="cond-eq7",
        paper=_C,
        section="5",
        place="Eq. (7)",
        printed=r"$\sigma'(z)\approx\sigma^{(p)}(0)z^{p-1}/(p-1)!$",
        corrected=r"checked by sympy, with the remainder bound "
        r"$|\sigma(z)-\tfrac{c_p}{p}z^p|\le|z|^{p+2}/3$ for the three activations",
        kind="holds",
        chapter="book/condensation",
        label="errata-cond-eq7",
    ),
    Erratum(
        key="cond-remark1-speed",
        paper=_C,
        section="5",
        place="Remark 1",
        printed="the orientation varies much more quickly than the amplitude",
        corrected=r"only in absolute terms: $d\theta/d\log r=\varphi'/(p\varphi)$, "
        r"independent of $\varepsilon$; orientations settle while the amplitude grows "
        "by a large factor",
        kind="wrong",
        chapter="book/condensation",
        label="errata-cond-remark1-speed",
    ),
    Erratum(
        key="cond-prop1-degenerate",
        paper=_C,
        section="5",
        place="Proposition 1",
        printed=r"if $p=1$ or the input is one-dimensional, Eq. (9) has at most $2p$ "
        "roots",
        corrected=r"only if the leading-order field is not radial everywhere "
        r"($\sum_ie_i\tilde x_i\ne0$ for $p=1$, $G\not\equiv0$ in one dimension); "
        "otherwise every direction solves Eq. (9)",
        kind="missing hypothesis",
        chapter="book/condensation",
        label="errata-cond-prop1-degenerate",
    ),
    Erratum(
        key="cond-prop1-u2-zero",
        paper=_C,
        section="5",
        place="Proof of Proposition 1, case 2",
        printed=r"divide by $u_2$: at most $p$ roots $\hat u=u_1/u_2$",
        corrected=r"the direction $u_2=0$ is missed by the division but the bound "
        r"holds: it is invariant iff $\sum_ie_ix_i^{p-1}=0$, and then the equation in "
        r"$\hat u$ has degree at most $p-1$",
        kind="holds",
        chapter="book/condensation",
        label="errata-cond-prop1-u2-zero",
    ),
    # --- Zhou et al. (2022): experiments (book/condensation_experiments) -------------
    Erratum(
        key="condexp-fig3-tanh",
        paper=_C,
        section="4.3",
        place="Figure 3 (a), (d), (e)",
        printed=r"5-50-1 networks with $\tanh$, sigmoid, softplus condense onto two "
        "opposite directions (one line)",
        corrected=r"over seeds, $\tanh$ counts two orientations on one line at epochs "
        "50-100; later in its initial stage the count grows; sigmoid and softplus "
        "gather onto one orientation or one line",
        kind="holds",
        chapter="book/condensation_experiments",
        label="errata-condexp-fig3-tanh",
    ),
    Erratum(
        key="condexp-conjecture-2p",
        paper=_C,
        section="4.3",
        place="conjecture after Figure 4",
        printed="the number of condensed orientations at initial training is at most "
        "twice the multiplicity",
        corrected=r"fails for the paper's 5-d task with Adam: $x\tanh x$ ($2p=4$) "
        "networks condense onto five or more orientations over 20 degrees apart in "
        r"most seeds at epoch 100, inside the initial stage; $\tanh$, sigmoid and "
        "softplus exceed two late in the stage; the bound holds for 1-d input",
        kind="wrong",
        chapter="book/condensation_experiments",
        label="errata-condexp-conjecture-2p",
    ),
    Erratum(
        key="condexp-fig4-lines",
        paper=_C,
        section="4.3",
        place="Figure 4 and Appendix A.5",
        printed="six-layer network: three, two, one, one, one lines in hidden layers "
        "1-5; residual connections are not necessary",
        corrected=r"over seeds, with residual connections: about three lines in layer "
        r"1 and one in layer 3, but the $x\tanh x$ layer typically one line, not two; "
        "layers 4-5 condense in some seeds only; without residual connections "
        "condensation comes later (most plain networks not condensed at epoch 900, "
        "most condensed by 1400)",
        kind="missing hypothesis",
        chapter="book/condensation_experiments",
        label="errata-condexp-fig4-lines",
    ),
)


def _check_registry(items) -> dict:
    by_key, labels = {}, set()
    for e in items:
        if e.key in by_key:
            raise ValueError(f"erratum key {e.key!r} is registered twice")
        if e.label in labels:
            raise ValueError(f"erratum label {e.label!r} is used twice")
        by_key[e.key] = e
        labels.add(e.label)
    return by_key


_BY_KEY = _check_registry(ERRATA)


def get(key: str) -> Erratum:
    """The registered entry ``key``; the proving cell of a chapter calls this.

    Raises
    ------
    ValueError
        If no entry has that key.
    """
    if key not in _BY_KEY:
        raise ValueError(
            f"no erratum {key!r} is registered in dln.errata.ERRATA; registered keys: "
            f"{', '.join(sorted(_BY_KEY))}"
        )
    return _BY_KEY[key]


def _section_key(section: str):
    """Main-text sections before appendices, each in natural order ("3.10" > "3.2")."""
    head = section.split(".")[0]
    appendix = not head.isdigit()
    parts = [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in section.split(".")]
    return (appendix, parts)


def entries(paper: str | None = None, kind: str | None = None) -> tuple:
    """Registered entries, optionally of one paper and/or one kind, in paper order.

    Raises
    ------
    ValueError
        If ``paper`` or ``kind`` is not one of :data:`PAPERS` / :data:`KINDS`.
    """
    if paper is not None and paper not in PAPERS:
        raise ValueError(f"paper must be one of {tuple(PAPERS)}; got {paper!r}")
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}; got {kind!r}")
    chosen = [
        e
        for e in ERRATA
        if (paper is None or e.paper == paper) and (kind is None or e.kind == kind)
    ]
    return tuple(sorted(chosen, key=lambda e: _section_key(e.section)))


def _cell(text: str) -> str:
    return text.replace("|", r"\|").replace("\n", " ")


def markdown_table(paper: str) -> str:
    """A MyST Markdown table of one paper's entries, in paper order, each linked to the
    place in the book that proves it (rendered by the errata page). Two columns, so
    that wide formulas fit the page: where (section, place, kind, link) and the
    printed text above what holds.

    Raises
    ------
    ValueError
        If ``paper`` is not one of :data:`PAPERS`.
    """
    rows = entries(paper)
    out = ["| where | printed, and what holds |", "|---|---|"]
    for e in rows:
        where = f"§{e.section}, {e.place}: *{e.kind}* ({{ref}}`proof <{e.label}>`)"
        text = f"**Printed:** {e.printed}<br>**What holds:** {e.corrected}"
        out.append(f"| {_cell(where)} | {_cell(text)} |")
    if not rows:
        out.append("| | |")
    return "\n".join(out)


def summary_table() -> str:
    """A Markdown table counting the entries of each paper by kind."""
    out = [
        "| paper | " + " | ".join(KINDS) + " | all |",
        "|---|" + "---:|" * (len(KINDS) + 1),
    ]
    for key, title in PAPERS.items():
        counts = [len(entries(key, kind)) for kind in KINDS]
        out.append(
            f"| {title} | " + " | ".join(map(str, counts)) + f" | {sum(counts)} |"
        )
    return "\n".join(out)

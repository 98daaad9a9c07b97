"""One figure style for the whole book: opaque backgrounds (readable in dark mode) and a
colour-blind-safe palette."""

from __future__ import annotations

__all__ = ["PALETTE", "use_house_style"]

# Okabe & Ito's colour-blind-safe palette.
PALETTE = (
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#CC79A7",
    "#E69F00",
    "#56B4E9",
    "#F0E442",
    "#000000",
)


def use_house_style() -> None:
    """Set matplotlib defaults for every figure of the book (call once at the top of a
    chapter)."""
    import matplotlib as mpl

    mpl.rcParams.update(
        {
            "figure.facecolor": "white",
            "axes.facecolor": "white",
            "savefig.facecolor": "white",
            "savefig.transparent": False,
            "figure.figsize": (6.4, 3.8),
            "figure.dpi": 110,
            "axes.prop_cycle": mpl.cycler(color=list(PALETTE)),
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "font.size": 10,
            "legend.frameon": False,
        }
    )

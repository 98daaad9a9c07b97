"""Tables for the chapters: a header and rows of cells become a Markdown table that
Jupyter and the book render as a table (never a printed grid of numbers)."""

from __future__ import annotations

__all__ = ["md_table"]


def md_table(header, rows):
    """A Markdown table from a header and rows of already formatted cells.

    Parameters
    ----------
    header : sequence of str
        The column titles (at least one).
    rows : iterable of sequences
        One sequence of cells per row, as many as the header; each cell is shown as
        ``str(cell)`` (format numbers before, e.g. ``f"{x:.3g}"``).

    Returns
    -------
    IPython.display.Markdown
        Its ``.data`` is the Markdown text.

    Raises
    ------
    ValueError
        On an empty header, a row of another length, or a cell holding ``|`` or a line
        break (which would break the table).

    Examples
    --------
    >>> print(md_table(["depth", "threshold"], [[1, "0.25"], [2, "0.069"]]).data)
    | depth | threshold |
    |---|---|
    | 1 | 0.25 |
    | 2 | 0.069 |
    """
    from IPython.display import Markdown

    header = [str(h) for h in header]
    if not header:
        raise ValueError("header must name at least one column")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for k, row in enumerate(rows):
        cells = [str(c) for c in row]
        if len(cells) != len(header):
            raise ValueError(
                f"row {k} has {len(cells)} cells but the header has {len(header)}"
            )
        for c in header + cells:
            if "|" in c.replace(r"\|", "") or "\n" in c:
                raise ValueError(f"cell {c!r} holds '|' or a line break")
        lines.append("| " + " | ".join(cells) + " |")
    return Markdown("\n".join(lines))

"""Hand every jupytext chapter in book/ to nbval.

nbval collects only ``.ipynb`` files; the chapters are MyST Markdown notebooks. For each
``book/*.md`` with a ``kernelspec`` header we build nbval's own collector and let it
read the text notebook through jupytext, so the kernel still starts in ``book/`` and
failures point at the chapter's file. Run with ``pytest --nbval-lax
--nbval-current-env`` (see README.md); the scale of the experiments is forced to ``ci``.
"""

from __future__ import annotations

import os
from pathlib import Path

import jupytext
import nbformat

BOOK = Path(__file__).parent / "book"

# Notebooks that a reader generated from the chapters (``jupytext --to ipynb``) are
# copies: never collect them (the chapter's .md is the test), nor checkpoints.
collect_ignore_glob = ["book/*.ipynb", "**/.ipynb_checkpoints/*"]

# Chapters run at the test scale; set before any kernel starts (kernels inherit the
# environment).
os.environ.setdefault("DLN_SCALE", "ci")
os.environ.setdefault("MPLBACKEND", "Agg")


def _is_chapter(path: Path) -> bool:
    if path.suffix != ".md" or BOOK not in path.parents:
        return False
    head = path.read_text(encoding="utf-8")[:2000]
    return head.startswith("---") and "kernelspec:" in head


def pytest_collect_file(file_path: Path, parent):
    opt = parent.config.option
    if not (
        getattr(opt, "nbval", False) or getattr(opt, "nbval_lax", False)
    ) or not _is_chapter(file_path):
        return None
    from nbval.plugin import IPyNbFile

    class JupytextNotebook(IPyNbFile):
        """nbval's collector, reading the notebook with jupytext instead of nbformat."""

        def collect(self):
            read = nbformat.read
            nbformat.read = lambda path, as_version=4: jupytext.read(path)
            try:
                items = list(super().collect())
            finally:
                nbformat.read = read
            return items

    return JupytextNotebook.from_parent(parent, path=file_path)

"""Readable on a page: chapter code lines fit the column (88 characters)."""

import re
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parents[1] / "book"
CHAPTERS = sorted(p for p in BOOK.glob("*.md") if "kernelspec:" in p.read_text()[:2000])
WIDTH = 88


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_code_lines_fit_the_column(path):
    text = path.read_text(encoding="utf-8")
    cells = re.findall(r"^```\{code-cell\}[^\n]*\n(.*?)^```", text, re.S | re.M)
    # the cell's options (": key: value" lines at its top) are metadata, not shown code
    code = [re.sub(r"\A(?:\s*:[^\n]*\n)+", "", cell) for cell in cells]
    long = [ln for cell in code for ln in cell.splitlines() if len(ln) > WIDTH]
    assert not long, f"{len(long)} code lines over {WIDTH} characters, e.g. {long[0]!r}"

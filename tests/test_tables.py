"""dln.md_table: the Markdown text, and the errors it raises."""

import pytest

import dln


def test_md_table_text():
    table = dln.md_table(["a", "b"], [[1, "x"], [2.5, "y"]])
    assert table.data.splitlines() == [
        "| a | b |",
        "|---|---|",
        "| 1 | x |",
        "| 2.5 | y |",
    ]


@pytest.mark.parametrize(
    "header, rows, message",
    [
        ([], [], "at least one column"),
        (["a", "b"], [[1]], "row 0 has 1 cells"),
        (["a"], [["x|y"]], "holds '|'"),
        (["a"], [["x\ny"]], "line break"),
    ],
)
def test_md_table_errors(header, rows, message):
    with pytest.raises(ValueError, match=message):
        dln.md_table(header, rows)


def test_md_table_escaped_pipe_is_allowed():
    assert r"\|x\|" in dln.md_table(["norm"], [[r"\|x\|"]]).data

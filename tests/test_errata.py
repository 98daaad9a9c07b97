"""The errata registry: well-formed, and tied to the chapters that prove each entry."""

import re
from pathlib import Path

import pytest

import dln
from dln import errata

ROOT = Path(__file__).resolve().parents[1]


def _cells_after(text: str, label: str) -> str:
    """The chapter text from the target ``(label)=`` to the next MyST target."""
    start = text.index(f"({label})=")
    nxt = re.search(r"^\([\w:-]+\)=\s*$", text[start + len(label) + 3 :], re.M)
    return text[start : start + len(label) + 3 + (nxt.start() if nxt else len(text))]


@pytest.mark.parametrize("entry", errata.ERRATA, ids=lambda e: e.key)
def test_every_entry_is_proved_in_its_chapter(entry):
    path = ROOT / f"{entry.chapter}.md"
    assert path.exists(), f"{entry.key}: chapter {entry.chapter} does not exist"
    text = path.read_text(encoding="utf-8")
    assert f"({entry.label})=" in text, f"{entry.key}: no target ({entry.label})="
    block = _cells_after(text, entry.label)
    cells = re.findall(r"```\{code-cell\}[^\n]*\n(.*?)```", block, re.S)
    calls = [
        c for c in cells if re.search(rf"errata\.get\(\s*[\"']{entry.key}[\"']", c)
    ]
    assert calls, f"{entry.key}: no cell after ({entry.label})= calls errata.get"
    assert any("assert" in c for c in calls), f"{entry.key}: its cell asserts nothing"


def test_every_errata_target_and_get_call_is_registered():
    labels = {e.label for e in errata.ERRATA}
    for path in (ROOT / "book").glob("*.md"):
        text = path.read_text(encoding="utf-8")
        for label in re.findall(r"^\((errata-[\w-]+)\)=\s*$", text, re.M):
            assert label in labels, f"{path.name}: target ({label})= is not registered"
        for key in re.findall(r"errata\.get\(\s*[\"']([\w-]+)[\"']", text):
            errata.get(key)  # raises ValueError when not registered


def test_get_and_entries():
    assert dln.errata.get("deep-c0").kind == "wrong"
    with pytest.raises(ValueError, match="no erratum"):
        errata.get("no-such-entry")
    with pytest.raises(ValueError, match="paper"):
        errata.entries(paper="nobody2020")
    with pytest.raises(ValueError, match="kind"):
        errata.entries(kind="maybe")
    assert len(errata.entries()) == len(errata.ERRATA)
    assert all(e.kind == "wrong" for e in errata.entries(kind="wrong"))


def test_entries_are_in_paper_order():
    order = [e.section for e in errata.entries("ziyin2022exact")]
    keys = [errata._section_key(s) for s in order]
    assert keys == sorted(keys)
    # main text before appendices, natural order within
    assert errata._section_key("3.2") < errata._section_key("3.10")
    assert errata._section_key("5") < errata._section_key("B.1")


def test_tables_link_every_entry():
    for paper in errata.PAPERS:
        table = errata.markdown_table(paper)
        for e in errata.entries(paper):
            assert f"<{e.label}>" in table
        header, rule = table.splitlines()[:2]
        assert header.count("|") == rule.count("|")
    assert "holds" in errata.summary_table()


@pytest.mark.parametrize(
    "field, value, match",
    [
        ("key", "Bad Key", "lower-case"),
        ("paper", "nobody2020", "paper"),
        ("kind", "maybe", "kind"),
        ("chapter", "deep", "chapter"),
        ("place", "", "place"),
    ],
)
def test_erratum_rejects_bad_fields(field, value, match):
    good = dict(
        key="a-b",
        paper="ziyin2022exact",
        section="3",
        place="Eq. (1)",
        printed="x",
        corrected="y",
        kind="typo",
        chapter="book/deep",
        label="errata-a-b",
    )
    good[field] = value
    with pytest.raises(ValueError, match=match):
        errata.Erratum(**good)


def test_duplicate_keys_are_rejected():
    e = errata.ERRATA[0]
    with pytest.raises(ValueError, match="twice"):
        errata._check_registry([e, e])

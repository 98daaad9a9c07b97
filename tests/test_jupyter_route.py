"""The README's Jupyter route: a chapter converted to a notebook runs, and a notebook
generated inside book/ is harmless to the test suite (and excluded from the build)."""

import os
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_converted_chapter_executes_with_nbclient(tmp_path):
    from nbclient import NotebookClient

    notebook = jupytext.read(ROOT / "book" / "model.md")
    target = tmp_path / "model.ipynb"
    nbformat.write(notebook, target)  # what `jupytext --to ipynb` writes
    notebook = nbformat.read(target, as_version=4)
    env = dict(os.environ, DLN_SCALE="ci", MPLBACKEND="Agg")
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(ROOT / "book")}},
    )
    old = dict(os.environ)
    os.environ.update(env)  # the kernel inherits the environment
    try:
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(old)
    errors = [
        out
        for cell in notebook.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert not errors
    assert sum(c.cell_type == "code" for c in notebook.cells) > 3


def test_generated_notebooks_are_not_collected_twice(tmp_path):
    generated = ROOT / "book" / "zz_generated_copy.ipynb"
    nbformat.write(jupytext.read(ROOT / "book" / "errata.md"), generated)
    try:
        out = subprocess.run(
            [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:xdist"]
            + ["--nbval-lax", "--nbval-current-env", "book"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            env=dict(os.environ, DLN_SCALE="ci"),
        )
    finally:
        generated.unlink()
    assert out.returncode == 0, out.stdout + out.stderr
    assert "zz_generated_copy" not in out.stdout
    assert "errata.md" in out.stdout


def test_generated_notebooks_are_excluded_from_the_build():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert "book/*.ipynb" in config["exclude_patterns"]

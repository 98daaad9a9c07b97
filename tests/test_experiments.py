import json

import numpy as np
import pytest

import dln
from dln import experiments


@experiments.experiment("unit-test-squares")
def _squares(scale):
    n = dln.by_scale(ci=3, default=5, full=7, scale=scale)
    return {"x": np.arange(n) ** 2}


def test_run_saves_results_with_provenance_and_resumes(tmp_path):
    arrays, meta = experiments.run_experiment(
        "unit-test-squares", "ci", out_dir=tmp_path
    )
    np.testing.assert_array_equal(arrays["x"], [0, 1, 4])
    saved = json.loads((tmp_path / "unit-test-squares-ci.json").read_text())
    for key in ("scale", "git_commit", "device", "wall_time_s", "torch", "numpy"):
        assert key in saved
    assert saved["scale"] == "ci" and not list(tmp_path.glob("*.tmp"))
    again = experiments.run_experiment("unit-test-squares", "ci", out_dir=tmp_path)
    assert (
        again[1]["created_utc"] == meta["created_utc"]
    )  # same commit and scale: not run again


def test_provenance_reads_the_commit_from_the_environment(monkeypatch):
    monkeypatch.setenv("DLN_GIT_COMMIT", "abc123")
    monkeypatch.setenv("DLN_GIT_DIRTY", "1")
    meta = experiments.provenance("ci")  # the environment wins over git
    assert meta["git_commit"] == "abc123" and meta["git_dirty"] is True
    monkeypatch.setattr(experiments, "_git", lambda *args: "")
    monkeypatch.delenv("DLN_GIT_COMMIT")
    monkeypatch.delenv("DLN_GIT_DIRTY")
    meta = experiments.provenance("ci")
    assert meta["git_commit"] == "unknown" and meta["git_dirty"] is False


def test_bad_experiment_requests():
    with pytest.raises(ValueError, match="unknown experiment"):
        experiments.run_experiment("no-such-thing", "ci")
    with pytest.raises(ValueError, match="scale"):
        experiments.run_experiment("unit-test-squares", "huge")
    with pytest.raises(ValueError, match="names"):
        experiments.experiment("bad name!")
    with pytest.raises(ValueError, match=".npz"):
        experiments.save_results("x.txt", {"a": 1}, {})

"""The runner: shards saved atomically with provenance, resume, stale configs, the
command line, and Dask (a local cluster of two worker processes, one of them killed in
the middle of a run)."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import cloudpickle
import numpy as np
import pytest

import dln
from dln import experiments

# the workers of a Dask cluster cannot import this test module: ship its functions
cloudpickle.register_pickle_by_value(sys.modules[__name__])

SETTINGS = {"n_shards": 4, "offset": 0.0}


def _shards(scale):
    return [
        {
            "index": i,
            "offset": SETTINGS["offset"],
            "log": SETTINGS.get("log"),
            "sleep": SETTINGS.get("sleep", 0),
        }
        for i in range(SETTINGS["n_shards"])
    ]


def _log(config, what):
    if config["log"]:
        with open(config["log"], "a") as f:
            f.write(f"{what} {config['index']} {os.getpid()}\n")


@experiments.experiment("unit-test-sharded", shards=_shards)
def _sharded(config, device=None):
    """A tiny sharded experiment: trains two small networks per shard."""
    _log(config, "start")
    time.sleep(config["sleep"])
    if SETTINGS.get("fail_at") == config["index"]:
        raise RuntimeError("interrupted")
    spec = dln.mlp_spec(2, [3], 1, activation="tanh")
    rng = np.random.default_rng(config["index"])
    X = rng.standard_normal((20, 2))
    res = dln.train_mlp(
        spec,
        X,
        X[:, 0] + config["offset"],
        seeds=dln.network_seeds(config["index"], 2),
        steps=20,
        lr=0.1,
        device=device,
        record_steps=[0, 20],
    )
    _log(config, "end")
    return {"loss": res.loss, "index": np.array(config["index"])}


@pytest.fixture(autouse=True)
def _reset():
    saved = dict(SETTINGS)
    yield
    SETTINGS.clear()
    SETTINGS.update(saved)


def _lines(log):
    return [line.split() for line in Path(log).read_text().splitlines()]


def test_shards_saved_with_provenance_and_merged(tmp_path):
    arrays, meta = experiments.run_experiment("unit-test-sharded", "ci", tmp_path)
    assert arrays["loss"].shape == (4, 2)  # default merge: stacked over shards
    np.testing.assert_array_equal(arrays["index"], np.arange(4))
    shard_files = sorted((tmp_path / "unit-test-sharded" / "ci").glob("*.npz"))
    assert len(shard_files) == 4 and not list(tmp_path.rglob("*.tmp"))
    stored = experiments.load_results(shard_files[0])
    for key in ("config", "config_hash", "git_commit", "device", "torch", "numpy"):
        assert key in stored[1]
    assert stored[1]["shard"]["wall_time_s"] > 0
    side = json.loads(shard_files[0].with_suffix(".json").read_text())
    assert side["config_hash"] == stored[1]["config_hash"]
    assert meta["shards_run"] == 4 and len(meta["config_hashes"]) == 4
    again = experiments.run_experiment("unit-test-sharded", "ci", tmp_path)
    assert again[1]["created_utc"] == meta["created_utc"]  # stored: not run again
    assert experiments.load_result("unit-test-sharded", "ci", tmp_path) is not None


def test_interrupted_run_resumes_from_finished_shards(tmp_path):
    log = tmp_path / "log.txt"
    SETTINGS.update(log=str(log), fail_at=2)
    with pytest.raises(RuntimeError, match="interrupted"):
        experiments.run_experiment("unit-test-sharded", "ci", tmp_path)
    assert len(list((tmp_path / "unit-test-sharded" / "ci").glob("*.npz"))) == 2
    assert not list(tmp_path.rglob("*.tmp"))
    assert experiments.load_result("unit-test-sharded", "ci", tmp_path) is None
    SETTINGS.pop("fail_at")
    log.write_text("")
    arrays, meta = experiments.run_experiment("unit-test-sharded", "ci", tmp_path)
    assert meta["shards_run"] == 2
    assert sorted(int(i) for what, i, _ in _lines(log) if what == "start") == [2, 3]
    fresh, _ = experiments.run_experiment("unit-test-sharded", "ci", save=False)
    np.testing.assert_array_equal(arrays["loss"], fresh["loss"])


def test_truncated_shard_is_recomputed(tmp_path):
    experiments.run_experiment("unit-test-sharded", "ci", tmp_path)
    shard = sorted((tmp_path / "unit-test-sharded" / "ci").glob("*.npz"))[1]
    shard.write_bytes(shard.read_bytes()[:100])  # a damaged file
    (tmp_path / "unit-test-sharded-ci.npz").unlink()
    _, meta = experiments.run_experiment("unit-test-sharded", "ci", tmp_path)
    assert meta["shards_run"] == 1
    assert experiments.load_results(shard) is not None


def test_changed_config_is_recomputed_not_shown(tmp_path):
    before, _ = experiments.run_experiment("unit-test-sharded", "ci", tmp_path)
    SETTINGS["offset"] = 1.0  # the code now means another experiment
    assert experiments.load_result("unit-test-sharded", "ci", tmp_path) is None
    after, meta = experiments.run_experiment("unit-test-sharded", "ci", tmp_path)
    assert meta["shards_run"] == 4
    assert not np.allclose(before["loss"], after["loss"])


def test_load_or_run_shows_the_stored_full_result(tmp_path, capsys):
    SETTINGS["n_shards"] = 2
    none = experiments.load_or_run("unit-test-sharded", scale="ci", out_dir=tmp_path)
    assert none.stored is None and "no stored" in none.describe_stored()
    assert capsys.readouterr().out == ""
    experiments.run_experiment("unit-test-sharded", "full", tmp_path)
    both = experiments.load_or_run("unit-test-sharded", scale="ci", out_dir=tmp_path)
    printed = capsys.readouterr().out
    assert "stored full-scale result of unit-test-sharded" in printed
    assert both.stored is not None and both.current_meta["scale"] == "ci"
    assert not list((tmp_path / "unit-test-sharded").glob("ci"))  # ci not written


def test_command_line(tmp_path, capsys):
    env = dict(os.environ, PYTHONPATH=str(Path(dln.__file__).parents[1]))
    run = [sys.executable, "-m", "dln.experiments"]
    unknown = subprocess.run(
        run + ["no-such-experiment"], capture_output=True, text=True, env=env
    )
    assert unknown.returncode == 2
    assert "unknown experiment 'no-such-experiment'" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    assert experiments.main([]) == 0
    assert "init-trap" in capsys.readouterr().out
    argv = ["condense-5-50-1", "--scale", "ci", "--out", str(tmp_path)]
    assert experiments.main(argv + ["--no-progress"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["shards_run"] == 5
    assert (tmp_path / "condense-5-50-1-ci.npz").is_file()
    assert experiments.main(argv) == 0  # stored: nothing runs, the same result
    assert json.loads(capsys.readouterr().out) == first


def test_bad_requests():
    with pytest.raises(ValueError, match="unknown experiment"):
        experiments.run_experiment("no-such-thing", "ci")
    with pytest.raises(ValueError, match="scale"):
        experiments.run_experiment("unit-test-sharded", "huge")
    with pytest.raises(ValueError, match="workers"):
        experiments.run_experiment("unit-test-sharded", "ci", workers=0)
    with pytest.raises(ValueError, match="not both"):
        experiments.run_experiment("unit-test-sharded", "ci", workers=2, scheduler="x")
    with pytest.raises(ValueError, match="shards"):
        experiments.experiment("unit-test-bad", shards=3)


def test_scheduler_address_gives_the_single_process_result(tmp_path):
    from distributed import LocalCluster

    SETTINGS["sleep"] = 0.3  # long enough that both workers take shards
    single, _ = experiments.run_experiment("unit-test-sharded", "ci", save=False)
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        merged, meta = experiments.run_experiment(
            "unit-test-sharded", "ci", tmp_path, scheduler=cluster.scheduler_address
        )
    for key in single:
        np.testing.assert_array_equal(merged[key], single[key])
    assert meta["scheduler"] == cluster.scheduler_address
    assert len({s["pid"] for s in meta["shards"]} - {os.getpid()}) == 2


def test_two_local_workers_one_killed_nothing_lost_nothing_duplicated(tmp_path):
    log = tmp_path / "log.txt"
    log.write_text("")
    SETTINGS.update(n_shards=6, log=str(log), sleep=1.0)
    killed = []

    def kill_first_started_worker():
        deadline = time.time() + 120
        while time.time() < deadline:
            starts = [line for line in _lines(log) if line[0] == "start"]
            if starts:
                pid = int(starts[0][2])
                os.kill(pid, signal.SIGKILL)
                killed.append((int(starts[0][1]), pid))
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_first_started_worker)
    killer.start()
    try:
        arrays, meta = experiments.run_experiment(
            "unit-test-sharded", "ci", tmp_path, workers=2
        )
    finally:
        killer.join()
    assert killed, "no worker was killed"
    shard, pid = killed[0]
    lines = _lines(log)
    # nothing lost, nothing duplicated: every shard once in the result and on disk
    np.testing.assert_array_equal(arrays["index"], np.arange(6))
    assert len(list((tmp_path / "unit-test-sharded" / "ci").glob("*.npz"))) == 6
    assert {int(i) for what, i, _ in lines if what == "end"} == set(range(6))
    # only the killed worker's shards ran twice, the one it was running among them
    starts = {}
    for what, i, p in lines:
        if what == "start":
            starts.setdefault(int(i), []).append(int(p))
    rerun = {i for i, pids in starts.items() if len(pids) > 1}
    assert shard in rerun
    assert all(starts[i][0] == pid for i in rerun)
    assert meta["shards_run"] == 6 and meta["workers"] == 2
    # the merged result is the single-process one
    SETTINGS.update(log=None)
    single, _ = experiments.run_experiment("unit-test-sharded", "ci", save=False)
    np.testing.assert_array_equal(arrays["loss"], single["loss"])

"""The executor seam: results do not depend on where the tasks ran (issue 12).

`run --quick` on a `distributed.LocalCluster` of two worker processes gives the report of
the in-process run (same verdicts, ratios to the last bit), also when a worker is killed
after the first tasks finished (Dask runs its tasks again). Bad scheduler addresses are
exit 2 with one line. `ClaimCheck.merge` folds per-task checks exactly like one sequential check.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from proofs_check.engine import ClaimCheck, check_instances
from proofs_check.executor import IN_PROCESS, SCHEDULER_ENVIRONMENT, Executor, executor_for, scheduler_address

ROOT = Path(__file__).resolve().parents[2]
TIMING_KEYS = {"elapsed_seconds", "seconds", "timing", "provenance"}
"""report.json keys that record where and how long, not what (ignored in the comparison)."""


def _without_timing(value):
    if isinstance(value, dict):
        return {key: _without_timing(item) for key, item in value.items() if key not in TIMING_KEYS}
    if isinstance(value, list):
        return [_without_timing(item) for item in value]
    return value


def _environment() -> dict:
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), environment.get("PYTHONPATH", "")]))
    environment.pop(SCHEDULER_ENVIRONMENT, None)
    return environment


def _run_quick(out: Path, *extra: str) -> dict:
    completed = subprocess.run(
        [sys.executable, "-m", "proofs_check", "run", "--quick", "--json", "--out", str(out), *extra],
        cwd=ROOT, env=_environment(), capture_output=True, text=True, timeout=900,
    )
    assert completed.returncode in (0, 1), completed.stderr[-2000:]
    return json.loads((out / "report.json").read_text())


def _assert_same_report(expected: dict, actual: dict) -> None:
    assert [row["status"] for row in actual["lemmas"]] == [row["status"] for row in expected["lemmas"]]
    assert [row["max_ratio"] for row in actual["lemmas"]] == [row["max_ratio"] for row in expected["lemmas"]]
    assert [row["status"] for row in actual["theorems"]] == [row["status"] for row in expected["theorems"]]
    assert _without_timing(actual) == _without_timing(expected)  # every ratio, to the last bit


@pytest.fixture(scope="module")
def in_process_report(quick_run_outputs) -> dict:
    """The report of `run --quick --seed 0` in-process (the session's run, conftest.py)."""
    code, _, report = quick_run_outputs
    assert code in (0, 1)
    return report


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        yield cluster


@pytest.mark.slow
def test_run_quick_on_a_local_cluster_gives_the_in_process_report(in_process_report, cluster, tmp_path):
    report = _run_quick(tmp_path, "--scheduler", cluster.scheduler_address)
    _assert_same_report(in_process_report, report)


@pytest.mark.slow
def test_run_quick_survives_a_worker_killed_mid_run(in_process_report, cluster, tmp_path):
    from distributed import Client

    with Client(cluster.scheduler_address, set_as_default=False) as client:
        client.wait_for_workers(2)
        pids = client.run(os.getpid)
    scheduler = cluster.scheduler
    finished_before = {key for key, state in scheduler.tasks.items() if state.state == "memory"}
    killed: dict = {}

    def kill_a_busy_worker() -> None:
        """Once the run's first tasks are done, SIGKILL a worker that is running one."""
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and not killed:
            done = [key for key, state in list(scheduler.tasks.items()) if state.state == "memory" and key not in finished_before]
            busy = [worker.address for worker in list(scheduler.workers.values()) if worker.processing]
            if done and busy and busy[0] in pids:
                pending = sum(state.state != "memory" for state in list(scheduler.tasks.values()))
                os.kill(pids[busy[0]], signal.SIGKILL)
                killed.update(worker=busy[0], done=len(done), pending=pending)
            time.sleep(0.05)

    watcher = threading.Thread(target=kill_a_busy_worker, daemon=True)
    watcher.start()
    report = _run_quick(tmp_path, "--scheduler", cluster.scheduler_address)
    watcher.join(timeout=5)
    assert killed and killed["done"] >= 1 and killed["pending"] >= 1, f"no worker was killed mid-run: {killed}"
    _assert_same_report(in_process_report, report)


@pytest.mark.slow
def test_experiment_cells_on_a_local_cluster_give_the_in_process_summary(cluster):
    """figure4's (M, schedule) cells and the rates runs, small configurations."""
    from proofs_check.experiments import figure4, rates
    from proofs_check.output import to_jsonable

    figure4_config = figure4.Figure4Config(quick=True, seeds=2, seed=0, epochs=1, stages=(1, 2, 4), main_stages=2)
    rates_config = rates.RatesConfig(quick=True, seed=0, seeds=2, updates=(10, 40), floor_updates=200, floor_seeds=2)
    in_process = [to_jsonable(figure4.run_figure4(figure4_config)), to_jsonable(rates.run_rates(rates_config))]
    with Executor(cluster.scheduler_address) as executor:
        distributed = [to_jsonable(figure4.run_figure4(figure4_config, executor=executor)), to_jsonable(rates.run_rates(rates_config, executor=executor))]
    assert json.dumps(distributed, sort_keys=True) == json.dumps(in_process, sort_keys=True)


def test_the_comparison_can_fail():
    """A report whose one ratio differs in the last bit is not the same report; timing is ignored."""
    report = {
        "lemmas": [{"id": "a", "status": "holds", "max_ratio": 0.75, "adversarial_search": {"elapsed_seconds": 1.0}}],
        "theorems": [{"id": "t", "status": "holds", "details": {"ratios": [0.5, 0.25]}}],
        "config": {"elapsed_seconds": 3.0},
    }
    timing = json.loads(json.dumps(report))
    timing["config"]["elapsed_seconds"] = 9.0
    timing["lemmas"][0]["adversarial_search"]["elapsed_seconds"] = 2.0
    _assert_same_report(report, timing)
    for path in (("lemmas", 0, "max_ratio"), ("theorems", 0, "details", "ratios", 1)):
        changed = json.loads(json.dumps(report))
        container = changed
        for key in path[:-1]:
            container = container[key]
        container[path[-1]] = float(np.nextafter(container[path[-1]], np.inf))
        with pytest.raises(AssertionError):
            _assert_same_report(report, changed)


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:1", "no-port", "foo://x:1"])
def test_a_bad_scheduler_address_is_exit_2_with_one_line(address, tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "proofs_check", "run", "--quick", "--out", str(tmp_path / "out"), "--scheduler", address],
        cwd=ROOT, env=_environment(), capture_output=True, text=True, timeout=60,
    )
    assert completed.returncode == 2
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1 and "--scheduler" in lines[0] and address in lines[0], completed.stderr
    assert not (tmp_path / "out").exists()


def test_the_environment_variable_names_the_scheduler(tmp_path):
    environment = _environment()
    environment[SCHEDULER_ENVIRONMENT] = "tcp://127.0.0.1:1"
    completed = subprocess.run(
        [sys.executable, "-m", "proofs_check", "bound", "--lemma", "box-invariance", "--rhs", "bound", "--budget", "0.1"],
        cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=60,
    )
    assert completed.returncode == 2
    assert completed.stderr.count("\n") == 1 and SCHEDULER_ENVIRONMENT in completed.stderr


def test_scheduler_address_prefers_the_flag():
    assert scheduler_address("tcp://a:1", {SCHEDULER_ENVIRONMENT: "tcp://b:2"}) == ("tcp://a:1", "--scheduler")
    assert scheduler_address(None, {SCHEDULER_ENVIRONMENT: "tcp://b:2"}) == ("tcp://b:2", SCHEDULER_ENVIRONMENT)
    assert scheduler_address(None, {}) == (None, SCHEDULER_ENVIRONMENT)
    assert not executor_for(None).distributed or os.environ.get(SCHEDULER_ENVIRONMENT)


def _square(value: int) -> int:
    return value * value


def test_in_process_map_is_lazy_and_in_order():
    calls = []

    def record(value):
        calls.append(value)
        return -value

    results = IN_PROCESS.map(record, [3, 1, 2])
    assert next(results) == -3 and calls == [3]
    assert list(results) == [-1, -2]
    assert list(Executor().map(_square, range(5))) == [0, 1, 4, 9, 16]


def test_merged_checks_equal_one_sequential_check():
    """Per-trace checks merged in order give the check of all instances in one go
    (counts, ratios, the largest ratio, the witness), for a claim that holds and one that is violated."""
    from proofs_check.builtin import builtin_settings
    from proofs_check.claims import candidate_claim, false_variant_claims, own_claim
    from proofs_check.library import REGISTRY
    from proofs_check.traces import simulate_all, trace_instances

    lemma = REGISTRY.get("analog-increment")
    settings = builtin_settings(quick=True, seed=0)[:6]
    instances = [trace_instances(trace, [lemma])[lemma.id] for trace in simulate_all(settings)]
    claims = (own_claim(lemma), *false_variant_claims([lemma])[:1], candidate_claim(lemma, "bound/100"))
    statuses = []
    for claim in claims:
        sequential = check_instances(claim, [(instance, "trace") for instance in instances])
        statuses.append(sequential.status)
        merged = ClaimCheck(claim)
        for instance in instances:
            merged.merge(check_instances(claim, [(instance, "trace")]))
        for field in ("samples", "vacuous", "status", "max_ratio", "worst_part", "witness_part", "witness_status", "re_evaluated", "sources", "outside_assumptions"):
            assert getattr(merged, field) == getattr(sequential, field), field
        assert np.array_equal(merged.all_ratios(), sequential.all_ratios())
        assert (merged.witness is None) == (sequential.witness is None)
        if sequential.witness is not None:
            assert merged.witness.origin == sequential.witness.origin
            assert np.array_equal(merged.witness.inputs, sequential.witness.inputs)
    assert statuses[0] == "holds" and statuses[-1] == "violated"


def test_every_blas_runs_single_threaded_inside_a_task():
    """The thread pools are found once per set of loaded BLAS packages (issue 12), yet every
    BLAS pool of the process is limited to one thread inside the block, and restored after."""
    from threadpoolctl import threadpool_info

    from proofs_check.executor import single_threaded_blas

    def blas_threads():
        return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]

    before = blas_threads()
    for _ in range(2):
        with single_threaded_blas():
            assert blas_threads() and all(threads == 1 for threads in blas_threads())
        assert blas_threads() == before

"""`experiment figure4` and `experiment rates` (quick variants): the qualitative claims that
must hold on any seed, the outputs and their keys, determinism, bad input; and the pieces
they rest on (the reference-point observer, the digits split).

Everything that imports `proofs_check.experiments` runs in a subprocess. Hypothesis (6.1xx)
mines numeric and string literals from every project module loaded in the test process and
uses them when generating examples, so importing these modules here would change what the
property tests in tests/theory draw later in the same session (one of them relies on
finding a counterexample within 300 examples). Subprocesses keep that pool as it is without
this file, and they also run the commands exactly as a user does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.numerics.test_cli_errors import run_main as _run

ROOT = Path(__file__).resolve().parents[2]
FIGURE4_FILES = ("figure4.png", "figure4.pdf", "figure4.json", "figure4_accuracy.tex", "figure4_speed_up.tex", "figure4_gaps.tex", "figure4_schedules.tex")
RATES_FILES = ("rates.png", "rates.pdf", "rates.json", "rates_rate.tex", "rates_floor.tex", "rates_slopes.tex")


def _python(code: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run Python code in a fresh interpreter at the repository root; fail with its output on error."""
    environment = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def _command(*arguments: str) -> subprocess.CompletedProcess:
    """`python -m proofs_check ...` in a fresh interpreter (the exit code is the caller's to check)."""
    return subprocess.run([sys.executable, "-m", "proofs_check", *arguments], cwd=ROOT, capture_output=True, text=True, timeout=300)


def _without_timing(summary: dict) -> dict:
    """The summary without what may differ between two runs of the same seed: the elapsed
    time, and the provenance (whose command line names the output directory)."""
    return {key: value for key, value in summary.items() if key not in ("timing", "provenance")}


def _find(rows: list[dict], **keys) -> dict:
    matches = [row for row in rows if all(row.get(key) == value for key, value in keys.items())]
    assert len(matches) == 1, keys
    return matches[0]


@pytest.fixture(scope="module")
def figure4_quick(figure4_outputs):
    return figure4_outputs


@pytest.fixture(scope="module")
def rates_quick(rates_outputs):
    return rates_outputs


# ----------------------------------------------------------------------------- observer and data


def test_observer_sees_every_reference_point_bit_for_bit():
    """For every schedule and both devices, the observed W^(k) are keep_versions' versions
    bit for bit, the run itself is unchanged, and the completion slots increase to the end."""
    _python(
        """
        import dataclasses
        import numpy as np
        from numerics.activations import TANH
        from numerics.data import initial_weights, teacher_student
        from numerics.devices import AsymmetricLinearDevice, DigitalDevice
        from numerics.losses import SQUARED
        from numerics.schedules import SCHEDULE_NAMES
        from numerics.training import TrainingSettings, train
        from proofs_check.experiments.observe import completion_slots, observed_train

        dims = [3, 5, 4, 2]
        data = teacher_student(dims, 20, 0, TANH, SQUARED)
        initial = tuple(np.stack([initial_weights(dims, seed)[m] for seed in range(3)]) for m in range(3))
        tau = np.array([np.inf, 1.0, 2.0]).reshape(3, 1, 1)
        for schedule in SCHEDULE_NAMES:
            for device in (DigitalDevice(), AsymmetricLinearDevice(tau=tau)):
                settings = TrainingSettings(schedule, device, 0.05, 12, TANH, SQUARED, micro_batch_size=2, mini_batch=3, noise=0.1, seeds=(0, 1, 2))
                reference = train(initial, data, dataclasses.replace(settings, keep_versions=True))
                seen = {}
                result = observed_train(initial, data, settings, range(13), lambda k, w: seen.__setitem__(k, [a.copy() for a in w]))
                assert sorted(seen) == list(range(13)), (schedule, sorted(seen))
                for k in range(13):
                    for m in range(3):
                        assert np.array_equal(seen[k][m], reference.versions[m][k]), (schedule, k, m)
                assert np.array_equal(result.reference_loss, reference.reference_loss)
                slots = completion_slots(result.record)
                assert slots[0] == 0 and np.all(np.diff(slots) > 0) and slots[-1] == result.record.slots
        """
    )


def test_digits_split_is_stratified_and_standardised():
    _python(
        """
        import numpy as np
        from proofs_check.experiments import digits

        split = digits.digits_split(0)
        assert split.train_size + split.test_size == 1797
        assert abs(split.test_size - 0.25 * 1797) <= 1
        train_share = np.bincount(split.train_labels, minlength=10) / split.train_size
        test_share = np.bincount(split.test_labels, minlength=10) / split.test_size
        assert np.max(np.abs(train_share - test_share)) < 0.01
        assert np.allclose(split.train_inputs.mean(axis=0), 0, atol=1e-12)
        stds = split.train_inputs.std(axis=0)
        assert np.all(np.isclose(stds, 1) | np.isclose(stds, 0))
        assert digits.mlp_dims(3, 32) == [64, 32, 32, 10]
        per_epoch = digits.micro_batches_per_epoch(split.train_size, 8, 8)
        assert per_epoch % 8 == 0 and per_epoch * 8 <= split.train_size
        inputs, labels = digits.epoch_stream(split, (0, 1), 2, per_epoch * 8)
        assert inputs.shape == (2, 2 * per_epoch * 8, 64) and not np.array_equal(inputs[0], inputs[1])
        """
    )


def test_figure4_remembered_evaluations_are_the_evaluations():
    """figure4's test evaluations, remembered by the weights' digest: a copy of seen weights
    gets the remembered numbers without a new evaluation, equal to digits.evaluate's; weights
    one ulp apart (or of another shape) are evaluated afresh; the oldest result is forgotten."""
    _python(
        """
        import numpy as np
        from numerics.replicas import seeded_initial_weights
        from proofs_check.experiments import digits, figure4

        split = digits.digits_split(0)
        calls = []
        evaluate = digits.evaluate
        digits.evaluate = lambda *arguments: calls.append(1) or evaluate(*arguments)
        memo = figure4._TestEvaluations(split, capacity=2)
        weights = seeded_initial_weights(digits.mlp_dims(3, 32), (0, 1), bound=0.35)
        first = memo(weights)
        again = memo([w.copy() for w in weights])
        assert len(calls) == 1 and again is first
        for mine, theirs in zip(first, evaluate(weights, split.test_inputs, split.test_labels)):
            assert np.array_equal(mine, theirs)
        nudged = [w.copy() for w in weights]
        nudged[1][1, 2, 3] = np.nextafter(nudged[1][1, 2, 3], np.inf)
        memo(nudged)
        assert len(calls) == 2
        memo(seeded_initial_weights(digits.mlp_dims(2, 32), (0, 1), bound=0.35))  # a third: the first is forgotten
        memo(weights)
        assert len(calls) == 4
        """
    )


# ----------------------------------------------------------------------------- figure4


def test_figure4_quick_runs_and_writes_every_output(figure4_quick):
    result, out, summary = figure4_quick
    assert result.returncode == 0, result.stderr
    assert "throughput vs closed forms" in result.stdout
    for name in FIGURE4_FILES:
        assert (out / name).stat().st_size > 0
    assert (out / "figure4.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for name in FIGURE4_FILES:
        if name.endswith(".tex"):
            assert (out / name).read_text().count(r"\toprule") == 1
    assert {"config", "data", "design", "checkpoints", "curves", "runs", "throughput", "time_to_accuracy", "ap_minus_sp", "checks", "timing"} <= set(summary)
    row = summary["runs"][0]
    assert {"stages", "schedule", "device", "final_accuracy", "final_accuracy_summary", "slots_to_target", "slots_to_target_summary", "epochs_to_target"} <= set(row)
    assert not list(out.rglob("*.tmp"))


def test_figure4_accuracy_is_well_above_chance(figure4_quick):
    _, _, summary = figure4_quick
    assert summary["data"]["test"] >= 400
    for row in summary["runs"]:
        assert min(row["final_accuracy"]) > 0.5, (row["stages"], row["schedule"], row["device"])


def test_figure4_synchronous_schedules_compute_the_same_iterates(figure4_quick):
    _, _, summary = figure4_quick
    assert all(summary["checks"]["synchronous_schedules_identical"].values())
    main_stages = summary["config"]["main_stages"]
    for device in ("digital", "ald"):  # 1F1B (trained at the main M) computes SP's iterates
        one_f_one_b = _find(summary["runs"], stages=main_stages, schedule="1f1b", device=device)
        assert one_f_one_b["final_accuracy"] == _find(summary["runs"], stages=main_stages, schedule="sp", device=device)["final_accuracy"]
    assert summary["checks"]["ap_equals_control_at_one_stage"]  # one stage: AP has no delay


def test_figure4_throughput_matches_the_closed_forms(figure4_quick):
    _, _, summary = figure4_quick
    stages = summary["config"]["stages"]
    assert sorted({row["stages"] for row in summary["throughput"]}) == list(range(1, 9)) == stages
    for row in summary["throughput"]:
        assert row["relative_difference"] <= 0.05, row
    for m in stages:
        assert _find(summary["throughput"], stages=m, schedule="wop")["speed_up"] == 1.0
        assert _find(summary["throughput"], stages=m, schedule="sp")["speed_up"] == pytest.approx(m * 8 / (8 + m - 1), rel=1e-12)


def test_figure4_ap_needs_fewer_slots_than_sp_to_the_target(figure4_quick):
    _, _, summary = figure4_quick
    main_stages = summary["config"]["main_stages"]
    for device in ("digital", "ald"):
        ap = _find(summary["runs"], stages=main_stages, schedule="ap", device=device)["slots_to_target"]
        sp = _find(summary["runs"], stages=main_stages, schedule="sp", device=device)["slots_to_target"]
        single = _find(summary["runs"], stages=main_stages, schedule="single", device=device)["slots_to_target"]
        assert None not in ap + sp + single
        assert all(s < t for s, t in zip(sp, single))
        if device == "digital":  # per seed: AP and SP need about the same epochs, AP's epoch is shorter
            assert all(a < s for a, s in zip(ap, sp)), (ap, sp)
        else:  # ALD's bias costs per-micro-batch updates some epochs: the claim holds on the mean
            assert sum(ap) < sum(sp), (ap, sp)
    for stages in range(2, 9):
        ap = _find(summary["time_to_accuracy"], stages=stages, schedule="ap", device="digital")["summary"]
        sp = _find(summary["time_to_accuracy"], stages=stages, schedule="sp", device="digital")["summary"]
        assert ap["mean"] > sp["mean"], stages


def test_figure4_peak_in_flight_equals_the_closed_forms_for_every_schedule(figure4_quick):
    """The record's peak in-flight micro-batches and weight versions per stage equal MODEL.md
    §3's closed forms for every schedule of the registry at every M; 1F1B holds fewer
    activations than SP (min(B, M − m + 1) against B) with SP's throughput."""
    _, _, summary = figure4_quick
    from theory.schedules import SCHEDULES as CLOSED

    assert summary["checks"]["memory_matches_closed_forms"] and summary["checks"]["memory_mismatches"] == []
    B = summary["config"]["mini_batch"]
    for m in summary["config"]["stages"]:
        for schedule in CLOSED:
            row = _find(summary["memory"], stages=m, schedule=schedule)
            assert row["peak_in_flight"] == row["peak_in_flight_closed_form"], (m, schedule)
            assert row["peak_versions"] == row["peak_versions_closed_form"], (m, schedule)
            assert row["peak_activation_floats"] == row["peak_activation_floats_closed_form"]
        one_f_one_b = _find(summary["memory"], stages=m, schedule="1f1b")
        sp = _find(summary["memory"], stages=m, schedule="sp")
        assert one_f_one_b["peak_in_flight"] == [min(B, m - stage) for stage in range(m)]
        assert sp["peak_in_flight"] == [B] * m
        assert one_f_one_b["peak_activation_floats_total"] < sp["peak_activation_floats_total"] or m == 1
        assert _find(summary["throughput"], stages=m, schedule="1f1b")["speed_up"] == _find(summary["throughput"], stages=m, schedule="sp")["speed_up"]
        assert _find(summary["memory"], stages=m, schedule="pipedream")["peak_versions"] == list(range(m, 0, -1))
    main_stages = summary["config"]["main_stages"]
    for schedule in ("1f1b", "pipedream", "2bw"):  # trained at the main M: time to accuracy beside throughput
        for device in ("digital", "ald"):
            assert None not in _find(summary["runs"], stages=main_stages, schedule=schedule, device=device)["slots_to_target"]
    assert _find(summary["memory"], stages=main_stages, schedule="2bw")["backward_delay"] == [1] * main_stages


def test_figure4_memory_check_can_fail():
    """Negative control: 1F1B's record against SP's closed forms, and PipeDream's against AP's
    (no stashing), are reported as mismatches."""
    _python(
        """
        from numerics.training import compiled_schedule
        from proofs_check.experiments.figure4 import schedule_memory

        dims = [64, 32, 32, 32, 10]
        for schedule, wrong in (("1f1b", "sp"), ("pipedream", "ap"), ("2bw", "sp")):
            record, _ = compiled_schedule(schedule, 4, 64, 8)
            assert schedule_memory(record, dims, 8)["matches"], schedule
            row = schedule_memory(record, dims, 8, closed_form_schedule=wrong)
            assert not row["matches"] and row["closed_form_of"] == wrong, (schedule, wrong)
        """
    )


def test_figure4_same_seed_same_numbers():
    """Two runs of the same seed give the same summary to the last bit, and another seed
    another one (a reduced configuration: every schedule at M = 1, 2, one epoch)."""
    result = _python(
        """
        import json
        from proofs_check.experiments import figure4
        def summary(seed):
            config = figure4.Figure4Config(quick=True, seeds=2, seed=seed, epochs=1, stages=(1, 2), main_stages=2)
            return json.dumps(figure4.run_figure4(config), sort_keys=True)
        first, second, other = summary(0), summary(0), summary(1)
        print(json.dumps({"same": first == second, "other_differs": first != other}))
        """
    )
    assert json.loads(result.stdout.splitlines()[-1]) == {"same": True, "other_differs": True}


# ----------------------------------------------------------------------------- rates


def test_rates_quick_runs_and_writes_every_output(rates_quick):
    result, out, summary = rates_quick
    assert result.returncode == 0, result.stderr
    for name in RATES_FILES:
        assert (out / name).stat().st_size > 0
    assert {"config", "rate_task", "rate", "rate_slopes", "floor_task", "floor", "floor_slopes", "checks", "timing"} <= set(summary)
    assert {row["schedule"] for row in summary["rate"]} == {"sp", "ap"}
    for row in summary["rate"]:
        assert {"K", "alpha", "lhs", "rhs", "terms", "vanishing_part", "rhs_over_lhs", "constants", "hypotheses"} <= set(row)


def test_rates_measured_values_stay_below_the_theorem(rates_quick):
    _, _, summary = rates_quick
    assert summary["checks"] == {"measured_below_bound_everywhere": True, "hypotheses_hold_everywhere": True}
    for row in summary["rate"]:
        assert 0 < row["lhs"]["mean"] < row["rhs"]
        assert row["constants"]["c_D"] > 0 if row["schedule"] == "ap" else row["constants"]["c_D"] == 0
    # AP is on the sqrt branch of the step size for every K: descent and noise terms fall like
    # K^(-1/2), the delay term like 1/K
    assert -1.0 <= summary["rate_slopes"]["ap"]["vanishing_part"] <= -0.45


def test_rates_floor_grows_with_sigma_and_shrinks_with_tau(rates_quick):
    _, _, summary = rates_quick
    smallest_tau = []
    for run in summary["floor"]:
        rows = run["rows"]
        assert rows[0]["excess"]["mean"] > max(0.0, rows[-1]["excess"]["mean"])
        assert rows[0]["excess"]["mean"] < rows[0]["formula"]
        for row in rows:
            assert row["plateau"]["mean"] <= row["rhs_limit"]
        smallest_tau.append(rows[0]["excess"]["mean"])
    assert smallest_tau == sorted(smallest_tau)


def test_rates_same_seed_same_numbers(rates_quick, tmp_path):
    _, _, summary = rates_quick
    result = _command("experiment", "rates", "--quick", "--out", str(tmp_path), "--seed", "0")
    assert result.returncode == 0, result.stderr
    assert _without_timing(json.loads((tmp_path / "rates.json").read_text())) == _without_timing(summary)


# ----------------------------------------------------------------------------- bad input

BAD = [
    (["experiment", "figure4", "--seeds", "0"], ["--seeds"]),
    (["experiment", "figure4", "--seeds", "1000"], ["--seeds"]),
    (["experiment", "figure4", "--seeds", "two"], ["--seeds"]),
    (["experiment", "figure4", "--seed", "-1"], ["--seed"]),
    (["experiment", "rates", "--seed", "x"], ["--seed"]),
    (["experiment", "rates", "--seeds", "3"], ["--seeds"]),
    (["experiment", "tables"], ["figure4", "rates", "devices"]),
    (["experiment"], ["figure4"]),
]


@pytest.mark.parametrize(("arguments", "names"), BAD)
def test_bad_input_is_one_line_and_exit_2(capsys, tmp_path, arguments, names):
    out = tmp_path / "out"
    with_out = arguments + ["--out", str(out)] if len(arguments) > 2 and arguments[1] in ("figure4", "rates") else arguments
    code, stdout, stderr = _run(capsys, with_out)
    assert code == 2, (code, stderr)
    assert stdout == "" and stderr.count("\n") == 1 and "Traceback" not in stderr
    for name in names:
        assert name in stderr, (name, stderr)
    assert not out.exists()


def test_out_that_is_a_file_is_exit_2(capsys, tmp_path):
    target = tmp_path / "a_file"
    target.write_text("")
    for experiment in ("figure4", "rates"):
        code, stdout, stderr = _run(capsys, ["experiment", experiment, "--quick", "--out", str(target)])
        assert code == 2 and stdout == "" and stderr.count("\n") == 1 and "--out" in stderr
    assert target.read_text() == ""

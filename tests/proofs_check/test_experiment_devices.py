"""`experiment devices` (quick variant): its files, finite measurements, the theorem's floor
beside the measured one, the rows outside the hypotheses, negative controls of its verdicts,
and the observer on the pulsed device.

As in test_experiments.py, everything that imports `proofs_check.experiments` runs in a
subprocess (hypothesis mines literals from every module loaded in the test process).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.numerics.test_cli_errors import run_main as _run

ROOT = Path(__file__).resolve().parents[2]
DEVICES_FILES = ("devices.png", "devices.pdf", "devices.json", "devices.tex")


def _python(code: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run Python code in a fresh interpreter at the repository root; fail with its output on error."""
    environment = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def devices_quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("devices")
    result = subprocess.run(
        [sys.executable, "-m", "proofs_check", "experiment", "devices", "--quick", "--out", str(out), "--seed", "0"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    return result, out, json.loads((out / "devices.json").read_text())


def test_devices_quick_runs_and_writes_every_output(devices_quick):
    result, out, summary = devices_quick
    assert result.returncode == 0, result.stderr
    for name in DEVICES_FILES:
        assert (out / name).stat().st_size > 0
    assert (out / "devices.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "devices.pdf").read_bytes()[:5] == b"%PDF-"
    table = (out / "devices.tex").read_text()
    assert table.count(r"\toprule") == 1 and table.count(r"\\") == len(summary["rows"]) + 1
    assert {"config", "data", "design", "rows", "checks", "timing"} <= set(summary)
    kinds = {case["kind"] for case in summary["config"]["cases"]}
    assert kinds == {"digital", "ald", "softbounds", "pulsed"}
    assert {row["schedule"] for row in summary["rows"]} == {"ap", "sp"}
    assert not list(out.rglob("*.tmp"))


def test_devices_softbounds_is_nonlinear_and_off_centre(devices_quick):
    _, _, summary = devices_quick
    for case in summary["config"]["cases"]:
        if case["kind"] in ("softbounds", "pulsed"):
            settings = case["settings"]
            assert settings["exponent"] == 2 and settings["gamma_up"] != settings["gamma_down"]
    pulsed = [case["settings"] for case in summary["config"]["cases"] if case["kind"] == "pulsed"]
    assert any(s.get("c2c", 0) > 0 for s in pulsed) and any(s.get("d2d", 0) > 0 for s in pulsed)


def test_devices_measurements_are_finite_and_the_floor_is_compared(devices_quick):
    _, _, summary = devices_quick
    checks = summary["checks"]
    assert checks["every_measurement_finite"] and checks["no_error"] and checks["no_violation"]
    for row in summary["rows"]:
        assert all(0 < value < float("inf") for value in row["plateau"]), row["device"]
        assert row["plateau_standard_error"] is not None and row["plateau_standard_error"] >= 0
        assert 0 < row["sigma2"] < float("inf") and 0 < row["W_max"] < 1.0
        assert min(row["final_accuracy"]) > 0.5, (row["device"], row["schedule"])
        if row["kind"] == "digital":
            assert row["floor"] == 0.0 and row["G_max"] == 0.0
        else:
            assert row["floor"] > 0 and row["beta"] > 0
            # every analog device pays for its asymmetry: its plateau lies above digital SGD's
            assert row["excess_over_digital_summary"]["mean"] > 0, (row["device"], row["schedule"])


def test_devices_prediction_bounds_where_the_hypotheses_hold_and_names_the_rest(devices_quick):
    _, _, summary = devices_quick
    outside = summary["checks"]["rows_outside_hypotheses"]
    for row in summary["rows"]:
        failed = [name for name, held in row["hypotheses"].items() if not held]
        assert failed == row["outside_hypotheses"]
        if failed:
            assert row["verdict"] == "outside"
            assert any(entry.startswith(f"{row['device']} / {row['schedule']}:") for entry in outside)
        else:
            assert row["verdict"] == "holds" and row["plateau_summary"]["mean"] <= row["bound"]
        if row["kind"] == "pulsed":  # a random update is outside MODEL §5 by its definition
            assert "deterministic update (the pulsed device is outside section 5)" in failed
        if row["kind"] != "digital":
            # the theorem's floor term alone lies above the measured excess over digital SGD
            assert row["floor_above_excess"] is True and row["floor_over_excess"] > 1, (row["device"], row["schedule"])


def test_devices_verdicts_negative_controls():
    """False statements fed to the verdict: a plateau above the bound is 'violated', NaN is an
    error (never 'holds'), a failed hypothesis is 'outside' and is named."""
    _python(
        """
        import math
        import numpy as np
        from proofs_check.experiments.devices import row_verdict, stationary_bound, devices_config, device_cases

        held = {"(A2) i.i.d. sampling": True, "beta > 0": True}
        assert row_verdict([1.0, 1.1, 0.9], 2.0, held) == ("holds", [])
        status, failed = row_verdict([3.0, 3.1, 2.9, 3.05], 1.0, held)
        assert status == "violated" and failed == [], status
        assert row_verdict([1.0, float("nan")], 2.0, held)[0] == "error"
        assert row_verdict([1.0, 1.0], float("inf"), held)[0] == "error"
        assert row_verdict([1.0, 1.0], None, held)[0] == "error"
        status, failed = row_verdict([3.0, 3.1], 1.0, dict(held, **{"(A4) W_max < tau": False}))
        assert status == "outside" and failed == ["(A4) W_max < tau"]

        config = devices_config(True)
        cases = {case.kind: case for case in device_cases(True)}
        # the floor grows with the measured saturation and the variance; W_max >= tau has no constants
        small = stationary_bound(config, cases["softbounds"], "sp", 0.2, 1.0, 10.0, ([0, 0, 0], [0, 0, 0]))
        large = stationary_bound(config, cases["softbounds"], "sp", 0.6, 1.0, 10.0, ([0, 0, 0], [0, 0, 0]))
        assert 0 < small["floor"] < large["floor"]
        noisier = stationary_bound(config, cases["softbounds"], "ap", 0.6, 4.0, 10.0, ([2, 1, 0], [0, 0, 0]))
        assert math.isclose(noisier["floor"], 4 * large["floor"] * config.mini_batch)  # σ²/B: B = 8 for SP, 1 for AP
        assert noisier["c_D"] > 0 and large["c_D"] == 0
        saturated = stationary_bound(config, cases["ald"], "sp", 1.0, 1.0, 10.0, ([0, 0, 0], [0, 0, 0]))
        assert saturated["floor"] is None and saturated["hypotheses"]["(A4) W_max < tau"] is False
        assert row_verdict([0.1, 0.1], saturated["bound"], saturated["hypotheses"])[0] == "error"
        digital = stationary_bound(config, cases["digital"], "sp", 0.6, 1.0, 10.0, ([0, 0, 0], [0, 0, 0]))
        assert digital["floor"] == 0.0
        """
    )


def test_observer_routes_a_pulsed_device_through_its_bound_rules():
    """observed_train on the pulsed device (random per-layer rules) reports the versions of an
    unobserved run bit for bit, for an asynchronous schedule and c2c, d2d > 0."""
    _python(
        """
        import dataclasses
        import numpy as np
        from numerics.activations import TANH
        from numerics.data import initial_weights, teacher_student
        from numerics.devices import PulsedDevice
        from numerics.losses import SQUARED
        from numerics.training import TrainingSettings, train
        from proofs_check.experiments.observe import observed_train

        dims = [3, 5, 4, 2]
        data = teacher_student(dims, 20, 0, TANH, SQUARED)
        initial = tuple(np.stack([initial_weights(dims, seed, bound=0.5)[m] for seed in range(2)]) for m in range(3))
        device = PulsedDevice(tau=1.0, exponent=2.0, gamma_up=1.2, gamma_down=0.8, dw_min=0.01, c2c=0.3, d2d=0.2)
        for schedule in ("ap", "2bw"):
            settings = TrainingSettings(schedule, device, 0.1, 8, TANH, SQUARED, micro_batch_size=2, mini_batch=3, seeds=(0, 1))
            reference = train(initial, data, dataclasses.replace(settings, keep_versions=True))
            seen = {}
            observed_train(initial, data, settings, range(9), lambda k, w: seen.__setitem__(k, [a.copy() for a in w]))
            for k in range(9):
                for m in range(3):
                    assert np.array_equal(seen[k][m], reference.versions[m][k]), (schedule, k, m)
            assert not np.array_equal(reference.versions[0][0], reference.versions[0][8])
        """
    )


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is installed by .ci/run")
def test_devices_table_fits_the_text_width(devices_quick, tmp_path):
    document = "\n".join(
        [r"\documentclass{article}", r"\usepackage{booktabs}", r"\begin{document}", (devices_quick[1] / "devices.tex").read_text(), r"\end{document}"]
    )
    (tmp_path / "devices.tex").write_text(document)
    result = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "devices.tex"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "Overfull" not in (tmp_path / "devices.log").read_text(errors="replace")


@pytest.mark.parametrize(("arguments", "name"), [(["--seeds", "1"], "--seeds"), (["--seeds", "100"], "--seeds"), (["--seed", "-2"], "--seed")])
def test_devices_bad_input_is_one_line_and_exit_2(capsys, tmp_path, arguments, name):
    out = tmp_path / "out"
    code, stdout, stderr = _run(capsys, ["experiment", "devices", *arguments, "--out", str(out)])
    assert code == 2 and stdout == "" and stderr.count("\n") == 1 and name in stderr, (code, stderr)
    assert not out.exists()

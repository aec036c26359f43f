"""The command line's contract (CONTRACT.md): bad input exits 2 with exactly one line on
stderr naming the flag or key, writes nothing; good input prints JSON with every key."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from proofs_check.cli import main

ROOT = Path(__file__).resolve().parents[2]
SIMULATE = ["simulate", "--schedule", "ap", "--device", "digital", "--lr", "0.1", "--updates", "3"]
SCHEDULE_KEYS = {"schedule", "stages", "micro_batches", "mini_batch", "slots", "density", "closed_form_density", "fwd_delay", "bwd_delay"}
SUMMARY_KEYS = {
    "schedule", "device", "tau", "lr", "updates", "dims", "slots", "density",
    "final_loss", "max_abs_weight", "fwd_delay_max", "bwd_delay_max",
}


@pytest.fixture
def files(tmp_path):
    """Valid and invalid --init / --data files for dims 3,4,2."""
    rng = np.random.default_rng(0)
    paths = {}

    def save(name, **arrays):
        paths[name] = tmp_path / f"{name}.npz"
        np.savez(paths[name], **arrays)

    save("init", W1=0.3 * rng.standard_normal((4, 3)), W2=0.3 * rng.standard_normal((2, 4)))
    save("data", x=rng.standard_normal((10, 3)), y=rng.standard_normal((10, 2)))
    x_nan = rng.standard_normal((10, 3))
    x_nan[2, 1] = np.nan
    save("data_nan", x=x_nan, y=rng.standard_normal((10, 2)))
    y_inf = rng.standard_normal((10, 2))
    y_inf[0, 0] = np.inf
    save("data_inf", x=rng.standard_normal((10, 3)), y=y_inf)
    save("data_x_shape", x=rng.standard_normal((10, 4)), y=rng.standard_normal((10, 2)))
    save("data_y_shape", x=rng.standard_normal((10, 3)), y=rng.standard_normal((9, 2)))
    save("data_x_vector", x=rng.standard_normal(10), y=rng.standard_normal((10, 2)))
    save("data_no_y", x=rng.standard_normal((10, 3)))
    save("labels_out_of_range", x=rng.standard_normal((10, 3)), y=np.array([0, 1, 2, 0, 1, 0, 1, 0, 1, 0]))
    save("labels_negative", x=rng.standard_normal((10, 3)), y=np.array([0, 1, -1, 0, 1, 0, 1, 0, 1, 0]))
    save("labels_float", x=rng.standard_normal((10, 3)), y=np.zeros(10))
    save("init_chain", W1=rng.standard_normal((4, 3)), W2=rng.standard_normal((2, 5)))
    save("init_empty", W1=np.zeros((0, 3)), W2=np.zeros((2, 0)))
    save("init_large", W1=np.full((4, 3), 3.0), W2=np.zeros((2, 4)))
    save("init_nan", W1=np.full((4, 3), np.nan), W2=np.zeros((2, 4)))
    save("init_gap", W1=np.zeros((4, 3)), W3=np.zeros((2, 4)))
    paths["not_npz"] = tmp_path / "not_npz.npz"
    paths["not_npz"].write_text("not an archive")
    paths["missing"] = tmp_path / "missing.npz"
    paths["a_file"] = tmp_path / "a_file"
    paths["a_file"].write_text("")
    return paths


def run_main(capsys, arguments):
    """(exit code, stdout, stderr) of proofs_check.cli.main, argparse's SystemExit included."""
    try:
        code = main(arguments)
    except SystemExit as stop:
        code = stop.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code, out, err, *names):
    assert code == 2, f"exit {code}, stderr {err!r}"
    assert out == ""
    assert err.endswith("\n") and err.count("\n") == 1, f"expected one line on stderr, got {err!r}"
    assert "Traceback" not in err
    for name in names:
        assert name in err, f"{name!r} not named in {err!r}"


def nothing_written(out_dir: Path) -> bool:
    return not out_dir.exists() or not any(out_dir.iterdir())


BAD_SCHEDULE = [
    (["--schedule", "ap", "--stages", "0"], ["--stages", ">= 1"]),
    (["--schedule", "ap", "--stages", "-2"], ["--stages"]),
    (["--schedule", "ap", "--stages", "two"], ["--stages", "integer"]),
    (["--schedule", "gpipe", "--stages", "4"], ["--schedule", "'sp'", "'ap'"]),
    (["--schedule", "sp", "--stages", "4", "--mini-batch", "0"], ["--mini-batch"]),
    (["--schedule", "sp", "--stages", "4", "--mini-batch", "3", "--micro-batches", "4"], ["--micro-batches", "multiple"]),
    (["--schedule", "sp", "--stages", "4", "--micro-batches", "0"], ["--micro-batches"]),
]


@pytest.mark.parametrize(("arguments", "names"), BAD_SCHEDULE)
def test_schedule_bad_input(capsys, arguments, names):
    assert_one_line_error(*run_main(capsys, ["schedule", *arguments]), *names)


def test_schedule_bad_figure(capsys, tmp_path, files):
    target = tmp_path / "grid.svg"
    assert_one_line_error(*run_main(capsys, ["schedule", "--schedule", "ap", "--stages", "2", "--figure", str(target)]), "--figure", ".png", ".pdf")
    assert not target.exists()
    inside_a_file = files["a_file"] / "grid.png"
    assert_one_line_error(*run_main(capsys, ["schedule", "--schedule", "ap", "--stages", "2", "--figure", str(inside_a_file)]), "--figure")


BAD_SIMULATE = [
    # (arguments replacing or extending SIMULATE, names that must appear in the message)
    (["--device", "ald", "--tau", "0"], ["--tau", "> 0"]),
    (["--device", "ald", "--tau", "-1"], ["--tau"]),
    (["--device", "ald", "--tau", "nan"], ["--tau", "NaN"]),
    (["--lr", "0"], ["--lr", "> 0"]),
    (["--lr", "-0.5"], ["--lr"]),
    (["--lr", "inf"], ["--lr", "finite"]),
    (["--lr", "nan"], ["--lr"]),
    (["--updates", "0"], ["--updates"]),
    (["--schedule", "gpipe"], ["--schedule", "'wop'", "'2bw'"]),
    (["--device", "pcm"], ["--device", "'digital'", "'ald'", "'softbounds'", "'pulsed'"]),
    # device settings (MODEL.md §2): bad values, and flags the chosen device does not use
    (["--device", "softbounds", "--tau", "0"], ["--tau", "> 0"]),
    (["--device", "softbounds", "--exponent", "0"], ["--exponent", "> 0"]),
    (["--device", "softbounds", "--exponent", "-2"], ["--exponent"]),
    (["--device", "softbounds", "--exponent", "inf"], ["--exponent", "finite"]),
    (["--device", "softbounds", "--up", "0"], ["--up", "> 0"]),
    (["--device", "pulsed", "--down", "-1"], ["--down"]),
    (["--device", "pulsed", "--down", "nan"], ["--down", "NaN"]),
    (["--device", "pulsed", "--dw-min", "0"], ["--dw-min", "> 0"]),
    (["--device", "pulsed", "--c2c", "-0.1"], ["--c2c", ">= 0"]),
    (["--device", "pulsed", "--d2d", "-1"], ["--d2d", ">= 0"]),
    (["--device", "pulsed", "--max-pulses", "0"], ["--max-pulses", ">= 1"]),
    (["--device", "pulsed", "--max-pulses", "2.5"], ["--max-pulses", "integer"]),
    (["--device", "digital", "--tau", "2"], ["--tau", "digital", "ald", "softbounds", "pulsed"]),
    (["--device", "ald", "--exponent", "2"], ["--exponent", "ald", "softbounds, pulsed"]),
    (["--device", "ald", "--up", "1.2"], ["--up", "ald"]),
    (["--device", "softbounds", "--dw-min", "0.01"], ["--dw-min", "softbounds", "pulsed"]),
    (["--device", "softbounds", "--c2c", "0.1"], ["--c2c", "pulsed"]),
    (["--device", "digital", "--max-pulses", "3"], ["--max-pulses", "pulsed"]),
    (["--device", "pulsed", "--lr", "1e4"], ["--max-pulses", "--lr", "pulses"]),  # millions of pulses per update: an error, not a hang
    (["--activation", "relu"], ["--activation", "'tanh'", "'identity'", "'softsign'"]),
    (["--loss", "hinge"], ["--loss", "'squared'", "'cross-entropy'"]),
    (["--dims", "3"], ["--dims"]),
    (["--dims", "3,0,2"], ["--dims", ">= 1"]),
    (["--dims", "3,x,2"], ["--dims"]),
    (["--dims", "3,1", "--loss", "cross-entropy"], ["--dims", "cross-entropy"]),
    (["--noise", "-1"], ["--noise"]),
    (["--noise", "inf"], ["--noise"]),
    (["--seed", "-1"], ["--seed"]),
    (["--micro-batch-size", "0"], ["--micro-batch-size"]),
    (["--mini-batch", "0"], ["--mini-batch"]),
    (["--sampling", "shuffle"], ["--sampling", "'cyclic'", "'iid'"]),
]


def _with(arguments):
    """SIMULATE with flags replaced by the given ones."""
    base = list(SIMULATE)
    extra = []
    for i in range(0, len(arguments), 2):
        flag, value = arguments[i], arguments[i + 1]
        if flag in base:
            base[base.index(flag) + 1] = value
        else:
            extra += [flag, value]
    return base + extra


@pytest.mark.parametrize(("arguments", "names"), BAD_SIMULATE)
def test_simulate_bad_flags(capsys, tmp_path, arguments, names):
    out = tmp_path / "out"
    assert_one_line_error(*run_main(capsys, _with(arguments) + ["--out", str(out)]), *names)
    assert nothing_written(out)


BAD_FILES = [
    # (flags with file names from the fixture, names that must appear in the message)
    (["--init", "init", "--dims", "3,5,2"], ["--dims", "--init", "3,4,2"]),
    (["--init", "init", "--dims", "3,4,2,1"], ["--dims", "--init"]),
    (["--init", "init", "--data", "data_nan"], ["--data", "'x'", "NaN"]),
    (["--init", "init", "--data", "data_inf"], ["--data", "'y'"]),
    (["--init", "init", "--data", "data_x_shape"], ["--data", "'x'", "[N, 3]"]),
    (["--init", "init", "--data", "data_y_shape"], ["--data", "'y'", "[10, 2]"]),
    (["--init", "init", "--data", "data_x_vector"], ["--data", "'x'"]),
    (["--init", "init", "--data", "data_no_y"], ["--data", "'y'"]),
    (["--init", "init", "--data", "labels_out_of_range", "--loss", "cross-entropy"], ["--data", "labels", "0..1"]),
    (["--init", "init", "--data", "labels_negative", "--loss", "cross-entropy"], ["--data", "labels"]),
    (["--init", "init", "--data", "labels_float", "--loss", "cross-entropy"], ["--data", "integer labels"]),
    (["--dims", "3,4,2", "--data", "data_x_shape"], ["--data", "'x'"]),
    (["--init", "init_chain"], ["--init", "W2", "W1"]),
    (["--init", "init_empty"], ["--init", "W1"]),
    (["--init", "init_nan"], ["--init", "W1", "NaN"]),
    (["--init", "init_gap"], ["--init", "W3"]),
    (["--init", "init_large", "--device", "ald", "--tau", "1"], ["--init", "--tau"]),
    (["--init", "not_npz"], ["--init", "not_npz.npz"]),
    (["--init", "missing"], ["--init", "no such file", "missing.npz"]),
    (["--init", "init", "--data", "missing"], ["--data", "no such file", "missing.npz"]),
    (["--out", "a_file"], ["--out", "not a directory"]),
]


@pytest.mark.parametrize(("arguments", "names"), BAD_FILES)
def test_simulate_bad_files(capsys, tmp_path, files, arguments, names):
    resolved = [str(files[a]) if a in files else a for a in arguments]
    out = files["a_file"] if "--out" in arguments else tmp_path / "out"
    if "--out" not in arguments:
        resolved += ["--out", str(out)]
    before = out.read_bytes() if out.is_file() else None
    assert_one_line_error(*run_main(capsys, _with(resolved)), *names)
    if before is None:
        assert nothing_written(out)
    else:
        assert out.read_bytes() == before


@pytest.mark.parametrize(
    ("arguments", "names"),
    [
        (["schedule", "--schedule", "ap", "--stages", "0"], ["--stages"]),
        (["simulate", "--schedule", "ap", "--device", "ald", "--tau", "0", "--lr", "0.1", "--updates", "3"], ["--tau"]),
        ("data_nan", ["--data", "NaN"]),
    ],
)
def test_real_process_exit_code_and_stderr(tmp_path, files, arguments, names):
    """Through a real interpreter: the exit status and stderr the user sees."""
    out = tmp_path / "out"
    if isinstance(arguments, str):
        arguments = SIMULATE + ["--init", str(files["init"]), "--data", str(files[arguments]), "--out", str(out)]
    elif arguments[0] == "simulate":
        arguments = arguments + ["--out", str(out)]
    completed = subprocess.run(
        [sys.executable, "-m", "proofs_check", *arguments],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert_one_line_error(completed.returncode, completed.stdout, completed.stderr, *names)
    assert nothing_written(out)


def test_unknown_command(capsys):
    code, out, err = run_main(capsys, ["prove-everything"])
    assert_one_line_error(code, out, err, "prove-everything")


# ----- passing cases: JSON and files with every CONTRACT.md key ----------------------------


@pytest.mark.parametrize("schedule", ["single", "wop", "sp", "ap"])
def test_schedule_json(capsys, tmp_path, schedule):
    figure = tmp_path / "grid.png"
    code, out, err = run_main(capsys, ["schedule", "--schedule", schedule, "--stages", "3", "--micro-batches", "6", "--mini-batch", "2", "--json", "--figure", str(figure)])
    assert code == 0 and err == ""
    summary = json.loads(out)
    assert SCHEDULE_KEYS <= summary.keys()
    assert summary["schedule"] == schedule and summary["stages"] == 3 and summary["micro_batches"] == 6
    assert summary["mini_batch"] == (1 if schedule == "ap" else 2)
    assert isinstance(summary["slots"], int) and summary["slots"] > 0
    assert summary["density"] == pytest.approx(summary["closed_form_density"], rel=1e-12)
    assert len(summary["fwd_delay"]) == 3 and len(summary["bwd_delay"]) == 3
    assert figure.read_bytes().startswith(b"\x89PNG")


def test_schedule_human_table(capsys):
    code, out, err = run_main(capsys, ["schedule", "--schedule", "sp", "--stages", "4", "--mini-batch", "4"])
    assert code == 0 and err == ""
    assert "slots" in out and "14" in out and "density" in out


@pytest.mark.parametrize("loss", ["squared", "cross-entropy"])
@pytest.mark.parametrize("schedule", ["ap", "sp"])
def test_simulate_json_and_trace(capsys, tmp_path, schedule, loss):
    out = tmp_path / "out"
    updates, dims = 5, [3, 4, 5, 2]
    code, printed, err = run_main(
        capsys,
        ["simulate", "--schedule", schedule, "--device", "ald", "--tau", "2", "--lr", "0.05", "--updates", str(updates),
         "--dims", ",".join(map(str, dims)), "--loss", loss, "--samples", "20", "--out", str(out), "--json"],
    )
    assert code == 0 and err == ""
    summary = json.loads(printed)
    assert SUMMARY_KEYS <= summary.keys()
    assert json.loads((out / "summary.json").read_text()) == summary
    assert summary["schedule"] == schedule and summary["device"] == "ald" and summary["tau"] == 2.0
    assert summary["lr"] == 0.05 and summary["updates"] == updates and summary["dims"] == dims
    assert len(summary["fwd_delay_max"]) == len(summary["bwd_delay_max"]) == 3
    assert 0 < summary["density"] <= 1 and summary["slots"] > 0
    assert np.isfinite(summary["final_loss"]) and 0 < summary["max_abs_weight"] <= 2.0

    with np.load(out / "trace.npz") as archive:
        trace = {key: archive[key] for key in archive.files}
    assert set(trace) == {"W1_final", "W2_final", "W3_final", "loss", "fwd_version", "bwd_version"}
    for m in range(1, 4):
        assert trace[f"W{m}_final"].shape == (dims[m], dims[m - 1])
    assert trace["loss"].shape == (updates,) and np.all(np.isfinite(trace["loss"]))
    assert trace["fwd_version"].shape == trace["bwd_version"].shape == (updates, 3)
    assert np.issubdtype(trace["fwd_version"].dtype, np.integer)
    np.testing.assert_array_equal(trace["bwd_version"], np.tile(np.arange(updates)[:, None], (1, 3)))


@pytest.mark.parametrize(
    ("flags", "settings"),
    [
        (["--device", "softbounds", "--exponent", "2", "--up", "1.2", "--down", "0.8"], {"tau": 1.0, "exponent": 2.0, "gamma_up": 1.2, "gamma_down": 0.8}),
        (["--device", "pulsed", "--tau", "2", "--dw-min", "0.01", "--c2c", "0.1", "--d2d", "0.2", "--max-pulses", "5"],
         {"tau": 2.0, "exponent": 1.0, "gamma_up": 1.0, "gamma_down": 1.0, "dw_min": 0.01, "c2c": 0.1, "d2d": 0.2, "max_pulses": 5}),
    ],
    ids=["softbounds", "pulsed"],
)
def test_simulate_new_devices_report_their_settings(capsys, tmp_path, flags, settings):
    out = tmp_path / "out"
    code, printed, err = run_main(capsys, ["simulate", "--schedule", "sp", "--lr", "0.05", "--updates", "4", "--out", str(out), "--json", *flags])
    assert code == 0 and err == ""
    summary = json.loads(printed)
    assert SUMMARY_KEYS <= summary.keys()
    assert summary["device"] == flags[1] and summary["tau"] == settings["tau"]
    assert summary["device_settings"] == settings
    assert np.isfinite(summary["final_loss"]) and summary["max_abs_weight"] <= settings["tau"]


def test_simulate_human_output(capsys, tmp_path):
    code, out, err = run_main(capsys, SIMULATE + ["--out", str(tmp_path / "out")])
    assert code == 0 and err == ""
    assert "final_loss" in out and (tmp_path / "out" / "trace.npz").exists()


@pytest.mark.parametrize("seed", range(4))
def test_generated_ald_run_starts_inside_the_box(capsys, tmp_path, seed):
    """Without --init the generated weights of an ald run lie in [−τ/2, τ/2] (default τ = 1),
    so the default command works for every seed; the run stays in the box."""
    code, printed, err = run_main(
        capsys, ["simulate", "--schedule", "ap", "--device", "ald", "--lr", "0.05", "--updates", "20", "--seed", str(seed), "--out", str(tmp_path), "--json"]
    )
    assert code == 0 and err == ""
    assert json.loads(printed)["max_abs_weight"] <= 1.0


def test_written_files_respect_the_umask(capsys, tmp_path):
    """Atomic writes go through a temporary file; the result still gets the usual mode
    (0666 minus the umask), not the 0600 of a temporary file."""
    mask = os.umask(0)
    os.umask(mask)
    assert main(SIMULATE + ["--out", str(tmp_path / "out")]) == 0
    capsys.readouterr()
    for name in ("trace.npz", "summary.json"):
        assert (tmp_path / "out" / name).stat().st_mode & 0o777 == 0o666 & ~mask
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["summary.json", "trace.npz"]  # no temporaries left


# ----- issue 12: held-out bad inputs, each answered before any work -------------------------


@contextmanager
def bounded(seconds: int = 60):
    """Fail (instead of hanging the suite) when the command has not answered in `seconds`."""

    def expire(signum, frame):
        raise TimeoutError(f"no answer within {seconds} s: the input was not refused before the work")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _deep(layers: int, value: str) -> str:
    return ",".join([value] * layers)


HELD_OUT = [
    # (arguments, names the one line must hold)
    (["schedule", "--schedule", "ap", "--stages", "1000000"], ["--stages", "limit", "cells"]),
    (["schedule", "--schedule", "ap", "--stages", "4", "--micro-batches", "1000000000"], ["--micro-batches", "limit"]),
    (["schedule", "--schedule", "single", "--stages", "300", "--micro-batches", "100"], ["--stages", "limit"]),
    (["schedule", "--schedule", "sp", "--stages", "4", "--mini-batch", "1000000000"], ["--mini-batch", "limit"]),
    (["schedule", "--schedule", "ap", "--stages", "3000", "--figure", "FIGURE"], ["--stages", "limit"]),
    (["schedule", "--schedule", "ap", "--stages", "50", "--micro-batches", "100", "--figure", "FIGURE"], ["--figure", "operations", "limit"]),
    (["schedule", "--schedule", "ap", "--stages", "1000", "--figure", "FIGURE"], ["--figure", "pixels", "limit"]),
    (["schedule", "--schedule", "ap", "--stages", "2", "--figure", ""], ["--figure", "empty"]),
    (["constants", "--dims", "2,2", "--omega", "1", "--X", "inf", "--Y", "1"], ["--X", "finite"]),
    (["constants", "--dims", "2,2", "--omega", "1", "--X", "1", "--Y", "inf"], ["--Y", "finite"]),
    (["constants", "--dims", "2,2", "--omega", "inf", "--X", "1", "--Y", "1"], ["--omega", "finite"]),
    (["constants", "--dims", "2,2,2", "--omega", "1e308,1e308", "--X", "1e308", "--Y", "1"], ["--omega", "--X", "overflow"]),
    (["constants", "--dims", "2,2,2", "--omega", "1e200,1e200", "--X", "1", "--Y", "1"], ["--omega", "overflow"]),
    (["constants", "--dims", _deep(258, "2"), "--omega", _deep(257, "1"), "--X", "1", "--Y", "1"], ["--dims", "256"]),
    (["bound", "--lemma", "bounded-signal", "--rhs", "9**9**9**9"], ["--rhs", "100", "exponent"]),
    (["bound", "--lemma", "bounded-signal", "--rhs", "G*10**400"], ["--rhs", "100"]),
    (["bound", "--lemma", "bounded-signal", "--rhs", "+".join(["G"] * 600)], ["--rhs", "characters", "1000"]),
    (["bound", "--lemma", "bounded-signal", "--rhs", "+".join(["G"] * 300)], ["--rhs", "more than 200"]),
    (["bound", "--lemma", "bounded-signal", "--rhs", "sqrt(" * 40 + "G" + ")" * 40], ["--rhs", "nested"]),
    (["bound", "--lemma", "bounded-signal", "--rhs", "G if X else Y"], ["--rhs", "may only use"]),
    (["bound", "--lemma", "bounded-signal", "--rhs", "G", "--budget", "1e9"], ["--budget", "limit"]),
    (["bound", "--lemma", "bounded-signal", "--rhs", "G", "--budget", "inf"], ["--budget", "finite"]),
    (["bound", "--lemma", "bounded-signal", "--rhs", "G", "--witness", ""], ["--witness", "empty"]),
    (["tightness", "--lemma", "bounded-signal", "--budget", "1e12"], ["--budget", "limit"]),
    (["theorem", "--id", "sync-convergence", "--rhs", "9**9**9**9"], ["--rhs", "100"]),
    (["theorem", "--id", "sync-convergence", "--budget", "1e300"], ["--budget", "limit"]),
    (["run", "--out", ""], ["--out", "empty"]),
    (["run", "--out", "."], ["--out", "current directory"]),
    (["experiment", "figure4", "--out", ""], ["--out", "empty"]),
    (SIMULATE + ["--micro-batch-size", "1000000000"], ["--micro-batch-size", "memory", "limit"]),
    (SIMULATE + ["--replicas", "100000000"], ["--replicas", "memory", "limit"]),
    (_with(["--schedule", "sp", "--mini-batch", "1000000000000"]), ["--mini-batch", "limit"]),
    (SIMULATE + ["--dims", "100000,100000,10"], ["--dims", "memory"]),
    (SIMULATE + ["--samples", "1000000000"], ["--samples", "memory"]),
    (_with(["--updates", "100000000"]), ["--updates", "limit"]),
    (SIMULATE + ["--out", ""], ["--out", "empty"]),
    (_with(["--device", "ald", "--tau", "inf"]), ["--tau", "finite"]),
]


@pytest.mark.parametrize(("arguments", "names"), HELD_OUT, ids=lambda value: " ".join(value)[:60] if isinstance(value, list) else None)
def test_held_out_bad_inputs_are_refused_before_any_work(capsys, tmp_path, monkeypatch, arguments, names):
    """Each is exit 2 with one line naming the flag and the limit or rule, and nothing is
    written (the alarm fails the test instead of hanging if the work starts)."""
    monkeypatch.chdir(tmp_path)
    figure = tmp_path / "grid.png"
    arguments = [str(figure) if a == "FIGURE" else a for a in arguments]
    with bounded():
        assert_one_line_error(*run_main(capsys, arguments), *names)
    assert not figure.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [], "nothing written before the refusal"


def test_deep_networks_work_in_constants(capsys):
    """M = 64 (the recursion is numerical; the old symbolic expansion was exponential in M)."""
    layers = 64
    with bounded():
        code, out, err = run_main(capsys, ["constants", "--dims", _deep(layers + 1, "3"), "--omega", _deep(layers, "0.9"), "--X", "1", "--Y", "1", "--json"])
    assert code == 0 and err == ""
    report = json.loads(out)
    assert len(report["A"]) == len(report["Delta"]) == layers and np.isfinite(report["L"])
    assert report["A"][-1] == pytest.approx(0.9 ** (layers - 1), rel=1e-12)  # A_{M-1} = X (L_φ ω)^{M-1}


def test_deep_networks_work_in_schedule_and_simulate(capsys, tmp_path):
    with bounded():
        code, out, err = run_main(capsys, ["schedule", "--schedule", "ap", "--stages", "64", "--micro-batches", "8", "--json"])
        assert code == 0 and json.loads(out)["stages"] == 64
        code, out, err = run_main(capsys, _with(["--dims", _deep(65, "2")]) + ["--out", str(tmp_path / "out"), "--json"])
    assert code == 0 and err == ""
    assert len(json.loads(out)["fwd_delay_max"]) == 64


@pytest.mark.parametrize("name", ["empty", "npy"])
def test_simulate_data_that_is_not_an_npz_archive(capsys, tmp_path, name):
    path = tmp_path / ("data.npz" if name == "empty" else "data.npy")
    if name == "empty":
        path.write_bytes(b"")
    else:
        np.save(path, np.zeros((10, 6)))
    out = tmp_path / "out"
    with bounded():
        assert_one_line_error(*run_main(capsys, SIMULATE + ["--data", str(path), "--out", str(out)]), "--data", path.name, "empty" if name == "empty" else ".npy")
    assert nothing_written(out)


# ----- damaged witnesses for replay ---------------------------------------------------------


def _witness_arrays(lemma_id: str, seed: int = 0) -> dict[str, np.ndarray]:
    """A valid witness of `lemma_id` (finite τ, and nonzero delays for a delay lemma), drawn
    as the adversarial search draws its instances."""
    from proofs_check.instances import instance_arrays, select
    from proofs_check.library import get_lemma

    lemma = get_lemma(lemma_id)
    for attempt in range(100):
        rng = np.random.default_rng([seed, attempt])
        structure = lemma.draw_structure(rng, max_layers=2, max_width=3)
        if math.isfinite(structure.tau) and (not lemma.delay_window or any(structure.delays)) and structure.layers == 2:
            parameters = {name: rng.uniform(-1, 1, size=(1,) + shape) for name, shape in lemma.search_parameters(structure)}
            return instance_arrays(select(lemma.search_instance(structure, parameters), 0))
    raise AssertionError("no structure drawn")


def _damaged(arrays: dict, **changes) -> dict:
    damaged = {key: value for key, value in arrays.items() if changes.get(key, 0) is not None}
    damaged.update({key: value for key, value in changes.items() if value is not None})
    return damaged


DAMAGED_WITNESSES = [
    # (name, lemma, change to the arrays, names the message must hold)
    ("wrong-shape", "signal-delay", lambda a: _damaged(a, weights_2=np.zeros((3, a["weights_1"].shape[0] + 1))), ["weights_2", "columns"]),
    ("inputs-shape", "analog-increment", lambda a: _damaged(a, inputs=np.zeros(5)), ["'inputs'", "shape"]),
    ("unknown-activation", "signal-delay", lambda a: _damaged(a, activation=np.array("relu")), ["activation", "'relu'", "tanh"]),
    ("unknown-loss", "signal-delay", lambda a: _damaged(a, loss=np.array("hinge")), ["loss", "'hinge'", "squared"]),
    ("missing-inputs", "signal-delay", lambda a: _damaged(a, inputs=None), ["missing", "inputs"]),
    ("missing-weights", "analog-increment", lambda a: _damaged(a, weights_1=None, weights_2=None), ["missing", "weights_1"]),
    ("delay-outside-history", "signal-delay", lambda a: _damaged(a, forward_delays=np.array([a["history_1"].shape[0], 0])), ["forward_delays", "history"]),
    ("negative-delay", "signal-delay", lambda a: _damaged(a, backward_delays=np.array([-1, 0])), ["backward_delays"]),
    ("history-shape", "signal-delay", lambda a: _damaged(a, history_2=np.zeros((1, 2, 2, 2))), ["history_2", "shape"]),
    ("negative-tau", "analog-increment", lambda a: _damaged(a, tau=np.array(-1.0)), ["tau", "> 0"]),
    ("negative-tau-delay", "signal-delay", lambda a: _damaged(a, tau=np.array(-1.0)), ["tau", "> 0"]),
    ("negative-alpha", "analog-increment", lambda a: _damaged(a, alpha=np.array(-0.1)), ["alpha", ">= 0"]),
    ("text-for-number", "analog-increment", lambda a: _damaged(a, alpha=np.array("fast")), ["'alpha'", "numeric"]),
    ("update-shape", "analog-increment", lambda a: _damaged(a, forward_weights_1=np.zeros((7, 7))), ["forward_weights_1", "shape"]),
    ("history-layers", "signal-delay", lambda a: _damaged(a, history_2=None), ["history", "layers"]),
    ("outside-assumptions", "analog-increment", lambda a: _damaged(a, tau=np.array(1e-6)), ["outside the assumptions", "analog-increment"]),
]


@pytest.mark.parametrize(("name", "lemma", "change", "names"), DAMAGED_WITNESSES, ids=[case[0] for case in DAMAGED_WITNESSES])
def test_replay_of_a_damaged_witness_is_exit_2_naming_the_file(capsys, tmp_path, name, lemma, change, names):
    valid = tmp_path / "valid.npz"
    np.savez(valid, **_witness_arrays(lemma))
    with bounded():
        code, out, err = run_main(capsys, ["replay", str(valid), "--json"])
    assert code in (0, 1) and json.loads(out)["status"] in ("holds", "violated"), "the undamaged witness replays"
    path = tmp_path / f"{name}.npz"
    np.savez(path, **change(_witness_arrays(lemma)))
    with bounded():
        assert_one_line_error(*run_main(capsys, ["replay", str(path)]), str(path), *names)


@pytest.mark.parametrize("content", ["empty", "text", "npy", "missing"])
def test_replay_of_a_file_that_is_not_a_witness(capsys, tmp_path, content):
    path = tmp_path / ("w.npy" if content == "npy" else "w.npz")
    if content == "empty":
        path.write_bytes(b"")
    elif content == "text":
        path.write_text("not a witness")
    elif content == "npy":
        np.save(path, np.zeros(3))
    with bounded():
        assert_one_line_error(*run_main(capsys, ["replay", str(path)]), "witness", path.name)


@pytest.mark.parametrize("lemma", ["signal-delay", "analog-increment", "bounded-signal"])
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_replay_of_a_non_finite_witness_is_the_error_verdict(capsys, tmp_path, lemma, value):
    """MODEL.md: a NaN or infinite input is `error` (exit 1), never holds, never evaluated
    (the SVD of a NaN matrix used to raise LinAlgError)."""
    arrays = _witness_arrays(lemma)
    weights = arrays["weights_1"].copy()
    weights.flat[0] = value
    path = tmp_path / "nan.npz"
    np.savez(path, **_damaged(arrays, weights_1=weights))
    with bounded():
        code, out, err = run_main(capsys, ["replay", str(path), "--json"])
    assert code == 1 and err == ""
    report = json.loads(out)
    assert report["status"] == "error" and report["parts"][0]["part"].startswith("non-finite input")


@pytest.mark.parametrize(
    ("arguments", "names"),
    [
        (["schedule", "--schedule", "ap", "--stages", "1000000"], ["--stages", "limit"]),
        (["bound", "--lemma", "bounded-signal", "--rhs", "9**9**9**9"], ["--rhs", "100"]),
        (SIMULATE + ["--micro-batch-size", "1000000000"], ["--micro-batch-size", "memory"]),
    ],
)
def test_held_out_bad_inputs_through_a_real_process(tmp_path, arguments, names):
    """The exit status and the one line the user sees, from a real interpreter (bounded by
    the timeout: these used to hang or be killed)."""
    completed = subprocess.run(
        [sys.executable, "-m", "proofs_check", *arguments],
        capture_output=True, text=True, cwd=tmp_path, timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert_one_line_error(completed.returncode, completed.stdout, completed.stderr, *names)
    assert list(tmp_path.iterdir()) == []


def test_every_limit_is_documented():
    """docs/cli.md's Limits table has a row per field of proofs_check.limits.Limits, with its value."""
    from dataclasses import fields

    from proofs_check.limits import LIMITS, Limits

    section = (ROOT / "docs" / "cli.md").read_text().split("\n## Limits\n", 1)[1].split("\n## ", 1)[0]
    rows = {line.split("|")[1].strip(): line for line in section.splitlines() if line.startswith("| `")}
    assert set(rows) == {f"`{field.name}`" for field in fields(Limits)}
    for field in fields(Limits):
        assert str(int(getattr(LIMITS, field.name))) in rows[f"`{field.name}`"], field.name


@pytest.mark.parametrize("lemma", ["bounded-signal", "objective-smoothness", "signal-stability"])
def test_deep_networks_work_in_replay(capsys, tmp_path, lemma):
    """A 64-layer witness replays (the lemmas evaluate numerically; no recursion limit)."""
    from proofs_check.instances import Instance, instance_bytes

    rng = np.random.default_rng(64)
    weights = tuple(rng.uniform(-0.5, 0.5, (2, 2)) for _ in range(64))
    moved = {"forward_weights": tuple(w + 0.01 for w in weights), "backward_weights": tuple(w - 0.01 for w in weights)}
    fields = {} if lemma == "bounded-signal" else moved if lemma == "signal-stability" else {"forward_weights": moved["forward_weights"]}
    path = tmp_path / "deep.npz"
    path.write_bytes(instance_bytes(Instance(lemma, "tanh", "squared", weights, rng.standard_normal((1, 2)), rng.standard_normal((1, 2)), **fields)))
    with bounded():
        code, out, err = run_main(capsys, ["replay", str(path), "--json"])
    assert code == 0 and err == "" and json.loads(out)["status"] == "holds"

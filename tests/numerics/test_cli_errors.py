"""The command line's contract (CONTRACT.md): bad input exits 2 with exactly one line on
stderr naming the flag or key, writes nothing; good input prints JSON with every key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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
    (["--schedule", "pipedream"], ["--schedule", "'wop'"]),
    (["--device", "pcm"], ["--device", "'digital'", "'ald'"]),
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

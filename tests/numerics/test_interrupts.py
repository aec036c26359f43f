"""Signals and partial results: Ctrl-C (SIGINT) is exit 130 and SIGTERM exit 143 with one
line and no traceback; `--out` of `run` and `experiment` holds one complete run, the old
or the new one, even when the process is killed while writing (proofs_check.atomic)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from proofs_check.atomic import atomic_directory

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
READY = "ready"
# Imports first (the command line and the command's module), then a line on stdout, then the
# command: a signal sent after the line reaches the command while it works.
LAUNCHER = (
    "import sys; from proofs_check.cli import main; from proofs_check.commands import COMMANDS; COMMANDS[sys.argv[1]].load(); "
    f"print({READY!r}, flush=True); sys.exit(main(sys.argv[1:]))"
)


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # a runner may start tests with SIGINT ignored


def _start(arguments, cwd: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, *arguments], cwd=cwd, env=ENV, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_default_sigint,
    )
    assert process.stdout.readline().strip() == READY
    return process


def _tree(directory: Path) -> dict[str, bytes]:
    return {str(path.relative_to(directory)): path.read_bytes() for path in sorted(directory.rglob("*")) if path.is_file()}


def _leftovers(parent: Path, name: str) -> list[str]:
    return sorted(entry.name for entry in parent.iterdir() if entry.name.startswith(f".{name}."))


# ----- the helper ----------------------------------------------------------------------------


def test_atomic_directory_replaces_the_owned_entries_and_keeps_the_others(tmp_path):
    out = tmp_path / "results"
    with atomic_directory(out, ("report.json", "tables")) as staging:
        assert staging.parent == tmp_path and not out.exists(), "built beside --out, installed only at the end"
        (staging / "report.json").write_text("first")
        (staging / "tables").mkdir()
        (staging / "tables" / "old.tex").write_text("old table")
    (out / "experiments").mkdir()
    (out / "experiments" / "rates.json").write_text("{}")
    with atomic_directory(out, ("report.json", "tables")) as staging:
        (staging / "report.json").write_text("second")
    assert _tree(out) == {"report.json": b"second", "experiments/rates.json": b"{}"}, "owned entries replaced as a set, others kept"
    assert _leftovers(tmp_path, "results") == []


@pytest.mark.parametrize("interruption", [KeyboardInterrupt, RuntimeError, OSError])
def test_an_interrupted_build_leaves_out_untouched(tmp_path, interruption):
    out = tmp_path / "results"
    out.mkdir()
    (out / "report.json").write_text("old")
    with pytest.raises(Exception if interruption is OSError else interruption):  # OSError → UsageError
        with atomic_directory(out, ("report.json",)) as staging:
            (staging / "report.json").write_text("new, incomplete")
            raise interruption("stop")
    assert _tree(out) == {"report.json": b"old"}
    assert _leftovers(tmp_path, "results") == []


WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from proofs_check.atomic import atomic_directory
    out, generation = Path(sys.argv[1]), sys.argv[2]
    names = [f"file{i:02d}.txt" for i in range(20)]
    with atomic_directory(out, names) as staging:
        for i, name in enumerate(names):
            (staging / name).write_text(generation)
            print(i, flush=True)
            time.sleep(0.02)
    print("done", flush=True)
    """
)


@pytest.mark.parametrize("kill_after", [0, 11, "done"])
def test_a_writer_killed_at_any_point_leaves_one_complete_generation(tmp_path, kill_after):
    out = tmp_path / "out"
    subprocess.run([sys.executable, "-c", WRITER, str(out), "old"], env=ENV, check=True, timeout=60, capture_output=True)
    before = _tree(out)
    with subprocess.Popen([sys.executable, "-c", WRITER, str(out), "new"], env=ENV, text=True, stdout=subprocess.PIPE) as process:
        try:
            for line in process.stdout:
                if line.strip() == str(kill_after):
                    break
        finally:
            process.kill()
            process.wait(timeout=60)
    after = _tree(out)
    assert sorted(after) == sorted(before)
    generations = set(after.values())
    assert generations == ({b"new"} if kill_after == "done" else {b"old"}), "never a mix"
    subprocess.run([sys.executable, "-c", WRITER, str(out), "third"], env=ENV, check=True, timeout=60, capture_output=True)
    assert set(_tree(out).values()) == {b"third"}
    assert _leftovers(tmp_path, "out") == [], "the next run removes what the killed one left"


# ----- real commands ------------------------------------------------------------------------


SIGINT = (signal.SIGINT, 130, "SIGINT")
SIGTERM = (signal.SIGTERM, 143, "SIGTERM")


@pytest.mark.parametrize(
    ("arguments", "sent", "code", "name"),
    [
        (["tightness", "--lemma", "all", "--budget", "1000"], *SIGINT),
        (["experiment", "figure4", "--quick", "--out", "OUT"], *SIGTERM),
        (["run", "--quick", "--out", "OUT"], *SIGINT),
        (["run", "--quick", "--out", "OUT"], *SIGTERM),
    ],
    ids=["tightness-SIGINT", "figure4-SIGTERM", "run-SIGINT", "run-SIGTERM"],
)
def test_a_signal_ends_a_command_with_one_line(tmp_path, arguments, sent, code, name):
    out = tmp_path / "results"
    out.mkdir()
    (out / "report.json").write_text('{"old": true}')
    arguments = [str(out) if a == "OUT" else a for a in arguments]
    with _start(arguments, tmp_path) as process:
        time.sleep(1.0)  # well inside the work (each command above takes far longer)
        process.send_signal(sent)
        try:
            stdout, stderr = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()  # never wait for the whole command
            stdout, stderr = process.communicate()
            pytest.fail(f"{arguments[0]} still ran 60 s after {name}: {stderr[-2000:]}")
    assert process.returncode == code, stderr
    assert stderr.count("\n") == 1 and "Traceback" not in stderr and name in stderr, stderr
    assert stderr.startswith(f"proofs_check {arguments[0]}: interrupted")
    assert _tree(out) == {"report.json": b'{"old": true}'}, "--out untouched"
    assert _leftovers(tmp_path, "results") == []


@pytest.mark.parametrize("delay", [0.15, 0.3, 0.6], ids=["early-import", "mid-import", "late-import"])
@pytest.mark.parametrize(("sent", "code", "name"), [SIGINT, SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_while_the_toolkit_is_imported_is_one_line(tmp_path, delay, sent, code, name):
    """`python -m proofs_check` signalled before its command starts (numpy, scipy and sympy are
    still being imported): one line, exit 130 or 143, wherever the signal lands."""
    process = subprocess.Popen(
        [sys.executable, "-m", "proofs_check", "schedule", "--schedule", "ap", "--stages", "60", "--micro-batches", "4000"],
        cwd=tmp_path, env=ENV, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_default_sigint,
    )
    time.sleep(delay)
    process.send_signal(sent)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == code, stderr
    assert stderr.count("\n") == 1 and "Traceback" not in stderr and name in stderr, stderr


def test_a_stop_request_whose_exception_was_swallowed_still_stops_the_search():
    """A KeyboardInterrupt raised inside a finaliser is printed and dropped by CPython; the
    handler's record makes the adversarial search raise it again at its next batch."""
    from proofs_check import interruption
    from proofs_check.claims import own_claim
    from proofs_check.engine import adversarial_check

    interruption.request(KeyboardInterrupt)
    try:
        with pytest.raises(KeyboardInterrupt):
            adversarial_check(own_claim("bounded-signal"), 0.1, 0)
    finally:
        interruption.clear()
    assert adversarial_check(own_claim("bounded-signal"), 0.1, 0).samples > 0, "no request: the search runs"


def test_a_swallowed_stop_is_not_printed_as_a_traceback():
    """C code that calls back into Python (scipy's Sobol engine loading its direction numbers)
    swallows the stop's exception and CPython would print it as "Exception ignored" with a
    traceback; the command's hook drops that one exception, which the command raises again at
    its next check, and passes every other unraisable exception on."""
    from types import SimpleNamespace

    from proofs_check import interruption
    from proofs_check.cli import Terminated

    passed_on = []
    hook = interruption.quiet_unraisable(passed_on.append)
    stop, other = SimpleNamespace(exc_value=Terminated()), SimpleNamespace(exc_value=ValueError("a real error"))
    hook(stop)
    assert passed_on == [stop], "no stop requested: printed as usual"
    interruption.request(Terminated)
    try:
        hook(stop)
        hook(SimpleNamespace(exc_value=KeyboardInterrupt()))  # not the requested stop
        hook(other)
    finally:
        interruption.clear()
    assert [item.exc_value for item in passed_on[1:]] == [passed_on[1].exc_value, other.exc_value]
    assert isinstance(passed_on[1].exc_value, KeyboardInterrupt)


def test_an_executor_stops_before_its_next_task_once_a_stop_was_swallowed():
    from proofs_check import interruption
    from proofs_check.executor import IN_PROCESS

    results = IN_PROCESS.map(abs, [-1, -2, -3])
    assert next(results) == 1
    interruption.request(KeyboardInterrupt)
    try:
        with pytest.raises(KeyboardInterrupt):
            next(results)
    finally:
        interruption.clear()

"""A `run` SIGKILLed while it writes leaves `--out` either untouched or complete (issue 12).

It lives beside the other main-job tests to reuse the session's complete `run --quick`
(tests/proofs_check/conftest.py) as the previous generation of `--out`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def _files(directory: Path) -> list[str]:
    return sorted(str(path.relative_to(directory)) for path in directory.rglob("*") if path.is_file())


@pytest.mark.slow
def test_run_killed_while_writing_leaves_out_untouched_or_complete(quick_run_outputs, tmp_path):
    """--out holds a complete `run --quick`; a second run is SIGKILLed shortly after its
    temporary directory appears (while it writes): --out still holds the file list of a
    complete run and a readable report. A kill at every point of the writing sequence is
    tests/numerics/test_interrupts.py::test_a_writer_killed_at_any_point_leaves_one_complete_generation."""
    out = tmp_path / "results"
    shutil.copytree(quick_run_outputs[1], out)
    complete = _files(out)
    assert "report.json" in complete and any(name.startswith("figures/") for name in complete)
    with subprocess.Popen([sys.executable, "-m", "proofs_check", "run", "--quick", "--seed", "0", "--out", str(out)], env=ENV, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as process:
        try:
            deadline = time.monotonic() + 600
            while not any(name.startswith(".results.partial-") for name in os.listdir(tmp_path)) and process.poll() is None:
                assert time.monotonic() < deadline
                time.sleep(0.005)
            assert process.poll() is None, "the run ended before it could be killed while writing"
            time.sleep(0.2)
        finally:
            process.kill()
            process.wait(timeout=60)
    assert _files(out) == complete
    json.loads((out / "report.json").read_text())

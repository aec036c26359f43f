"""Outputs generated once per test session and shared by the files that check them:
`run --quick` (in-process, as test_run.py always ran it) and `experiment figure4 --quick`,
`experiment rates --quick` (in fresh interpreters: see test_experiments.py's docstring)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from proofs_check.cli import main

ROOT = Path(__file__).resolve().parents[2]


def experiment_command(*arguments: str) -> subprocess.CompletedProcess:
    """`python -m proofs_check ...` in a fresh interpreter at the repository root."""
    return subprocess.run([sys.executable, "-m", "proofs_check", *arguments], cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="session")
def quick_run_outputs(tmp_path_factory):
    """(exit code, output directory, report.json) of `run --quick --seed 0`."""
    out = tmp_path_factory.mktemp("run")
    code = main(["run", "--quick", "--out", str(out), "--seed", "0"])
    return code, out, json.loads((out / "report.json").read_text())


@pytest.fixture(scope="session")
def figure4_outputs(tmp_path_factory):
    """(completed process, output directory, figure4.json) of `experiment figure4 --quick --seed 0`."""
    out = tmp_path_factory.mktemp("figure4")
    result = experiment_command("experiment", "figure4", "--quick", "--out", str(out), "--seed", "0")
    return result, out, json.loads((out / "figure4.json").read_text())


@pytest.fixture(scope="session")
def rates_outputs(tmp_path_factory):
    """(completed process, output directory, rates.json) of `experiment rates --quick --seed 0`."""
    out = tmp_path_factory.mktemp("rates")
    result = experiment_command("experiment", "rates", "--quick", "--out", str(out), "--seed", "0")
    return result, out, json.loads((out / "rates.json").read_text())


@pytest.fixture(scope="session")
def devices_outputs(tmp_path_factory):
    """(completed process, output directory, devices.json) of `experiment devices --quick --seed 0`."""
    out = tmp_path_factory.mktemp("devices")
    result = experiment_command("experiment", "devices", "--quick", "--out", str(out), "--seed", "0")
    return result, out, json.loads((out / "devices.json").read_text())

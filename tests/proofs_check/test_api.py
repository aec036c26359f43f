"""The public Python API: every name of __all__ imports from proofs_check, is documented, and
the version is single-sourced from the package metadata."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys

import pytest

import proofs_check
from proofs_check.cli import main


def test_every_public_name_imports_and_is_documented():
    for name in proofs_check.__all__:
        value = getattr(proofs_check, name)
        if name != "__version__":
            assert value.__doc__, f"{name} has no docstring"
    contract = {"__version__", "verify", "check_bound", "tightness", "check_theorem", "lemmas", "register_lemma", "strategies"}
    assert contract <= set(proofs_check.__all__)


def test_the_public_api_needs_no_private_module():
    code = "import proofs_check as p; from proofs_check import *; from proofs_check.strategies import instances, networks; print(p.lemmas()[0])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "bounded-signal"


def test_version_matches_the_package_metadata(capsys):
    assert proofs_check.__version__ == importlib.metadata.version("proofs-check")
    for argv in (["--version"], ["bound", "--version"]):
        with pytest.raises(SystemExit) as exit:
            main(argv)
        assert exit.value.code == 0
        assert capsys.readouterr().out.strip().endswith(proofs_check.__version__)


@pytest.mark.parametrize("call", [
    lambda: proofs_check.check_bound("bounded-signal", "G", budget=0),
    lambda: proofs_check.check_bound("bounded-signal", "G", seed=-1),
    lambda: proofs_check.check_bound("no-such-lemma", "G"),
    lambda: proofs_check.tightness("bounded-signal", budget=float("nan")),
    lambda: proofs_check.check_theorem("no-such-theorem"),
    lambda: proofs_check.check_theorem("sync-convergence", rhs="bound + nosuchsymbol"),
    lambda: proofs_check.check_theorem("computation-density", rhs="bound"),
])
def test_bad_arguments_raise_value_errors(call):
    with pytest.raises(ValueError):
        call()

"""The command line imports a command's module (and what it imports) only when that command is
parsed (issue 12): the list of commands reads their docstrings without importing them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from proofs_check.cli import build_parser
from proofs_check.commands import COMMANDS

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("numpy", "scipy", "sympy", "matplotlib", "z3", "proofs_check.library", "proofs_check.api", "theory.complexity")
"""Modules some command imports, and the command line alone does not."""

PROBE = """
import contextlib, io, json, sys
from proofs_check.cli import build_parser
arguments = json.loads(sys.argv[1])
if arguments is not None:
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            build_parser(arguments).parse_args(arguments)
        except SystemExit:
            pass
print(json.dumps(sorted(name for name in json.loads(sys.argv[2]) if name in sys.modules)))
"""


def _imported(arguments: list[str] | None) -> list[str]:
    """The modules of HEAVY imported once `proofs_check.cli` is imported and `arguments` parsed (in a new process)."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(arguments), json.dumps(HEAVY)],
        env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, check=True,
    )
    return json.loads(result.stdout)


def test_the_command_line_and_its_list_of_commands_import_no_command():
    assert _imported(None) == []
    assert _imported(["--help"]) == []


def test_parsing_a_command_imports_its_module_and_no_other_commands():
    schedule = _imported(["schedule", "--schedule", "ap", "--stages", "4"])
    assert "numpy" in schedule, "the probe sees what a command imports"
    assert not {"scipy", "matplotlib", "z3", "proofs_check.library", "proofs_check.api", "theory.complexity"} & set(schedule)
    assert "theory.complexity" in _imported(["complexity", "--help"])


def test_the_parser_of_a_command_line_parses_it_as_the_whole_parser_does():
    for argv in (["schedule", "--schedule", "ap", "--stages", "4"], ["run", "--quick", "--seed", "3"], ["experiment", "figure4", "--quick"]):
        assert vars(build_parser(argv).parse_args(argv)) == vars(build_parser().parse_args(argv)), argv


def test_the_help_is_each_command_modules_docstring():
    for command in COMMANDS.values():
        assert command.docstring == command.load().__doc__ and command.docstring.strip(), command.name

"""One module per sub-command; each exposes `add_arguments(parser)` and `run(arguments) -> int`,
and its docstring is the command's help (first line: the summary in the list of commands).

A command's module imports what its work needs (numpy, sympy, the lemmas, ...: about a second
for some), so the command line imports only the module of the command it runs (`Command.load`,
while it parses that command's arguments); the list of commands reads the docstrings from the
source (issue 12).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
from dataclasses import dataclass
from functools import cached_property
from types import ModuleType


@dataclass(frozen=True)
class Command:
    """A sub-command: the module `proofs_check.commands.<name>`, imported on first use."""

    name: str
    """The sub-command's name on the command line, and its module's."""

    @property
    def module_name(self) -> str:
        return f"{__name__}.{self.name}"

    @cached_property
    def docstring(self) -> str:
        """The module's docstring, read from its source without importing it (or, without a
        source file, from the imported module)."""
        spec = importlib.util.find_spec(self.module_name)
        origin = spec.origin if spec is not None else None
        if origin is None or not origin.endswith(".py"):
            return self.load().__doc__ or ""
        with open(origin, encoding="utf-8") as source:
            return ast.get_docstring(ast.parse(source.read(), origin), clean=False) or ""

    def load(self) -> ModuleType:
        """The imported module (its imports are the command's)."""
        return importlib.import_module(self.module_name)


COMMANDS = {
    name: Command(name)
    for name in ("run", "schedule", "simulate", "constants", "complexity", "steps", "bound", "tightness", "theorem", "replay", "experiment")
}
"""Every sub-command, in the order of the command line's help."""

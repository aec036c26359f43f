"""`python -m proofs_check <command>`: parse, dispatch, and turn errors into exit codes.

Exit codes: 0 success (every checked bound holds), 1 a bound is violated, 2 bad input.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from typing import Sequence

from proofs_check._version import __version__
from proofs_check.commands import COMMANDS
from proofs_check.errors import UsageError
from proofs_check.executor import single_threaded_blas
from proofs_check.library import REGISTRY, RegistryError


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line on stderr and exits 2."""

    def error(self, message: str) -> None:  # noqa: D102 - argparse hook
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The parser with one sub-command per module of proofs_check.commands."""
    parser = _Parser(
        prog="proofs_check",
        description="Verify the convergence theory of pipeline-parallel analog in-memory training: "
        "lemma and theorem checks on simulator traces and by adversarial search (MODEL.md, CONTRACT.md).",
        epilog="Exit codes: 0 every checked bound holds, 1 a bound is violated (witness printed and saved), 2 bad input.",
    )
    version = f"%(prog)s {__version__}"
    parser.add_argument("--version", action="version", version=version)
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, command in COMMANDS.items():
        subparser = subparsers.add_parser(name, help=command.__doc__.splitlines()[0], description=command.__doc__)
        subparser.add_argument("--version", action="version", version=version)
        command.add_arguments(subparser)
    return parser


class Terminated(BaseException):
    """SIGTERM arrived: raised in the main thread by `main`'s handler, like KeyboardInterrupt
    for SIGINT, so the same unwinding (temporary files removed, --out untouched) runs."""


def _terminate(signum, frame) -> None:
    raise Terminated()


SIGNAL_EXITS = {KeyboardInterrupt: ("SIGINT", 130), Terminated: ("SIGTERM", 143)}
"""Exit code (128 + the signal's number) and name of each interrupting signal."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit code; Ctrl-C (SIGINT) and SIGTERM end it with
    one line on stderr and exit 130 / 143, never a traceback."""
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if in_main_thread else None
    command = None
    try:
        parser = build_parser()
        arguments = parser.parse_args(argv)
        command = arguments.command
        return _run(arguments)
    except (KeyboardInterrupt, Terminated) as interruption:
        name, code = SIGNAL_EXITS[type(interruption)]
        label = f"proofs_check {command}" if command else "proofs_check"
        print(f"{label}: interrupted by {name} (an --out directory holds one complete run, never a partial one)", file=sys.stderr)
        return code
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _run(arguments: argparse.Namespace) -> int:
    try:
        with REGISTRY.scope():
            try:
                for plugin in getattr(arguments, "plugin", ()):
                    REGISTRY.load_plugin(plugin)
                REGISTRY.load_entry_points(refresh=True)
            except RegistryError as error:
                raise UsageError(str(error)) from None
            with single_threaded_blas():  # small matrix products: threaded BLAS only spins (issue 12)
                return COMMANDS[arguments.command].run(arguments)
    except UsageError as error:
        print(f"proofs_check {arguments.command}: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader of stdout went away (`... --json | head`): stop quietly, like a shell
        # pipeline, with 128 + SIGPIPE; nothing half-written (files are written atomically).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141

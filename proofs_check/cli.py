"""`python -m proofs_check <command>`: parse, dispatch, and turn errors into exit codes.

Exit codes: 0 success (every checked bound holds), 1 a bound is violated, 2 bad input.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from typing import Callable, Iterator, Sequence

from proofs_check import interruption
from proofs_check._version import __version__
from proofs_check.commands import COMMANDS
from proofs_check.errors import UsageError
from proofs_check.executor import single_threaded_blas


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line on stderr and exits 2."""

    def error(self, message: str) -> None:  # noqa: D102 - argparse hook
        self.exit(2, f"{self.prog}: error: {message}\n")


def command_named(argv: Sequence[str]) -> str | None:
    """The sub-command a command line names: its first word that is not an option (the
    top-level options, --help and --version, take no value); None if there is none."""
    return next((word for word in argv if not word.startswith("-")), None)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser with one sub-command per module of proofs_check.commands.

    Every command is listed with its summary (its module's docstring, read without importing
    it). With `argv`, only the command it names gets its arguments, so parsing a command line
    imports that command's module alone (issue 12); without, every command gets them."""
    parser = _Parser(
        prog="proofs_check",
        description="Verify the convergence theory of pipeline-parallel analog in-memory training: "
        "lemma and theorem checks on simulator traces and by adversarial search (MODEL.md, CONTRACT.md).",
        epilog="Exit codes: 0 every checked bound holds, 1 a bound is violated (witness printed and saved), 2 bad input.",
    )
    version = f"%(prog)s {__version__}"
    parser.add_argument("--version", action="version", version=version)
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    wanted = None if argv is None else command_named(argv)
    for name, command in COMMANDS.items():
        subparser = subparsers.add_parser(name, help=command.docstring.splitlines()[0], description=command.docstring)
        if argv is None or name == wanted:
            subparser.add_argument("--version", action="version", version=version)
            command.load().add_arguments(subparser)
    return parser


class Terminated(BaseException):
    """SIGTERM arrived: raised in the main thread by `main`'s handler, like KeyboardInterrupt
    for SIGINT, so the same unwinding (temporary files removed, --out untouched) runs."""


def _terminate(signum, frame) -> None:
    interruption.request(Terminated)
    raise Terminated()


def _interrupt(signum, frame) -> None:
    interruption.request(KeyboardInterrupt)
    raise KeyboardInterrupt()


def _install_handlers() -> list[tuple[int, object]]:
    """The command's SIGINT and SIGTERM handlers (raise, and remember: proofs_check.interruption);
    returns the previous ones."""
    return [(signum, signal.signal(signum, handler)) for signum, handler in ((signal.SIGINT, _interrupt), (signal.SIGTERM, _terminate))]


SIGNAL_EXITS = {KeyboardInterrupt: ("SIGINT", 130), Terminated: ("SIGTERM", 143)}
"""Exit code (128 + the signal's number) and name of each interrupting signal."""


def main(argv: Sequence[str] | None = None, started: Callable[[], None] | None = None) -> int:
    """Run one command and return its exit code; Ctrl-C (SIGINT) and SIGTERM end it with
    one line on stderr and exit 130 / 143, never a traceback.

    Parsing the command line imports the command's module (and what it imports); `started`
    is called then, before the command's signal handlers are installed and it runs (the entry
    point's: the imports done, the imported objects frozen out of the garbage collector)."""
    in_main_thread = threading.current_thread() is threading.main_thread()
    # With `started`, the caller's handlers cover the parsing (the entry point's startup ones).
    previous = _install_handlers() if in_main_thread and started is None else []
    unraisable = sys.unraisablehook
    sys.unraisablehook = interruption.quiet_unraisable(unraisable)  # a swallowed stop is not a traceback
    command = None
    try:
        argv = sys.argv[1:] if argv is None else list(argv)
        arguments = build_parser(argv).parse_args(argv)
        command = arguments.command
        if started is not None:
            started()
            previous = _install_handlers() if in_main_thread else []
        return _run(arguments)
    except (KeyboardInterrupt, Terminated) as stop:
        name, code = SIGNAL_EXITS[type(stop)]
        label = f"proofs_check {command}" if command else "proofs_check"
        print(f"{label}: interrupted by {name} (an --out directory holds one complete run, never a partial one)", file=sys.stderr)
        return code
    finally:
        for signum, handler in previous:
            signal.signal(signum, handler)
        sys.unraisablehook = unraisable
        interruption.clear()


@contextlib.contextmanager
def _lemmas(arguments: argparse.Namespace) -> Iterator[None]:
    """For a command that checks lemmas (those that take `--plugin`, arguments.add_plugin_argument):
    the registry with the lemmas of its `--plugin` files and of the installed packages (entry
    points), undone at the end. The other commands do not use lemmas, nor import them."""
    if not hasattr(arguments, "plugin"):
        yield
        return
    from proofs_check.library import REGISTRY, RegistryError

    with REGISTRY.scope():
        try:
            for plugin in arguments.plugin:
                REGISTRY.load_plugin(plugin)
            REGISTRY.load_entry_points(refresh=True)
        except RegistryError as error:
            raise UsageError(str(error)) from None
        yield


def _run(arguments: argparse.Namespace) -> int:
    try:
        with _lemmas(arguments), single_threaded_blas():  # small matrix products: threaded BLAS only spins (issue 12)
            return COMMANDS[arguments.command].load().run(arguments)
    except UsageError as error:
        print(f"proofs_check {arguments.command}: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader of stdout went away (`... --json | head`): stop quietly, like a shell
        # pipeline, with 128 + SIGPIPE; nothing half-written (files are written atomically).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141

"""The command-line entry point, light enough to install the signal handlers before any import.

Importing the toolkit (numpy, scipy, sympy, matplotlib) takes about a second; a Ctrl-C or a
SIGTERM in that second must end the process like one during a command: one line on stderr,
exit 130 (SIGINT) or 143 (SIGTERM), no traceback. The command line imports a command's
modules while it parses that command (proofs_check.commands), still under these handlers.
This module imports only the standard library; `proofs_check/__init__.py` loads its public
names lazily, so importing this module does not import the toolkit either.
"""

from __future__ import annotations

import gc
import os
import signal
import sys

STARTUP_SIGNALS = {signal.SIGINT: ("SIGINT", 130), signal.SIGTERM: ("SIGTERM", 143)}
"""The signals handled while the toolkit is imported: name and exit code (128 + number)."""


def _interrupted_while_starting(signum, frame) -> None:
    name, code = STARTUP_SIGNALS[signum]
    sys.stderr.write(f"proofs_check: interrupted by {name} while starting (nothing was written)\n")
    sys.stderr.flush()
    os._exit(code)  # no unwinding through a half-finished import


def main() -> int:
    """Install the startup handlers, import the command line and parse it, which imports the
    command's module (and numpy, scipy, sympy, ... as that command needs); then `cli.main`
    replaces these handlers with the command's own (one line, exit 130/143) and runs it (in a
    process of its own: the imported modules are frozen out of the garbage collector's scans)."""
    for signum in STARTUP_SIGNALS:
        signal.signal(signum, _interrupted_while_starting)
    from proofs_check.cli import main as run_command

    return run_command(started=_started)


YOUNG_COLLECTION_THRESHOLD = 100_000
"""Allocations between two collections of the youngest generation (Python's default is 700)."""


def _started() -> None:
    """The command's imports are done: what they built (the toolkit's modules, the caches of
    sympy, numpy, scipy) lives to the end, kept out of the cyclic collector's full passes, which
    would walk it again and again as a job allocates (about 5 % of `run`'s time). The jobs
    allocate millions of short-lived objects (schedule records, small arrays) and few cycles, so
    the youngest generation is collected every 100,000 allocations instead of every 700 (7 % of
    `run`; the peak memory of a full run is unchanged)."""
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, 50, 100)

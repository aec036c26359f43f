"""Figures drawn beside the job: a helper process renders them on an idle core while it computes.

Drawing a figure (matplotlib's layout, rasterising at 300 dpi, the PDF) is about a quarter
of a second of pure Python each; `run` draws four, and knows three of them (the schedule
grids) before it computes anything. `FigureDrawing` is the seam through which `run`
draws its figures: `submit(stem, builder, *args)` names a figure, `builder` being the
"module:function" reference of a function that returns a matplotlib Figure (an entry-point
reference: it travels to the helper as text, and the command's process need not import
matplotlib at all), and `drawn()` returns every figure's bytes by format
(`output.figure_formats_bytes`), in submission order.

When the machine gives the process a second CPU, a helper process (`python -m
proofs_check.figure_process`, one per drawing) draws the figures while the job goes on;
otherwise, or if the helper cannot start, the figures are drawn in-process when `drawn()` is
called. Either way the bytes are the same (tests/proofs_check/test_figure_process.py). A
figure the helper did not deliver (it failed, or the helper was killed) is drawn again
in-process, so an error surfaces as the builder's own exception, from the caller's process.

The helper ignores SIGINT (a Ctrl-C at the terminal reaches the whole process group; the
command prints the one line), writes nothing to the terminal, and ends when its input closes:
when the command is done with it, or when the command's process ends, however it ends.
"""

from __future__ import annotations

import importlib
import os
import pickle
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

Formats = dict[str, bytes]
"""A drawn figure: its bytes by format ("png", "pdf")."""

_FINISHED = None
"""The message that tells the helper that no figure follows."""


def second_cpu_available() -> bool:
    """Whether this process may run on at least two CPUs (its affinity, where the system has one)."""
    try:
        return len(os.sched_getaffinity(0)) >= 2
    except AttributeError:  # no affinity on this system (macOS, Windows)
        return (os.cpu_count() or 1) >= 2


def draw(builder: str, args: tuple) -> Formats:
    """The Figure that the function `builder` ("module:function") returns for `args`, as bytes
    in every format."""
    from proofs_check.output import figure_formats_bytes

    module, _, function = builder.partition(":")
    return figure_formats_bytes(getattr(importlib.import_module(module), function)(*args))


class FigureDrawing:
    """The figures of one command, drawn by a helper process or in-process (see the module docstring).

    Use as a context manager: leaving it (normally, by an exception, by Ctrl-C or SIGTERM)
    ends the helper."""

    def __init__(self, helper: bool | None = None) -> None:
        """`helper`: draw in a helper process (True), in-process (False), or in a helper when
        a second CPU is available (None, the default)."""
        self._jobs: dict[str, tuple[str, tuple]] = {}
        self._delivered: dict[str, Formats] = {}
        self._process: subprocess.Popen | None = None
        self._reader: threading.Thread | None = None
        if helper if helper is not None else second_cpu_available():
            self._process = _start_helper()
            if self._process is not None:
                self._reader = threading.Thread(target=self._read, args=(self._process.stdout,), name="figure-helper-reader", daemon=True)
                self._reader.start()

    @property
    def in_helper(self) -> bool:
        """Whether a helper process draws the figures."""
        return self._process is not None

    def submit(self, stem: str, builder: str, *args: Any) -> None:
        """Draw the figure of `builder` ("module:function") for `args` as figure `stem` (each stem once)."""
        if stem in self._jobs:
            raise ValueError(f"figure {stem!r} was already submitted")
        self._jobs[stem] = (builder, args)
        if self._process is not None:
            try:
                pickle.dump((stem, builder, args), self._process.stdin, protocol=pickle.HIGHEST_PROTOCOL)
                self._process.stdin.flush()
            except (OSError, pickle.PicklingError, AttributeError, TypeError):
                self._end_helper(finish=False)  # the figures are drawn in-process instead

    def drawn(self) -> dict[str, Formats]:
        """Every submitted figure's bytes by format, in submission order (waits for the helper;
        draws in-process what it did not deliver)."""
        self._end_helper(finish=True)
        return {stem: self._delivered.get(stem) or draw(builder, args) for stem, (builder, args) in self._jobs.items()}

    def close(self) -> None:
        """End the helper, if any, without waiting for its figures."""
        self._end_helper(finish=False)

    def __enter__(self) -> "FigureDrawing":
        return self

    def __exit__(self, *exception) -> None:
        self.close()

    def _read(self, stream) -> None:
        """Collect the helper's figures as it sends them (so it never waits on a full pipe)."""
        while True:
            try:
                stem, formats = pickle.load(stream)
            except Exception:  # the helper finished, or died: what is missing is drawn in-process
                return
            if formats is not None:
                self._delivered[stem] = formats

    def _end_helper(self, finish: bool) -> None:
        """Close the helper's input, after telling it that no figure follows when it is to
        `finish` the figures it has, else killing it; then wait for it and for the reader."""
        process, self._process = self._process, None
        if process is None:
            return
        try:
            if finish:
                pickle.dump(_FINISHED, process.stdin)
            process.stdin.close()
        except OSError:
            pass
        if not finish and process.poll() is None:
            process.kill()
        process.wait()
        self._reader.join()
        process.stdout.close()


def _start_helper() -> subprocess.Popen | None:
    """`python -m proofs_check.figure_process` with pipes for its input and output, one BLAS
    thread, and this toolkit importable as in this process; None if it cannot start."""
    root = str(Path(__file__).resolve().parents[1])
    path = os.environ.get("PYTHONPATH")
    environment = dict(os.environ, PYTHONPATH=root if not path else os.pathsep.join([root, path]))
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        environment[variable] = "1"
    # The helper starts with SIGINT blocked (a blocked signal stays blocked across exec), so a
    # Ctrl-C cannot end it before it ignores SIGINT; here the block lasts only for the start.
    block = getattr(signal, "pthread_sigmask", None)
    previous = block(signal.SIG_BLOCK, {signal.SIGINT}) if block else None
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "proofs_check.figure_process"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=environment,
            close_fds=True,
        )
    except OSError:
        return None
    finally:
        if block:
            block(signal.SIG_SETMASK, previous)


def _serve() -> None:
    """The helper's loop: read (stem, builder, args), send back (stem, formats or None on an error)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    inputs = os.fdopen(os.dup(0), "rb")
    outputs = os.fdopen(os.dup(1), "wb")
    quiet = os.open(os.devnull, os.O_RDWR)
    os.dup2(quiet, 0)
    os.dup2(quiet, 1)  # a stray print cannot corrupt the messages
    try:
        while True:
            job = pickle.load(inputs)
            if job is _FINISHED:
                return
            stem, builder, args = job
            try:
                formats = draw(builder, args)
            except Exception:
                formats = None  # drawn again in-process, where the error surfaces
            pickle.dump((stem, formats), outputs, protocol=pickle.HIGHEST_PROTOCOL)
            outputs.flush()
    except Exception:  # the command ended (its end of the pipes closed), or a builder cannot be imported
        return


if __name__ == "__main__":
    _serve()

"""Where independent pieces of work run: in this process (the default), or on a Dask cluster.

The main job, the experiments and the searches are many independent tasks (a group of
built-in traces, one lemma's adversarial search, one false variant, one experiment cell).
Each is a call `function(task)` of an importable top-level function on picklable arguments
whose result depends only on the task (every random choice comes from the seed and the
task's identity through the named streams of `numerics.streams`). `Executor.map` runs them
and yields the results in task order, so a result is bit for bit the same wherever the
tasks ran: in-process, on the workers of a `dask.distributed` scheduler, or after a worker
died and Dask ran its tasks again elsewhere.

The scheduler is `--scheduler ADDRESS` or, without it, the environment variable
`DASK_SCHEDULER_ADDRESS`; without either, everything runs in-process and no server is
needed. BLAS runs single-threaded around every task (`single_threaded_blas`): the toolkit
multiplies small matrices, on which threaded BLAS only spins.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Sequence

from functools import lru_cache

from threadpoolctl import ThreadpoolController

from proofs_check.interruption import raise_if_requested

Progress = Callable[[Iterable, int], Iterable]
"""(iterable, total) ↦ the same items, reporting progress as they are consumed."""

SCHEDULER_ENVIRONMENT = "DASK_SCHEDULER_ADDRESS"
"""The environment variable that names a Dask scheduler when `--scheduler` is not given."""
CONNECT_TIMEOUT_SECONDS = 4
"""How long to wait for the scheduler to answer before the address is refused (exit 2)."""


BLAS_PACKAGES = ("numpy", "scipy", "sklearn")
"""The packages that load a BLAS of their own (each wheel ships one)."""


@lru_cache(maxsize=None)
def _thread_pools(loaded: frozenset[str]) -> ThreadpoolController:
    """The process's thread pools once `loaded` (of BLAS_PACKAGES) are imported: threadpoolctl
    scans the loaded libraries (some milliseconds, too slow to repeat around each of the main
    job's hundreds of tasks), so the scan is repeated only when another of them is imported."""
    return ThreadpoolController()


def single_threaded_blas() -> contextlib.AbstractContextManager:
    """BLAS limited to one thread inside the block (threadpoolctl): the toolkit's matrix
    products are small, and threaded BLAS only spins on them (issue 12)."""
    loaded = frozenset(name for name in BLAS_PACKAGES if name in sys.modules)
    return _thread_pools(loaded).limit(limits=1, user_api="blas")


def call_task(function: Callable[[Any], Any], task: Any) -> Any:
    """`function(task)` with single-threaded BLAS: what every task runs, in-process or on a worker
    (in-process, a stop signal swallowed during the previous task ends the command here)."""
    raise_if_requested()
    with single_threaded_blas():
        return function(task)


class SchedulerError(ValueError):
    """A Dask scheduler that cannot be reached at the given address."""


@dataclass
class Executor:
    """Runs independent tasks and yields their results in task order; in-process by default.

    Use it as a context manager (`with executor_for(address) as executor:`): a Dask client is
    closed at the end of the block."""

    address: str | None = None
    """The Dask scheduler's address (e.g. tcp://host:8786), or None: run in-process."""
    source: str = "--scheduler"
    """Where the address came from (named in error messages): the flag or the environment variable."""
    client: Any = field(default=None, repr=False)
    """The dask.distributed Client, once connected (None in-process)."""

    @property
    def distributed(self) -> bool:
        """True when tasks run on a Dask scheduler."""
        return self.address is not None

    def connect(self) -> "Executor":
        """Connect to the scheduler (nothing to do in-process); SchedulerError if it cannot be reached."""
        if self.address is None or self.client is not None:
            return self
        from distributed import Client

        try:
            _probe(self.address)
            self.client = Client(self.address, timeout=CONNECT_TIMEOUT_SECONDS, set_as_default=False)
        except Exception as error:  # distributed raises OSError, TimeoutError, ValueError, ...
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise SchedulerError(f"{self.source}: cannot reach a Dask scheduler at {self.address!r} ({reason}); give a running scheduler's address, e.g. tcp://127.0.0.1:8786") from None
        return self

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    def __enter__(self) -> "Executor":
        return self.connect()

    def __exit__(self, *exc_info) -> None:
        self.close()

    def map(self, function: Callable[[Any], Any], tasks: Sequence[Any], progress: Progress | None = None) -> Iterator[Any]:
        """`function(task)` of every task, yielded in task order.

        In-process the calls run lazily, one per result taken (a caller that stops early saves
        the rest). On Dask every task is submitted at once and the results are gathered in
        task order; leaving the iteration early cancels the tasks not yet taken."""
        tasks = list(tasks)
        if self.address is None:
            iterator: Iterable = (call_task(function, task) for task in tasks)
        else:
            iterator = self._gathered(function, tasks)
        return iter(iterator if progress is None else progress(iterator, len(tasks)))

    def _gathered(self, function: Callable[[Any], Any], tasks: list) -> Iterator[Any]:
        self.connect()
        # pure=False: every task gets its own key (no hashing of large arguments); results
        # never depend on the key, only on the task.
        futures = self.client.map(call_task, [function] * len(tasks), tasks, pure=False)
        try:
            for future in futures:
                yield future.result()
        finally:
            self.client.cancel([future for future in futures if not future.done()])


def _probe(address: str) -> None:
    """Refuse an address that is malformed or where no Dask scheduler answers, within
    CONNECT_TIMEOUT_SECONDS (a Dask client would retry until its own, longer timeout); raises
    ValueError, OSError or TimeoutError naming the problem."""
    from distributed.comm import connect, parse_address, parse_host_port
    from distributed.comm.registry import backends

    scheme, location = parse_address(address)
    if scheme not in backends:
        raise ValueError(f"unknown scheme {scheme!r}; known: {', '.join(sorted(backends))}")
    if scheme == "tcp":  # a refused connection is refused at once (Dask would retry)
        socket.create_connection(parse_host_port(location), timeout=CONNECT_TIMEOUT_SECONDS).close()

    async def identity() -> dict:
        comm = await connect(address, timeout=CONNECT_TIMEOUT_SECONDS)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await asyncio.wait_for(comm.read(), CONNECT_TIMEOUT_SECONDS)
        finally:
            comm.abort()

    try:
        reply = asyncio.run(identity())
    except MemoryError:  # something else answered with bytes that are not Dask's protocol
        reply = None
    if not isinstance(reply, dict) or reply.get("type") != "Scheduler":
        raise ValueError("no Dask scheduler answers there")


IN_PROCESS = Executor()
"""The embedded default: every task runs in this process, one after another."""


def scheduler_address(flag: str | None, environment: dict | None = None) -> tuple[str | None, str]:
    """(the address to use, where it came from): `--scheduler`, else DASK_SCHEDULER_ADDRESS, else None."""
    environment = os.environ if environment is None else environment
    if flag is not None:
        return flag, "--scheduler"
    value = environment.get(SCHEDULER_ENVIRONMENT, "").strip()
    return (value or None), SCHEDULER_ENVIRONMENT


def executor_for(flag: str | None) -> Executor:
    """The executor of a command: on the scheduler of `--scheduler` or DASK_SCHEDULER_ADDRESS,
    or in-process. An empty `--scheduler` is refused (SchedulerError)."""
    if flag is not None and not flag.strip():
        raise SchedulerError("--scheduler: expected a Dask scheduler address such as tcp://127.0.0.1:8786, got ''")
    address, source = scheduler_address(flag)
    return Executor(address, source)


def add_scheduler_argument(parser: argparse.ArgumentParser) -> None:
    """`--scheduler ADDRESS`: run the independent pieces of work on that Dask scheduler."""
    parser.add_argument(
        "--scheduler", metavar="ADDRESS", default=None,
        help=f"run the independent pieces of work on this Dask scheduler (default: ${SCHEDULER_ENVIRONMENT}, else in-process)",
    )


@contextlib.contextmanager
def command_executor(arguments: argparse.Namespace) -> Iterator[Executor]:
    """The executor of a command's `--scheduler`, connected before any work; a bad address
    is a UsageError (exit 2, one line)."""
    from proofs_check.errors import UsageError

    try:
        executor = executor_for(getattr(arguments, "scheduler", None)).connect()
    except SchedulerError as error:
        raise UsageError(str(error)) from None
    try:
        yield executor
    finally:
        executor.close()

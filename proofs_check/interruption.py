"""A stop signal (SIGINT, SIGTERM) remembered until the command ends.

The command line's handlers raise KeyboardInterrupt (SIGINT) or `cli.Terminated` (SIGTERM) in
the main thread, wherever it is. When that place is a finaliser (a `__del__` or a weakref
callback run by the garbage collector), CPython prints "Exception ignored" and carries on, and
the command would run to its end. So the handlers also record the signal here, and the long
loops (the adversarial search, between batches of evaluations, and every task of an
executor) call `raise_if_requested`. The same happens inside C code that calls back into
Python and cannot pass an exception on (scipy's Sobol engine loading its direction numbers):
`quiet_unraisable` keeps CPython from printing such a swallowed stop as a traceback, since
the command raises it again at its next check and prints its one line.
"""

from __future__ import annotations

from typing import Any, Callable

_requested: list[type[BaseException]] = []


def request(exception_type: type[BaseException]) -> None:
    """Remember that a signal asked to stop with `exception_type` (the first one wins)."""
    if not _requested:
        _requested.append(exception_type)


def raise_if_requested() -> None:
    """Raise the remembered stop request, if any (again, if the first raise was swallowed)."""
    if _requested:
        raise _requested[0]()


def quiet_unraisable(previous: Callable[[Any], None]) -> Callable[[Any], None]:
    """A `sys.unraisablehook` that drops the requested stop's own exception, swallowed where it
    was raised (it is raised again by `raise_if_requested`), and passes anything else to `previous`."""

    def hook(unraisable: Any) -> None:
        if _requested and isinstance(unraisable.exc_value, _requested[0]):
            return
        previous(unraisable)

    return hook


def clear() -> None:
    """Forget the stop request (the command that received it has ended)."""
    _requested.clear()

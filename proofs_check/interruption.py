"""A stop signal (SIGINT, SIGTERM) remembered until the command ends.

The command line's handlers raise KeyboardInterrupt (SIGINT) or `cli.Terminated` (SIGTERM) in
the main thread, wherever it is. When that place is a finaliser (a `__del__` or a weakref
callback run by the garbage collector), CPython prints "Exception ignored" and carries on, and
the command would run to its end. So the handlers also record the signal here, and the long
loops (the adversarial search, between batches of evaluations) call `raise_if_requested`.
"""

from __future__ import annotations

_requested: list[type[BaseException]] = []


def request(exception_type: type[BaseException]) -> None:
    """Remember that a signal asked to stop with `exception_type` (the first one wins)."""
    if not _requested:
        _requested.append(exception_type)


def raise_if_requested() -> None:
    """Raise the remembered stop request, if any (again, if the first raise was swallowed)."""
    if _requested:
        raise _requested[0]()


def clear() -> None:
    """Forget the stop request (the command that received it has ended)."""
    _requested.clear()

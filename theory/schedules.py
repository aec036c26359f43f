"""Closed forms of MODEL.md §3 per schedule: slots, computation density, speed-up, delays,
peak in-flight micro-batches and peak weight versions.

`CLOSED_FORMS` holds one `ClosedForms` per schedule, keyed by the schedule's name (the keys
of numerics.schedules.SCHEDULES). Every entry is a sympy expression in the symbols M
(stages), B (micro-batches per update), J (micro-batches in total), k (update index) and
m (stage); substitute integers with `evaluate`. The simulator never uses these: they are
what its measurements are checked against. The functions below (`total_slots(schedule)`,
…) read the table; `schedule` is a name or any object with a `name` (a numerics Schedule).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

M, B, J, m = sp.symbols("M B J m", positive=True, integer=True)
k = sp.Symbol("k", nonnegative=True, integer=True)
"""The update index (from 0: positive would let sympy fold min(k, 1) to 1)."""

_ONE = sp.Integer(1)
_ZERO = sp.Integer(0)


@dataclass(frozen=True)
class ClosedForms:
    """MODEL.md §3's closed forms of one schedule."""

    slots_per_update: sp.Expr
    """Slots one update takes in steady state (a mini-batch of B for the synchronous schedules; AP: one micro-batch)."""
    total_slots: sp.Expr
    """Slots for J micro-batches (J a multiple of B where the schedule groups micro-batches)."""
    density: sp.Expr
    """Computation density: busy stage-slots / (stages × slots), for J micro-batches."""
    forward_delay: sp.Expr
    """d^f_m of update k at stage m: update index minus the version F read."""
    backward_delay: sp.Expr
    """d^b_m of update k at stage m: update index minus the version B read."""
    peak_in_flight: sp.Expr
    """Peak micro-batches at stage m whose F ran and whose B has not (activations held)."""
    peak_versions: sp.Expr
    """Peak weight versions stage m holds (its live weights and the older versions still read)."""
    unbounded_stream: bool
    """The schedule has no flush: its speed-up is quoted as J → ∞."""


_SYNCHRONOUS_PIPELINE = dict(
    slots_per_update=2 * (B + M - 1),
    total_slots=2 * (B + M - 1) * J / B,
    density=B / (B + M - 1),
    forward_delay=_ZERO,
    backward_delay=_ZERO,
    peak_versions=_ONE,
    unbounded_stream=False,
)
_ASYNCHRONOUS_PIPELINE = dict(
    total_slots=2 * (J + M - 1),
    density=J / (J + M - 1),
    peak_in_flight=sp.Min(J, M - m + 1),
    unbounded_stream=True,
)

CLOSED_FORMS: dict[str, ClosedForms] = {
    "single": ClosedForms(
        slots_per_update=2 * M * B, total_slots=2 * M * J, density=_ONE, forward_delay=_ZERO, backward_delay=_ZERO,
        peak_in_flight=_ONE, peak_versions=_ONE, unbounded_stream=False,
    ),
    "wop": ClosedForms(
        slots_per_update=2 * M * B, total_slots=2 * M * J, density=1 / M, forward_delay=_ZERO, backward_delay=_ZERO,
        peak_in_flight=B, peak_versions=_ONE, unbounded_stream=False,
    ),
    "sp": ClosedForms(peak_in_flight=B, **_SYNCHRONOUS_PIPELINE),
    "1f1b": ClosedForms(peak_in_flight=sp.Min(B, M - m + 1), **_SYNCHRONOUS_PIPELINE),
    "ap": ClosedForms(
        slots_per_update=sp.Integer(2), forward_delay=sp.Min(k, M - m), backward_delay=_ZERO, peak_versions=_ONE,
        **_ASYNCHRONOUS_PIPELINE,
    ),
    "pipedream": ClosedForms(
        slots_per_update=sp.Integer(2), forward_delay=sp.Min(k, M - m), backward_delay=sp.Min(k, M - m),
        peak_versions=sp.Min(J, M - m + 1), **_ASYNCHRONOUS_PIPELINE,
    ),
    # MODEL §3 gives 2 weight versions for 2bw: the live one and the previous group's. With a
    # single group (J = B) every operation reads version 0 and nothing reads it after the
    # group's update, so one is held: min(2, J/B), which is MODEL's 2 from two groups on.
    "2bw": ClosedForms(
        slots_per_update=2 * B, forward_delay=sp.Min(k, 1), backward_delay=sp.Min(k, 1),
        peak_versions=sp.Min(2, J / B), **_ASYNCHRONOUS_PIPELINE,
    ),
}
"""MODEL.md §3's closed forms by schedule name, in MODEL's order."""

SCHEDULES = tuple(CLOSED_FORMS)
"""The schedules with closed forms (the names of numerics.schedules.SCHEDULES)."""


def closed_forms(schedule) -> ClosedForms:
    """The closed forms of `schedule` (a name, or an object with a `name`)."""
    name = getattr(schedule, "name", schedule)
    try:
        return CLOSED_FORMS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown schedule {name!r}; allowed: {', '.join(SCHEDULES)}") from None


def slots_per_mini_batch(schedule) -> sp.Expr:
    """Slots one update takes in steady state (a mini-batch of B micro-batches for the
    synchronous schedules, a group of B for 2bw, one micro-batch for ap and pipedream)."""
    return closed_forms(schedule).slots_per_update


def total_slots(schedule) -> sp.Expr:
    """Slots for J micro-batches (J a multiple of B for the schedules that group micro-batches)."""
    return closed_forms(schedule).total_slots


def density(schedule) -> sp.Expr:
    """Computation density: busy stage-slots / (stages × slots), for J micro-batches."""
    return closed_forms(schedule).density


def asymptotic_density(schedule) -> sp.Expr:
    """Density as J → ∞ (the asynchronous schedules → 1)."""
    return sp.limit(density(schedule), J, sp.oo)


def speed_up(schedule) -> sp.Expr:
    """Speed-up over the single device at equal work (the schedules without flush as J → ∞)."""
    closed_forms(schedule)  # a ValueError for an unknown schedule
    return _speed_up(getattr(schedule, "name", schedule))


@lru_cache(maxsize=None)
def _speed_up(name: str) -> sp.Expr:
    """`speed_up` by schedule name, derived once (a simplification and a limit)."""
    forms = closed_forms(name)
    ratio = sp.simplify(total_slots("single") / forms.total_slots)
    return sp.limit(ratio, J, sp.oo) if forms.unbounded_stream else ratio


def forward_delay(schedule) -> sp.Expr:
    """Forward delay d^f_m of update k at stage m."""
    return closed_forms(schedule).forward_delay


def backward_delay(schedule) -> sp.Expr:
    """Backward delay d^b_m of update k at stage m."""
    return closed_forms(schedule).backward_delay


def peak_in_flight(schedule) -> sp.Expr:
    """Peak in-flight micro-batches at stage m."""
    return closed_forms(schedule).peak_in_flight


def peak_versions(schedule) -> sp.Expr:
    """Peak weight versions held at stage m."""
    return closed_forms(schedule).peak_versions


def evaluate(expression: sp.Expr, stages: int, mini_batch: int = 1, micro_batches: int = 1, **extra: int) -> sp.Expr:
    """Substitute integers for M, B, J (and k, m if given) and return the exact value."""
    values = {M: stages, B: mini_batch, J: micro_batches}
    symbols = {"k": k, "m": m}
    unknown = set(extra) - set(symbols)
    if unknown:
        raise ValueError(f"unknown symbols {sorted(unknown)}; allowed: k, m")
    values.update({symbols[name]: value for name, value in extra.items()})
    if expression.free_symbols <= set(values):  # a number: the compiled expression on exact integers
        arguments = [sp.sympify(values[symbol]) for symbol in _ARGUMENTS if symbol in values]
        return sp.nsimplify(_compiled(expression, tuple(symbol for symbol in _ARGUMENTS if symbol in values))(*arguments))
    return sp.nsimplify(expression.subs(values))


_ARGUMENTS = (M, B, J, k, m)


@lru_cache(maxsize=None)
def _compiled(expression: sp.Expr, arguments: tuple[sp.Symbol, ...]):
    """The expression as a function of `arguments` in sympy's exact arithmetic (`evaluate` of a
    closed form over many records: compiled once instead of substituted into each time)."""
    return sp.lambdify(arguments, expression, modules="sympy")


def per_stage(expression: sp.Expr, stages: int, mini_batch: int = 1, micro_batches: int = 1) -> list[sp.Expr]:
    """The expression evaluated at m = 1..M (stage 1 first)."""
    return [evaluate(expression, stages, mini_batch, micro_batches, m=stage) for stage in range(1, stages + 1)]


def largest_delay_per_stage(expression: sp.Expr, stages: int, mini_batch: int = 1, micro_batches: int = 1) -> list[int]:
    """max over the updates k = 0..J/B − 1 of an integer delay at each stage m = 1..M
    (the expression compiled once with integer arithmetic, so long runs stay cheap)."""
    updates = micro_batches // mini_batch
    delay = _integer_function(expression)
    return [max(delay(update, stage, stages, mini_batch, micro_batches) for update in range(updates)) for stage in range(1, stages + 1)]


@lru_cache(maxsize=64)
def _integer_function(expression: sp.Expr):
    """The expression as a Python function of (k, m, M, B, J) on integers."""
    return sp.lambdify((k, m, M, B, J), expression, modules=[{"Min": min, "Max": max}, "math"])

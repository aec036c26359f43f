"""Closed forms of MODEL.md §3: slots, computation density, delays and speed-up per schedule.

Each function returns a sympy expression in the symbols M (stages), B (micro-batches per
mini-batch) and J (micro-batches in total); substitute integers to evaluate. The
simulator never uses these: they are what its measurements are checked against.
"""

from __future__ import annotations

import sympy as sp

M, B, J, k, m = sp.symbols("M B J k m", positive=True, integer=True)

SCHEDULES = ("single", "wop", "sp", "ap")


def _check(schedule: str) -> None:
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {schedule!r}; allowed: {', '.join(SCHEDULES)}")


def slots_per_mini_batch(schedule: str) -> sp.Expr:
    """Slots one mini-batch of B micro-batches takes (AP: one micro-batch in steady state)."""
    _check(schedule)
    return {"single": 2 * M * B, "wop": 2 * M * B, "sp": 2 * (B + M - 1), "ap": sp.Integer(2)}[schedule]


def total_slots(schedule: str) -> sp.Expr:
    """Slots for J micro-batches (J a multiple of B for the synchronous schedules)."""
    _check(schedule)
    if schedule == "ap":
        return 2 * (J + M - 1)
    return slots_per_mini_batch(schedule) * J / B


def density(schedule: str) -> sp.Expr:
    """Computation density: busy stage-slots / (stages × slots), for J micro-batches."""
    _check(schedule)
    return {
        "single": sp.Integer(1),
        "wop": 1 / M,
        "sp": B / (B + M - 1),
        "ap": J / (J + M - 1),
    }[schedule]


def asymptotic_density(schedule: str) -> sp.Expr:
    """Density as J → ∞ (AP → 1)."""
    return sp.limit(density(schedule), J, sp.oo)


def speed_up(schedule: str) -> sp.Expr:
    """Speed-up over the single device at equal work (AP as J → ∞)."""
    _check(schedule)
    single = total_slots("single")
    ratio = sp.simplify(single / total_slots(schedule))
    return sp.limit(ratio, J, sp.oo) if schedule == "ap" else ratio


def forward_delay(schedule: str) -> sp.Expr:
    """Forward delay d^f_m of update k at stage m: min(k, M − m) for AP, 0 otherwise."""
    _check(schedule)
    return sp.Min(k, M - m) if schedule == "ap" else sp.Integer(0)


def backward_delay(schedule: str) -> sp.Expr:
    """Backward delay d^b_m: 0 for every schedule (AP runs backwards on current weights)."""
    _check(schedule)
    return sp.Integer(0)


def evaluate(expression: sp.Expr, stages: int, mini_batch: int = 1, micro_batches: int = 1, **extra: int) -> sp.Expr:
    """Substitute integers for M, B, J (and k, m if given) and return the exact value."""
    values = {M: stages, B: mini_batch, J: micro_batches}
    values.update({sp.Symbol(name, positive=True, integer=True): value for name, value in extra.items()})
    return sp.nsimplify(expression.subs(values))

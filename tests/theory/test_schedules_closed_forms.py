"""`theory.schedules.evaluate`: a closed form evaluated at integers is compiled once and run in
sympy's exact arithmetic; it must give what substituting the integers gives, value and type."""

from __future__ import annotations

import itertools

import sympy as sp

from numerics.schedules import SCHEDULE_NAMES
from theory import schedules as closed

FIELDS = ("total_slots", "density", "forward_delay", "backward_delay", "peak_in_flight", "peak_versions")


def test_the_compiled_closed_forms_equal_substitution():
    compared = 0
    for name in SCHEDULE_NAMES:
        forms = closed.closed_forms(name)
        for field in FIELDS:
            expression = getattr(forms, field)
            for stages, mini_batch, micro_batches in itertools.product([1, 2, 5], [1, 4], [4, 40]):
                for extra in ({}, {"m": 2}, {"m": 1, "k": 3}):
                    values = {closed.M: stages, closed.B: mini_batch, closed.J: micro_batches}
                    values.update({getattr(closed, name): value for name, value in extra.items()})
                    expected = sp.nsimplify(expression.subs(values))
                    value = closed.evaluate(expression, stages, mini_batch, micro_batches, **extra)
                    assert value == expected and type(value) is type(expected), (name, field, stages, mini_batch, micro_batches, extra)
                    compared += 1
    assert compared > 1000

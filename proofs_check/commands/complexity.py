"""The symbolic iteration and clock-cycle complexity in ε per schedule, with the leading exponents.

K(ε) inverts the vanishing part of the schedule's convergence theorem at the chosen step size
(theory.complexity, MODEL.md §5); the exponents are read off its expansion as ε → 0.
"""

from __future__ import annotations

import argparse

import sympy as sp

from proofs_check.output import print_json, print_table
from theory import complexity
from theory.convergence import to_latex


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--schedule", choices=complexity.SCHEDULES, help="one schedule (default: all three)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _number(value: sp.Rational) -> int | float:
    return int(value) if value.is_integer else float(value)


def _expression(expression: sp.Expr) -> dict:
    return {"text": sp.sstr(expression), "latex": to_latex(expression)}


def _terms(terms) -> list[dict]:
    return [{"coefficient": _expression(term.coefficient), "exponent": _number(term.exponent)} for term in terms]


def summarise(schedule: str) -> dict:
    """The complexity of one schedule as plain JSON types."""
    result = complexity.iteration_complexity(schedule)
    clock_terms = complexity.clock_cycle_terms(schedule)
    return {
        "schedule": schedule,
        "theorem": complexity.theorem_for(schedule).id,
        "vanishing_part": _expression(result.vanishing_part),
        "regime": {
            "text": "α = sqrt(Δ_0/(Lσ²K)) (the branch active as ε → 0), i.e. K ≥ threshold",
            "threshold": _expression(result.regime_threshold),
        },
        "iteration_complexity": _expression(result.iterations),
        "leading_exponents": [_number(exponent) for exponent in result.leading_exponents],
        "leading_terms": _terms(result.leading_terms),
        "expansion": _terms(result.expansion),
        "o_form": _expression(result.o_form),
        "o_form_iterations": {
            **_expression(result.o_form_iterations),
            "leading_exponents": [_number(exponent) for exponent in result.o_form_leading_exponents],
        },
        "clock_cycles": {
            **_expression(complexity.clock_cycles(schedule)),
            "slots_per_update": _expression(complexity.slots_per_update(schedule)),
            "leading_exponents": [_number(term.exponent) for term in clock_terms],
        },
        "asymptotic_floor": _expression(complexity.asymptotic_floor(schedule)),
    }


def _print_table(summary: dict) -> None:
    exponents = ", ".join(str(exponent) for exponent in summary["leading_exponents"])
    rows = [
        ("vanishing part at chosen α", summary["vanishing_part"]["text"]),
        ("valid for K ≥", summary["regime"]["threshold"]["text"]),
        ("K(ε) (updates)", summary["iteration_complexity"]["text"]),
        ("leading exponents of ε", exponents),
        ("slots per update", summary["clock_cycles"]["slots_per_update"]["text"]),
        ("clock cycles to ε", summary["clock_cycles"]["text"]),
        ("K from the O-form bound", summary["o_form_iterations"]["text"]),
        ("asymptotic floor", summary["asymptotic_floor"]["text"]),
    ]
    print_table(["quantity", "expression"], rows, title=f"schedule {summary['schedule']} ({summary['theorem']})")


def run(arguments: argparse.Namespace) -> int:
    schedules = [arguments.schedule] if arguments.schedule else list(complexity.SCHEDULES)
    summaries = [summarise(schedule) for schedule in schedules]
    if arguments.json:
        print_json(summaries[0] if arguments.schedule else {"schedules": summaries})
        return 0
    for index, summary in enumerate(summaries):
        if index:
            print()
        _print_table(summary)
    return 0

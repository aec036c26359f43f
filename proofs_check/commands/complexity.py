"""The symbolic iteration and clock-cycle complexity in ε per schedule, in both forms of MODEL.md §5.

`fixed-sigma` (the paper's form, σ > 0) and `uniform` (every σ ≥ 0) each give K(ε) as a
sum of powers of ε with their coefficients, derived from the proved bounds on the
vanishing part (theory.complexity, theory.convergence); the clock cycles multiply K(ε) by
the slots one update takes. The JSON also holds the exact small-ε expansion (σ > 0 fixed).
"""

from __future__ import annotations

import argparse

import sympy as sp

from proofs_check.output import print_json, print_table
from theory import complexity
from theory.convergence import to_latex


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--schedule", choices=complexity.SCHEDULES, help="one schedule (default: all six)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _number(value: sp.Rational) -> int | float:
    return int(value) if value.is_integer else float(value)


def _expression(expression: sp.Expr) -> dict:
    return {"text": sp.sstr(expression), "latex": to_latex(expression)}


def _terms(terms) -> list[dict]:
    return [{"exponent": _number(term.exponent), "exponent_text": sp.sstr(term.exponent), "coefficient": _expression(term.coefficient)} for term in terms]


def _form(result: complexity.ComplexityForm) -> dict:
    return {
        "description": result.description,
        "step_size": _expression(result.step_size),
        "vanishing_bound": _expression(result.bound),
        "exponents": [_number(exponent) for exponent in result.exponents],
        "iterations": {**_expression(result.iterations), "terms": _terms(result.terms)},
        "clock_cycles": {**_expression(result.clock_cycles), "terms": _terms(result.clock_terms)},
    }


def summarise(schedule: str) -> dict:
    """The complexity of one schedule as plain JSON types."""
    result = complexity.iteration_complexity(schedule)
    return {
        "schedule": schedule,
        "theorem": complexity.theorem_for(schedule).id,
        "delay_constant": _expression(complexity.delay_constant(schedule)),
        "variance_per_update": _expression(complexity.variance(schedule)),
        "slots_per_update": _expression(complexity.slots_per_update(schedule)),
        "asymptotic_floor": _expression(complexity.asymptotic_floor(schedule)),
        "forms": {form: _form(complexity.complexity_form(schedule, form)) for form in complexity.FORMS},
        "asymptotic": {
            "description": "the exact inverse of the vanishing part at the chosen α as ε → 0, for a fixed σ > 0 (sqrt branch active: K ≥ both thresholds)",
            "vanishing_part": _expression(result.vanishing_part),
            "threshold": _expression(result.regime_threshold),
            "delay_threshold": _expression(result.delay_regime_threshold),
            "exponents": [_number(exponent) for exponent in result.leading_exponents],
            "iterations": {**_expression(result.iterations), "terms": _terms(result.leading_terms)},
        },
    }


def _exponents(values) -> str:
    return ", ".join(sp.sstr(sp.nsimplify(value)) for value in values)


def _print_table(summary: dict) -> None:
    rows = [
        ("c_D", "", summary["delay_constant"]["text"]),
        ("variance per update", "", summary["variance_per_update"]["text"]),
        ("slots per update", "", summary["slots_per_update"]["text"]),
        ("asymptotic floor", "", summary["asymptotic_floor"]["text"]),
    ]
    for form, entry in summary["forms"].items():
        rows.append((form, "exponents of ε", _exponents(entry["exponents"])))
        for term in entry["iterations"]["terms"]:
            rows.append(("", f"K(ε): coefficient of ε^{term['exponent_text']}", term["coefficient"]["text"]))
        rows.append(("", "clock cycles to ε", entry["clock_cycles"]["text"]))
    asymptotic = summary["asymptotic"]
    rows.append(("exact as ε → 0", "exponents of ε", _exponents(asymptotic["exponents"])))
    rows.append(("", "K(ε)", asymptotic["iterations"]["text"]))
    print_table(["form", "quantity", "expression"], rows, title=f"schedule {summary['schedule']} ({summary['theorem']})")


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

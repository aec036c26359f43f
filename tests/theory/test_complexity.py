"""theory.complexity and `complexity`: K(ε) per schedule, its leading exponents read off the
expansion (and changed by a mutated vanishing part), clock cycles and the asymptotic floor."""

from __future__ import annotations

import json
import math

import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from proofs_check.cli import main
from theory import complexity as X
from theory import convergence as C


def run_json(capsys, *arguments: str) -> dict:
    assert main(["complexity", *arguments, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(("schedule", "exponents"), [("ap", [-2, -1]), ("sp", [-2]), ("wop", [-2])])
def test_complexity_command_reports_the_leading_exponents(capsys, schedule, exponents):
    summary = run_json(capsys, "--schedule", schedule)
    assert summary["schedule"] == schedule
    assert summary["leading_exponents"] == exponents
    assert summary["clock_cycles"]["leading_exponents"] == exponents
    for key in ("iteration_complexity", "clock_cycles", "asymptotic_floor", "vanishing_part", "o_form_iterations"):
        assert summary[key]["text"] and summary[key]["latex"]


def test_complexity_command_without_schedule_reports_all_three(capsys):
    summary = run_json(capsys)
    assert [entry["schedule"] for entry in summary["schedules"]] == list(X.SCHEDULES)
    assert main(["complexity"]) == 0
    table = capsys.readouterr().out
    assert "leading exponents of ε" in table and "schedule ap" in table


def test_complexity_command_rejects_an_unknown_schedule(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["complexity", "--schedule", "single"])
    assert exit_info.value.code == 2
    assert "--schedule" in capsys.readouterr().err


def test_the_delay_costs_only_the_inverse_epsilon_term():
    ap = X.iteration_complexity("ap")
    leading, delay = ap.leading_terms
    assert not leading.coefficient.has(C.c_D)
    assert delay.coefficient.has(C.c_D) and delay.coefficient.subs(C.c_D, 0) == 0
    assert sp.simplify(leading.coefficient - 784 * C.Delta_0 * C.L * C.sigma**2 / C.beta**2) == 0


def test_mutated_vanishing_part_with_the_delay_term_scaling_as_inverse_sqrt_k_reports_other_exponents():
    vanishing = X.vanishing_part("ap")
    terms = X.power_terms(vanishing, X.K)
    assert [term.exponent for term in terms] == [sp.Rational(-3, 2), -1, sp.Rational(-1, 2)]
    mutated = sum(term.coefficient * X.K ** (-sp.Rational(1, 2) if term.exponent == -1 else term.exponent) for term in terms)
    assert list(X.leading_exponents(mutated)) == [-2]
    assert list(X.leading_exponents(vanishing)) == [-2, -1]


def test_mutated_vanishing_part_with_a_slower_term_changes_the_leading_exponent():
    slow = X.vanishing_part("ap") + C.c_D * X.K ** sp.Rational(-1, 4)
    exponents = X.leading_exponents(slow)
    assert exponents[0] == -4
    without_delay = X.vanishing_part("ap").subs(C.c_D, 0)
    assert list(X.leading_exponents(without_delay)) == [-2]


def test_power_terms_rejects_what_is_not_a_sum_of_powers():
    with pytest.raises(ValueError):
        X.power_terms(sp.log(X.K) / X.K, X.K)
    with pytest.raises(ValueError):
        X.inverse_expansion(X.K)


parameters = st.fixed_dictionaries(
    {
        "beta": st.floats(0.05, 1.0),
        "L": st.floats(0.1, 100.0),
        "sigma": st.floats(0.05, 2.0),
        "Delta_0": st.floats(0.01, 10.0),
        "c_D": st.floats(0.0, 100.0),
        "B": st.integers(1, 16),
    }
)


def _values(point: dict) -> dict:
    return {getattr(C, name): value for name, value in point.items()}


@given(parameters, st.sampled_from(X.SCHEDULES))
def test_expansion_inverts_the_vanishing_part(point, schedule):
    values = _values(point)
    terms = [(float(term.coefficient.subs(values)), float(-term.exponent)) for term in X.power_terms(X.vanishing_part(schedule), X.K)]
    (lead, half), others = terms[-1], terms[:-1]
    assert half == 0.5
    # a K deep in the small-ε regime: every other term below 1e-3 of the leading one
    K = float(X.regime_threshold(schedule).subs(values)) * 1e4
    for coefficient, decay in others:
        if coefficient > 0:
            K = max(K, (1e3 * coefficient / lead) ** (1 / (decay - half)))
    epsilon = sum(coefficient * K**-decay for coefficient, decay in terms)
    expansion = sum(term.expression(X.epsilon) for term in X.iteration_complexity(schedule).expansion).subs(values)
    assert float(expansion.subs(X.epsilon, epsilon)) == pytest.approx(K, rel=1e-6)


@given(parameters, st.sampled_from(X.SCHEDULES), st.floats(1e-4, 1.0))
def test_o_form_iterations_are_enough_in_every_regime(point, schedule, epsilon):
    values = _values(point)
    K = float(X.o_form_iterations(schedule).subs({**values, X.epsilon: epsilon}))
    assert float(C.RATE_CONSTANT * X.o_form(schedule).subs({**values, X.K: K})) == pytest.approx(epsilon, rel=1e-9)
    theorem = X.theorem_for(schedule)
    chosen = float(C.chosen_step_size(X.variance(schedule)).subs({**values, X.K: K}))
    vanishing = float(theorem.vanishing_part.subs({**values, C.alpha: chosen, X.K: K}))
    assert vanishing <= epsilon * (1 + 1e-9)


def test_o_form_keeps_an_inverse_epsilon_term_even_without_delay():
    for schedule in X.SCHEDULES:
        assert list(X.iteration_complexity(schedule).o_form_leading_exponents) == [-2, -1]


def test_clock_cycles_match_model_per_schedule():
    single_micro_batch = X.iteration_complexity("ap").leading_terms[0].coefficient.subs(C.c_D, 0) * X.epsilon**-2
    assert sp.simplify(X.clock_cycles("ap") - 2 * X.iteration_complexity("ap").iterations) == 0
    M, B = sp.Symbol("M", integer=True, positive=True), C.B
    assert sp.simplify(X.clock_cycles("sp") - 2 * (B + M - 1) * single_micro_batch / B) == 0
    assert sp.simplify(X.clock_cycles("wop") - 2 * M * single_micro_batch) == 0


def test_asymptotic_floor_per_schedule():
    sigma, W_max, tau, B = C.sigma, C.W_max, C.tau, C.B
    assert sp.simplify(X.asymptotic_floor("ap") - 4 * sigma**2 * W_max**2 / (tau - W_max) ** 2) == 0
    assert sp.simplify(X.asymptotic_floor("sp") - 4 * sigma**2 * W_max**2 / (B * (tau - W_max) ** 2)) == 0
    assert not X.asymptotic_floor("ap").has(X.K)
    values = {sigma: 0.3, W_max: 0.6, tau: 1.5}
    beta = 1 - 0.6 / 1.5
    assert float(X.asymptotic_floor("ap").subs(values)) == pytest.approx(4 * 0.09 * 0.36 / (beta**2 * 1.5**2), rel=1e-12)
    assert math.isclose(float(X.asymptotic_floor("wop").subs({**values, B: 4})), float(X.asymptotic_floor("ap").subs(values)) / 4)

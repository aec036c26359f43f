"""theory.complexity and `complexity`: K(ε) per schedule in both forms of MODEL.md §5 (fixed σ > 0
and uniform in σ), their exponents and coefficients (and a mutated bound that changes them), the
sufficiency of each K(ε), the exact small-ε expansion, and the clock cycles per schedule."""

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
from theory import schedules as closed_forms

EXPECTED = {
    # schedule: (fixed-sigma exponents, uniform exponents)
    "ap": ([-2, -1], [-2, -1.5, -1]),
    "pipedream": ([-2, -1], [-2, -1.5, -1]),
    "2bw": ([-2, -1], [-2, -1.5, -1]),
    "sp": ([-2, -1], [-2, -1]),
    "1f1b": ([-2, -1], [-2, -1]),
    "wop": ([-2, -1], [-2, -1]),
}


def run_json(capsys, *arguments: str) -> dict:
    assert main(["complexity", *arguments, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("schedule", X.SCHEDULES)
def test_complexity_command_reports_both_forms_with_exponents_and_coefficients(capsys, schedule):
    summary = run_json(capsys, "--schedule", schedule)
    assert summary["schedule"] == schedule
    assert summary["theorem"] == ("async-convergence" if schedule in X.ASYNCHRONOUS else "sync-convergence")
    fixed, uniform = EXPECTED[schedule]
    forms = summary["forms"]
    assert set(forms) == {"fixed-sigma", "uniform"}
    for form, exponents in (("fixed-sigma", fixed), ("uniform", uniform)):
        entry = forms[form]
        assert entry["exponents"] == exponents
        assert [term["exponent"] for term in entry["iterations"]["terms"]] == exponents
        assert [term["exponent"] for term in entry["clock_cycles"]["terms"]] == exponents
        for term in entry["iterations"]["terms"] + entry["clock_cycles"]["terms"]:
            assert term["coefficient"]["text"] and term["coefficient"]["latex"]
            assert sp.sympify(term["coefficient"]["text"], locals={"beta": C.beta}).free_symbols  # a sympy expression, not a number
        for key in ("step_size", "vanishing_bound", "iterations", "clock_cycles"):
            assert entry[key]["text"] and entry[key]["latex"]
    for key in ("delay_constant", "variance_per_update", "slots_per_update", "asymptotic_floor"):
        assert "text" in summary[key] and "latex" in summary[key]
    assert summary["asymptotic"]["exponents"] == ([-2, -1] if schedule in X.ASYNCHRONOUS else [-2])


def test_complexity_command_without_schedule_reports_all_six_and_prints_a_table(capsys):
    summary = run_json(capsys)
    assert [entry["schedule"] for entry in summary["schedules"]] == list(X.SCHEDULES)
    assert set(X.SCHEDULES) == {"sp", "1f1b", "wop", "ap", "pipedream", "2bw"}
    assert main(["complexity", "--schedule", "ap"]) == 0
    table = capsys.readouterr().out
    assert "schedule ap" in table and "exponents of ε" in table and "fixed-sigma" in table and "uniform" in table
    assert "-2, -3/2, -1" in table and "coefficient of ε^-3/2" in table


def test_complexity_command_rejects_an_unknown_schedule(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["complexity", "--schedule", "single"])
    assert exit_info.value.code == 2
    assert "--schedule" in capsys.readouterr().err


# ----------------------------------------------------------------------------- the coefficients


def test_fixed_sigma_form_pays_for_the_delay_with_c_d_squared_over_sigma_squared():
    ap = X.complexity_form("ap", "fixed-sigma")
    Delta_0, L, q_max, beta, sigma, c_D = C.Delta_0, C.L, C.q_max, C.beta, C.sigma, C.c_D
    assert sp.simplify(ap.coefficient(-2) - 100 * Delta_0 * L * q_max**2 * sigma**2 / beta**2) == 0
    assert sp.simplify(ap.coefficient(-1) - (48 * L * q_max**2 * Delta_0 / beta**2 + 10 * c_D**2 * Delta_0 / (L * sigma**2 * beta**2))) == 0
    assert sp.limit(ap.coefficient(-1).subs(c_D, 1), sigma, 0, "+") == sp.oo  # degenerates as σ → 0
    assert not ap.coefficient(-2).has(c_D)  # the delay costs only the ε⁻¹ term
    sync = X.complexity_form("sp", "fixed-sigma")
    assert sp.simplify(sync.coefficient(-1) - ap.coefficient(-1).subs(c_D, 0)) == 0


def test_uniform_form_is_uniform_in_sigma():
    ap = X.complexity_form("ap", "uniform")
    Delta_0, L, q_max, beta, sigma, c_D = C.Delta_0, C.L, C.q_max, C.beta, C.sigma, C.c_D
    assert sp.simplify(ap.coefficient(-2) - sp.Rational(1600, 9) * Delta_0 * L * q_max**2 * sigma**2 / beta**2) == 0
    assert sp.simplify(ap.coefficient(sp.Rational(-3, 2)) - 216 * q_max * c_D * Delta_0 / beta**2) == 0
    assert sp.simplify(ap.coefficient(-1) - 64 * L * q_max**2 * Delta_0 / beta**2) == 0
    for exponent in (sp.Rational(-3, 2), -1):
        assert not ap.coefficient(exponent).has(sigma)
    assert ap.coefficient(-2).subs(sigma, 0) == 0  # σ²ε⁻²
    # without delay the two forms coincide (synchronous schedules)
    for schedule in X.SYNCHRONOUS:
        assert sp.simplify(X.complexity_form(schedule, "uniform").iterations - X.complexity_form(schedule, "fixed-sigma").iterations) == 0


def test_sync_pays_sigma_squared_over_b_and_2bw_keeps_the_delay():
    ap, sp_, two = (X.complexity_form(schedule, "fixed-sigma") for schedule in ("ap", "sp", "2bw"))
    assert sp.simplify(sp_.coefficient(-2) - ap.coefficient(-2) / C.B) == 0  # K_sync ≈ K_ap / B where σ² dominates
    assert sp.simplify(two.coefficient(-2) - ap.coefficient(-2) / C.B) == 0
    assert two.coefficient(-1).has(C.c_D) and not sp_.coefficient(-1).has(C.c_D)
    assert X.complexity_form("pipedream", "uniform").terms == X.complexity_form("ap", "uniform").terms


def test_mutated_bound_with_the_delay_term_decaying_like_inverse_sqrt_k_loses_the_three_halves():
    bound = X.vanishing_bound("ap", "uniform")
    terms = {term.exponent: term.coefficient for term in X.power_terms(bound, X.K)}
    assert sorted(terms) == [-1, sp.Rational(-2, 3), sp.Rational(-1, 2)]
    mutated = sum(coefficient * X.K ** (sp.Rational(-1, 2) if exponent == sp.Rational(-2, 3) else exponent) for exponent, coefficient in terms.items())
    assert [term.exponent for term in X.form_iterations(mutated, "uniform")] == [-2, -1]
    assert [term.exponent for term in X.form_iterations(bound, "uniform")] == [-2, sp.Rational(-3, 2), -1]


def test_mutated_bound_with_a_slower_term_changes_the_leading_exponent():
    slow = X.vanishing_bound("ap", "uniform") + C.c_D * X.K ** sp.Rational(-1, 4)
    assert [term.exponent for term in X.form_iterations(slow, "uniform")][0] == -4
    with pytest.raises(ValueError, match="fixed-sigma"):
        X.form_iterations(X.vanishing_bound("ap", "uniform"), "fixed-sigma")


def test_power_terms_rejects_what_is_not_a_sum_of_powers():
    with pytest.raises(ValueError):
        X.power_terms(sp.log(X.K) / X.K, X.K)
    with pytest.raises(ValueError):
        X.inverse_expansion(X.K)
    with pytest.raises(ValueError):
        X.form_iterations(X.K, "uniform")
    with pytest.raises(ValueError, match="unknown form"):
        X.complexity_form("ap", "paper")


# ----------------------------------------------------------------------------- sufficiency


parameters = st.fixed_dictionaries(
    {
        "beta_fraction": st.floats(0.05, 1.0),
        "q_max": st.floats(0.5, 4.0),
        "L": st.floats(0.1, 100.0),
        "sigma": st.floats(0.05, 2.0),
        "Delta_0": st.floats(0.01, 10.0),
        "c_D": st.floats(0.0, 100.0),
        "B": st.integers(1, 16),
    }
)


def _values(point: dict, sigma: float | None = None) -> dict:
    values = {"q_max": point["q_max"], "beta": point["beta_fraction"] * point["q_max"], "L": point["L"], "Delta_0": point["Delta_0"], "c_D": point["c_D"], "B": point["B"]}
    values["sigma"] = point["sigma"] if sigma is None else sigma
    return values


def _symbols(values: dict) -> dict:
    return {getattr(C, name): value for name, value in values.items()}


def _vanishing_at(schedule: str, form: str, values: dict, K: float) -> float:
    """The vanishing part of the schedule's right side at the form's α, by floats (a branch with a zero denominator is +inf)."""
    alpha = C.evaluate(X.chosen_step_size(schedule, form), {**values, "K": K})
    return C.evaluate(C.vanishing_part(X.terms(schedule)), {**values, "K": K, "alpha": alpha})


@given(parameters, st.sampled_from(X.SCHEDULES), st.sampled_from(X.FORMS), st.floats(1e-4, 1.0))
def test_each_forms_k_of_epsilon_is_enough(point, schedule, form, epsilon):
    values = _values(point)
    result = X.complexity_form(schedule, form)
    K = C.evaluate(result.iterations, {**values, "epsilon": epsilon})
    assert K > 0
    assert C.evaluate(result.bound, {**values, "K": K}) <= epsilon * (1 + 1e-9)
    assert _vanishing_at(schedule, form, values, K) <= epsilon * (1 + 1e-9)


@given(parameters, st.sampled_from(X.ASYNCHRONOUS), st.floats(1e-4, 1.0))
def test_the_uniform_form_holds_at_sigma_zero(point, schedule, epsilon):
    values = _values(point, sigma=0.0)
    uniform = X.complexity_form(schedule, "uniform")
    K = C.evaluate(uniform.iterations, {**values, "epsilon": epsilon})
    assert math.isfinite(K) and C.evaluate(uniform.bound, {**values, "K": K}) <= epsilon * (1 + 1e-9)
    assert _vanishing_at(schedule, "uniform", values, K) <= epsilon * (1 + 1e-9)


# ----------------------------------------------------------------------------- exact expansion


@given(parameters, st.sampled_from(X.SCHEDULES))
def test_expansion_inverts_the_vanishing_part(point, schedule):
    values = _symbols(_values(point))
    terms = [(float(term.coefficient.subs(values)), float(-term.exponent)) for term in X.power_terms(X.vanishing_part(schedule), X.K)]
    lead, half = terms[0][0], terms[0][1]
    for coefficient, decay in terms:
        if decay == 0.5:
            lead, half = coefficient, decay
    assert half == 0.5
    result = X.iteration_complexity(schedule)
    # a K deep in the small-ε regime: past both thresholds, every other term below 1e-3 of the leading one
    K = max(float(result.regime_threshold.subs(values)), float(result.delay_regime_threshold.subs(values)), 1.0) * 1e4
    for coefficient, decay in terms:
        if decay != 0.5 and coefficient > 0:
            K = max(K, (1e3 * coefficient / lead) ** (1 / (decay - half)))
    epsilon = sum(coefficient * K**-decay for coefficient, decay in terms)
    expansion = sum(term.expression(X.epsilon) for term in result.expansion).subs(values)
    assert float(expansion.subs(X.epsilon, epsilon)) == pytest.approx(K, rel=1e-6)


def test_exact_expansion_exponents_and_the_paper_schedules():
    assert X.PAPER_SCHEDULES == ("sp", "ap", "wop")
    assert list(X.iteration_complexity("ap").leading_exponents) == [-2, -1]
    assert list(X.iteration_complexity("sp").leading_exponents) == [-2]
    assert list(X.iteration_complexity("ap").o_form_leading_exponents) == [-2, -1]
    assert list(X.iteration_complexity("sp").o_form_leading_exponents) == [-2, -1]
    leading, delay = X.iteration_complexity("ap").leading_terms
    assert not leading.coefficient.has(C.c_D) and delay.coefficient.subs(C.c_D, 0) == 0


# ----------------------------------------------------------------------------- clock cycles


def test_slots_per_update_follow_model_and_the_schedule_closed_forms():
    M, B = X.M, X.B
    assert X.slots_per_update("ap") == X.slots_per_update("pipedream") == 2
    assert X.slots_per_update("2bw") == 2 * B
    assert X.slots_per_update("sp") == X.slots_per_update("1f1b") == 2 * (B + M - 1)
    assert X.slots_per_update("wop") == 2 * M * B
    renamed = {closed_forms.M: M, closed_forms.B: B}
    for schedule in ("sp", "wop", "ap"):
        assert sp.simplify(closed_forms.slots_per_mini_batch(schedule).xreplace(renamed) - X.slots_per_update(schedule)) == 0


@pytest.mark.parametrize("form", X.FORMS)
def test_clock_cycles_match_model_per_schedule(form):
    M, B = X.M, X.B
    K_ap = X.complexity_form("ap", form).iterations
    K_sync = X.complexity_form("sp", form).iterations
    assert sp.simplify(X.clock_cycles("ap", form) - 2 * K_ap) == 0
    assert sp.simplify(X.clock_cycles("pipedream", form) - 2 * K_ap) == 0
    assert sp.simplify(X.clock_cycles("2bw", form) - 2 * B * X.complexity_form("2bw", form).iterations) == 0
    assert sp.simplify(X.clock_cycles("sp", form) - 2 * (B + M - 1) * K_sync) == 0
    assert sp.simplify(X.clock_cycles("1f1b", form) - 2 * (B + M - 1) * K_sync) == 0
    assert sp.simplify(X.clock_cycles("wop", form) - 2 * M * B * K_sync) == 0
    # where σ² dominates, AP's speed-up over SP is (B + M − 1)/B (exactly in the fixed-sigma form; the
    # uniform one gives AP's σ² term only ¾ of ε, which costs it a factor 16/9)
    ratio = X.complexity_form("sp", form).clock_terms[0].coefficient / X.complexity_form("ap", form).clock_terms[0].coefficient
    factor = 1 if form == "fixed-sigma" else sp.Rational(9, 16)
    assert sp.simplify(ratio - factor * (B + M - 1) / B) == 0


def test_asymptotic_floor_per_schedule():
    sigma, G_max, beta, B = C.sigma, C.G_max, C.beta, C.B
    assert sp.simplify(X.asymptotic_floor("ap") - 4 * G_max**2 * sigma**2 / beta**2) == 0
    for schedule in ("sp", "1f1b", "wop", "2bw"):
        assert sp.simplify(X.asymptotic_floor(schedule) - 4 * G_max**2 * sigma**2 / (B * beta**2)) == 0
    assert not X.asymptotic_floor("ap").has(X.K)
    ald = C.evaluate(X.asymptotic_floor("ap"), {"sigma": 0.3, "W_max": 0.6, "tau": 1.5})
    assert ald == pytest.approx(4 * 0.09 * 0.36 / (1.5 - 0.6) ** 2, rel=1e-12)

"""theory.convergence: the theorems' right sides against an independent float implementation,
the step-size implication, the digital limit, the rate after choosing α, and the floor."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from theory import convergence as C
from theory import symbols as S


def async_rhs_float(alpha, beta, L, sigma, Delta_0, K, c_D, W_max, tau):
    descent = 4 * Delta_0 / (alpha * beta * K)
    noise = 24 * L * alpha * sigma**2 / beta
    floor = 4 * sigma**2 * W_max**2 / (beta**2 * tau**2)
    delay = alpha**2 * c_D**2 * (16 / beta**2 + 24 * L * alpha / beta)
    return descent + noise + floor + delay


def sync_rhs_float(alpha, beta, L, sigma, Delta_0, K, B, W_max, tau):
    return async_rhs_float(alpha, beta, L, sigma / math.sqrt(B), Delta_0, K, 0.0, W_max, tau)


def vanishing_at_chosen_alpha_float(beta, L, sigma, Delta_0, K, c_D):
    alpha = min(beta / (24 * L), math.sqrt(Delta_0 / (L * sigma**2 * K)))
    return 4 * Delta_0 / (alpha * beta * K) + 24 * L * alpha * sigma**2 / beta + alpha**2 * c_D**2 * (16 / beta**2 + 24 * L * alpha / beta)


def o_form_float(beta, L, sigma, Delta_0, K, c_D):
    return math.sqrt(L * Delta_0 * sigma**2 / K) / beta + (L * Delta_0 + c_D**2 * Delta_0 / (L * sigma**2)) / (beta**2 * K)


def _floats(parameter: S.Parameter, low: float | None = None):
    lower, upper = parameter.typical
    return st.floats(lower if low is None else low, upper, allow_nan=False, allow_infinity=False)


points = st.fixed_dictionaries(
    {
        "alpha": _floats(S.alpha),
        "L": _floats(S.L),
        "sigma": _floats(S.sigma, 0.01),
        "Delta_0": _floats(S.Delta_0),
        "K": st.integers(1, 10**6),
        "c_D": _floats(S.c_D),
        "tau": _floats(S.tau),
        "B": st.integers(1, 16),
        "fraction": st.floats(0.0, 0.95),  # W_max = fraction · τ
    }
)


def _with_saturation(point: dict) -> dict:
    values = dict(point)
    fraction = values.pop("fraction")
    values["W_max"] = max(fraction, 1e-3) * values["tau"]
    values["beta"] = 1 - values["W_max"] / values["tau"]
    return values


@given(points)
def test_async_rhs_matches_independent_float_implementation(point):
    values = _with_saturation(point)
    expected = async_rhs_float(**{name: values[name] for name in ("alpha", "beta", "L", "sigma", "Delta_0", "K", "c_D", "W_max", "tau")})
    assert C.async_convergence().evaluate_rhs(values) == pytest.approx(expected, rel=1e-12)


@given(points)
def test_sync_rhs_matches_independent_float_implementation(point):
    values = _with_saturation(point)
    expected = sync_rhs_float(**{name: values[name] for name in ("alpha", "beta", "L", "sigma", "Delta_0", "K", "B", "W_max", "tau")})
    assert C.sync_convergence().evaluate_rhs(values) == pytest.approx(expected, rel=1e-12)


@given(points)
def test_terms_sum_to_the_right_side_and_beta_defaults_to_its_definition(point):
    values = _with_saturation(point)
    theorem = C.async_convergence()
    terms = theorem.evaluate_terms(values)
    assert tuple(terms) == C.TERM_NAMES
    assert sum(terms.values()) == pytest.approx(theorem.evaluate_rhs(values), rel=1e-12)
    without_beta = {name: value for name, value in values.items() if name != "beta"}
    assert theorem.evaluate_rhs(without_beta) == pytest.approx(theorem.evaluate_rhs(values), rel=1e-12)


def test_evaluate_rhs_broadcasts_arrays_and_names_missing_values():
    theorem = C.async_convergence()
    values = dict(alpha=np.array([1e-3, 1e-2, 1e-1]), L=2.0, sigma=0.5, Delta_0=1.0, K=100, c_D=3.0, W_max=0.4, tau=2.0)
    result = theorem.evaluate_rhs(values)
    assert result.shape == (3,)
    expected = [async_rhs_float(a, 0.8, 2.0, 0.5, 1.0, 100, 3.0, 0.4, 2.0) for a in values["alpha"]]
    np.testing.assert_allclose(result, expected, rtol=1e-12)
    with pytest.raises(KeyError, match="c_D"):
        theorem.evaluate_rhs({name: value for name, value in values.items() if name != "c_D"})


def test_theorem_objects_carry_ids_labels_hypotheses_and_latex():
    sync, asynchronous = C.theorems()
    assert (sync.id, asynchronous.id) == ("sync-convergence", "async-convergence")
    assert sync.paper_label == "theorem:ASGD-sync-convergence-noncvx-linear"
    assert asynchronous.paper_label == "theorem:ASGD-async-convergence-noncvx-linear"
    assert C.step_size_condition() in [hypothesis.relation for hypothesis in asynchronous.hypotheses]
    assert "c_D" in asynchronous.symbol_names and "c_D" not in sync.symbol_names and "B" in sync.symbol_names
    assert r"\le" in asynchronous.latex() and r"\Delta_{0}" in asynchronous.latex() and r"W_{\max}" in asynchronous.latex()
    assert asynchronous.lhs_text == "(1/K) Σ_{k<K} E||∇f(W^{(k)})||²"
    assert C.theorem("sync-convergence") is sync
    with pytest.raises(KeyError):
        C.theorem("iteration-complexity")


def test_sync_theorem_is_the_async_one_without_delay_and_with_minibatch_variance():
    substituted = C.async_convergence().rhs.subs({C.c_D: 0, C.sigma: C.sigma / sp.sqrt(C.B)})
    assert sp.simplify(C.sync_convergence().rhs - substituted) == 0
    assert C.sync_convergence().term_dict["delay"] == 0


@given(
    beta=st.floats(0.01, 1.0),
    L=_floats(S.L),
    fraction=st.floats(1e-6, 1.0),
)
def test_step_size_condition_implies_the_absorption(beta, L, fraction):
    alpha = fraction * beta / (24 * L)
    assert 6 * L * alpha**2 <= alpha * beta / 4 * (1 + 1e-12)


def test_a_step_size_above_the_bound_breaks_the_absorption():
    beta, L = 0.5, 3.0
    alpha = 1.01 * beta / (24 * L)
    assert 6 * L * alpha**2 > alpha * beta / 4
    assert not bool(C.step_size_condition().subs({C.alpha: alpha, C.beta: beta, C.L: L}))


def test_digital_limit_drops_the_floor_and_sets_beta_to_one():
    alpha, K, L, sigma, Delta_0, c_D, B = C.alpha, C.K, C.L, C.sigma, C.Delta_0, C.c_D, C.B
    expected_async = 4 * Delta_0 / (alpha * K) + 24 * L * alpha * sigma**2 + alpha**2 * c_D**2 * (16 + 24 * L * alpha)
    assert sp.simplify(C.digital_limit(C.async_convergence().rhs) - expected_async) == 0
    assert sp.simplify(C.digital_limit(C.sync_convergence().rhs) - (4 * Delta_0 / (alpha * K) + 24 * L * alpha * sigma**2 / B)) == 0
    assert C.digital_limit(C.async_terms()["asymptotic_floor"]) == 0


@given(
    sigma=st.floats(0.01, 2.0),
    W_max=st.floats(0.05, 2.0),
    gap=st.floats(0.01, 20.0),
)
def test_asymptotic_floor_is_a_function_of_sigma_w_max_tau(sigma, W_max, gap):
    tau = W_max + gap
    floor = C.asymptotic_floor()
    assert floor.free_symbols == {C.sigma, C.W_max, C.tau}
    value = float(floor.subs({C.sigma: sigma, C.W_max: W_max, C.tau: tau}))
    beta = 1 - W_max / tau
    assert value == pytest.approx(4 * sigma**2 * W_max**2 / (beta**2 * tau**2), rel=1e-12)


def test_rate_ratio_limit_is_finite():
    assert C.rate_ratio_limit() == 28
    assert C.rate_ratio_limit(C.sync_terms(), 0, C.sigma**2 / C.B) == 28


@given(
    beta=st.floats(0.01, 1.0),
    L=_floats(S.L),
    sigma=st.floats(0.01, 2.0),
    Delta_0=_floats(S.Delta_0),
    K=st.integers(1, 10**9),
    c_D=_floats(S.c_D),
)
def test_vanishing_part_at_the_chosen_alpha_is_within_the_rate_constant_of_the_o_form(beta, L, sigma, Delta_0, K, c_D):
    vanishing = vanishing_at_chosen_alpha_float(beta, L, sigma, Delta_0, K, c_D)
    assert vanishing <= float(C.RATE_CONSTANT) * o_form_float(beta, L, sigma, Delta_0, K, c_D) * (1 + 1e-12)


@given(
    beta=st.floats(0.05, 1.0),
    L=_floats(S.L),
    sigma=st.floats(0.05, 2.0),
    Delta_0=_floats(S.Delta_0),
    c_D=_floats(S.c_D),
    scale=st.floats(1.0, 100.0),
)
def test_symbolic_vanishing_part_in_each_regime_matches_float(beta, L, sigma, Delta_0, c_D, scale):
    values = {C.beta: beta, C.L: L, C.sigma: sigma, C.Delta_0: Delta_0, C.c_D: c_D}
    threshold = float(C.regime_threshold().subs(values))
    for regime, K in (("sqrt-branch", threshold * scale), ("step-size-branch", threshold / scale)):
        symbolic = float(C.vanishing_part_at_chosen_step(C.async_terms(), regime).subs({**values, C.K: K}))
        assert symbolic == pytest.approx(vanishing_at_chosen_alpha_float(beta, L, sigma, Delta_0, K, c_D), rel=1e-9)


def test_evaluate_any_expression_by_symbol_names():
    floor = C.asymptotic_floor()
    assert C.evaluate(floor, {"sigma": 0.5, "W_max": 1.0, "tau": 3.0}) == pytest.approx(4 * 0.25 * 1.0 / (3.0 - 1.0) ** 2, rel=1e-12)
    values = {"beta": 0.5, "L": 2.0, "K": np.array([10.0, 1000.0]), "Delta_0": 1.0, "sigma": 0.3}
    chosen = C.evaluate(C.chosen_step_size(), values)
    np.testing.assert_allclose(chosen, [min(0.5 / 48, math.sqrt(1.0 / (2.0 * 0.09 * K))) for K in (10.0, 1000.0)], rtol=1e-12)
    with pytest.raises(KeyError, match="sigma"):
        C.evaluate(floor, {"W_max": 1.0, "tau": 3.0})

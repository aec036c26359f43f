"""theory.convergence (MODEL.md §5, version 2): the right sides against an independent float
implementation, the ALD special case and its familiar form, the digital case, the device
constants of §2 against a brute-force grid, the three-branch step size and the bound on
the vanishing part at it (in every branch), and the paper's two-branch delay bound."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from theory import convergence as C
from theory import symbols as S

# ----------------------------------------------------------------------------- independent floats


def rhs_float(alpha, beta, q_max, G_max, L, variance, Delta_0, K, c_D):
    descent = 4 * Delta_0 / (alpha * beta * K)
    noise = 6 * L * alpha * q_max**2 * variance / beta
    floor = 4 * G_max**2 * variance / beta**2
    delay = alpha**2 * c_D**2 * q_max**2 * (4 / beta**2 + 6 * L * alpha / beta)
    return {"descent": descent, "noise": noise, "asymptotic_floor": floor, "delay": delay}


def branches_float(beta, q_max, L, variance, Delta_0, K, c_D):
    """The branches of the chosen α, those with a zero denominator dropped."""
    found = {"step-size-branch": beta / (6 * L * q_max**2)}
    if variance > 0:
        found["sqrt-branch"] = math.sqrt(Delta_0 / (L * q_max**2 * variance * K))
    if c_D**2 > 0:
        found["delay-branch"] = (beta * Delta_0 / (q_max**2 * c_D**2 * K)) ** (1 / 3)
    return found


def vanishing_float(alpha, beta, q_max, L, variance, Delta_0, K, c_D):
    terms = rhs_float(alpha, beta, q_max, 0.0, L, variance, Delta_0, K, c_D)
    return terms["descent"] + terms["noise"] + terms["delay"]


def bound_float(beta, q_max, L, variance, Delta_0, K, c_D, constants=(10, 24, 9)):
    a, b, c = constants
    return a * q_max * math.sqrt(L * Delta_0 * variance / K) / beta + b * L * q_max**2 * Delta_0 / (beta**2 * K) + c * (q_max * c_D * Delta_0) ** (2 / 3) / (beta ** (4 / 3) * K ** (2 / 3))


def _floats(parameter: S.Parameter, low: float | None = None, high: float | None = None):
    lower, upper = parameter.typical
    return st.floats(lower if low is None else low, upper if high is None else high, allow_nan=False, allow_infinity=False)


# β ≤ q_max always (a minimum is at most a maximum): draw q_max, then β as a fraction of it.
devices = st.fixed_dictionaries({"q_max": _floats(S.q_max), "beta_fraction": st.floats(0.01, 1.0), "G_max": _floats(S.G_max)})

points = st.fixed_dictionaries(
    {
        "alpha": _floats(S.alpha),
        "L": _floats(S.L),
        "sigma": _floats(S.sigma),
        "Delta_0": _floats(S.Delta_0),
        "K": st.integers(1, 10**6),
        "c_D": _floats(S.c_D),
        "B": st.integers(1, 16),
        "device": devices,
    }
)


def _values(point: dict) -> dict:
    values = {name: value for name, value in point.items() if name != "device"}
    device = point["device"]
    values.update(q_max=device["q_max"], beta=device["beta_fraction"] * device["q_max"], G_max=device["G_max"])
    return values


def _expected(values: dict, variance: float, c_D: float) -> dict:
    return rhs_float(values["alpha"], values["beta"], values["q_max"], values["G_max"], values["L"], variance, values["Delta_0"], values["K"], c_D)


@given(points)
def test_async_rhs_matches_independent_float_implementation(point):
    values = _values(point)
    expected = _expected(values, values["sigma"] ** 2, values["c_D"])
    assert C.async_convergence().evaluate_terms(values) == pytest.approx(expected, rel=1e-12, abs=1e-300)
    assert C.async_convergence().evaluate_rhs(values) == pytest.approx(sum(expected.values()), rel=1e-12)


@given(points)
def test_sync_rhs_is_the_async_one_without_delay_and_with_mini_batch_variance(point):
    values = _values(point)
    expected = _expected(values, values["sigma"] ** 2 / values["B"], 0.0)
    assert C.sync_convergence().evaluate_rhs(values) == pytest.approx(sum(expected.values()), rel=1e-12)
    substituted = C.async_convergence().rhs.subs({C.c_D: 0, C.sigma: C.sigma / sp.sqrt(C.B)})
    assert sp.simplify(C.sync_convergence().rhs - substituted) == 0
    assert C.sync_convergence().term_dict["delay"] == 0


def test_terms_are_named_in_models_order_and_use_the_device_constants():
    theorem = C.async_convergence()
    assert tuple(theorem.term_dict) == C.TERM_NAMES
    assert {"beta", "q_max", "G_max"} <= set(theorem.symbol_names) and "tau" not in theorem.symbol_names
    assert theorem.term_dict["asymptotic_floor"] == 4 * C.G_max**2 * C.sigma**2 / C.beta**2


@given(
    W_max=_floats(S.W_max),
    gap=st.floats(0.01, 20.0),
    sigma=_floats(S.sigma),
)
def test_evaluate_derives_alds_device_constants_from_w_max_and_tau(W_max, gap, sigma):
    tau = W_max + gap
    values = {"alpha": 1e-3, "L": 2.0, "sigma": sigma, "Delta_0": 1.0, "K": 100, "c_D": 3.0, "W_max": W_max, "tau": tau}
    explicit = {**values, **C.ald_device_constants(W_max, tau).values()}
    theorem = C.async_convergence()
    assert theorem.evaluate_rhs(values) == pytest.approx(theorem.evaluate_rhs(explicit), rel=1e-12)
    floor = C.evaluate(C.asymptotic_floor(), {"sigma": sigma, "W_max": W_max, "tau": tau})
    assert floor == pytest.approx(4 * sigma**2 * W_max**2 / (tau - W_max) ** 2, rel=1e-12, abs=1e-300)


def test_evaluate_broadcasts_arrays_and_names_missing_values():
    theorem = C.async_convergence()
    values = dict(alpha=np.array([1e-3, 1e-2, 1e-1]), L=2.0, sigma=0.5, Delta_0=1.0, K=100, c_D=3.0, beta=0.8, q_max=1.2, G_max=0.2)
    result = theorem.evaluate_rhs(values)
    assert result.shape == (3,)
    expected = [sum(rhs_float(a, 0.8, 1.2, 0.2, 2.0, 0.25, 1.0, 100, 3.0).values()) for a in values["alpha"]]
    np.testing.assert_allclose(result, expected, rtol=1e-12)
    with pytest.raises(KeyError, match="c_D"):
        theorem.evaluate_rhs({name: value for name, value in values.items() if name != "c_D"})
    with pytest.raises(KeyError, match="q_max"):
        theorem.evaluate_rhs({name: value for name, value in values.items() if name != "q_max"})


def test_theorem_objects_carry_ids_labels_hypotheses_and_latex():
    sync, asynchronous = C.theorems()
    assert (sync.id, asynchronous.id) == ("sync-convergence", "async-convergence")
    assert sync.paper_label == "theorem:ASGD-sync-convergence-noncvx-linear"
    assert asynchronous.paper_label == "theorem:ASGD-async-convergence-noncvx-linear"
    relations = [hypothesis.relation for hypothesis in asynchronous.hypotheses]
    assert C.step_size_condition() in relations
    assert sp.Le(C.alpha, C.beta / (6 * C.L * C.q_max**2)) in relations
    assert "c_D" in asynchronous.symbol_names and "c_D" not in sync.symbol_names and "B" in sync.symbol_names
    latex = asynchronous.latex()
    assert r"\le" in latex and r"\Delta_{0}" in latex and r"q_{\max}" in latex and r"G_{\max}" in latex
    assert asynchronous.lhs_text == "(1/K) Σ_{k<K} E||∇f(W^{(k)})||²"
    assert C.theorem("sync-convergence") is sync
    with pytest.raises(KeyError):
        C.theorem("iteration-complexity")


# ----------------------------------------------------------------------------- ALD and digital special cases


def test_alds_worst_case_gives_the_familiar_form_and_step_size():
    for theorem, variance in ((C.async_convergence(), C.sigma**2), (C.sync_convergence(), C.sigma**2 / C.B)):
        delay = C.c_D if theorem.id == "async-convergence" else 0
        familiar = C.ald_familiar_terms(delay, variance)
        for name, term in theorem.term_dict.items():
            assert sp.simplify(C.ald_worst_case(term) - familiar[name]) == 0, name
    # written out by hand, as MODEL.md prints it
    alpha, beta, L, sigma, Delta_0, K, c_D, W_max, tau = C.alpha, C.beta, C.L, C.sigma, C.Delta_0, C.K, C.c_D, C.W_max, C.tau
    model = 4 * Delta_0 / (alpha * beta * K) + 24 * L * alpha * sigma**2 / beta + 4 * sigma**2 * W_max**2 / (beta**2 * tau**2) + alpha**2 * c_D**2 * (16 / beta**2 + 24 * L * alpha / beta)
    assert sp.simplify(C.ald_worst_case(C.async_convergence().rhs) - model) == 0
    assert sp.simplify(C.ald_worst_case(C.step_size_bound()) - beta / (24 * L)) == 0


def test_a_wrong_familiar_form_is_told_apart():
    wrong = C.ald_familiar_terms()
    wrong["noise"] = 6 * C.L * C.alpha * C.sigma**2 / C.beta  # q_max² dropped
    assert sp.simplify(C.ald_worst_case(C.async_convergence().rhs) - C.total(wrong)) != 0


@given(W_max=_floats(S.W_max), gap=st.floats(1e-3, 20.0))
def test_ald_constants_are_within_the_worst_case(W_max, gap):
    tau = W_max + gap
    constants = C.ald_device_constants(W_max, tau)
    assert constants.q_max <= 2 and constants.beta > 0
    assert constants.beta + constants.q_max == pytest.approx(2.0, rel=1e-12)
    assert constants.G_max == pytest.approx(W_max / tau, rel=1e-12)


def test_digital_sgd_sets_beta_and_q_max_to_one_and_drops_the_floor():
    alpha, K, L, sigma, Delta_0, c_D, B = C.alpha, C.K, C.L, C.sigma, C.Delta_0, C.c_D, C.B
    expected_async = 4 * Delta_0 / (alpha * K) + 6 * L * alpha * sigma**2 + alpha**2 * c_D**2 * (4 + 6 * L * alpha)
    assert sp.simplify(C.digital_limit(C.async_convergence().rhs) - expected_async) == 0
    assert sp.simplify(C.digital_limit(C.sync_convergence().rhs) - (4 * Delta_0 / (alpha * K) + 6 * L * alpha * sigma**2 / B)) == 0
    assert C.digital_limit(C.asymptotic_floor()) == 0
    ald = C.ALD_CONSTANTS
    assert [sp.limit(value, C.tau, sp.oo) for value in ald] == [1, 1, 0]


# ----------------------------------------------------------------------------- device constants vs a grid


@given(
    gamma_up=_floats(S.gamma_up),
    gamma_down=_floats(S.gamma_down),
    exponent=_floats(S.exponent),
    tau=_floats(S.tau),
    fraction=st.floats(0.0, 0.95),
)
def test_softbounds_constants_match_a_brute_force_grid(gamma_up, gamma_down, exponent, tau, fraction):
    W_max = fraction * tau
    constants = C.softbounds_device_constants(W_max, tau, gamma_up, gamma_down, exponent)
    grid = np.linspace(-W_max, W_max, 2001)
    up = gamma_up * np.maximum(1 - grid / tau, 0) ** exponent
    down = gamma_down * np.maximum(1 + grid / tau, 0) ** exponent
    assert constants.beta == pytest.approx(float(np.min(np.minimum(up, down))), rel=1e-12)
    assert constants.q_max == pytest.approx(float(np.max(np.maximum(up, down))), rel=1e-12)
    assert constants.G_max == pytest.approx(float(np.max(np.abs(down - up) / 2)), rel=1e-12, abs=1e-15)
    assert np.all(np.diff(down - up) >= -1e-12)  # q₋ − q₊ is increasing: |G| peaks at ±W_max
    assert 0 < constants.beta <= constants.q_max
    assert C.response_up(0.3 * W_max, tau, gamma_up, exponent) == pytest.approx(gamma_up * (1 - 0.3 * W_max / tau) ** exponent)


def test_ald_is_softbounds_with_unit_gains_and_exponent_and_the_symbolic_path_agrees():
    for W_max, tau in ((0.0, 1.0), (0.4, 2.0), (1.9, 2.0)):
        assert C.ald_device_constants(W_max, tau) == pytest.approx(C.softbounds_device_constants(W_max, tau, 1, 1, 1), rel=1e-15)
    symbolic = C.softbounds_device_constants(C.W_max, C.tau, C.gamma_up, C.gamma_down, C.p)
    values = {C.W_max: sp.Rational(1, 2), C.tau: 2, C.gamma_up: sp.Rational(3, 2), C.gamma_down: sp.Rational(1, 2), C.p: 2}
    numeric = C.softbounds_device_constants(0.5, 2.0, 1.5, 0.5, 2.0)
    assert [float(value.subs(values)) for value in symbolic] == pytest.approx(list(numeric), rel=1e-12)
    ald = C.softbounds_device_constants(C.W_max, C.tau)
    assert all(sp.simplify(value - expected.subs({C.W_max: C.W_max})) == 0 for value, expected in zip((ald.beta, ald.q_max), C.ALD_CONSTANTS[:2]))


@pytest.mark.parametrize(("arguments", "message"), [((2.0, 1.0), "W_max < τ"), ((0.5, 1.0, 0.0), "γ₊"), ((0.5, 1.0, 1.0, 1.0, -1.0), "p")])
def test_device_constants_reject_values_outside_the_model(arguments, message):
    with pytest.raises(ValueError, match=message):
        C.softbounds_device_constants(*arguments)


# ----------------------------------------------------------------------------- step size and its absorption


@given(beta=st.floats(0.01, 4.0), q_max=_floats(S.q_max), L=_floats(S.L), fraction=st.floats(1e-6, 1.0))
def test_step_size_condition_implies_the_absorption(beta, q_max, L, fraction):
    alpha = fraction * beta / (6 * L * q_max**2)
    assert 1.5 * L * alpha**2 * q_max**2 <= alpha * beta / 4 * (1 + 1e-12)


def test_a_step_size_above_the_bound_breaks_the_absorption():
    beta, L, q_max = 0.5, 3.0, 1.5
    alpha = 1.01 * beta / (6 * L * q_max**2)
    assert 1.5 * L * alpha**2 * q_max**2 > alpha * beta / 4
    assert not bool(C.step_size_condition().subs({C.alpha: alpha, C.beta: beta, C.L: L, C.q_max: q_max}))


def test_chosen_step_size_drops_branches_whose_denominator_is_zero():
    assert len(C.chosen_step_size().args) == 3
    assert C.chosen_step_size(C.sigma**2, 0) == sp.Min(C.step_size_bound(), C.sqrt_step_size())
    assert C.chosen_step_size(0, C.c_D) == sp.Min(C.step_size_bound(), C.delay_step_size())
    assert C.chosen_step_size(0, 0) == C.step_size_bound()
    assert C.paper_step_size() == sp.Min(C.step_size_bound(), C.sqrt_step_size())
    values = {"beta": 0.5, "L": 2.0, "q_max": 1.5, "Delta_0": 1.0, "K": np.array([10.0, 1e8]), "sigma": 0.0, "c_D": 0.0}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        chosen = C.evaluate(C.chosen_step_size(), values)  # σ = c_D = 0 as values: the dropped branches are +inf
    np.testing.assert_allclose(chosen, [0.5 / (6 * 2.0 * 2.25)] * 2, rtol=1e-12)


@given(
    beta_fraction=st.floats(0.05, 1.0),
    q_max=_floats(S.q_max),
    L=_floats(S.L),
    sigma=st.floats(0.05, 2.0),
    Delta_0=_floats(S.Delta_0),
    c_D=st.floats(0.1, 100.0),
    scale=st.floats(1.01, 100.0),
)
def test_regime_thresholds_separate_the_branches(beta_fraction, q_max, L, sigma, Delta_0, c_D, scale):
    beta = beta_fraction * q_max
    values = {"beta": beta, "q_max": q_max, "L": L, "sigma": sigma, "Delta_0": Delta_0, "c_D": c_D}
    cap = C.evaluate(C.regime_threshold(), values)  # sqrt branch ≤ β/(6Lq_max²) iff K ≥ cap
    delay = C.evaluate(C.delay_regime_threshold(), values)  # sqrt branch ≤ delay branch iff K ≥ delay
    above, below = (branches_float(beta, q_max, L, sigma**2, Delta_0, K, c_D) for K in (cap * scale, cap / scale))
    assert above["sqrt-branch"] < above["step-size-branch"] and below["sqrt-branch"] > below["step-size-branch"]
    above, below = (branches_float(beta, q_max, L, sigma**2, Delta_0, K, c_D) for K in (delay * scale, delay / scale))
    assert above["sqrt-branch"] < above["delay-branch"] and below["sqrt-branch"] > below["delay-branch"]


# ----------------------------------------------------------------------------- the vanishing part at the chosen α, in every branch


parameters = st.fixed_dictionaries(
    {
        "beta_fraction": st.floats(0.01, 1.0),
        "q_max": _floats(S.q_max),
        "L": _floats(S.L),
        "Delta_0": _floats(S.Delta_0),
        "sigma": st.one_of(st.just(0.0), _floats(S.sigma, 1e-3)),  # σ = 0 drops the sqrt branch
        "c_D": st.one_of(st.just(0.0), _floats(S.c_D, 1e-3)),  # c_D = 0 drops the delay branch
        "B": st.integers(1, 16),
        "u": st.floats(0.0, 1.0),
        "sync": st.booleans(),
    }
)


def _setting(point: dict, branch: str, stretch: float = 1e3) -> tuple[dict, float] | None:
    """Parameters and a K at which `branch` is the minimum of the chosen α (None if impossible)."""
    beta, q_max, L, Delta_0 = point["beta_fraction"] * point["q_max"], point["q_max"], point["L"], point["Delta_0"]
    c_D = 0.0 if point["sync"] or point["c_D"] ** 2 == 0 else point["c_D"]
    variance = point["sigma"] ** 2 / (point["B"] if point["sync"] else 1)
    u = point["u"]
    cap_vs_sqrt = 36 * L * q_max**2 * Delta_0 / (beta**2 * variance) if variance > 0 else math.inf  # sqrt ≤ cap iff K ≥ this
    cap_vs_cube = 216 * L**3 * q_max**4 * Delta_0 / (beta**2 * c_D**2) if c_D > 0 else math.inf  # cube ≤ cap iff K ≥ this
    if branch == "step-size-branch":
        upper = min(cap_vs_sqrt, cap_vs_cube, 1e9)
        K = upper * (1e-6 + u * (1 - 1e-6))
    elif branch == "sqrt-branch":
        if variance == 0:
            return None
        sqrt_vs_cube = Delta_0 * c_D**4 / (beta**2 * L**3 * q_max**2 * variance**3)  # sqrt ≤ cube iff K ≥ this
        K = max(cap_vs_sqrt, sqrt_vs_cube, 1e-6) * (1 + stretch * u)
    else:
        if c_D == 0:
            return None
        K = cap_vs_cube * (1 + stretch * u)
        # σ small enough for the cube branch to stay below the sqrt branch at this K
        variance = min(variance, (Delta_0 * c_D**4 / (beta**2 * L**3 * q_max**2 * K)) ** (1 / 3) * u)
    values = {"beta": beta, "q_max": q_max, "L": L, "Delta_0": Delta_0, "c_D": c_D, "variance": variance}
    return values, K


@pytest.mark.parametrize("branch", C.REGIMES)
@given(point=parameters)
def test_vanishing_part_at_the_chosen_alpha_is_within_the_bound(branch, point):
    setting = _setting(point, branch)
    if setting is None:
        return
    values, K = setting
    found = branches_float(values["beta"], values["q_max"], values["L"], values["variance"], values["Delta_0"], K, values["c_D"])
    alpha = min(found.values())
    assert alpha == pytest.approx(found[branch], rel=1e-9)  # the branch under test is the active one
    vanishing = vanishing_float(alpha, values["beta"], values["q_max"], values["L"], values["variance"], values["Delta_0"], K, values["c_D"])
    bound = bound_float(values["beta"], values["q_max"], values["L"], values["variance"], values["Delta_0"], K, values["c_D"])
    assert vanishing <= bound * (1 + 1e-9)
    symbolic = C.evaluate(C.vanishing_bound(C.c_D, C.sigma**2), {**values, "sigma": math.sqrt(values["variance"]), "K": K})
    assert symbolic == pytest.approx(bound, rel=1e-9, abs=1e-300)


@pytest.mark.parametrize(("constants", "branch", "point"), [
    ((9.9, 24, 9), "sqrt-branch", {"c_D": 0.0, "sigma": 1.0, "u": 1.0}),  # descent + noise = 10 exactly
    ((10, 23.9, 9), "step-size-branch", {"c_D": 0.0, "sigma": 0.0, "u": 0.5}),  # the descent term alone = 24 exactly
    ((10, 24, 7), "delay-branch", {"c_D": 50.0, "sigma": 0.0, "u": 1.0}),  # descent + delay ≥ 8 t²
])
def test_each_constant_of_the_bound_is_needed(constants, branch, point):
    full = {"beta_fraction": 1.0, "q_max": 1.0, "L": 1.0, "Delta_0": 1.0, "B": 1, "sync": False, **point}
    values, K = _setting(full, branch, stretch=1e8)
    alpha = min(branches_float(values["beta"], values["q_max"], values["L"], values["variance"], values["Delta_0"], K, values["c_D"]).values())
    vanishing = vanishing_float(alpha, values["beta"], values["q_max"], values["L"], values["variance"], values["Delta_0"], K, values["c_D"])
    assert vanishing <= bound_float(values["beta"], values["q_max"], values["L"], values["variance"], values["Delta_0"], K, values["c_D"]) * (1 + 1e-12)
    assert vanishing > bound_float(values["beta"], values["q_max"], values["L"], values["variance"], values["Delta_0"], K, values["c_D"], constants)


@given(point=parameters, K=st.floats(1.0, 1e9))
def test_papers_two_branch_form_bounds_the_delay_term(point, K):
    beta, q_max, L, Delta_0, c_D = point["beta_fraction"] * point["q_max"], point["q_max"], point["L"], point["Delta_0"], point["c_D"]
    variance = max(point["sigma"], 0.01) ** 2
    alpha = min(beta / (6 * L * q_max**2), math.sqrt(Delta_0 / (L * q_max**2 * variance * K)))
    delay = rhs_float(alpha, beta, q_max, 0.0, L, variance, Delta_0, K, c_D)["delay"]
    assert delay <= 5 * c_D**2 * Delta_0 / (L * variance * beta**2 * K) * (1 + 1e-9)
    vanishing = vanishing_float(alpha, beta, q_max, L, variance, Delta_0, K, c_D)
    values = {"beta": beta, "q_max": q_max, "L": L, "Delta_0": Delta_0, "c_D": c_D, "sigma": math.sqrt(variance), "K": K}
    assert vanishing <= C.evaluate(C.paper_vanishing_bound(), values) * (1 + 1e-9)
    assert C.evaluate(C.paper_delay_bound(), values) == pytest.approx(5 * c_D**2 * Delta_0 / (L * variance * beta**2 * K), rel=1e-12, abs=1e-300)


@given(
    beta_fraction=st.floats(0.05, 1.0),
    q_max=_floats(S.q_max),
    L=_floats(S.L),
    sigma=st.floats(0.05, 2.0),
    Delta_0=_floats(S.Delta_0),
    c_D=st.floats(0.1, 100.0),
    K=st.floats(1.0, 1e9),
)
def test_symbolic_vanishing_part_in_each_branch_matches_float(beta_fraction, q_max, L, sigma, Delta_0, c_D, K):
    beta = beta_fraction * q_max
    values = {C.beta: beta, C.q_max: q_max, C.L: L, C.sigma: sigma, C.Delta_0: Delta_0, C.c_D: c_D, C.K: K}
    found = branches_float(beta, q_max, L, sigma**2, Delta_0, K, c_D)
    for regime in C.REGIMES:
        symbolic = float(C.vanishing_part_at_chosen_step(C.async_terms(), regime).subs(values))
        assert symbolic == pytest.approx(vanishing_float(found[regime], beta, q_max, L, sigma**2, Delta_0, K, c_D), rel=1e-9)
    with pytest.raises(ValueError, match="unknown regime"):
        C.step_size_in_regime("cube")


def test_evaluate_any_expression_by_symbol_names():
    floor = C.asymptotic_floor()
    assert C.evaluate(floor, {"sigma": 0.5, "G_max": 0.25, "beta": 0.5}) == pytest.approx(4 * 0.25 * 0.0625 / 0.25, rel=1e-12)
    values = {"beta": 0.5, "q_max": 1.5, "L": 2.0, "K": np.array([10.0, 1000.0]), "Delta_0": 1.0, "sigma": 0.3, "c_D": 2.0}
    chosen = C.evaluate(C.chosen_step_size(), values)
    expected = [min(branches_float(0.5, 1.5, 2.0, 0.09, 1.0, K, 2.0).values()) for K in (10.0, 1000.0)]
    np.testing.assert_allclose(chosen, expected, rtol=1e-12)
    with pytest.raises(KeyError, match="sigma"):
        C.evaluate(floor, {"G_max": 1.0, "beta": 0.5})

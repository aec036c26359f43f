"""Iteration and clock-cycle complexity K(ε) per schedule (MODEL.md §5, version 2).

K(ε) is a number of updates after which the vanishing part of the theorem's right side
(every term but the asymptotic floor) is at most ε. MODEL.md states it in two forms, both
derived here from the proved bounds of theory.convergence:

- `fixed-sigma` (the paper's form, σ > 0 fixed): α takes the first two branches only and
  the vanishing part is ≤ a K^{-1/2} + b K^{-1} with a = 10 q_max sqrt(LΔ_0σ²)/β and
  b = (24 L q_max² Δ_0 + 5 c_D²Δ_0/(Lσ²))/β² (`paper_vanishing_bound`); K(ε) = a²/ε² + 2b/ε
  suffices (theory.ledger, `complexity/two-term`). Exponents [-2, -1]; the ε⁻¹ coefficient
  grows like c_D²/σ² and degenerates as σ → 0.
- `uniform` (every σ ≥ 0): α takes all three branches and the vanishing part is
  ≤ a K^{-1/2} + b K^{-1} + c K^{-2/3} (`vanishing_bound`); with ¾ε for the first two terms
  and ¼ε for the third, K(ε) = 16a²/(9ε²) + 8b/(3ε) + (4c/ε)^{3/2} suffices
  (`complexity/three-term`): σ²ε⁻² + c_D ε^{-3/2} + ε⁻¹, exponents [-2, -3/2, -1] with a
  delay, [-2, -1] without (then both forms coincide).

The asynchronous schedules (`ap`, `pipedream`, `2bw`) keep c_D; the synchronous ones
(`sp`, `1f1b`, `wop`) have c_D = 0; the variance per update is σ² for `ap` and `pipedream`
(one micro-batch) and σ²/B for `2bw` and the synchronous schedules (B micro-batches).
Clock cycles multiply K(ε) by the slots one update takes: ap, pipedream 2; 2bw 2B;
sp, 1f1b 2(B+M−1); wop 2MB.

Besides the two forms, `iteration_complexity` gives the exact small-ε expansion of the
inverse of the vanishing part at the chosen α (σ > 0 fixed, so the sqrt branch is the
active one once K ≥ K*): a Puiseux series whose divergent terms are read off, never
assumed (AP [-2, -1]; synchronous [-2], the ε⁻¹ term of the forms belonging to K < K*).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import sympy as sp

from numerics.schedules import schedule_named
from theory import convergence as C
from theory import schedules as closed_forms_module
from theory import symbols as S
from theory.schedules import closed_forms

epsilon = S.epsilon.symbol
K = S.K.symbol
M = S.M.symbol
B = S.B.symbol

SCHEDULES = ("sp", "1f1b", "wop", "ap", "pipedream", "2bw")
"""The schedules with a convergence theorem (the single device is WOP with M = 1), in the
order the tables list them; what each one is (asynchronous or not, micro-batches per
update, slots per update) comes from its Schedule object (numerics.schedules) and its
closed forms (theory.schedules.CLOSED_FORMS)."""
SYNCHRONOUS = tuple(name for name in SCHEDULES if not schedule_named(name).asynchronous)
ASYNCHRONOUS = tuple(name for name in SCHEDULES if schedule_named(name).asynchronous)

PAPER_SCHEDULES = ("sp", "ap", "wop")
"""The schedules the paper tabulates."""

FORMS = ("fixed-sigma", "uniform")
"""MODEL.md §5's two statements of the complexity: for a fixed σ > 0, and uniformly in σ ≥ 0."""

FORM_DESCRIPTIONS = {
    "fixed-sigma": "σ > 0 fixed (the paper's form): α = min(β/(6Lq_max²), sqrt(Δ_0/(Lq_max²σ²K))), delay term ≤ 5c_D²Δ_0/(Lσ²β²K); K = a²/ε² + 2b/ε for the bound a K^(-1/2) + b K^(-1)",
    "uniform": "every σ ≥ 0: α = min of all three branches, vanishing part ≤ a K^(-1/2) + b K^(-1) + c K^(-2/3); K = 16a²/(9ε²) + 8b/(3ε) + (4c/ε)^(3/2) (¾ε for the first two terms, ¼ε for the third)",
}

UNIFORM_DELAY_SHARE = sp.Rational(1, 4)
"""The share of ε the uniform form leaves to the c K^{-2/3} term (the rest to a K^{-1/2} + b K^{-1})."""


@dataclass(frozen=True)
class PowerTerm:
    """coefficient · variable**exponent, the coefficient free of the variable."""

    coefficient: sp.Expr
    exponent: sp.Rational

    def expression(self, variable: sp.Symbol) -> sp.Expr:
        return self.coefficient * variable**self.exponent


def _check(schedule: str) -> None:
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {schedule!r}; allowed: {', '.join(SCHEDULES)}")


def _check_form(form: str) -> None:
    if form not in FORMS:
        raise ValueError(f"unknown form {form!r}; allowed: {', '.join(FORMS)}")


def theorem_for(schedule: str) -> C.Theorem:
    """The convergence theorem that covers a schedule: async for ap, pipedream, 2bw; sync for sp, 1f1b, wop."""
    _check(schedule)
    return C.async_convergence() if schedule_named(schedule).asynchronous else C.sync_convergence()


def delay_constant(schedule: str) -> sp.Expr:
    """c_D for the asynchronous schedules, 0 for the synchronous ones."""
    _check(schedule)
    return C.c_D if schedule_named(schedule).asynchronous else sp.Integer(0)


def variance(schedule: str) -> sp.Expr:
    """Gradient variance per update: σ² for ap and pipedream (one micro-batch), σ²/B for 2bw, sp, 1f1b, wop."""
    _check(schedule)
    return C.sigma**2 / schedule_named(schedule).micro_batches_per_update(C.B)


def terms(schedule: str) -> dict[str, sp.Expr]:
    """The four terms of the right side for a schedule (2bw: the async terms with σ²/B)."""
    return C.rhs_terms(delay_constant(schedule), variance(schedule))


def chosen_step_size(schedule: str, form: str = "uniform") -> sp.Expr:
    """α of a form: all three branches (uniform) or the first two (fixed-sigma)."""
    _check_form(form)
    if form == "uniform":
        return C.chosen_step_size(variance(schedule), delay_constant(schedule))
    return C.paper_step_size(variance(schedule))


def vanishing_bound(schedule: str, form: str = "uniform") -> sp.Expr:
    """The bound on the vanishing part at the form's α (theory.convergence, proved in theory.ledger)."""
    _check_form(form)
    if form == "uniform":
        return C.vanishing_bound(delay_constant(schedule), variance(schedule))
    return C.paper_vanishing_bound(delay_constant(schedule), variance(schedule))


def vanishing_part(schedule: str) -> sp.Expr:
    """The vanishing part at the chosen α in its sqrt branch (the active one as K → ∞ for σ > 0)."""
    return C.vanishing_part_at_chosen_step(terms(schedule), "sqrt-branch", variance(schedule), delay_constant(schedule))


def regime_threshold(schedule: str) -> sp.Expr:
    """K* = 36 L q_max² Δ_0/(β²·variance): the sqrt branch is below β/(6Lq_max²) exactly when K ≥ K*
    (the asynchronous schedules also need K ≥ `delay_regime_threshold` for it to be below the delay branch)."""
    return C.regime_threshold(variance(schedule))


def delay_regime_threshold(schedule: str) -> sp.Expr:
    """K_D = Δ_0c_D⁴/(β²L³q_max²·variance³) (0 for the synchronous schedules)."""
    return C.delay_regime_threshold(variance(schedule), delay_constant(schedule))


def asymptotic_floor(schedule: str) -> sp.Expr:
    """4 G_max² σ²/β² (σ² → σ²/B for 2bw and the synchronous schedules): the error K cannot remove."""
    return C.asymptotic_floor(variance(schedule))


def power_terms(expression: sp.Expr, variable: sp.Symbol) -> tuple[PowerTerm, ...]:
    """expression = Σ c_i variable^{e_i}, grouped by exponent, most negative first."""
    grouped: dict[sp.Rational, sp.Expr] = {}
    for term in sp.Add.make_args(sp.expand(expression)):
        coefficient, exponent = term.as_coeff_exponent(variable)
        if coefficient.has(variable) or not exponent.is_Rational:
            raise ValueError(f"{term} is not a constant times a rational power of {variable}")
        grouped[exponent] = grouped.get(exponent, sp.Integer(0)) + coefficient
    return tuple(PowerTerm(sp.simplify(grouped[exponent]), exponent) for exponent in sorted(grouped) if sp.simplify(grouped[exponent]) != 0)


def _rational_gcd(values: Sequence[sp.Rational]) -> sp.Rational:
    numerator = math.gcd(*(int(value.p) for value in values))
    denominator = math.lcm(*(int(value.q) for value in values))
    return sp.Rational(numerator, denominator)


def _multiply(left: list[sp.Expr], right: list[sp.Expr], order: int) -> list[sp.Expr]:
    """Product of two power series given by coefficient lists, truncated after t^order."""
    product = [sp.Integer(0)] * (order + 1)
    for i, a in enumerate(left):
        if a == 0:
            continue
        for j, b in enumerate(right[: order + 1 - i]):
            product[i + j] += a * b
    return [sp.expand(coefficient) for coefficient in product]


def _power(series: list[sp.Expr], exponent: int, order: int) -> list[sp.Expr]:
    result = [sp.Integer(1)] + [sp.Integer(0)] * order
    for _ in range(exponent):
        result = _multiply(result, series, order)
    return result


def inverse_expansion(vanishing: sp.Expr, variable: sp.Symbol = K) -> tuple[PowerTerm, ...]:
    """The Puiseux expansion of the solution K(ε) of vanishing(K) = ε as ε → 0, up to the ε⁰ term.

    `vanishing` must be Σ c_i K^{-p_i} with rational p_i > 0 and the c_i positive. With g the
    gcd of the p_i, y = K^{-g} solves Σ c_i y^{n_i} = ε (n_i = p_i/g integers); writing
    t = ε^{1/n_0} (n_0 the smallest) and y = t·w(t), w(t) is a power series found order by
    order; then K = y^{-1/g} is expanded binomially. Returns the nonzero terms c·ε^e.
    """
    terms = power_terms(vanishing, variable)
    if not terms or any(term.exponent >= 0 for term in terms):
        raise ValueError(f"the vanishing part must be a sum of negative powers of {variable}: {vanishing}")
    decays = [-term.exponent for term in terms]
    unit = _rational_gcd(decays)
    powers = [int(decay / unit) for decay in decays]
    lowest = min(powers)
    leading = terms[powers.index(lowest)].coefficient
    order = math.ceil(1 / unit)

    w0 = leading ** sp.Rational(-1, lowest)
    w = [w0] + [sp.Integer(0)] * order
    scale = lowest * leading * w0 ** (lowest - 1)
    for j in range(1, order + 1):
        equation = [sp.Integer(-1)] + [sp.Integer(0)] * order
        for term, power in zip(terms, powers):
            shift = power - lowest
            if shift > order:
                continue
            contribution = _power(w, power, order - shift)
            for index, value in enumerate(contribution):
                equation[index + shift] += term.coefficient * value
        w[j] = sp.simplify(-sp.expand(equation[j]) / scale)

    exponent = -1 / unit
    relative = [sp.Integer(0)] + [sp.simplify(coefficient / w0) for coefficient in w[1:]]
    binomial_series = [sp.Integer(1)] + [sp.Integer(0)] * order
    for k in range(1, order + 1):
        contribution = _power(relative, k, order)
        weight = sp.binomial(exponent, k)
        for index, value in enumerate(contribution):
            binomial_series[index] += weight * value
    result = []
    for j, coefficient in enumerate(binomial_series):
        coefficient = sp.simplify(w0**exponent * coefficient)
        if coefficient != 0:
            result.append(PowerTerm(coefficient, (sp.Integer(j) + exponent) / lowest))
    return tuple(result)


def divergent_terms(expansion: Sequence[PowerTerm]) -> tuple[PowerTerm, ...]:
    """The terms that grow as ε → 0 (negative exponent), most dominant first."""
    return tuple(sorted((term for term in expansion if term.exponent < 0), key=lambda term: term.exponent))


def leading_exponents(vanishing: sp.Expr, variable: sp.Symbol = K) -> tuple[sp.Rational, ...]:
    """Exponents of ε in the divergent part of K(ε) solving vanishing(K) = ε, most negative first."""
    return tuple(term.exponent for term in divergent_terms(inverse_expansion(vanishing, variable)))


def two_term_iterations(a: sp.Expr, b: sp.Expr) -> tuple[PowerTerm, PowerTerm]:
    """K(ε) = a²/ε² + 2b/ε: enough for a K^{-1/2} + b K^{-1} ≤ ε (a, b ≥ 0; ledger `complexity/two-term`).

    It is the divergent part of the exact root K = (a + sqrt(a² + 4bε))²/(4ε²), and itself
    sufficient: with t = a/sqrt(a² + 2bε) ∈ (0, 1], the sum at that K is ε(t + (1 − t²)/2) ≤ ε.
    """
    return PowerTerm(sp.expand(a**2), sp.Integer(-2)), PowerTerm(sp.expand(2 * b), sp.Integer(-1))


def _grouped(bound: sp.Expr) -> dict[sp.Rational, sp.Expr]:
    grouped = {term.exponent: term.coefficient for term in power_terms(bound, K)}
    if not grouped or any(exponent >= 0 for exponent in grouped):
        raise ValueError(f"the bound must be a sum of negative powers of K: {bound}")
    return grouped


def form_iterations(bound: sp.Expr, form: str) -> tuple[PowerTerm, ...]:
    """A sufficient K(ε) for `bound` ≤ ε, as terms c·ε^e (most negative exponent first, zero terms dropped).

    The terms a K^{-1/2} and b K^{-1} are inverted together (`two_term_iterations`); in the
    uniform form each other term c K^{-p} gets an equal part of UNIFORM_DELAY_SHARE·ε,
    needing K ≥ (c/(part·ε))^{1/p}, and the first two get the rest. The fixed-sigma form
    accepts only a K^{-1/2} + b K^{-1}.
    """
    _check_form(form)
    grouped = _grouped(bound)
    half, one = sp.Rational(-1, 2), sp.Integer(-1)
    others = {exponent: coefficient for exponent, coefficient in grouped.items() if exponent not in (half, one)}
    if form == "fixed-sigma" and others:
        raise ValueError(f"the fixed-sigma form needs a K^(-1/2) + b K^(-1), got exponents {sorted(grouped)}")
    share = 1 - UNIFORM_DELAY_SHARE if others else sp.Integer(1)
    a, b = grouped.get(half, sp.Integer(0)) / share, grouped.get(one, sp.Integer(0)) / share
    found: dict[sp.Rational, sp.Expr] = {}
    for term in two_term_iterations(a, b):
        found[term.exponent] = found.get(term.exponent, 0) + term.coefficient
    for exponent, coefficient in others.items():
        part = UNIFORM_DELAY_SHARE / len(others)
        power = -1 / exponent
        found[-power] = found.get(-power, 0) + sp.powsimp(sp.powdenest((coefficient / part) ** power, force=True), force=True)
    return tuple(PowerTerm(sp.expand(sp.simplify(found[exponent])), exponent) for exponent in sorted(found) if sp.simplify(found[exponent]) != 0)


@dataclass(frozen=True)
class ComplexityForm:
    """One of MODEL.md's two statements for one schedule: the bound in K, and K(ε) and clock cycles as powers of ε."""

    schedule: str
    form: str
    step_size: sp.Expr
    bound: sp.Expr
    terms: tuple[PowerTerm, ...]
    clock_terms: tuple[PowerTerm, ...]

    @property
    def description(self) -> str:
        return FORM_DESCRIPTIONS[self.form]

    @property
    def exponents(self) -> tuple[sp.Rational, ...]:
        return tuple(term.exponent for term in self.terms)

    @property
    def iterations(self) -> sp.Expr:
        """K(ε) = Σ c_j ε^{e_j}."""
        return sp.Add(*(term.expression(epsilon) for term in self.terms))

    @property
    def clock_cycles(self) -> sp.Expr:
        return sp.Add(*(term.expression(epsilon) for term in self.clock_terms))

    def coefficient(self, exponent) -> sp.Expr:
        """The coefficient of ε^exponent in K(ε) (0 when absent)."""
        exponent = sp.Rational(exponent)
        return next((term.coefficient for term in self.terms if term.exponent == exponent), sp.Integer(0))


@lru_cache(maxsize=None)
def complexity_form(schedule: str, form: str) -> ComplexityForm:
    """K(ε) and the clock cycles of a schedule in one of FORMS."""
    _check(schedule)
    bound = vanishing_bound(schedule, form)
    found = form_iterations(bound, form)
    slots = slots_per_update(schedule)
    return ComplexityForm(
        schedule=schedule,
        form=form,
        step_size=chosen_step_size(schedule, form),
        bound=bound,
        terms=found,
        clock_terms=tuple(PowerTerm(slots * term.coefficient, term.exponent) for term in found),
    )


@dataclass(frozen=True)
class IterationComplexity:
    """K(ε) for one schedule: the exact small-ε expansion (σ > 0 fixed) and MODEL.md's two forms."""

    schedule: str
    vanishing_part: sp.Expr
    regime_threshold: sp.Expr
    delay_regime_threshold: sp.Expr
    expansion: tuple[PowerTerm, ...]
    leading_terms: tuple[PowerTerm, ...]

    @property
    def leading_exponents(self) -> tuple[sp.Rational, ...]:
        """Exponents of the divergent part of the exact expansion (AP [-2, -1], synchronous [-2])."""
        return tuple(term.exponent for term in self.leading_terms)

    @property
    def iterations(self) -> sp.Expr:
        """The divergent part of the exact K(ε): Σ c_j ε^{e_j} over the leading terms."""
        return sp.Add(*(term.expression(epsilon) for term in self.leading_terms))

    @property
    def o_form_leading_exponents(self) -> tuple[sp.Rational, ...]:
        """The exponents of the fixed-sigma form (MODEL.md's non-asymptotic statement for σ > 0; version 1's "O-form")."""
        return complexity_form(self.schedule, "fixed-sigma").exponents

    @property
    def forms(self) -> dict[str, ComplexityForm]:
        return {form: complexity_form(self.schedule, form) for form in FORMS}


@lru_cache(maxsize=None)
def iteration_complexity(schedule: str) -> IterationComplexity:
    """The iteration complexity of a schedule (MODEL.md §5)."""
    vanishing = vanishing_part(schedule)
    expansion = inverse_expansion(vanishing)
    return IterationComplexity(
        schedule=schedule,
        vanishing_part=vanishing,
        regime_threshold=regime_threshold(schedule),
        delay_regime_threshold=delay_regime_threshold(schedule),
        expansion=expansion,
        leading_terms=divergent_terms(expansion),
    )


def slots_per_update(schedule: str) -> sp.Expr:
    """Slots one update takes (MODEL.md §3, steady state): ap, pipedream 2; 2bw 2B; sp, 1f1b 2(B+M−1); wop 2MB."""
    _check(schedule)
    return closed_forms(schedule).slots_per_update.xreplace({closed_forms_module.M: M, closed_forms_module.B: B})


def clock_cycle_terms(schedule: str, form: str | None = None) -> tuple[PowerTerm, ...]:
    """Slots to reach ε as powers of ε: a form's K(ε) (default: the exact expansion's divergent part) times the slots per update."""
    if form is not None:
        return complexity_form(schedule, form).clock_terms
    slots = slots_per_update(schedule)
    return tuple(PowerTerm(sp.factor(slots * term.coefficient), term.exponent) for term in iteration_complexity(schedule).leading_terms)


def clock_cycles(schedule: str, form: str | None = None) -> sp.Expr:
    """Slots to reach ε: slots per update × K(ε) (of a form, or of the exact expansion by default).

    For sp this is 2(B+M−1)·K_sync(ε), K_sync at variance σ²/B; wop 2MB·K_sync(ε); 2bw 2B·K(ε).
    """
    return sp.Add(*(term.expression(epsilon) for term in clock_cycle_terms(schedule, form)))

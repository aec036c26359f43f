"""Iteration and clock-cycle complexity K(ε) per schedule (MODEL.md §5), derived from the theorems.

K(ε) is the number of updates at which the vanishing part of the theorem's right side (every
term but the asymptotic floor), with the chosen step size α = min(β/(24L), sqrt(Δ_0/(Lσ²K))),
falls to ε. As ε → 0, K(ε) → ∞, so the sqrt branch of α is the active one (K ≥ K*); there
the vanishing part is a finite sum Σ c_i K^{-p_i}, and K(ε) is its exact inverse, expanded
as a Puiseux series in ε. The divergent terms of that series are the iteration complexity
and their exponents the leading exponents (read off the series, never assumed).

AP keeps the delay constant c_D; SP and WOP have c_D = 0 and variance σ²/B per update.
Clock cycles multiply K(ε) by the slots one update takes (theory.schedules): AP 2,
SP 2(B+M−1), WOP 2MB. The O-form bound of MODEL.md is also solved for K in closed form
(sympy.solve): a K sufficient in every regime.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import sympy as sp

from theory import convergence as C
from theory import schedules
from theory import symbols as S

epsilon = S.epsilon.symbol
K = S.K.symbol

SCHEDULES = ("sp", "ap", "wop")
"""The schedules with a convergence theorem (the single device is WOP with M = 1)."""


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


def theorem_for(schedule: str) -> C.Theorem:
    """The convergence theorem that covers a schedule: async for AP, sync for SP and WOP."""
    _check(schedule)
    return C.async_convergence() if schedule == "ap" else C.sync_convergence()


def delay_constant(schedule: str) -> sp.Expr:
    """c_D for AP, 0 for SP and WOP."""
    _check(schedule)
    return C.c_D if schedule == "ap" else sp.Integer(0)


def variance(schedule: str) -> sp.Expr:
    """Gradient variance per update: σ² for AP (one micro-batch), σ²/B for SP and WOP."""
    _check(schedule)
    return C.sigma**2 if schedule == "ap" else C.sigma**2 / C.B


def vanishing_part(schedule: str) -> sp.Expr:
    """The vanishing part of the schedule's theorem at the chosen α, sqrt branch (K ≥ K*)."""
    return C.vanishing_part_at_chosen_step(theorem_for(schedule).term_dict, "sqrt-branch", variance(schedule))


def regime_threshold(schedule: str) -> sp.Expr:
    """K* = 576LΔ_0/(β²·variance): K(ε) below describes every ε small enough that K(ε) ≥ K*."""
    return C.regime_threshold(variance(schedule))


def o_form(schedule: str) -> sp.Expr:
    """MODEL.md's O-form of the vanishing part for a schedule."""
    return C.rate_o_form(delay_constant(schedule), variance(schedule))


def asymptotic_floor(schedule: str) -> sp.Expr:
    """4σ²W_max²/(β²τ²) with β = 1 − W_max/τ (σ² → σ²/B for SP, WOP): the error K cannot remove."""
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

    t = sp.Symbol("t", positive=True)
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


def o_form_iterations(schedule: str) -> sp.Expr:
    """K solving RATE_CONSTANT·(O-form) = ε: enough updates for vanishing part ≤ ε in any regime.

    In x = K^{-1/2} the equation is b·x² + a·x = ε with a ≥ 0, b > 0; the product of its
    roots is −ε/b < 0, so exactly one root is positive: x = 2ε/(a + sqrt(a² + 4bε)), and
    K = (a + sqrt(a² + 4bε))²/(4ε²).
    """
    root = sp.Symbol("x", positive=True)
    polynomial = sp.Poly(sp.expand(C.RATE_CONSTANT * o_form(schedule)).subs(K, root**-2), root)
    if polynomial.degree() != 2 or polynomial.coeff_monomial(1) != 0:
        raise ArithmeticError(f"the O-form is not b/K + a/sqrt(K): {o_form(schedule)}")
    quadratic, linear = polynomial.coeff_monomial(root**2), polynomial.coeff_monomial(root)
    positive_root = 2 * epsilon / (linear + sp.sqrt(linear**2 + 4 * quadratic * epsilon))
    if sp.simplify(polynomial.as_expr().subs(root, positive_root) - epsilon) != 0:
        raise ArithmeticError("the O-form root does not solve the equation")
    return positive_root**-2


@dataclass(frozen=True)
class IterationComplexity:
    """K(ε) for one schedule: the exact small-ε expansion, its divergent part, the O-form bound."""

    schedule: str
    vanishing_part: sp.Expr
    regime_threshold: sp.Expr
    expansion: tuple[PowerTerm, ...]
    leading_terms: tuple[PowerTerm, ...]
    o_form: sp.Expr
    o_form_iterations: sp.Expr

    @property
    def leading_exponents(self) -> tuple[sp.Rational, ...]:
        return tuple(term.exponent for term in self.leading_terms)

    @property
    def iterations(self) -> sp.Expr:
        """The divergent part of K(ε): Σ c_j ε^{e_j} over the leading terms."""
        return sp.Add(*(term.expression(epsilon) for term in self.leading_terms))

    @property
    def o_form_leading_exponents(self) -> tuple[sp.Rational, ...]:
        """Exponents of the divergent terms of the O-form solution (its LΔ_0/K term adds ε⁻¹ even without delay)."""
        series = sp.expand(sp.series(self.o_form_iterations, epsilon, 0, 1).removeO())
        return tuple(sorted({term.as_coeff_exponent(epsilon)[1] for term in sp.Add.make_args(series) if term.as_coeff_exponent(epsilon)[1] < 0}))


@lru_cache(maxsize=None)
def iteration_complexity(schedule: str) -> IterationComplexity:
    """The iteration complexity of a schedule (MODEL.md §5)."""
    vanishing = vanishing_part(schedule)
    expansion = inverse_expansion(vanishing)
    return IterationComplexity(
        schedule=schedule,
        vanishing_part=vanishing,
        regime_threshold=regime_threshold(schedule),
        expansion=expansion,
        leading_terms=divergent_terms(expansion),
        o_form=o_form(schedule),
        o_form_iterations=o_form_iterations(schedule),
    )


def slots_per_update(schedule: str) -> sp.Expr:
    """Slots one update takes: AP 2 (one micro-batch, steady state), SP 2(B+M−1), WOP 2MB (theory.schedules)."""
    _check(schedule)
    renamed = {schedules.M: S.M.symbol, schedules.B: S.B.symbol}
    return schedules.slots_per_mini_batch(schedule).xreplace(renamed)


def clock_cycles(schedule: str) -> sp.Expr:
    """Slots to reach ε: slots per update × the divergent part of K(ε).

    For SP this is 2(B+M−1)·K_SP(ε) with K_SP(ε) computed at variance σ²/B, i.e. MODEL.md's
    2(B+M−1)·K(ε)/B with K(ε) at variance σ²; likewise WOP 2MB·K_WOP(ε) = 2M·K(ε).
    """
    return sp.Add(*(term.expression(epsilon) for term in clock_cycle_terms(schedule)))


def clock_cycle_terms(schedule: str) -> tuple[PowerTerm, ...]:
    """The divergent terms of the clock-cycle complexity, most dominant first."""
    slots = slots_per_update(schedule)
    return tuple(PowerTerm(sp.factor(slots * term.coefficient), term.exponent) for term in iteration_complexity(schedule).leading_terms)

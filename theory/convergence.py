"""MODEL.md §5 (version 2) in sympy: the convergence theorems of Analog SGD on pipelines.

For any response-function device with the device constants β > 0, q_max and G_max of §2,
and `α ≤ β/(6 L q_max²)`, the asynchronous theorem reads

    (1/K) Σ_{k<K} E||∇f(W^{(k)})||² ≤ 4Δ_0/(αβK) + 6Lα q_max² σ²/β + 4 G_max² σ²/β² + α² c_D² q_max² (4/β² + 6Lα/β)

with the four terms named `descent`, `noise`, `asymptotic_floor` and `delay`. The
synchronous one (`sp`, `1f1b`, `wop`) is the same with `c_D = 0` and `σ² → σ²/B`; digital
SGD has `β = q_max = 1`, `G_max = 0`. ALD is the special case β = 1 − W_max/τ,
q_max = 1 + W_max/τ ≤ 2, G_max = W_max/τ; its worst case q_max = 2 gives the familiar
`4Δ_0/(αβK) + 24Lασ²/β + 4σ²W_max²/(β²τ²) + α²c_D²(16/β² + 24Lα/β)` under α ≤ β/(24L)
(`ald_worst_case`).

The step size `α = min(β/(6Lq_max²), sqrt(Δ_0/(Lq_max²σ²K)), (βΔ_0/(q_max²c_D²K))^{1/3})`
(a branch whose denominator is 0 dropped) makes the vanishing part (every term but the
floor) at most `vanishing_bound()`; with the first two branches only and σ > 0 the delay
term is at most `paper_delay_bound()`. Device constants of §2 in closed form:
`digital_device_constants`, `ald_device_constants`, `softbounds_device_constants` (the one
home of these formulas: every device of `numerics.devices` reports its constants through them).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping, NamedTuple

import numpy as np
import sympy as sp

from theory import symbols as S

alpha = S.alpha.symbol
beta = S.beta.symbol
q_max = S.q_max.symbol
G_max = S.G_max.symbol
L = S.L.symbol
sigma = S.sigma.symbol
Delta_0 = S.Delta_0.symbol
K = S.K.symbol
c_D = S.c_D.symbol
W_max = S.W_max.symbol
tau = S.tau.symbol
B = S.B.symbol
gamma_up = S.gamma_up.symbol
gamma_down = S.gamma_down.symbol
p = S.exponent.symbol

TERM_NAMES = ("descent", "noise", "asymptotic_floor", "delay")
"""The additive terms of the theorems' right side, in MODEL.md's order."""

REGIMES = ("step-size-branch", "sqrt-branch", "delay-branch")
"""Which branch of the chosen α is the minimum: β/(6Lq_max²) (small K), sqrt(Δ_0/(Lq_max²σ²K))
(large K, σ > 0) or (βΔ_0/(q_max²c_D²K))^{1/3} (large K with little noise)."""

VANISHING_CONSTANTS = (10, 24, 9)
"""The constants of `vanishing_bound`: 10 q_max sqrt(LΔ_0σ²/K)/β + 24 L q_max² Δ_0/(β²K) + 9 (q_max c_D Δ_0)^{2/3}/(β^{4/3}K^{2/3})."""

PAPER_DELAY_CONSTANT = 5
"""With only the first two branches of α (σ > 0), the delay term is ≤ 5 c_D² Δ_0/(Lσ²β²K)."""


# ----------------------------------------------------------------------------- device constants (MODEL.md §2)


class DeviceConstants(NamedTuple):
    """β, q_max, G_max of a device on the box |w| ≤ W_max (floats, or sympy expressions)."""

    beta: object
    q_max: object
    G_max: object

    def values(self) -> dict[str, object]:
        """As symbol-name → value, ready for `evaluate`."""
        return {"beta": self.beta, "q_max": self.q_max, "G_max": self.G_max}


def _symbolic(*arguments) -> bool:
    return any(isinstance(argument, sp.Basic) for argument in arguments)


def response_up(w, tau_value, gamma_up_value=1, exponent_value=1):
    """q₊(w) = γ₊ (1 − w/τ)^p (a negative base counts as 0), float or sympy."""
    if _symbolic(w, tau_value, gamma_up_value, exponent_value):
        return gamma_up_value * sp.Max(1 - w / tau_value, 0) ** exponent_value
    return gamma_up_value * max(1 - w / tau_value, 0.0) ** exponent_value


def response_down(w, tau_value, gamma_down_value=1, exponent_value=1):
    """q₋(w) = γ₋ (1 + w/τ)^p (a negative base counts as 0), float or sympy."""
    if _symbolic(w, tau_value, gamma_down_value, exponent_value):
        return gamma_down_value * sp.Max(1 + w / tau_value, 0) ** exponent_value
    return gamma_down_value * max(1 + w / tau_value, 0.0) ** exponent_value


def softbounds_device_constants(W_max_value, tau_value, gamma_up_value=1, gamma_down_value=1, exponent_value=1) -> DeviceConstants:
    """β, q_max, G_max of a response-function device on |w| ≤ W_max < τ (MODEL.md §2), closed forms:

    β = min(γ₊, γ₋)(1 − W_max/τ)^p, q_max = max(γ₊, γ₋)(1 + W_max/τ)^p, and, since
    G = (q₋ − q₊)/2 is increasing in w, G_max = max(|G(W_max)|, |G(−W_max)|). Floats give
    floats (a ValueError outside 0 ≤ W_max < τ, γ± > 0, p > 0); sympy arguments give sympy
    expressions.
    """
    arguments = (W_max_value, tau_value, gamma_up_value, gamma_down_value, exponent_value)
    if _symbolic(*arguments):
        ratio = W_max_value / tau_value
        low, high = (1 - ratio) ** exponent_value, (1 + ratio) ** exponent_value
        at_top = (gamma_down_value * high - gamma_up_value * low) / 2
        at_bottom = (gamma_down_value * low - gamma_up_value * high) / 2
        return DeviceConstants(
            sp.Min(gamma_up_value, gamma_down_value) * low,
            sp.Max(gamma_up_value, gamma_down_value) * high,
            sp.Max(sp.Abs(at_top), sp.Abs(at_bottom)),
        )
    W_max_value, tau_value, gamma_up_value, gamma_down_value, exponent_value = (float(value) for value in arguments)
    if not (tau_value > 0 and 0 <= W_max_value < tau_value):
        raise ValueError(f"device constants need 0 ≤ W_max < τ, got W_max={W_max_value!r}, τ={tau_value!r}")
    if not (gamma_up_value > 0 and gamma_down_value > 0 and exponent_value > 0):
        raise ValueError(f"device constants need γ₊, γ₋, p > 0, got γ₊={gamma_up_value!r}, γ₋={gamma_down_value!r}, p={exponent_value!r}")
    ratio = W_max_value / tau_value
    low, high = (1 - ratio) ** exponent_value, (1 + ratio) ** exponent_value
    at_top = (gamma_down_value * high - gamma_up_value * low) / 2
    at_bottom = (gamma_down_value * low - gamma_up_value * high) / 2
    return DeviceConstants(min(gamma_up_value, gamma_down_value) * low, max(gamma_up_value, gamma_down_value) * high, max(abs(at_top), abs(at_bottom)))


def ald_device_constants(W_max_value, tau_value) -> DeviceConstants:
    """ALD (p = 1, γ₊ = γ₋ = 1): β = 1 − W_max/τ, q_max = 1 + W_max/τ, G_max = W_max/τ."""
    if _symbolic(W_max_value, tau_value):
        ratio = W_max_value / tau_value
        return DeviceConstants(1 - ratio, 1 + ratio, ratio)
    return softbounds_device_constants(W_max_value, tau_value)


def digital_device_constants() -> DeviceConstants:
    """Digital SGD (τ → ∞): β = q_max = 1, G_max = 0 on every box."""
    return DeviceConstants(1.0, 1.0, 0.0)


ALD_CONSTANTS = ald_device_constants(W_max, tau)
"""ALD's device constants as sympy expressions in W_max, τ."""

BETA_DEFINITION = ALD_CONSTANTS.beta
"""ALD's β = 1 − W_max/τ (what `evaluate` derives when β is absent)."""

DIGITAL = {beta: sp.Integer(1), q_max: sp.Integer(1), G_max: sp.Integer(0)}
"""Digital SGD: β = q_max = 1, G_max = 0 (every entry moves by exactly −αg)."""

ALD_WORST_CASE = {q_max: sp.Integer(2), G_max: W_max / tau}
"""ALD with q_max = 1 + W_max/τ replaced by its bound 2 (β stays a symbol, = 1 − W_max/τ)."""


# ----------------------------------------------------------------------------- evaluation


def to_latex(expression: sp.Basic, names: Mapping[sp.Symbol, str] | None = None) -> str:
    """LaTeX of an expression, with MODEL.md's symbols typeset as theory.symbols says."""
    symbol_names: dict[sp.Symbol, str] = {}
    for symbol in expression.free_symbols:
        try:
            symbol_names[symbol] = S.latex_of(symbol.name)
        except KeyError:
            continue
    symbol_names.update(names or {})
    return sp.latex(expression, symbol_names=symbol_names)


@lru_cache(maxsize=256)
def _lambdified(expression: sp.Expr) -> tuple[tuple[sp.Symbol, ...], object]:
    arguments = tuple(sorted(expression.free_symbols, key=lambda symbol: symbol.name))
    return arguments, sp.lambdify(arguments, expression, modules="numpy")


def evaluate(expression: sp.Expr, values: Mapping[str, object]):
    """Any expression of these modules at symbol-name → float/array values (numpy broadcasting).

    When W_max and τ are given, absent device constants β, q_max, G_max are ALD's
    (`ald_device_constants`); pass them explicitly for any other device. A missing value
    raises KeyError naming it. A branch of the chosen α whose denominator is 0 evaluates to
    +inf and so drops out of the minimum. Returns a float for scalar inputs.
    """
    values = dict(values)
    if "tau" in values and "W_max" in values and not {"beta", "q_max", "G_max"} <= set(values):
        ratio = np.asarray(values["W_max"], dtype=float) / np.asarray(values["tau"], dtype=float)
        for name, value in (("beta", 1 - ratio), ("q_max", 1 + ratio), ("G_max", ratio)):
            values.setdefault(name, value)
    arguments, function = _lambdified(sp.sympify(expression))
    missing = [symbol.name for symbol in arguments if symbol.name not in values]
    if missing:
        raise KeyError(f"missing values for {', '.join(missing)}")
    inputs = [np.asarray(values[symbol.name], dtype=float) for symbol in arguments]
    shape = np.broadcast_shapes(*(array.shape for array in inputs)) if inputs else ()
    with np.errstate(divide="ignore"):
        result = np.broadcast_to(np.asarray(function(*inputs), dtype=float), shape)
    return float(result) if result.ndim == 0 else np.array(result)


# ----------------------------------------------------------------------------- the right side


def rhs_terms(delay_constant: sp.Expr = c_D, variance: sp.Expr = sigma**2) -> dict[str, sp.Expr]:
    """The four terms of the right side for a delay constant and a gradient variance (σ² or σ²/B)."""
    return {
        "descent": 4 * Delta_0 / (alpha * beta * K),
        "noise": 6 * L * alpha * q_max**2 * variance / beta,
        "asymptotic_floor": 4 * G_max**2 * variance / beta**2,
        "delay": alpha**2 * delay_constant**2 * q_max**2 * (4 / beta**2 + 6 * L * alpha / beta),
    }


def async_terms() -> dict[str, sp.Expr]:
    """Terms of the asynchronous theorem (ap, pipedream): delay constant c_D, variance σ² per update."""
    return rhs_terms(c_D, sigma**2)


def sync_terms() -> dict[str, sp.Expr]:
    """Terms of the synchronous theorem (sp, 1f1b, wop): c_D = 0, variance σ²/B per update (B micro-batches)."""
    return rhs_terms(sp.Integer(0), sigma**2 / B)


def total(terms: Mapping[str, sp.Expr]) -> sp.Expr:
    """The right side: the sum of the terms."""
    return sp.Add(*terms.values())


def vanishing_part(terms: Mapping[str, sp.Expr]) -> sp.Expr:
    """Every term but the asymptotic floor: what the choice of α drives to 0 as K → ∞."""
    return sp.Add(*(value for name, value in terms.items() if name != "asymptotic_floor"))


def ald_worst_case(expression: sp.Expr) -> sp.Expr:
    """ALD with q_max ≤ 2 and G_max = W_max/τ substituted (β stays β = 1 − W_max/τ)."""
    return sp.sympify(expression).xreplace(ALD_WORST_CASE)


def ald_familiar_terms(delay_constant: sp.Expr = c_D, variance: sp.Expr = sigma**2) -> dict[str, sp.Expr]:
    """MODEL.md's familiar ALD form, written out independently of `rhs_terms` (for comparison)."""
    return {
        "descent": 4 * Delta_0 / (alpha * beta * K),
        "noise": 24 * L * alpha * variance / beta,
        "asymptotic_floor": 4 * variance * W_max**2 / (beta**2 * tau**2),
        "delay": alpha**2 * delay_constant**2 * (16 / beta**2 + 24 * L * alpha / beta),
    }


def digital_limit(expression: sp.Expr) -> sp.Expr:
    """Digital SGD: β = q_max = 1, G_max = 0."""
    return sp.simplify(sp.sympify(expression).xreplace(DIGITAL))


def asymptotic_floor(variance: sp.Expr = sigma**2) -> sp.Expr:
    """4 G_max² σ²/β² (σ² → σ²/B for the synchronous schedules): the error K cannot remove."""
    return 4 * G_max**2 * variance / beta**2


# ----------------------------------------------------------------------------- step size


def step_size_bound(q: sp.Expr = q_max) -> sp.Expr:
    """β/(6 L q_max²), the largest step size the theorems allow."""
    return beta / (6 * L * q**2)


def step_size_condition(q: sp.Expr = q_max) -> sp.Rel:
    """α ≤ β/(6 L q_max²)."""
    return sp.Le(alpha, step_size_bound(q))


def sqrt_step_size(variance: sp.Expr = sigma**2, q: sp.Expr = q_max) -> sp.Expr:
    """sqrt(Δ_0/(L q_max² variance K)), the noise branch of the chosen step size."""
    return sp.sqrt(Delta_0 / (L * q**2 * variance * K))


def delay_step_size(delay_constant: sp.Expr = c_D, q: sp.Expr = q_max) -> sp.Expr:
    """(βΔ_0/(q_max² c_D² K))^{1/3}, the delay branch of the chosen step size."""
    return sp.cbrt(beta * Delta_0 / (q**2 * delay_constant**2 * K))


def step_size_branches(variance: sp.Expr = sigma**2, delay_constant: sp.Expr = c_D, q: sp.Expr = q_max, *, delay_branch: bool = True) -> dict[str, sp.Expr]:
    """The branches of the chosen α by regime name, a branch whose denominator is 0 dropped
    (σ = 0: no sqrt branch; c_D = 0 or `delay_branch=False`: no delay branch)."""
    branches = {"step-size-branch": step_size_bound(q)}
    if sp.sympify(variance) != 0:
        branches["sqrt-branch"] = sqrt_step_size(variance, q)
    if delay_branch and sp.sympify(delay_constant) != 0:
        branches["delay-branch"] = delay_step_size(delay_constant, q)
    return branches


def chosen_step_size(variance: sp.Expr = sigma**2, delay_constant: sp.Expr = c_D, q: sp.Expr = q_max) -> sp.Expr:
    """α = min(β/(6Lq_max²), sqrt(Δ_0/(Lq_max²σ²K)), (βΔ_0/(q_max²c_D²K))^{1/3}), branches with a zero denominator dropped."""
    return sp.Min(*step_size_branches(variance, delay_constant, q).values())


def paper_step_size(variance: sp.Expr = sigma**2, q: sp.Expr = q_max) -> sp.Expr:
    """The first two branches only: α = min(β/(6Lq_max²), sqrt(Δ_0/(Lq_max²σ²K))) (the paper's form, σ > 0)."""
    return sp.Min(*step_size_branches(variance, 0, q).values())


def regime_threshold(variance: sp.Expr = sigma**2, q: sp.Expr = q_max) -> sp.Expr:
    """K* = 36 L q_max² Δ_0/(β²·variance): the sqrt branch is ≤ β/(6Lq_max²) exactly when K ≥ K*."""
    return 36 * L * q**2 * Delta_0 / (beta**2 * variance)


def delay_regime_threshold(variance: sp.Expr = sigma**2, delay_constant: sp.Expr = c_D, q: sp.Expr = q_max) -> sp.Expr:
    """K_D = Δ_0 c_D⁴/(β² L³ q_max² variance³): the sqrt branch is ≤ the delay branch exactly when K ≥ K_D."""
    return Delta_0 * delay_constant**4 / (beta**2 * L**3 * q**2 * variance**3)


def step_size_in_regime(regime: str, variance: sp.Expr = sigma**2, delay_constant: sp.Expr = c_D, q: sp.Expr = q_max) -> sp.Expr:
    """The branch of the chosen α named by a regime of REGIMES."""
    if regime not in REGIMES:
        raise ValueError(f"unknown regime {regime!r}; allowed: {', '.join(REGIMES)}")
    return {"step-size-branch": step_size_bound(q), "sqrt-branch": sqrt_step_size(variance, q), "delay-branch": delay_step_size(delay_constant, q)}[regime]


def vanishing_part_at_chosen_step(terms: Mapping[str, sp.Expr], regime: str, variance: sp.Expr = sigma**2, delay_constant: sp.Expr = c_D, q: sp.Expr = q_max) -> sp.Expr:
    """The vanishing part with α replaced by one branch of the chosen step size."""
    return sp.expand(vanishing_part(terms).subs(alpha, step_size_in_regime(regime, variance, delay_constant, q)))


def vanishing_bound(delay_constant: sp.Expr = c_D, variance: sp.Expr = sigma**2, q: sp.Expr = q_max) -> sp.Expr:
    """10 q_max sqrt(LΔ_0σ²/K)/β + 24 L q_max² Δ_0/(β²K) + 9 (q_max c_D Δ_0)^{2/3}/(β^{4/3} K^{2/3}):
    the vanishing part at the chosen α is at most this, in every branch (MODEL.md §5)."""
    noise, descent, delay = VANISHING_CONSTANTS
    return (
        noise * q * sp.sqrt(L * Delta_0 * variance / K) / beta
        + descent * L * q**2 * Delta_0 / (beta**2 * K)
        + delay * (q * delay_constant * Delta_0) ** sp.Rational(2, 3) / (beta ** sp.Rational(4, 3) * K ** sp.Rational(2, 3))
    )


def paper_delay_bound(delay_constant: sp.Expr = c_D, variance: sp.Expr = sigma**2) -> sp.Expr:
    """5 c_D² Δ_0/(L σ² β² K): the delay term at the two-branch α (σ > 0)."""
    return PAPER_DELAY_CONSTANT * delay_constant**2 * Delta_0 / (L * variance * beta**2 * K)


def paper_vanishing_bound(delay_constant: sp.Expr = c_D, variance: sp.Expr = sigma**2, q: sp.Expr = q_max) -> sp.Expr:
    """The vanishing part at the two-branch α (σ > 0): ≤ 10 q_max sqrt(LΔ_0σ²/K)/β + (24 L q_max² Δ_0 + 5 c_D²Δ_0/(Lσ²))/(β²K)."""
    noise, descent, _ = VANISHING_CONSTANTS
    return noise * q * sp.sqrt(L * Delta_0 * variance / K) / beta + descent * L * q**2 * Delta_0 / (beta**2 * K) + paper_delay_bound(delay_constant, variance)


@dataclass(frozen=True)
class Hypothesis:
    """One hypothesis of a theorem: text, and its sympy relation when it is one."""

    text: str
    relation: sp.Basic | None = None

    @property
    def latex(self) -> str:
        return to_latex(self.relation) if self.relation is not None else self.text


LHS_TEXT = "(1/K) Σ_{k<K} E||∇f(W^{(k)})||²"
LHS_LATEX = r"\frac{1}{K}\sum_{k=0}^{K-1}\mathbb{E}\left\|\nabla f\left(W^{(k)}\right)\right\|^{2}"


@dataclass(frozen=True)
class Theorem:
    """A convergence theorem of MODEL.md §5: lhs ≤ the sum of named rhs terms under hypotheses."""

    id: str
    """CONTRACT.md theorem id."""
    paper_label: str
    """The seed's LaTeX label of the paper item this statement corresponds to."""
    title: str
    hypotheses: tuple[Hypothesis, ...]
    terms: tuple[tuple[str, sp.Expr], ...]
    """(name, expression) for each of TERM_NAMES."""
    lhs_text: str = LHS_TEXT
    lhs_latex: str = LHS_LATEX

    @property
    def term_dict(self) -> dict[str, sp.Expr]:
        return dict(self.terms)

    @property
    def rhs(self) -> sp.Expr:
        """The right side, a sympy expression."""
        return total(self.term_dict)

    @property
    def vanishing_part(self) -> sp.Expr:
        """The right side without the asymptotic floor."""
        return vanishing_part(self.term_dict)

    @property
    def symbol_names(self) -> tuple[str, ...]:
        """Names of the symbols the right side depends on, sorted."""
        return tuple(sorted(symbol.name for symbol in self.rhs.free_symbols))

    def latex(self) -> str:
        """lhs ≤ rhs in LaTeX."""
        return rf"{self.lhs_latex} \le {to_latex(self.rhs)}"

    def text(self) -> str:
        return f"{self.lhs_text} ≤ {sp.sstr(self.rhs)}"

    def _evaluate(self, expression: sp.Expr, values: Mapping[str, object]):
        try:
            return evaluate(expression, values)
        except KeyError as error:
            raise KeyError(f"{self.id}: {error.args[0]}") from None

    def evaluate_rhs(self, values: Mapping[str, object]):
        """The right side at symbol-name → float/array values (absent β, q_max, G_max: ALD's, from W_max and τ)."""
        return self._evaluate(self.rhs, values)

    def evaluate_terms(self, values: Mapping[str, object]) -> dict[str, object]:
        """Each named term at the given values."""
        return {name: self._evaluate(expression, values) for name, expression in self.terms}


def _common_hypotheses() -> tuple[Hypothesis, ...]:
    return (
        Hypothesis("(A1) f is L-smooth on a convex set holding every reference point and every segment between consecutive ones; f* = inf f; Δ_0 = f(W_0) − f*"),
        Hypothesis("(A4) ||W^{(k)}||_inf ≤ W_max < τ for every k (bounded saturation; the clip never acts)"),
        Hypothesis("W_max < τ", sp.StrictLessThan(W_max, tau)),
        Hypothesis("device constants of MODEL.md §2: β = min over the box of min(q₊, q₋) > 0", sp.StrictGreaterThan(beta, 0, evaluate=False)),
        Hypothesis("q_max = max over the box of max(q₊, q₋) ≥ β", sp.LessThan(beta, q_max, evaluate=False)),
        Hypothesis("G_max = max over the box of |G| ≥ 0", sp.GreaterThan(G_max, 0, evaluate=False)),
        Hypothesis("α ≤ β/(6 L q_max²)", step_size_condition()),
        Hypothesis("K ≥ 1 updates", sp.GreaterThan(K, 1, evaluate=False)),
    )


@lru_cache(maxsize=None)
def async_convergence() -> Theorem:
    """MODEL.md §5 for a response-function device with an asynchronous pipeline (ap, pipedream)."""
    return Theorem(
        id="async-convergence",
        paper_label="theorem:ASGD-async-convergence-noncvx-linear",
        title="Convergence of Analog SGD with the asynchronous pipeline (non-convex, response-function device)",
        hypotheses=_common_hypotheses()
        + (
            Hypothesis("(A2) i.i.d. sampling: E[n_k | past] = 0 and E[||n_k||² | past] ≤ σ² per update (one micro-batch)"),
            Hypothesis("(A3) bounded applied gradients, so ||g̃_k − ∇f(W^{(k)};ξ_k)||_F ≤ α c_D surely (lemma:gradient-delay)"),
        ),
        terms=tuple(async_terms().items()),
    )


@lru_cache(maxsize=None)
def sync_convergence() -> Theorem:
    """MODEL.md §5 for a response-function device with a synchronous schedule (sp, 1f1b, wop)."""
    return Theorem(
        id="sync-convergence",
        paper_label="theorem:ASGD-sync-convergence-noncvx-linear",
        title="Convergence of Analog SGD with the synchronous pipeline (non-convex, response-function device)",
        hypotheses=_common_hypotheses()
        + (
            Hypothesis("(A2) each update averages the gradients of B i.i.d. micro-batches, each with E[n | past] = 0 and E||n||² ≤ σ²"),
            Hypothesis("no delay: every operation of mini-batch k reads W^{(k)} (c_D = 0)"),
            Hypothesis("B ≥ 1", sp.GreaterThan(B, 1, evaluate=False)),
        ),
        terms=tuple(sync_terms().items()),
    )


THEOREM_FACTORIES = {"async-convergence": async_convergence, "sync-convergence": sync_convergence}


def theorem(theorem_id: str) -> Theorem:
    """The theorem with a CONTRACT.md id."""
    if theorem_id not in THEOREM_FACTORIES:
        raise KeyError(f"unknown theorem {theorem_id!r}; known: {', '.join(THEOREM_FACTORIES)}")
    return THEOREM_FACTORIES[theorem_id]()


def theorems() -> tuple[Theorem, ...]:
    """Both convergence theorems, sync first."""
    return (sync_convergence(), async_convergence())

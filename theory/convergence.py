"""MODEL.md §5 in sympy: the convergence theorems of Analog SGD on pipelines.

The asynchronous (AP) theorem: for ALD with `α ≤ β/(24L)`,

    (1/K) Σ_{k<K} E||∇f(W^{(k)})||² ≤ 4Δ_0/(αβK) + 24Lασ²/β + 4σ²W_max²/(β²τ²) + α²c_D²(16/β² + 24Lα/β)

with the four terms named `descent`, `noise`, `asymptotic_floor` and `delay`. The
synchronous one (SP, WOP) is the same with `c_D = 0` and `σ² → σ²/B`; digital SGD is the
limit `τ → ∞` (β → 1, no floor). With `α = min(β/(24L), sqrt(Δ_0/(Lσ²K)))` the vanishing
part (every term but the floor) is `O(sqrt(LΔ_0σ²/K)/β + (LΔ_0 + c_D²Δ_0/(Lσ²))/(β²K))`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping

import numpy as np
import sympy as sp

from theory import symbols as S

alpha = S.alpha.symbol
beta = S.beta.symbol
L = S.L.symbol
sigma = S.sigma.symbol
Delta_0 = S.Delta_0.symbol
K = S.K.symbol
c_D = S.c_D.symbol
W_max = S.W_max.symbol
tau = S.tau.symbol
B = S.B.symbol

TERM_NAMES = ("descent", "noise", "asymptotic_floor", "delay")
"""The additive terms of the theorems' right side, in MODEL.md's order."""

REGIMES = ("sqrt-branch", "step-size-branch")
"""Which branch of α = min(β/(24L), sqrt(Δ_0/(Lσ²K))) is active: large K, or small K."""

RATE_CONSTANT = sp.Integer(96)
"""C with vanishing part at the chosen α ≤ C·(O-form), in both regimes (proved in theory.ledger)."""

BETA_DEFINITION = 1 - W_max / tau
"""β = 1 − W_max/τ."""


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

    β is derived from its definition 1 − W_max/τ when absent and W_max, τ are given; a
    missing value raises KeyError naming it. Returns a float for scalar inputs.
    """
    values = dict(values)
    if "beta" not in values and "tau" in values and "W_max" in values:
        values["beta"] = 1 - np.asarray(values["W_max"], dtype=float) / np.asarray(values["tau"], dtype=float)
    arguments, function = _lambdified(sp.sympify(expression))
    missing = [symbol.name for symbol in arguments if symbol.name not in values]
    if missing:
        raise KeyError(f"missing values for {', '.join(missing)}")
    inputs = [np.asarray(values[symbol.name], dtype=float) for symbol in arguments]
    shape = np.broadcast_shapes(*(array.shape for array in inputs)) if inputs else ()
    result = np.broadcast_to(np.asarray(function(*inputs), dtype=float), shape)
    return float(result) if result.ndim == 0 else np.array(result)


def rhs_terms(delay_constant: sp.Expr = c_D, variance: sp.Expr = sigma**2) -> dict[str, sp.Expr]:
    """The four terms of the right side for a delay constant and a gradient variance (σ² or σ²/B)."""
    return {
        "descent": 4 * Delta_0 / (alpha * beta * K),
        "noise": 24 * L * alpha * variance / beta,
        "asymptotic_floor": 4 * variance * W_max**2 / (beta**2 * tau**2),
        "delay": alpha**2 * delay_constant**2 * (16 / beta**2 + 24 * L * alpha / beta),
    }


def async_terms() -> dict[str, sp.Expr]:
    """Terms of the AP theorem: delay constant c_D, variance σ² per update (one micro-batch)."""
    return rhs_terms(c_D, sigma**2)


def sync_terms() -> dict[str, sp.Expr]:
    """Terms of the SP/WOP theorem: no delay (c_D = 0), variance σ²/B per update (B micro-batches)."""
    return rhs_terms(sp.Integer(0), sigma**2 / B)


def total(terms: Mapping[str, sp.Expr]) -> sp.Expr:
    """The right side: the sum of the terms."""
    return sp.Add(*terms.values())


def vanishing_part(terms: Mapping[str, sp.Expr]) -> sp.Expr:
    """Every term but the asymptotic floor: what the choice of α drives to 0 as K → ∞."""
    return sp.Add(*(value for name, value in terms.items() if name != "asymptotic_floor"))


def step_size_bound() -> sp.Expr:
    """β/(24L), the largest step size the theorems allow."""
    return beta / (24 * L)


def step_size_condition() -> sp.Rel:
    """α ≤ β/(24L)."""
    return sp.Le(alpha, step_size_bound())


def sqrt_step_size(variance: sp.Expr = sigma**2) -> sp.Expr:
    """sqrt(Δ_0/(L·variance·K)), the decaying branch of the chosen step size."""
    return sp.sqrt(Delta_0 / (L * variance * K))


def chosen_step_size(variance: sp.Expr = sigma**2) -> sp.Expr:
    """α = min(β/(24L), sqrt(Δ_0/(L·variance·K)))."""
    return sp.Min(step_size_bound(), sqrt_step_size(variance))


def regime_threshold(variance: sp.Expr = sigma**2) -> sp.Expr:
    """K* = 576LΔ_0/(β²·variance): the sqrt branch is the minimum exactly when K ≥ K*."""
    return sp.Integer(576) * L * Delta_0 / (beta**2 * variance)


def step_size_in_regime(regime: str, variance: sp.Expr = sigma**2) -> sp.Expr:
    """The active branch of the chosen α in a regime of REGIMES."""
    if regime not in REGIMES:
        raise ValueError(f"unknown regime {regime!r}; allowed: {', '.join(REGIMES)}")
    return sqrt_step_size(variance) if regime == "sqrt-branch" else step_size_bound()


def vanishing_part_at_chosen_step(terms: Mapping[str, sp.Expr], regime: str, variance: sp.Expr = sigma**2) -> sp.Expr:
    """The vanishing part with α replaced by the active branch of the chosen step size."""
    return sp.expand(vanishing_part(terms).subs(alpha, step_size_in_regime(regime, variance)))


def rate_o_form(delay_constant: sp.Expr = c_D, variance: sp.Expr = sigma**2) -> sp.Expr:
    """sqrt(LΔ_0σ²/K)/β + (LΔ_0 + c_D²Δ_0/(Lσ²))/(β²K), with σ² the given variance."""
    return sp.sqrt(L * Delta_0 * variance / K) / beta + (L * Delta_0 + delay_constant**2 * Delta_0 / (L * variance)) / (beta**2 * K)


def rate_ratio_limit(terms: Mapping[str, sp.Expr] | None = None, delay_constant: sp.Expr = c_D, variance: sp.Expr = sigma**2) -> sp.Expr:
    """lim_{K→∞} (vanishing part at the chosen α)/(O-form): finite, so the O-form is the rate."""
    terms = async_terms() if terms is None else terms
    ratio = vanishing_part_at_chosen_step(terms, "sqrt-branch", variance) / rate_o_form(delay_constant, variance)
    return sp.limit(ratio, K, sp.oo)


def asymptotic_floor(variance: sp.Expr = sigma**2) -> sp.Expr:
    """4σ²W_max²/(β²τ²) with β = 1 − W_max/τ: a function of σ, W_max, τ (σ² → σ²/B for SP, WOP)."""
    return sp.simplify((4 * variance * W_max**2 / (beta**2 * tau**2)).subs(beta, BETA_DEFINITION))


def digital_limit(expression: sp.Expr) -> sp.Expr:
    """Digital SGD: substitute β = 1 − W_max/τ and let τ → ∞ (sympy.limit)."""
    return sp.simplify(sp.limit(expression.subs(beta, BETA_DEFINITION), tau, sp.oo))


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
        """The right side at symbol-name → float/array values (β from W_max, τ when absent)."""
        return self._evaluate(self.rhs, values)

    def evaluate_terms(self, values: Mapping[str, object]) -> dict[str, object]:
        """Each named term at the given values."""
        return {name: self._evaluate(expression, values) for name, expression in self.terms}


def _common_hypotheses() -> tuple[Hypothesis, ...]:
    return (
        Hypothesis("f is L-smooth on the box ||W||_inf ≤ W_max; f* = inf f; Δ_0 = f(W_0) − f*"),
        Hypothesis("||W^{(k)}||_inf ≤ W_max for every k (bounded saturation)"),
        Hypothesis("W_max < τ", sp.StrictLessThan(W_max, tau)),
        Hypothesis("β = 1 − W_max/τ", sp.Eq(beta, BETA_DEFINITION)),
        Hypothesis("β > 0", sp.StrictGreaterThan(beta, 0, evaluate=False)),
        Hypothesis("α ≤ β/(24L)", step_size_condition()),
        Hypothesis("K ≥ 1 updates", sp.GreaterThan(K, 1, evaluate=False)),
    )


@lru_cache(maxsize=None)
def async_convergence() -> Theorem:
    """MODEL.md §5 for ALD with the asynchronous pipeline (AP)."""
    return Theorem(
        id="async-convergence",
        paper_label="theorem:ASGD-async-convergence-noncvx-linear",
        title="Convergence of Analog SGD with the asynchronous pipeline (non-convex, linear response)",
        hypotheses=_common_hypotheses()
        + (
            Hypothesis("unbiased stochastic gradients with E||∇f(W;ξ) − ∇f(W)||² ≤ σ² per update (one micro-batch)"),
            Hypothesis("gradient delay: ||g̃_k − ∇f(W^{(k)};ξ_k)||_F ≤ α c_D (lemma:gradient-delay)"),
        ),
        terms=tuple(async_terms().items()),
    )


@lru_cache(maxsize=None)
def sync_convergence() -> Theorem:
    """MODEL.md §5 for ALD with the synchronous pipeline (SP) or plain model parallelism (WOP)."""
    return Theorem(
        id="sync-convergence",
        paper_label="theorem:ASGD-sync-convergence-noncvx-linear",
        title="Convergence of Analog SGD with the synchronous pipeline (non-convex, linear response)",
        hypotheses=_common_hypotheses()
        + (
            Hypothesis("each update averages the gradients of B independent micro-batches, each with variance ≤ σ²"),
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

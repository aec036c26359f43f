"""The lemmas of MODEL.md §4 as objects: id, paper label, hypotheses, left and right sides.

A lemma's right sides are sympy expressions in theory.symbols for a given number of
layers M (per layer where the lemma is per layer); `evaluate_rhs` lambdifies them.
The theorems of §5 live in theory.convergence.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import numpy as np
import sympy as sp

from theory import symbols as S
from theory.constants import symbolic_constants


@dataclass(frozen=True)
class StatementPart:
    """One inequality of a lemma: lhs (text and LaTeX) ≤ rhs(M) (one expression per layer, or one)."""

    name: str
    lhs_latex: str
    rhs: Callable[[int], tuple[sp.Expr, ...]]
    """M ↦ right sides, layer 1 first (a 1-tuple for whole-network quantities)."""
    per_layer: bool


@dataclass(frozen=True)
class Lemma:
    """A lemma of MODEL.md §4."""

    id: str
    """CONTRACT.md lemma id."""
    paper_label: str | None
    """The paper's label (seed summary), or None for this project's own lemmas."""
    title: str
    hypotheses: tuple[str, ...]
    parts: tuple[StatementPart, ...]
    headline: str
    """Name of the part that is the lemma's quantity (CONTRACT.md `bound`)."""

    def rhs(self, layers: int) -> dict[str, tuple[sp.Expr, ...]]:
        """Right sides of every part for M = `layers`."""
        return {part.name: part.rhs(layers) for part in self.parts}

    def free_symbols(self, layers: int) -> list[sp.Symbol]:
        """Symbols the right sides depend on, sorted by name."""
        found: set[sp.Symbol] = set()
        for expressions in self.rhs(layers).values():
            for expression in expressions:
                found |= sp.sympify(expression).free_symbols
        return sorted(found, key=lambda symbol: symbol.name)

    def evaluate_rhs(self, layers: int, values: dict[str, float | np.ndarray]) -> dict[str, np.ndarray]:
        """Numerical right sides: part name → array [..., parts per layer]."""
        return {name: function(values) for name, function in _lambdified(self.id, layers).items()}

    def latex(self, layers: int) -> str:
        """LaTeX of every part for M = `layers` (per-layer parts shown for a generic m)."""
        lines = []
        for part in self.parts:
            expressions = part.rhs(layers)
            shown = expressions if len(expressions) <= 2 else (expressions[0], expressions[-1])
            right = ",\\ ".join(sp.latex(expression) for expression in shown)
            lines.append(f"{part.lhs_latex} \\le {right}")
        return " \\\\\n".join(lines)

    def __str__(self) -> str:
        label = self.paper_label or "this project (MODEL.md §4)"
        return f"{self.id} [{label}]: {self.title}"


@lru_cache(maxsize=None)
def _lambdified(lemma_id: str, layers: int) -> dict[str, Callable]:
    lemma = LEMMAS[lemma_id]
    functions = {}
    for part in lemma.parts:
        expressions = list(part.rhs(layers))
        arguments = sorted(set().union(*(sp.sympify(e).free_symbols for e in expressions)), key=lambda s: s.name)
        compiled = sp.lambdify(arguments, expressions, modules="numpy")
        names = [symbol.name for symbol in arguments]

        def evaluate(values, compiled=compiled, names=names):
            missing = [name for name in names if name not in values]
            if missing:
                raise KeyError(f"missing values for {missing}")
            results = compiled(*(values[name] for name in names))
            shape = np.broadcast_shapes(*(np.shape(values[name]) for name in names)) if names else ()
            return np.stack([np.broadcast_to(np.asarray(r, dtype=float), shape) for r in results], -1)

        functions[part.name] = evaluate
    return functions


def _gaps(layers: int, kind: str) -> tuple[sp.Expr, ...]:
    return S.u_f.of(layers) if kind == "f" else S.u_b.of(layers)


def _constants(layers: int):
    return symbolic_constants(layers)


def _norm(expressions) -> sp.Expr:
    return sp.sqrt(sum(e**2 for e in expressions))


def _worst_case_gaps(layers: int, delays) -> dict[sp.Symbol, sp.Expr]:
    """u_m = α(1 + W_max/τ) G_m d_m: the worst-case weight gap after d_m updates."""
    constants = _constants(layers)
    step = S.alpha.symbol * (1 + S.W_max.symbol / S.tau.symbol)
    return {
        gap: step * constants.G_layers[m] * delays[m]
        for m, gap in enumerate(_gaps(layers, "f"))
    } | {
        gap: 0 for gap in _gaps(layers, "b")
    }


def _gradient_delay_constant(layers: int) -> sp.Expr:
    """c_D = (1 + W_max/τ) ||Γ(d^f ⊙ G_vec, d^b ⊙ G_vec)||."""
    constants = _constants(layers)
    G_vector = sp.Matrix(constants.G_layers)
    d_f, d_b = sp.Matrix(S.d_f.of(layers)), sp.Matrix(S.d_b.of(layers))
    gaps = sp.Matrix.vstack(d_f.multiply_elementwise(G_vector), d_b.multiply_elementwise(G_vector))
    gamma = constants.Gamma * gaps
    return (1 + S.W_max.symbol / S.tau.symbol) * _norm(list(gamma))


BOUNDED_SIGNAL = Lemma(
    id="bounded-signal",
    paper_label="lemma:bounded-signal",
    title="forward signals, backward signals and gradients are bounded",
    hypotheses=("||W_m||_2 ≤ ω_m", "||x|| ≤ X", "||y|| ≤ Y", "|φ'| ≤ L_φ, φ(0) = 0", "||∇_z ℓ|| ≤ G_ℓ"),
    parts=(
        StatementPart("||a_m|| ≤ A_m", r"\|a_m\|", lambda M: _constants(M).A[1:] or (sp.Integer(0),), True),
        StatementPart("||z_M|| ≤ Z_M", r"\|z_M\|", lambda M: (_constants(M).Z,), False),
        StatementPart("||δ_m|| ≤ Δ_m", r"\|\delta_m\|", lambda M: _constants(M).Delta, True),
        StatementPart("||∇_{W_m} f||_F ≤ G_m", r"\|\nabla_{W_m} f\|_F", lambda M: _constants(M).G_layers, True),
        StatementPart("||∇f||_F ≤ G", r"\|\nabla f\|_F", lambda M: (_constants(M).G,), False),
    ),
    headline="||∇f||_F ≤ G",
)

SIGNAL_STABILITY = Lemma(
    id="signal-stability",
    paper_label="lemma:signal-stability",
    title="the mixed pass (forward W^f, backward W^b) is Lipschitz in the weight gaps",
    hypotheses=("W, W^f, W^b within the bounds ω", "||W_m − W^f_m||_2 ≤ u^f_m", "||W_m − W^b_m||_2 ≤ u^b_m", "|φ''| ≤ S_φ", "∇_z ℓ is L_ℓ-Lipschitz"),
    parts=(
        StatementPart("||z_m − z̃_m|| ≤ ζ_m", r"\|z_m - \tilde z_m\|", lambda M: _constants(M).zeta, True),
        StatementPart("||a_m − ã_m|| ≤ e_m", r"\|a_m - \tilde a_m\|", lambda M: _constants(M).e[:-1] or (sp.Integer(0),), True),
        StatementPart("||δ_m − δ̃_m|| ≤ ε_m", r"\|\delta_m - \tilde\delta_m\|", lambda M: _constants(M).eps, True),
        StatementPart("||∇_{W_m} f − g̃_m||_F ≤ γ_m", r"\|\nabla_{W_m} f - \tilde g_m\|_F", lambda M: _constants(M).gamma, True),
        StatementPart("||∇f − g̃||_F ≤ ||γ||", r"\|\nabla f - \tilde g\|_F", lambda M: (_norm(_constants(M).gamma),), False),
    ),
    headline="||∇f − g̃||_F ≤ ||γ||",
)


def _symmetric_gamma_u(layers: int) -> sp.Expr:
    u = sp.Matrix(S.u_f.of(layers))
    return _norm(list(_constants(layers).Gamma_sym * u))


OBJECTIVE_SMOOTHNESS = Lemma(
    id="objective-smoothness",
    paper_label="lemma:objective-L-smooth",
    title="the per-sample objective is L-smooth with L = ||Γ_sym||_2",
    hypotheses=("W, W' within the bounds ω", "u_m = ||W_m − W'_m||_F (here written u^f_m)"),
    parts=(
        StatementPart("||∇f(W;ξ) − ∇f(W';ξ)||_F ≤ ||Γ_sym u||", r"\|\nabla f(W;\xi) - \nabla f(W';\xi)\|_F", lambda M: (_symmetric_gamma_u(M),), False),
        StatementPart("||∇f(W;ξ) − ∇f(W';ξ)||_F ≤ L ||W − W'||_F", r"\|\nabla f(W;\xi) - \nabla f(W';\xi)\|_F", lambda M: (S.L.symbol * _norm(S.u_f.of(M)),), False),
    ),
    headline="||∇f(W;ξ) − ∇f(W';ξ)||_F ≤ L ||W − W'||_F",
)

ANALOG_INCREMENT = Lemma(
    id="analog-increment",
    paper_label=None,
    title="one analog update moves the weights by at most 2αG",
    hypotheses=("||W^{(k)}||_inf ≤ W_max ≤ τ", "||g̃_k||_F ≤ G"),
    parts=(
        StatementPart("||W⁺ − W||_F ≤ α(1 + W_max/τ) G", r"\|W^{(k+1)} - W^{(k)}\|_F", lambda M: (S.alpha.symbol * (1 + S.W_max.symbol / S.tau.symbol) * _constants(M).G,), False),
        StatementPart("||W⁺ − W||_F ≤ 2αG", r"\|W^{(k+1)} - W^{(k)}\|_F", lambda M: (2 * S.alpha.symbol * _constants(M).G,), False),
    ),
    headline="||W⁺ − W||_F ≤ 2αG",
)

BOX_INVARIANCE = Lemma(
    id="box-invariance",
    paper_label=None,
    title="an ALD update keeps every conductance in [−τ, τ]",
    hypotheses=("|w| ≤ τ", "α|g| ≤ τ"),
    parts=(StatementPart("|w⁺| ≤ τ", r"|w^{+}|", lambda M: (S.tau.symbol,), False),),
    headline="|w⁺| ≤ τ",
)

SIGNAL_DELAY = Lemma(
    id="signal-delay",
    paper_label="lemma:signal-delay",
    title="stale forward signals of the asynchronous pipeline stay within e_m",
    hypotheses=("W^f_m = W_m^{(k − d^f_m)}", "every version within ω and ||·||_inf ≤ W_max < τ", "||g̃_i||_F ≤ G"),
    parts=(
        StatementPart(
            "||z̃_m − z_m(W^{(k)})|| ≤ ζ_m",
            r"\|\tilde z_m - z_m(W^{(k)})\|",
            lambda M: tuple(sp.sympify(z).subs(_worst_case_gaps(M, S.d_f.of(M))) for z in _constants(M).zeta),
            True,
        ),
        StatementPart(
            "||ã_m − a_m(W^{(k)})|| ≤ e_m",
            r"\|\tilde a_m - a_m(W^{(k)})\|",
            lambda M: tuple(sp.sympify(e).subs(_worst_case_gaps(M, S.d_f.of(M))) for e in _constants(M).e[:-1]) or (sp.Integer(0),),
            True,
        ),
    ),
    headline="||z̃_m − z_m(W^{(k)})|| ≤ ζ_m",
)

GRADIENT_DELAY = Lemma(
    id="gradient-delay",
    paper_label="lemma:gradient-delay",
    title="the applied stale gradient is within α c_D of the gradient at the reference point",
    hypotheses=("W^f_m = W_m^{(k − d^f_m)}, W^b_m = W_m^{(k − d^b_m)}", "every version within ω and ||·||_inf ≤ W_max < τ", "||g̃_i||_F ≤ G"),
    parts=(
        StatementPart(
            "||g̃_k − ∇f(W^{(k)};ξ_k)||_F ≤ α c_D",
            r"\|\tilde g_k - \nabla f(W^{(k)};\xi_k)\|_F",
            lambda M: (S.alpha.symbol * _gradient_delay_constant(M),),
            False,
        ),
    ),
    headline="||g̃_k − ∇f(W^{(k)};ξ_k)||_F ≤ α c_D",
)

LEMMAS: dict[str, Lemma] = {
    lemma.id: lemma
    for lemma in (BOUNDED_SIGNAL, SIGNAL_STABILITY, OBJECTIVE_SMOOTHNESS, ANALOG_INCREMENT, BOX_INVARIANCE, SIGNAL_DELAY, GRADIENT_DELAY)
}

LEMMA_IDS: tuple[str, ...] = tuple(LEMMAS)
"""CONTRACT.md lemma ids, in MODEL.md's order."""

"""Symbolic lemma statements: paper label, hypotheses, and sympy right sides for any M.

A `Statement` is the symbolic half of a lemma of MODEL.md §4: its parts' right sides are
sympy expressions in theory.symbols for a given number of layers M (one per layer where
the part is per layer); `evaluate_rhs` lambdifies them (the formula path, checked against
each lemma's numerical evaluator). The lemmas themselves, statement included, live one
per module in proofs_check.library; the theorems of §5 live in theory.convergence.
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
class Statement:
    """The symbolic statement of a lemma of MODEL.md §4."""

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
        return {name: function(values) for name, function in _lambdified(self, layers).items()}

    def latex(self, layers: int) -> str:
        """LaTeX of every part for M = `layers` (per-layer parts shown for a generic m)."""
        lines = []
        for part in self.parts:
            expressions = part.rhs(layers)
            shown = expressions if len(expressions) <= 2 else (expressions[0], expressions[-1])
            right = ",\\ ".join(sp.latex(expression) for expression in shown)
            lines.append(f"{part.lhs_latex} \\le {right}")
        return " \\\\\n".join(lines)



@lru_cache(maxsize=None)
def _lambdified(statement: Statement, layers: int) -> dict[str, Callable]:
    functions = {}
    for part in statement.parts:
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


def euclidean_norm(expressions) -> sp.Expr:
    """sqrt(Σ e²)."""
    return sp.sqrt(sum(e**2 for e in expressions))


def worst_case_gaps(layers: int) -> dict[sp.Symbol, sp.Expr]:
    """u^f_m = α q_max G_m d^f_m and u^b_m = α q_max G_m d^b_m: the worst-case weight gaps after
    d^f_m, d^b_m updates of at most α q_max G_m each (MODEL.md §4; ALD: q_max = 1 + W_max/τ)."""
    constants = symbolic_constants(layers)
    step = S.alpha.symbol * S.q_max.symbol
    forward, backward = S.d_f.of(layers), S.d_b.of(layers)
    return {gap: step * constants.G_layers[m] * forward[m] for m, gap in enumerate(S.u_f.of(layers))} | {
        gap: step * constants.G_layers[m] * backward[m] for m, gap in enumerate(S.u_b.of(layers))
    }


def gradient_delay_constant(layers: int) -> sp.Expr:
    """c_D = q_max ||Γ(d^f ⊙ G_vec, d^b ⊙ G_vec)|| (MODEL.md §4; ALD: q_max = 1 + W_max/τ)."""
    constants = symbolic_constants(layers)
    G_vector = sp.Matrix(constants.G_layers)
    d_f, d_b = sp.Matrix(S.d_f.of(layers)), sp.Matrix(S.d_b.of(layers))
    gaps = sp.Matrix.vstack(d_f.multiply_elementwise(G_vector), d_b.multiply_elementwise(G_vector))
    return S.q_max.symbol * euclidean_norm(list(constants.Gamma * gaps))

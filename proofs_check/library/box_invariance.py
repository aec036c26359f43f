"""Box invariance (MODEL.md §4): an ALD update keeps every conductance in [−τ, τ].

If `|w| ≤ τ` and `α|g| ≤ τ` then `|w⁺| ≤ τ`, since `τ + w⁺ = (τ + w)(1 − αg/τ)` for g ≥ 0
(and symmetrically). Entries outside the hypotheses are not asserted (left side 0).
"""

from __future__ import annotations

import math

import numpy as np

from proofs_check.instances import Instance
from proofs_check.library.base import Evaluation, FalseVariant, Lemma, Part
from proofs_check.library.context import Context, amax
from theory import symbols as S
from theory.statements import Statement, StatementPart

STATEMENT = Statement(
    paper_label=None,
    title="an ALD update keeps every conductance in [−τ, τ]",
    hypotheses=("|w| ≤ τ", "α|g| ≤ τ"),
    parts=(StatementPart("|w⁺| ≤ τ (where |w| ≤ τ, α|g| ≤ τ)", r"|w^{+}|", lambda M: (S.tau.symbol,), False),),
    headline="|w⁺| ≤ τ (where |w| ≤ τ, α|g| ≤ τ)",
)


class BoxInvariance(Lemma):
    """|w⁺| ≤ τ for every entry with |w| ≤ τ and α|g| ≤ τ (ALD)."""

    id = "box-invariance"
    statement = STATEMENT
    builtin = True
    finite_tau_only = True
    perturbations = ("g",)
    false_variants = (
        FalseVariant("missing factor", "|w⁺| ≤ τ/2", rhs="tau/2"),
        FalseVariant("dropped term", "|w⁺| ≤ max|w| (the update's step dropped)", rhs="W_max"),
    )

    def evaluate_at(self, c: Context) -> Evaluation:
        instance = c.instance
        gradient = c.weights(instance.gradient) if instance.gradient is not None else c.micro_batch_gradient(c.W, c.W)
        updated = c.device_step(c.W, gradient)
        tau_matrix = c.scalar(instance.tau)[..., None]
        alpha_matrix = c.scalar(instance.alpha)[..., None]
        lhs_layers, rhs_layers, inside_layers = [], [], []
        for w, g, u in zip(c.W, gradient, updated):
            inside = (np.abs(w) <= tau_matrix) & (alpha_matrix * np.abs(g) <= tau_matrix)
            lhs_layers.append(np.where(inside, np.abs(u), 0 * u).reshape(c.batch + (-1,)))
            rhs_layers.append((0 * u + tau_matrix).reshape(c.batch + (-1,)))
            inside_layers.append(np.asarray(inside, dtype=bool).reshape(c.batch + (-1,)))
        lhs, rhs, inside = np.concatenate(lhs_layers, -1), np.concatenate(rhs_layers, -1), np.concatenate(inside_layers, -1)
        # entries outside the hypotheses are not asserted: they cannot fail
        headline = Part(
            "|w⁺| ≤ τ (where |w| ≤ τ, α|g| ≤ τ)", amax(lhs, axis=-1)[..., None], amax(rhs, axis=-1)[..., None], vacuous=~inside.any(axis=-1)[..., None]
        )
        parts = [Part("|w⁺_ij| ≤ τ", lhs, rhs, vacuous=~inside), headline]
        omega = c.omega(c.W)
        X, Y = c.micro_batch_X(), c.micro_batch_Y()
        G_ell = c.G_ell(omega, X, Y)
        signal = c.signal(omega, X, G_ell)
        symbols = c.bound_symbols(omega, X, Y, G_ell, signal, c.smoothness(omega, X, G_ell), headline.rhs)
        return Evaluation(self.id, parts, headline, symbols, c.statement_values(omega, X, G_ell))

    def from_trace(self, view) -> Instance | None:
        """Every entry of the update W^{(k)} → W^{(k+1)} (analog runs only)."""
        if not math.isfinite(view.tau):
            return None
        return Instance(self.id, weights=view.current, gradient=view.applied, **view.common)

    def weight_range(self, structure) -> float:
        return structure.tau

    def build_search_instance(self, structure, weights, parts, common) -> Instance:
        gradient = tuple(parts[f"g{m + 1}"] * (structure.tau / structure.alpha) for m in range(structure.layers))
        return Instance(self.id, weights=weights, gradient=gradient, **common)


LEMMA = BoxInvariance()

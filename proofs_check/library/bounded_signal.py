"""Bounded signal (MODEL.md §4): forward signals, backward signals and gradients are bounded.

`A_0 = X`, `A_m = L_φ ω_m A_{m−1}`, `Z_M = ω_M A_{M−1}`, `Δ_M = G_ℓ`,
`Δ_m = L_φ ω_{m+1} Δ_{m+1}`; then `||a_m|| ≤ A_m`, `||z_M|| ≤ Z_M`, `||δ_m|| ≤ Δ_m`,
`||∇_{W_m} f||_F ≤ G_m = Δ_m A_{m−1}` and `||∇f||_F ≤ G`, per sample.
"""

from __future__ import annotations

import sympy as sp

from proofs_check.instances import Instance
from proofs_check.library.base import Evaluation, FalseVariant, Lemma, Part
from proofs_check.library.context import Context
from theory.constants import symbolic_constants as constants
from theory.statements import Statement, StatementPart

STATEMENT = Statement(
    paper_label="lemma:bounded-signal",
    title="forward signals, backward signals and gradients are bounded",
    hypotheses=("||W_m||_2 ≤ ω_m", "||x|| ≤ X", "||y|| ≤ Y", "|φ'| ≤ L_φ, φ(0) = 0", "||∇_z ℓ|| ≤ G_ℓ"),
    parts=(
        StatementPart("||a_m|| ≤ A_m", r"\|a_m\|", lambda M: constants(M).A[1:] or (sp.Integer(0),), True),
        StatementPart("||z_M|| ≤ Z_M", r"\|z_M\|", lambda M: (constants(M).Z,), False),
        StatementPart("||δ_m|| ≤ Δ_m", r"\|\delta_m\|", lambda M: constants(M).Delta, True),
        StatementPart("||∇_{W_m} f||_F ≤ G_m", r"\|\nabla_{W_m} f\|_F", lambda M: constants(M).G_layers, True),
        StatementPart("||∇f||_F ≤ G", r"\|\nabla f\|_F", lambda M: (constants(M).G,), False),
    ),
    headline="||∇f||_F ≤ G",
)


class BoundedSignal(Lemma):
    """||a_m|| ≤ A_m, ||z_M|| ≤ Z_M, ||δ_m|| ≤ Δ_m, ||∇_{W_m} f||_F ≤ G_m, ||∇f||_F ≤ G, per sample."""

    id = "bounded-signal"
    statement = STATEMENT
    builtin = True
    false_variants = (
        FalseVariant("missing factor", "||∇f||_F ≤ G/ω_max (a factor ω missing)", rhs="bound/omega_max"),
        FalseVariant("exponent off by one", "||∇f||_F ≤ G/X (X⁰ instead of X¹)", rhs="bound/X"),
        FalseVariant("dropped term", "||∇f||_F ≤ G·(G_ℓ − Y)/G_ℓ (Y dropped from G_ℓ)", rhs="bound*(G_ell - Y)/G_ell"),
    )

    def evaluate_at(self, c: Context) -> Evaluation:
        ar, layers = c.ar, c.instance.layers
        omega, X, Y = c.omega(c.W), c.per_sample_X(), c.per_sample_Y()
        G_ell = c.G_ell(omega, X, Y)
        signal = c.signal(omega, X, G_ell)
        forward_pass, deltas = c.passes()
        gradients = c.per_sample_gradients(forward_pass, deltas)
        parts = []
        for m in range(1, layers):
            parts.append(Part("||a_m|| ≤ A_m", ar.norm(forward_pass.layer_inputs[m], -1), signal.A[..., m], m))
        parts.append(Part("||z_M|| ≤ Z_M", ar.norm(forward_pass.output, -1), signal.Z, layers))
        for m in range(layers):
            parts.append(Part("||δ_m|| ≤ Δ_m", ar.norm(deltas[m], -1), signal.Delta[..., m], m + 1))
        for m in range(layers):
            parts.append(Part("||∇_{W_m} f||_F ≤ G_m", ar.norm(gradients[m], (-2, -1)), signal.G_layers[..., m], m + 1))
        headline = Part("||∇f||_F ≤ G", c.total_norm(gradients), signal.G)
        parts.append(headline)
        symbols = c.bound_symbols(omega, X, Y, G_ell, signal, lambda: c.smoothness(omega, X, G_ell), headline.rhs)
        return Evaluation(self.id, parts, headline, symbols, c.statement_values(omega, X, G_ell))

    def from_trace(self, view) -> Instance:
        """At the reference point W^{(k)}, on update k's samples."""
        return Instance(self.id, weights=view.current, **view.common)


LEMMA = BoundedSignal()

"""Objective smoothness (MODEL.md §4): the per-sample objective is L-smooth, L = ||Γ_sym||_2.

With `u_m = ||W_m − W'_m||_F`: `||∇f(W;ξ) − ∇f(W';ξ)||_F ≤ ||Γ_sym u|| ≤ L ||W − W'||_F`.
"""

from __future__ import annotations

import sympy as sp

from proofs_check.instances import Instance
from proofs_check.library.base import Evaluation, FalseVariant, Lemma, Part
from proofs_check.library.context import Context, asum
from proofs_check.library.variants import WITHOUT_CURVATURE
from theory import symbols as S
from theory.constants import symbolic_constants as constants
from theory.statements import Statement, StatementPart, euclidean_norm


def _symmetric_gamma_u(layers: int) -> sp.Expr:
    u = sp.Matrix(S.u_f.of(layers))
    return euclidean_norm(list(constants(layers).Gamma_sym * u))


STATEMENT = Statement(
    paper_label="lemma:objective-L-smooth",
    title="the per-sample objective is L-smooth with L = ||Γ_sym||_2",
    hypotheses=("W, W' within the bounds ω", "u_m = ||W_m − W'_m||_F (here written u^f_m)"),
    parts=(
        StatementPart("||∇f(W;ξ) − ∇f(W';ξ)||_F ≤ ||Γ_sym u||", r"\|\nabla f(W;\xi) - \nabla f(W';\xi)\|_F", lambda M: (_symmetric_gamma_u(M),), False),
        StatementPart("||∇f(W;ξ) − ∇f(W';ξ)||_F ≤ L ||W − W'||_F", r"\|\nabla f(W;\xi) - \nabla f(W';\xi)\|_F", lambda M: (S.L.symbol * euclidean_norm(S.u_f.of(M)),), False),
    ),
    headline="||∇f(W;ξ) − ∇f(W';ξ)||_F ≤ L ||W − W'||_F",
)


class ObjectiveSmoothness(Lemma):
    """||∇f(W;ξ) − ∇f(W';ξ)||_F ≤ ||Γ_sym u|| ≤ L ||W − W'||_F with u_m = ||W_m − W'_m||_F."""

    id = "objective-smoothness"
    statement = STATEMENT
    builtin = True
    perturbations = ("f",)
    false_variants = (
        FalseVariant("missing factor", "||∇f(W) − ∇f(W')||_F ≤ L||W − W'||_F/ω_max", rhs="bound/omega_max"),
        FalseVariant("exponent off by one", "||∇f(W) − ∇f(W')||_F ≤ L||W − W'||_F/X (X¹ instead of X²)", rhs="bound/X"),
        FalseVariant("S_φ omitted", "L from a Γ_sym without S_φ", model=WITHOUT_CURVATURE, only=("Γ_sym u||", "L ||W − W'||")),
    )

    def evaluate_at(self, c: Context) -> Evaluation:
        ar = c.ar
        W_other = c.weights(c.instance.forward_weights)
        omega, X, Y = c.omega(c.W, W_other), c.per_sample_X(), c.per_sample_Y()
        G_ell = c.G_ell(omega, X, Y)
        u = c.frobenius_gaps(c.W, W_other)[..., None, :]
        gamma = c.stability(omega, X, G_ell, u, u).gamma
        L = c.smoothness(omega, X, G_ell)
        distance = ar.norm(u, -1)
        first = c.per_sample_gradients(*c.passes(c.W, c.W))
        second = c.per_sample_gradients(*c.passes(W_other, W_other))
        lhs = c.total_norm([a - b for a, b in zip(first, second)])
        gamma_norm = ar.norm(gamma, -1)
        headline = Part("||∇f(W;ξ) − ∇f(W';ξ)||_F ≤ L ||W − W'||_F", lhs, L * distance)
        parts = [
            Part("||∇f(W;ξ) − ∇f(W';ξ)||_F ≤ ||Γ_sym u||", lhs, gamma_norm),
            Part("||Γ_sym u|| ≤ L ||u||", gamma_norm, L * distance, vacuous=True),  # L = ||Γ_sym||_2: a definition
            headline,
        ]
        signal = c.signal(omega, X, G_ell)
        symbols = c.bound_symbols(omega, X, Y, G_ell, signal, L, headline.rhs)
        symbols["u_f"] = symbols["u_b"] = 0 * X + asum(u, axis=-1)
        values = c.statement_values(omega, X, G_ell, u_f=u, L=L)
        return Evaluation(self.id, parts, headline, symbols, values)

    def from_trace(self, view) -> Instance:
        """Between consecutive reference points W^{(k)} and W^{(k+1)}."""
        return Instance(self.id, weights=view.current, forward_weights=view.following, **view.common)

    def build_search_instance(self, structure, weights, parts, common) -> Instance:
        return Instance(self.id, weights=weights, forward_weights=self.perturbed(structure, weights, parts, "f"), **common)


LEMMA = ObjectiveSmoothness()

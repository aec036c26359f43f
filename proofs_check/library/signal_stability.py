"""Signal stability (MODEL.md §4): the mixed pass is Lipschitz in the weight gaps.

The forward pass computed with W^f and the backward MVMs with W^b, against the pass at W:
`||z_m − z̃_m|| ≤ ζ_m`, `||a_m − ã_m|| ≤ e_m`, `||δ_m − δ̃_m|| ≤ ε_m`,
`||∇_{W_m} f − g̃_m||_F ≤ γ_m`, with the recursions of MODEL.md in `u^f_m ≥ ||W_m − W^f_m||_2`
and `u^b_m ≥ ||W_m − W^b_m||_2`.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from proofs_check.instances import Instance
from proofs_check.library.base import Evaluation, FalseVariant, Lemma, Part
from proofs_check.library.context import Context, asum
from proofs_check.library.variants import WITHOUT_ACTIVATION_GAP, WITHOUT_CURVATURE
from theory.constants import symbolic_constants as constants
from theory.statements import Statement, StatementPart, euclidean_norm

STATEMENT = Statement(
    paper_label="lemma:signal-stability",
    title="the mixed pass (forward W^f, backward W^b) is Lipschitz in the weight gaps",
    hypotheses=("W, W^f, W^b within the bounds ω", "||W_m − W^f_m||_2 ≤ u^f_m", "||W_m − W^b_m||_2 ≤ u^b_m", "|φ''| ≤ S_φ", "∇_z ℓ is L_ℓ-Lipschitz"),
    parts=(
        StatementPart("||z_m − z̃_m|| ≤ ζ_m", r"\|z_m - \tilde z_m\|", lambda M: constants(M).zeta, True),
        StatementPart("||a_m − ã_m|| ≤ e_m", r"\|a_m - \tilde a_m\|", lambda M: constants(M).e[:-1] or (sp.Integer(0),), True),
        StatementPart("||δ_m − δ̃_m|| ≤ ε_m", r"\|\delta_m - \tilde\delta_m\|", lambda M: constants(M).eps, True),
        StatementPart("||∇_{W_m} f − g̃_m||_F ≤ γ_m", r"\|\nabla_{W_m} f - \tilde g_m\|_F", lambda M: constants(M).gamma, True),
        StatementPart("||∇f − g̃||_F ≤ ||γ||", r"\|\nabla f - \tilde g\|_F", lambda M: (euclidean_norm(constants(M).gamma),), False),
    ),
    headline="||∇f − g̃||_F ≤ ||γ||",
)


class SignalStability(Lemma):
    """The mixed pass (forward W^f, backward MVMs W^b) against the pass at W: ζ, e, ε, γ bounds."""

    id = "signal-stability"
    statement = STATEMENT
    builtin = True
    perturbations = ("f", "b")
    false_variants = (
        FalseVariant("S_φ omitted", "ε_m without S_φ ω_{m+1} Δ_{m+1} ζ_m", model=WITHOUT_CURVATURE, only=("ε_m", "γ_m", "||γ||")),
        FalseVariant("dropped term", "γ_m without Δ_m e_{m−1}", model=WITHOUT_ACTIVATION_GAP, only=("γ_m", "||γ||")),
        FalseVariant("missing factor", "||∇f − g̃||_F ≤ ||γ||/ω_max", rhs="bound/omega_max"),
    )

    def evaluate_at(self, c: Context) -> Evaluation:
        ar, layers, instance = c.ar, c.instance.layers, c.instance
        W_f = c.weights(instance.forward_weights or instance.weights)
        W_b = c.weights(instance.backward_weights or instance.weights)
        omega, X, Y = c.omega(c.W, W_f, W_b), c.per_sample_X(), c.per_sample_Y()
        G_ell = c.G_ell(omega, X, Y)
        gaps = [c.spectral_norms((c.W[m] - W_f[m], c.W[m] - W_b[m])) for m in range(layers)]  # ||W_m − W^f_m||_2, ||W_m − W^b_m||_2
        u_f = np.stack([gap[0] for gap in gaps], -1)[..., None, :]
        u_b = np.stack([gap[1] for gap in gaps], -1)[..., None, :]
        bounds = c.stability(omega, X, G_ell, u_f, u_b)
        exact_pass, exact_deltas = c.passes(c.W, c.W)
        mixed_pass, mixed_deltas = c.passes(W_f, W_b)
        exact_gradients = c.per_sample_gradients(exact_pass, exact_deltas)
        mixed_gradients = c.per_sample_gradients(mixed_pass, mixed_deltas)
        differences = [e - g for e, g in zip(exact_gradients, mixed_gradients)]
        parts = []
        for m in range(layers):
            gap = exact_pass.pre_activations[m] - mixed_pass.pre_activations[m]
            parts.append(Part("||z_m − z̃_m|| ≤ ζ_m", ar.norm(gap, -1), bounds.zeta[..., m], m + 1))
        for m in range(1, layers):
            gap = exact_pass.layer_inputs[m] - mixed_pass.layer_inputs[m]
            parts.append(Part("||a_m − ã_m|| ≤ e_m", ar.norm(gap, -1), bounds.e[..., m - 1], m))
        for m in range(layers):
            parts.append(Part("||δ_m − δ̃_m|| ≤ ε_m", ar.norm(exact_deltas[m] - mixed_deltas[m], -1), bounds.eps[..., m], m + 1))
        for m in range(layers):
            parts.append(Part("||∇_{W_m} f − g̃_m||_F ≤ γ_m", ar.norm(differences[m], (-2, -1)), bounds.gamma[..., m], m + 1))
        headline = Part("||∇f − g̃||_F ≤ ||γ||", c.total_norm(differences), ar.norm(bounds.gamma, -1))
        parts.append(headline)
        signal = c.signal(omega, X, G_ell)
        symbols = c.bound_symbols(omega, X, Y, G_ell, signal, lambda: c.smoothness(omega, X, G_ell), headline.rhs)
        symbols["u_f"] = 0 * X + asum(c.frobenius_gaps(c.W, W_f), axis=-1)[..., None]
        symbols["u_b"] = 0 * X + asum(c.frobenius_gaps(c.W, W_b), axis=-1)[..., None]
        values = c.statement_values(omega, X, G_ell, u_f=u_f, u_b=u_b)
        return Evaluation(self.id, parts, headline, symbols, values)

    def from_trace(self, view) -> Instance:
        """The mixed pass the pipeline ran (W^f read by F, W^b read by B); synchronous
        schedules read W^{(k)} everywhere, so there the pair (W^{(k)}, W^{(k+1)}) is used."""
        forward = view.following if view.synchronous else view.read_forward
        backward = view.following if view.synchronous else view.read_backward
        return Instance(self.id, weights=view.current, forward_weights=forward, backward_weights=backward, **view.common)

    def build_search_instance(self, structure, weights, parts, common) -> Instance:
        forward = self.perturbed(structure, weights, parts, "f")
        backward = self.perturbed(structure, weights, parts, "b")
        return Instance(self.id, weights=weights, forward_weights=forward, backward_weights=backward, **common)


LEMMA = SignalStability()

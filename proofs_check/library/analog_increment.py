"""Analog increment (MODEL.md §4): one device update moves the weights by at most α q_max G.

`||W^{(k+1)} − W^{(k)}||_F ≤ α q_max ||g̃_k||_F ≤ α q_max G` for any response-function device,
q_max the device's constant (`Device.constants`) on the box |w| ≤ ||W^{(k)}||_inf: per entry
`|g F + |g| G| ≤ |g| max(q₊, q₋)`, and the clip only shortens a step that starts inside the
box. For the ALD q_max = 1 + ||W^{(k)}||_inf/τ ≤ 2 (so the step is at most 2αG); for digital
SGD q_max = 1 and the first inequality is an identity.
"""

from __future__ import annotations

import numpy as np

from proofs_check.instances import Instance
from proofs_check.library.base import Evaluation, FalseVariant, Lemma, Part, rows_within_box
from proofs_check.library.context import Context, maximum
from proofs_check.library.variants import STEP_FACTOR_BETA
from theory import symbols as S
from theory.constants import symbolic_constants as constants
from theory.statements import Statement, StatementPart

STATEMENT = Statement(
    paper_label=None,
    title="one analog update moves the weights by at most α q_max G",
    hypotheses=("||W^{(k)}||_inf ≤ W_max ≤ τ", "||g̃_k||_F ≤ G", "a response-function device (q_max = max(γ₊, γ₋)(1 + W_max/τ)^p; ALD 1 + W_max/τ)"),
    parts=(StatementPart("||W⁺ − W||_F ≤ α q_max G", r"\|W^{(k+1)} - W^{(k)}\|_F", lambda M: (S.alpha.symbol * S.q_max.symbol * constants(M).G,), False),),
    headline="||W⁺ − W||_F ≤ α q_max G",
)


class AnalogIncrement(Lemma):
    """||W⁺ − W||_F ≤ α q_max ||g||_F ≤ α q_max G for one device update (ALD: q_max = 1 + ||W||_inf/τ ≤ 2)."""

    id = "analog-increment"
    statement = STATEMENT
    builtin = True
    micro_batch = True
    perturbations = ("f",)
    false_variants = (
        FalseVariant("missing factor", "||W⁺ − W||_F ≤ αG (q_max replaced by 1)", rhs="alpha*G"),
        FalseVariant("exponent off by one", "||W⁺ − W||_F ≤ α² q_max G", rhs="bound*alpha"),
        FalseVariant("wrong device constant", "||W⁺ − W||_F ≤ α β ||g||_F (q_max replaced by β)", model=STEP_FACTOR_BETA, only=("α q_max",)),
    )

    def evaluate_at(self, c: Context) -> Evaluation:
        ar, layers, instance = c.ar, c.instance.layers, c.instance
        W_f = c.weights(instance.forward_weights or instance.weights)
        W_b = c.weights(instance.backward_weights or instance.weights)
        gradient = c.weights(instance.gradient) if instance.gradient is not None else c.micro_batch_gradient(W_f, W_b)
        omega = c.omega(c.W, W_f, W_b)
        X, Y = c.micro_batch_X(), c.micro_batch_Y()
        G_ell = c.G_ell(omega, X, Y)
        signal = c.signal(omega, X, G_ell)
        alpha = c.scalar(instance.alpha)
        updated = c.device_step(c.W, gradient)
        steps = [ar.norm(u - w, (-2, -1))[..., None] for u, w in zip(updated, c.W)]
        gradient_norms = [ar.norm(g, (-2, -1))[..., None] for g in gradient]
        largest = [ar.max_abs(w)[..., None] for w in c.W]
        # digital rows (τ = ∞): the step is α||g|| by definition, an identity that cannot fail
        digital = np.broadcast_to(np.isinf(np.asarray(instance.tau, dtype=float)), c.batch)[..., None]
        parts = [
            Part(
                "||W⁺_m − W_m||_F ≤ α q_max ||g_m||_F (q_max on |w| ≤ ||W_m||_inf)", steps[m],
                alpha * c.model.step_factor(c.device_constants(largest[m])) * gradient_norms[m], m + 1, digital,
            )
            for m in range(layers)
        ]
        step = ar.sqrt(sum(s * s for s in steps))
        W_inf = largest[0]
        for value in largest[1:]:
            W_inf = maximum(W_inf, value)
        q_max = c.model.step_factor(c.device_constants(W_inf))
        g_norm = ar.sqrt(sum(g * g for g in gradient_norms))
        middle = alpha * q_max * g_norm
        parts.append(Part("||W⁺ − W||_F ≤ α q_max ||g||_F", step, middle, vacuous=digital))
        headline = Part("||W⁺ − W||_F ≤ α q_max G", step, alpha * q_max * signal.G)
        parts.append(Part("α q_max ||g||_F ≤ α q_max G", middle, alpha * q_max * signal.G))
        parts.append(headline)
        symbols = c.bound_symbols(omega, X, Y, G_ell, signal, lambda: c.smoothness(omega, X, G_ell), headline.rhs)
        symbols["W_max"] = 0 * X + W_inf
        return Evaluation(self.id, parts, headline, symbols, c.statement_values(omega, X, G_ell, W_max=W_inf, q_max=q_max))

    def assumptions_hold(self, instance: Instance):
        """The weights before the update lie in the device box (||W^{(k)}||_inf ≤ τ)."""
        return rows_within_box(instance, instance.weights, strict=False)

    def from_trace(self, view) -> Instance | None:
        """The update W^{(k)} → W^{(k+1)} with the applied gradient g̃_k and trace-level bounds
        (None for a device whose update is random given g: the pulsed device is measured
        against its mean model instead, `model_error`)."""
        if not view.deterministic_device:
            return None
        bounds = view.bounds
        return Instance(
            self.id, weights=view.current, gradient=view.applied, omega=bounds["omega"], X=bounds["X"], Y=bounds["Y"], **view.common
        )

    def build_search_instance(self, structure, weights, parts, common) -> Instance:
        return Instance(self.id, weights=weights, forward_weights=self.perturbed(structure, weights, parts, "f"), **common)


LEMMA = AnalogIncrement()

"""Box invariance (MODEL.md §4): an analog update keeps every conductance in [−τ, τ] without a clip.

ALD: if `|w| ≤ τ` and `α|g| ≤ τ` then `|w⁺| ≤ τ`, since `τ + w⁺ = (τ + w)(1 − αg/τ)` for g ≥ 0
(and symmetrically). `softbounds` with p ≥ 1: if `|w| ≤ τ` and `α|g| max(γ₊, γ₋) ≤ 2^{1−p} τ`
the update before its clip, `w − α g F(w) − α|g| G(w)`, stays in [−τ, τ] (the clip never
acts). Both conditions are `α|g| q_box ≤ 2τ` with `q_box = max(γ₊, γ₋) 2^p` the device's
q_max on the whole box |w| ≤ τ (`Device.constants(τ)`; ALD 2). Entries outside the
hypotheses (and every entry of a device with p < 1) are not asserted (left side 0).
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
    title="an analog update keeps every conductance in [−τ, τ]",
    hypotheses=("|w| ≤ τ", "α|g| ≤ τ (ALD); α|g| max(γ₊, γ₋) ≤ 2^{1−p} τ and p ≥ 1 (softbounds, before its clip)"),
    parts=(StatementPart("|w⁺| ≤ τ (where |w| ≤ τ, α|g| ≤ τ)", r"|w^{+}|", lambda M: (S.tau.symbol,), False),),
    headline="|w⁺| ≤ τ (where |w| ≤ τ, α|g| ≤ τ)",
)


class BoxInvariance(Lemma):
    """|w⁺| ≤ τ for every entry with |w| ≤ τ and α|g| ≤ τ (ALD), or α|g| max(γ₊, γ₋) ≤ 2^{1−p} τ
    (softbounds with p ≥ 1, w⁺ before the clip)."""

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
        updated = unclipped_update(c, c.W, gradient)
        tau_matrix = c.scalar(instance.tau)[..., None]
        alpha_matrix = c.scalar(instance.alpha)[..., None]
        q_box = c.device_constants(tau_matrix).q_max
        covered = getattr(c.device, "exponent", 1.0) >= 1
        lhs_layers, rhs_layers, inside_layers = [], [], []
        for w, g, u in zip(c.W, gradient, updated):
            inside = (np.abs(w) <= tau_matrix) & (alpha_matrix * np.abs(g) * q_box <= 2 * tau_matrix) & covered
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
        symbols = c.bound_symbols(omega, X, Y, G_ell, signal, lambda: c.smoothness(omega, X, G_ell), headline.rhs)
        return Evaluation(self.id, parts, headline, symbols, c.statement_values(omega, X, G_ell))

    def from_trace(self, view) -> Instance | None:
        """Every entry of the update W^{(k)} → W^{(k+1)} (analog runs of a deterministic device only)."""
        if not math.isfinite(view.tau) or not view.deterministic_device:
            return None
        return Instance(self.id, weights=view.current, gradient=view.applied, **view.common)

    def weight_range(self, structure) -> float:
        return structure.tau

    def build_search_instance(self, structure, weights, parts, common) -> Instance:
        # |g| ≤ τ/α rounded down, so that α|g| ≤ τ holds exactly (not only in float64) at θ = ±1
        scale = np.nextafter(structure.tau / structure.alpha, 0.0)
        gradient = tuple(parts[f"g{m + 1}"] * scale for m in range(structure.layers))
        return Instance(self.id, weights=weights, gradient=gradient, **common)


LEMMA = BoxInvariance()


def unclipped_update(c: Context, weights, gradient) -> tuple:
    """W⁺ of the instance's device before any clip: `w − α g F(w) − α|g| G(w)` for a device with
    response functions q₊, q₋ (softbounds: what its clip would cut), the device's own update
    otherwise (ALD and digital SGD have no clip)."""
    device = c.device
    if not hasattr(device, "response_up"):
        return c.device_step(weights, gradient)
    alpha = c.scalar(c.instance.alpha)[..., None]
    updated = []
    for w, g in zip(weights, gradient):
        up, down = device.response_up(w), device.response_down(w)
        F, G = (up + down) / 2, (down - up) / 2
        updated.append(w - alpha * g * F - alpha * np.abs(g) * G)
    return tuple(updated)

"""What the engine checks: a claim is a lemma's own bound, a user's candidate bound, or a
deliberately false variant of a lemma that the engine must refute.

A claim maps an instance to the parts it asserts (lhs ≤ rhs). The project's own lemma
asserts every part of MODEL.md's statement; a candidate replaces the headline's right
side; a false variant either replaces the headline's right side by a wrong expression
or computes every right side from a modified recursion (`lemmas.ConstantsModel`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from proofs_check import lemmas
from proofs_check.candidates import Candidate, parse_candidate
from proofs_check.instances import LEMMA_IDS, Instance
from proofs_check.lemmas import EXACT, ConstantsModel, Part
from proofs_check.precision import FLOAT64, MPMATH, Arithmetic
from proofs_check.tolerance import PartVerdict, judge
from theory import constants as theory_constants
from theory.statements import LEMMAS


@dataclass(frozen=True)
class Claim:
    """A statement about one lemma's quantities, checkable at any instance."""

    lemma: str
    name: str
    model: ConstantsModel = EXACT
    candidate: Candidate | None = None
    kind: str = "lemma"
    """'lemma' (the project's bound), 'candidate' (a user's), or a false variant's kind."""
    only: tuple[str, ...] = ()
    """Assert only the parts whose names contain one of these (the parts a variant changes)."""

    def parts(self, instance: Instance, arithmetic: Arithmetic = FLOAT64) -> list[Part]:
        """The asserted parts at the instance."""
        evaluation = lemmas.evaluate(instance, arithmetic, self.model)
        if self.candidate is not None:
            return [self.candidate.part(evaluation)]
        if self.model is EXACT:
            return evaluation.parts
        # A modified recursion can only be refuted where its right side is below MODEL.md's:
        # elsewhere the entry is MODEL.md's own (true) bound, so its left side is masked to 0.
        exact = lemmas.evaluate(instance, arithmetic, EXACT)
        parts = []
        for modified, original in zip(evaluation.parts, exact.parts):
            if self.only and not any(key in modified.name for key in self.only):
                continue
            lower = np.asarray(modified.rhs < original.rhs, dtype=bool)
            lhs = np.where(lower, modified.lhs, 0 * modified.lhs)
            parts.append(Part(modified.name, lhs, modified.rhs, modified.layer))
        return parts

    def judge(self, instance: Instance) -> list[PartVerdict]:
        """MODEL.md's tolerance policy on every asserted part (near ties in 50 digits)."""
        return judge(instance, self.parts(instance), lambda sub: self.parts(sub, MPMATH))

    def score(self, instance: Instance) -> np.ndarray:
        """Largest ratio per batch row (for the adversarial search)."""
        from proofs_check.adversarial import _row_ratios

        rows = instance.inputs.shape[0]
        best = np.full(rows, -np.inf)
        for part in self.parts(instance):
            ratio = _row_ratios(part.lhs, part.rhs, rows)
            best = np.where(np.isnan(ratio) | np.isnan(best), np.nan, np.maximum(best, ratio))
        return best


def own_claim(lemma: str) -> Claim:
    """The project's own lemma: every part of MODEL.md's statement."""
    return Claim(lemma, str(LEMMAS[lemma]))


def candidate_claim(lemma: str, text: str) -> Claim:
    """A user's candidate right side for the lemma's headline quantity."""
    candidate = parse_candidate(text)
    return Claim(lemma, f"{LEMMAS[lemma].headline.split('≤')[0].strip()} ≤ {text}", candidate=candidate, kind="candidate")


# ----------------------------------------------------------------- false variants


def _stability_without_curvature(omega, X, L_phi, S_phi, L_ell, G_ell, u_f, u_b, sqrt=np.sqrt):
    """ε_m with its S_φ ω_{m+1} Δ_{m+1} ζ_m term dropped."""
    return theory_constants.stability_constants(omega, X, L_phi, 0 * S_phi, L_ell, G_ell, u_f, u_b, sqrt=sqrt)


def _stability_without_activation_gap(omega, X, L_phi, S_phi, L_ell, G_ell, u_f, u_b, sqrt=np.sqrt):
    """γ_m = A_{m−1} ε_m with the Δ_m e_{m−1} term dropped."""
    exact = theory_constants.stability_constants(omega, X, L_phi, S_phi, L_ell, G_ell, u_f, u_b, sqrt=sqrt)
    signal = theory_constants.signal_constants(omega, X, L_phi, G_ell, sqrt=sqrt)
    return theory_constants.StabilityConstants(exact.zeta, exact.e, exact.eps, signal.A * exact.eps)


def _variant(lemma: str, kind: str, name: str, rhs: str | None = None, model: ConstantsModel | None = None, only: tuple[str, ...] = ()) -> Claim:
    if rhs is not None:
        return Claim(lemma, name, candidate=parse_candidate(rhs), kind=kind)
    return Claim(lemma, name, model=model, kind=kind, only=only)


WITHOUT_CURVATURE = ConstantsModel("S_φ omitted from ε_m", stability=_stability_without_curvature)
WITHOUT_ACTIVATION_GAP = ConstantsModel("Δ_m e_{m−1} dropped from γ_m", stability=_stability_without_activation_gap)
DELAY_IGNORED = ConstantsModel("delays taken as 0", ignore_delays=True)

FALSE_VARIANTS: tuple[Claim, ...] = (
    _variant("bounded-signal", "missing factor", "||∇f||_F ≤ G/ω_max (a factor ω missing)", rhs="bound/omega_max"),
    _variant("bounded-signal", "exponent off by one", "||∇f||_F ≤ G/X (X⁰ instead of X¹)", rhs="bound/X"),
    _variant("bounded-signal", "dropped term", "||∇f||_F ≤ G·(G_ℓ − Y)/G_ℓ (Y dropped from G_ℓ)", rhs="bound*(G_ell - Y)/G_ell"),
    _variant("signal-stability", "S_φ omitted", "ε_m without S_φ ω_{m+1} Δ_{m+1} ζ_m", model=WITHOUT_CURVATURE, only=("ε_m", "γ_m", "||γ||")),
    _variant("signal-stability", "dropped term", "γ_m without Δ_m e_{m−1}", model=WITHOUT_ACTIVATION_GAP, only=("γ_m", "||γ||")),
    _variant("signal-stability", "missing factor", "||∇f − g̃||_F ≤ ||γ||/ω_max", rhs="bound/omega_max"),
    _variant("objective-smoothness", "missing factor", "||∇f(W) − ∇f(W')||_F ≤ L||W − W'||_F/ω_max", rhs="bound/omega_max"),
    _variant("objective-smoothness", "exponent off by one", "||∇f(W) − ∇f(W')||_F ≤ L||W − W'||_F/X (X¹ instead of X²)", rhs="bound/X"),
    _variant("objective-smoothness", "S_φ omitted", "L from a Γ_sym without S_φ", model=WITHOUT_CURVATURE, only=("Γ_sym u||", "L ||W − W'||")),
    _variant("analog-increment", "missing factor", "||W⁺ − W||_F ≤ αG (the factor 2 missing)", rhs="alpha*G"),
    _variant("analog-increment", "exponent off by one", "||W⁺ − W||_F ≤ 2α²G", rhs="2*alpha**2*G"),
    _variant("box-invariance", "missing factor", "|w⁺| ≤ τ/2", rhs="tau/2"),
    _variant("box-invariance", "dropped term", "|w⁺| ≤ max|w| (the update's step dropped)", rhs="W_max"),
    _variant("signal-delay", "delay ignored", "stale signals bounded with d^f = 0", model=DELAY_IGNORED),
    _variant("signal-delay", "dropped term", "ζ_M without the device factor (1 + W_max/τ)", rhs="bound/(1 + W_max/tau)"),
    _variant("signal-delay", "missing factor", "ζ_M/2 (a factor 2 missing)", rhs="bound/2"),
    _variant("gradient-delay", "delay ignored", "||g̃ − ∇f||_F bounded with d = 0", model=DELAY_IGNORED),
    _variant("gradient-delay", "exponent off by one", "||g̃ − ∇f||_F ≤ α² c_D", rhs="bound*alpha"),
    _variant("gradient-delay", "S_φ omitted", "c_D from a Γ without S_φ", model=WITHOUT_CURVATURE, only=("γ_m", "Γ(u^f, u^b)", "α c_D")),
)
"""Deliberately false variants of every lemma (each refutable within the assumptions)."""

assert {claim.lemma for claim in FALSE_VARIANTS} == set(LEMMA_IDS)

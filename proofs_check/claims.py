"""What the engine checks: a claim is a lemma's own bound, a user's candidate bound, or a
deliberately false variant of a lemma that the engine must refute.

A claim maps an instance to the parts it asserts (lhs ≤ rhs). A lemma's own claim asserts
every part of its statement; a candidate replaces the headline's right side; a false
variant either replaces the headline's right side by a wrong expression or computes every
right side from a modified recursion (`ConstantsModel`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from proofs_check.candidates import Candidate, parse_candidate
from proofs_check.instances import Instance
from proofs_check.library import EXACT, REGISTRY, ConstantsModel, Context, FalseVariant, Lemma, Part
from proofs_check.precision import FLOAT64, MPMATH, Arithmetic
from proofs_check.tolerance import PartVerdict, judge


@dataclass(frozen=True)
class Claim:
    """A statement about one lemma's quantities, checkable at any instance."""

    lemma: Lemma
    name: str
    model: ConstantsModel = EXACT
    candidate: Candidate | None = None
    kind: str = "lemma"
    """'lemma' (the lemma's own bound), 'candidate' (a user's), or a false variant's kind."""
    only: tuple[str, ...] = ()
    """Assert only the parts whose names contain one of these (the parts a variant changes)."""

    def parts(self, instance: Instance, arithmetic: Arithmetic = FLOAT64, known: "KnownEvaluation | None" = None) -> list[Part]:
        """The asserted parts at the instance. `known`, the lemma's own float64 evaluation at this
        very instance (`KnownEvaluation`), stands in for evaluating it again: it is the whole
        evaluation of the lemma's claim and of a candidate, and MODEL.md's side of a modified recursion."""
        if arithmetic is not FLOAT64:
            known = None  # a float64 evaluation cannot stand in for a 50-digit one
        if known is not None:
            if self.candidate is not None:
                return [self.candidate.part(known)]
            if self.model is EXACT:
                return list(known.parts)
        context = Context(instance, arithmetic, self.model)
        evaluation = self.lemma.evaluate_in(context)
        if self.candidate is not None:
            return [self.candidate.part(evaluation)]
        if self.model is EXACT:
            return evaluation.parts
        # A modified recursion can only be refuted where its right side is below MODEL.md's:
        # elsewhere the entry is MODEL.md's own (true) bound, so its left side is masked to 0.
        exact = known if known is not None else self.lemma.evaluate_in(context.sibling(EXACT))
        parts = []
        for modified, original in zip(evaluation.parts, exact.parts):
            if self.only and not any(key in modified.name for key in self.only):
                continue
            lower = np.asarray(modified.rhs < original.rhs, dtype=bool)
            lhs = np.where(lower, modified.lhs, 0 * modified.lhs)
            parts.append(Part(modified.name, lhs, modified.rhs, modified.layer, ~lower | np.asarray(modified.vacuous, dtype=bool)))
        return parts

    def judge(self, instance: Instance, known: "KnownEvaluation | None" = None) -> list[PartVerdict]:
        """MODEL.md's tolerance policy on every asserted part (near ties in 50 digits); `known` as in `parts`."""
        return judge(instance, self.parts(instance, known=known), lambda sub: self.parts(sub, MPMATH))

    def score(self, instance: Instance) -> np.ndarray:
        """Largest ratio per batch row (for the adversarial search)."""
        from proofs_check.adversarial import row_ratios

        return row_ratios(self.parts(instance), instance.inputs.shape[0])


@dataclass(frozen=True)
class KnownEvaluation:
    """A lemma's own float64 evaluation at one trace instance, kept for its false variants (the
    trace task computes it once to judge the lemma; a variant's refutation reads it instead of
    evaluating the lemma again): MODEL.md's parts, the headline, and the bound symbols that the
    lemma's candidate variants read. Plain arrays, so it travels to a Dask worker."""

    parts: tuple[Part, ...]
    headline: Part
    symbols: dict[str, np.ndarray]


def known_evaluation(lemma: Lemma, instance: Instance) -> KnownEvaluation:
    """The lemma's own float64 evaluation at the instance, with the symbols its false variants read."""
    evaluation = lemma.evaluate_in(Context(instance, FLOAT64, EXACT))
    return KnownEvaluation(tuple(evaluation.parts), evaluation.headline, {name: np.asarray(evaluation.symbols[name]) for name in _variant_symbols(lemma)})


@lru_cache(maxsize=None)
def _variant_symbols(lemma: Lemma) -> tuple[str, ...]:
    """The bound symbols read by the lemma's candidate false variants."""
    return tuple(sorted({name for variant in lemma.false_variants if variant.rhs is not None for name in parse_candidate(variant.rhs).names}))


def own_claim(lemma: "str | Lemma") -> Claim:
    """The lemma's own bound: every part of its statement."""
    lemma = REGISTRY.get(lemma)
    return Claim(lemma, str(lemma))


def candidate_claim(lemma: "str | Lemma", text: str) -> Claim:
    """A candidate right side for the lemma's headline quantity (`bound` is the lemma's own)."""
    lemma = REGISTRY.get(lemma)
    return Claim(lemma, f"{lemma.quantity} ≤ {text}", candidate=parse_candidate(text), kind="candidate")


def variant_claim(lemma: Lemma, variant: FalseVariant) -> Claim:
    """The claim of a false variant of the lemma."""
    if variant.rhs is not None:
        return Claim(lemma, variant.name, candidate=parse_candidate(variant.rhs), kind=variant.kind)
    return Claim(lemma, variant.name, model=variant.model, kind=variant.kind, only=variant.only)


def false_variant_claims(lemmas=None) -> tuple[Claim, ...]:
    """The false variants of every registered lemma (or of the given ones), in order."""
    return tuple(variant_claim(lemma, variant) for lemma in (REGISTRY if lemmas is None else lemmas) for variant in lemma.false_variants)

"""A researcher's own lemma: a left side written in Python, a right side as an expression.

    UserLemma("output-norm", lhs=lambda c: c.norm(c.forward().output), rhs="omega_prod*X",
              family="bounded-signal", quantity="||z_M||")

The left side is a function of a `Context` (the instance in the working arithmetic, with
its passes, norms and measured bounds); it returns one value per sample (or one per
instance), with the instance's leading batch axes. The right side is a sympy expression in
the family's symbols (`proofs_check.library.BOUND_SYMBOLS`; `bound` is the family lemma's
own right side). The family is a registered lemma whose instances the user lemma is
checked on: its trace instances, its adversarial search space and its assumption checks.

A left side that raises, or returns NaN or inf, is an `error` with its inputs (the
instance is the witness), never `holds`. Near ties are re-evaluated in 50 digits like
every lemma: the left side then runs on mpmath object arrays, so write it with the
context's operations (`c.norm`, `c.forward`, `c.passes`, ...) rather than np.linalg.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Callable, Sequence

import numpy as np

from proofs_check.candidates import parse_candidate
from proofs_check.instances import Instance
from proofs_check.library.base import BOUND_SYMBOLS, Evaluation, FalseVariant, Lemma, Part, Structure
from proofs_check.library.context import Context
from theory.statements import Statement, StatementPart

_ID = re.compile(r"[a-z0-9][a-z0-9_.-]*")


class UserLemma(Lemma):
    """A lemma defined by its left side (Python), right side (expression) and instance family."""

    def __init__(
        self,
        id: str,
        lhs: Callable[[Context], np.ndarray],
        rhs: str,
        family: "str | Lemma" = "bounded-signal",
        *,
        quantity: str | None = None,
        title: str | None = None,
        hypotheses: Sequence[str] = (),
        false_variants: Sequence[FalseVariant] = (),
    ) -> None:
        """`id`: lowercase letters, digits, '-', '_', '.'; `lhs`: Context ↦ values per sample;
        `rhs`: an expression in BOUND_SYMBOLS; `family`: the lemma (or its id) whose instances
        this one is checked on; `quantity`: the left side in words (default: the function's name)."""
        if not isinstance(id, str) or not _ID.fullmatch(id):
            raise ValueError(f"lemma id {id!r}: use lowercase letters, digits, '-', '_' and '.', starting with a letter or digit")
        if not callable(lhs):
            raise TypeError(f"lemma {id}: lhs must be a function of a Context, got {type(lhs).__name__}")
        if not isinstance(rhs, str):
            raise TypeError(f"lemma {id}: rhs must be an expression (a string) in {', '.join(BOUND_SYMBOLS)}")
        self.id = id
        self.lhs = lhs
        self.rhs = rhs
        self.candidate = parse_candidate(rhs)
        self._family = family
        self._quantity = quantity or getattr(lhs, "__name__", "lhs")
        self.false_variants = tuple(false_variants)
        self.statement = Statement(
            paper_label=None,
            title=title or f"{self._quantity} ≤ {rhs}",
            hypotheses=tuple(hypotheses),
            parts=(StatementPart(self.headline_name, self._quantity, lambda M: (self.candidate.expression,), False),),
            headline=self.headline_name,
        )

    @property
    def headline_name(self) -> str:
        return f"{self._quantity} ≤ {self.rhs}"

    @property
    def family(self) -> Lemma:
        """The lemma whose instances this one is checked on."""
        if isinstance(self._family, Lemma):
            return self._family
        from proofs_check.library.registry import REGISTRY

        return REGISTRY.get(self._family)

    # -------------------------------------------------------------- evaluation

    def evaluate_at(self, c: Context) -> Evaluation:
        family = self.family.evaluate_at(c.sibling(c.model))
        symbols = family.symbols.copy()
        shape = np.shape(family.headline.lhs)
        rhs = self.candidate.evaluate(symbols, np.empty(shape, dtype=object if c.ar.name != "float64" else float))
        name = self.headline_name
        try:
            with np.errstate(all="ignore"):
                values = np.asarray(self.lhs(c))
            lhs = np.broadcast_to(values, np.broadcast_shapes(values.shape, np.shape(rhs)))
            if lhs.dtype != object:
                lhs = lhs.astype(float)
        except Exception as error:  # the user's code: report, never 'holds'
            lhs = np.full(np.shape(rhs), np.nan)
            name = f"{self._quantity} (left side raised {type(error).__name__}: {error}) ≤ {self.rhs}"
        rhs = np.broadcast_to(rhs, np.shape(lhs))
        headline = Part(name, lhs, rhs)
        symbols["bound"] = rhs
        return Evaluation(self.id, [headline], headline, symbols, family.values)

    def assumptions_hold(self, instance: Instance):
        return self.family.assumptions_hold(instance)

    # -------------------------------------------------------------- instances: the family's, relabelled

    def _own(self, instance: Instance | None) -> Instance | None:
        return None if instance is None else dataclasses.replace(instance, lemma=self.id)

    def from_trace(self, view) -> Instance | None:
        return self._own(self.family.from_trace(view))

    def draw_structure(self, rng, **limits) -> Structure:
        return dataclasses.replace(self.family.draw_structure(rng, **limits), lemma=self.id)

    def search_parameters(self, structure: Structure):
        return self.family.search_parameters(structure)

    def search_instance(self, structure: Structure, parts: dict) -> Instance:
        return self._own(self.family.search_instance(structure, parts))

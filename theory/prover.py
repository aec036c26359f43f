"""A small, honest prover for the algebraic steps of the proof sketches.

A claim is `proved` only when sympy itself establishes it: an identity whose difference
rewrites to 0, or an inequality whose difference (larger − smaller) sympy's assumption
system shows to be nonnegative in some rewriting, or equals an explicitly supplied
certificate (a sum of nonnegative terms such as weighted squares) that sympy checks by
expansion and whose terms it shows nonnegative. Anything else is `unproved`; a
difference that sympy shows negative is reported as refuted (still `unproved`).

Hypotheses enter as *parameterisations*: substitutions that map fresh nonnegative symbols
onto exactly the constrained set (e.g. `α ≤ β/(24L)` as `β = 24Lα + r`, r ≥ 0). The
caller states what each substitution encodes; the prover only does algebra.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import sympy as sp

PROVED = "proved"
UNPROVED = "unproved"

Substitutions = Sequence[tuple[sp.Basic, sp.Basic]]


@dataclass(frozen=True)
class Proof:
    """The outcome of one proof attempt: `status` is 'proved' or 'unproved'; `method` says how or why not."""

    status: str
    method: str

    @property
    def proved(self) -> bool:
        return self.status == PROVED


def _short(expression: sp.Basic, limit: int = 160) -> str:
    text = sp.sstr(expression)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _substitute(expression: sp.Basic, substitutions: Substitutions) -> sp.Basic:
    for old, new in substitutions:
        expression = expression.subs(old, new)
    return expression


def _is_zero_matrix(expression: sp.Basic) -> bool:
    expanded = sp.expand(expression)
    return bool(getattr(expanded, "is_ZeroMatrix", False)) or expanded == 0


def _vanishes(difference: sp.Basic) -> str | None:
    """Name of a rewriting that turns `difference` into 0, or None."""
    if isinstance(difference, sp.MatrixExpr):
        return "matrix expansion" if _is_zero_matrix(difference) else None
    difference = difference.doit()
    for name, rewrite in (
        ("expansion", sp.expand),
        ("cancellation", lambda e: sp.cancel(sp.together(e))),
        ("simplification", sp.simplify),
    ):
        if rewrite(difference) == 0:
            return name
    return None


def prove_identity(left: sp.Basic, right: sp.Basic, substitutions: Substitutions = ()) -> Proof:
    """Prove `left = right` (scalars, matrix expressions, sums, limits): the difference rewrites to 0."""
    left = _substitute(left, substitutions)
    right = _substitute(right, substitutions)
    difference = left - right
    how = _vanishes(difference)
    if how is not None:
        return Proof(PROVED, f"left − right reduces to 0 by {how}")
    if not isinstance(difference, sp.MatrixExpr):
        difference = sp.simplify(difference.doit())
    return Proof(UNPROVED, f"left − right does not reduce to 0: {_short(difference)}")


def _nonnegative_terms(expression: sp.Expr) -> bool:
    terms = sp.Add.make_args(sp.expand(expression))
    return all(term.is_nonnegative is True for term in terms)


def _nonnegative_by_assumptions(expression: sp.Expr) -> str | None:
    """A description of why sympy's assumptions make `expression` ≥ 0, or None."""
    if expression.is_nonnegative is True:
        return "sympy's assumptions give it directly"
    factored = sp.factor(expression)
    if factored.is_nonnegative is True:
        return f"it factors as {_short(factored)}, nonnegative by sympy's assumptions"
    numerator, denominator = sp.fraction(sp.cancel(sp.together(expression)))
    if denominator.is_positive is True:
        if _nonnegative_terms(numerator):
            count = len(sp.Add.make_args(sp.expand(numerator)))
            return f"over a positive denominator its numerator expands to {count} nonnegative terms"
        factored_numerator = sp.factor(numerator)
        if factored_numerator.is_nonnegative is True:
            return f"over a positive denominator its numerator factors as {_short(factored_numerator)}"
    if _nonnegative_terms(expression):
        return "it expands to a sum of nonnegative terms"
    return None


def _refuted(expression: sp.Expr) -> bool:
    return expression.is_negative is True or sp.factor(expression).is_negative is True


def prove_nonnegative(
    expression: sp.Expr,
    substitutions: Substitutions = (),
    certificate: sp.Expr | None = None,
) -> Proof:
    """Prove `expression ≥ 0` for every value of its symbols allowed by their assumptions.

    With a `certificate`, sympy must show `expression − certificate` reduces to 0 and the
    certificate ≥ 0 (e.g. a weighted sum of squares). `substitutions` (parameterisations
    of hypotheses) are applied to both first.
    """
    expression = sp.sympify(_substitute(expression, substitutions)).doit()
    if certificate is not None:
        certificate = sp.sympify(_substitute(certificate, substitutions))
        how = _vanishes(expression - certificate)
        if how is None:
            return Proof(UNPROVED, f"the certificate does not match: difference {_short(sp.simplify(expression - certificate))}")
        why = _nonnegative_by_assumptions(certificate)
        if why is None:
            return Proof(UNPROVED, f"the certificate {_short(certificate)} is not shown nonnegative")
        return Proof(PROVED, f"equals the certificate {_short(certificate)} ({how}); {why}")
    why = _nonnegative_by_assumptions(expression)
    if why is not None:
        return Proof(PROVED, why)
    if _vanishes(expression) is not None:
        return Proof(PROVED, "the difference is identically 0")
    if _refuted(expression):
        return Proof(UNPROVED, f"refuted: sympy finds {_short(expression)} negative")
    return Proof(UNPROVED, f"sympy cannot establish {_short(sp.factor(expression))} ≥ 0")


def prove_inequality(
    smaller: sp.Expr,
    larger: sp.Expr,
    substitutions: Substitutions = (),
    certificate: sp.Expr | None = None,
) -> Proof:
    """Prove `smaller ≤ larger`: `larger − smaller ≥ 0` by `prove_nonnegative`."""
    return prove_nonnegative(larger - smaller, substitutions, certificate)


def all_proved(proofs: Iterable[Proof]) -> Proof:
    """Conjunction: proved when every proof is; otherwise the first failure's reason."""
    proofs = list(proofs)
    for index, proof in enumerate(proofs, start=1):
        if not proof.proved:
            prefix = f"part {index} of {len(proofs)}: " if len(proofs) > 1 else ""
            return Proof(UNPROVED, prefix + proof.method)
    if len(proofs) == 1:
        return proofs[0]
    return Proof(PROVED, "; ".join(f"({index}) {proof.method}" for index, proof in enumerate(proofs, start=1)))

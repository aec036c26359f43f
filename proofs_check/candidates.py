"""Candidate right sides: a user's (or a false variant's) bound for a lemma's quantity.

A candidate is a sympy expression in the lemma's per-sample symbols (CONTRACT.md `bound`):
it replaces the right side of the lemma's headline part. Parsing never creates symbols:
an unknown name or an unparsable text is a `CandidateError` listing the known symbols.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from tokenize import TokenError

import mpmath
import numpy as np
import sympy as sp
from sympy.parsing.sympy_parser import parse_expr, standard_transformations


BOUND_SYMBOLS = (
    "M", "alpha", "tau", "W_max", "X", "Y", "L_phi", "S_phi", "L_ell", "G_ell",
    "omega_max", "omega_prod", "D", "u_f", "u_b", "G", "L", "bound",
)
"""Symbols every lemma offers to a candidate right side (CONTRACT.md)."""

_FUNCTIONS = {name: getattr(sp, name) for name in ("sqrt", "exp", "log", "Max", "Min", "Abs", "pi", "E")}


_SAFE_TEXT = re.compile(r"[A-Za-z0-9_.+\-*/(), \t]*")
_PARSER_GLOBALS = {"Integer": sp.Integer, "Float": sp.Float, "Rational": sp.Rational, "Symbol": sp.Symbol, "__builtins__": {}}


class CandidateError(ValueError):
    """An expression that cannot be a candidate bound."""


@dataclass(frozen=True)
class Candidate:
    """A parsed candidate right side."""

    text: str
    expression: sp.Expr

    @cached_property
    def _names(self) -> list[str]:
        return sorted(symbol.name for symbol in self.expression.free_symbols)

    @cached_property
    def _float_function(self):
        return sp.lambdify([sp.Symbol(n) for n in self._names], self.expression, modules="numpy")

    @cached_property
    def _mp_function(self):
        return sp.lambdify([sp.Symbol(n) for n in self._names], self.expression, modules="mpmath")

    def evaluate(self, symbols: dict[str, np.ndarray], like: np.ndarray) -> np.ndarray:
        """The candidate at every entry (float64 or mpmath object arrays, as the symbols are)."""
        values = [symbols[name] for name in self._names]
        high_precision = any(np.asarray(v).dtype == object for v in values) or np.asarray(like).dtype == object
        if not high_precision:
            with np.errstate(all="ignore"):
                result = self._float_function(*[np.asarray(v, dtype=float) for v in values])
            return np.broadcast_to(np.asarray(result, dtype=float), np.shape(like))
        function = np.frompyfunc(lambda *args: self._mp_function(*args), len(values), 1) if values else None
        if function is None:
            return np.full(np.shape(like), mpmath.mpf(str(sp.N(self.expression, 60))), dtype=object)
        shaped = np.broadcast_arrays(*[np.asarray(v, dtype=object) for v in values], np.asarray(like, dtype=object))
        return np.asarray(function(*shaped[:-1]), dtype=object)

    def part(self, evaluation):
        """The headline's left side against this candidate (a `proofs_check.library.Part`)."""
        from proofs_check.library.base import Part

        headline = evaluation.headline
        rhs = self.evaluate(evaluation.symbols, headline.lhs)
        return Part(f"{headline.name.split('≤')[0].strip()} ≤ {self.text}", headline.lhs, rhs, headline.layer, headline.vacuous)


def parse_candidate(text: str, symbols: tuple[str, ...] = BOUND_SYMBOLS) -> Candidate:
    """Parse `text` in `symbols` (default the lemmas' BOUND_SYMBOLS; a theorem passes its own);
    unknown symbols or bad syntax raise CandidateError."""
    known = {name: sp.Symbol(name) for name in symbols}
    if not _SAFE_TEXT.fullmatch(text) or "__" in text or not text.strip():
        raise CandidateError(f"{text!r} may only contain names, numbers, + - * / ** ( ) , and spaces; known symbols: {', '.join(symbols)}")
    try:
        expression = parse_expr(
            text,
            local_dict={**known, **_FUNCTIONS},
            global_dict=dict(_PARSER_GLOBALS),
            transformations=standard_transformations,
            evaluate=True,
        )
    except (SyntaxError, TypeError, ValueError, NameError, AttributeError, sp.SympifyError, TokenError) as error:
        raise CandidateError(f"cannot parse {text!r} ({type(error).__name__}); known symbols: {', '.join(symbols)}") from None
    if not isinstance(expression, sp.Expr) or expression.is_Relational or isinstance(expression, (sp.logic.boolalg.BooleanAtom, sp.logic.boolalg.BooleanFunction)):
        raise CandidateError(f"{text!r} is not an expression; known symbols: {', '.join(symbols)}")
    unknown = sorted(symbol.name for symbol in expression.free_symbols if symbol.name not in known)
    if unknown:
        raise CandidateError(f"unknown symbol(s) {', '.join(unknown)} in {text!r}; known symbols: {', '.join(symbols)}")
    if expression.has(sp.I) or expression.has(sp.zoo) or expression.has(sp.nan):
        raise CandidateError(f"{text!r} is not a real expression; known symbols: {', '.join(symbols)}")
    return Candidate(text=text, expression=expression)


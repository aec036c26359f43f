"""Candidate right sides: a user's (or a false variant's) bound for a lemma's quantity.

A candidate is a sympy expression in the lemma's per-sample symbols (CONTRACT.md `bound`):
it replaces the right side of the lemma's headline part. Parsing never creates symbols:
an unknown name or an unparsable text is a `CandidateError` listing the known symbols.
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass
from functools import cached_property
from tokenize import TokenError

import mpmath
import numpy as np
import sympy as sp
from sympy.parsing.sympy_parser import parse_expr, standard_transformations

from proofs_check.limits import LIMITS


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

    @property
    def names(self) -> tuple[str, ...]:
        """The bound symbols the candidate reads, sorted."""
        return tuple(self._names)

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


_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.UAdd, ast.USub)
_FLOAT_FUNCTIONS = {"sqrt": math.sqrt, "exp": math.exp, "log": math.log, "Max": max, "Min": min, "Abs": abs}
_FLOAT_CONSTANTS = {"pi": math.pi, "E": math.e}


def _shown(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:57] + "...")


def _constant_value(node: ast.AST) -> float | None:
    """The value of a subexpression without symbols, in floats (overflow: inf), or None when
    it holds a symbol. Never exact arithmetic, so it cannot blow up."""
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        return _FLOAT_CONSTANTS.get(node.id)
    if isinstance(node, ast.UnaryOp):
        value = _constant_value(node.operand)
        return None if value is None else (-value if isinstance(node.op, ast.USub) else value)
    if isinstance(node, ast.BinOp):
        left, right = _constant_value(node.left), _constant_value(node.right)
        if left is None or right is None:
            return None
        try:
            if isinstance(node.op, ast.Pow):
                return math.inf if abs(right) > LIMITS.exponent else float(abs(left) ** right)
            if isinstance(node.op, ast.Div):
                return left / right
            return {ast.Add: left + right, ast.Sub: left - right, ast.Mult: left * right}[type(node.op)]
        except (OverflowError, ZeroDivisionError, ValueError):
            return math.inf
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FLOAT_FUNCTIONS:
        values = [_constant_value(argument) for argument in node.args]
        if any(value is None for value in values) or not values:
            return None
        try:
            return float(_FLOAT_FUNCTIONS[node.func.id](*values))
        except (OverflowError, ValueError, TypeError):
            return math.inf
    return None


def _same_chain(parent: ast.BinOp, child: ast.AST) -> bool:
    groups = ((ast.Add, ast.Sub), (ast.Mult, ast.Div))
    return isinstance(child, ast.BinOp) and any(isinstance(parent.op, group) and isinstance(child.op, group) for group in groups)


def check_expression_size(text: str, symbols: tuple[str, ...] = BOUND_SYMBOLS) -> None:
    """Refuse, before sympy sees it, an expression whose parsing or evaluation could blow up:
    longer than `LIMITS.expression_length`, more than `LIMITS.expression_nodes` operators,
    names and numbers, nested deeper than `LIMITS.expression_depth`, or a power whose
    exponent is a number above `LIMITS.exponent` in absolute value (sympy would evaluate
    `9**9**9**9` exactly while parsing). Only + - * / **, unary signs, names, numbers and
    calls of the allowed functions are accepted."""
    known = f"known symbols: {', '.join(symbols)}"
    if len(text) > LIMITS.expression_length:
        raise CandidateError(f"{_shown(text)} has {len(text)} characters, above the limit of {LIMITS.expression_length}; {known}")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        raise CandidateError(f"cannot parse {_shown(text)} (SyntaxError); {known}") from None
    nodes = 0
    stack = [(tree.body, 1)]
    while stack:
        node, depth = stack.pop()
        nodes += 1
        if nodes > LIMITS.expression_nodes:
            raise CandidateError(f"{_shown(text)} has more than {LIMITS.expression_nodes} operators, names and numbers (the limit); {known}")
        if depth > LIMITS.expression_depth:
            raise CandidateError(f"{_shown(text)} is nested deeper than {LIMITS.expression_depth} levels (the limit); {known}")
        if isinstance(node, ast.BinOp) and isinstance(node.op, _OPERATORS):
            if isinstance(node.op, ast.Pow):
                exponent = _constant_value(node.right)
                if exponent is not None and not abs(exponent) <= LIMITS.exponent:
                    raise CandidateError(
                        f"{_shown(text)} raises to a power of absolute value above {LIMITS.exponent:g} (the limit on numeric exponents); {known}"
                    )
            # a chain of + − (or of * /) is one level: sympy flattens it into one sum (product)
            stack += [(child, depth if _same_chain(node, child) else depth + 1) for child in (node.left, node.right)]
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, _OPERATORS):
            stack.append((node.operand, depth + 1))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS and not node.keywords:
            stack += [(argument, depth + 1) for argument in node.args]
        elif isinstance(node, ast.Name):
            continue
        elif isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            continue
        else:
            raise CandidateError(f"{_shown(text)} may only use + - * / **, numbers, symbols and the functions {', '.join(sorted(_FUNCTIONS))}; {known}")


def parse_candidate(text: str, symbols: tuple[str, ...] = BOUND_SYMBOLS) -> Candidate:
    """Parse `text` in `symbols` (default the lemmas' BOUND_SYMBOLS; a theorem passes its own);
    unknown symbols, bad syntax or an expression above the size limits raise CandidateError."""
    known = {name: sp.Symbol(name) for name in symbols}
    if not _SAFE_TEXT.fullmatch(text) or "__" in text or not text.strip():
        raise CandidateError(f"{_shown(text)} may only contain names, numbers, + - * / ** ( ) , and spaces; known symbols: {', '.join(symbols)}")
    check_expression_size(text, symbols)
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


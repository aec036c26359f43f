"""The prover of the proof-step ledger: z3 decides inequalities, sympy checks identities.

An inequality step is `proved` only when z3 shows that its hypotheses and the negation of
its claim have no common real solution (`unsat`), in nonlinear real arithmetic; `sat` is a
refutation, with the model z3 found as a counterexample; `unknown` (including a timeout)
leaves it unproved. Nothing is substituted by hand: the hypotheses are the constraints,
and the domain of every symbol (positivity from theory.symbols, or the symbol's sympy
assumptions) is added and reported. Before the claim is tried the hypotheses alone must
be satisfiable, so no step is proved vacuously.

`Z3Converter` translates sympy to z3: Add, Mul, Pow with an integer exponent (a negative
one as a division), Pow with a rational exponent p/n (`sqrt`, `cbrt`) through an
auxiliary variable r ≥ 0 with rⁿ equal to the base (which asserts the base ≥ 0, as
sympy's real root needs), Abs, Min and Max through if-then-else, Rational and Symbol.
Anything else (floats, functions, matrices, non-real symbols) is rejected with a
`ConversionError` that names the offending subexpression. Every division adds the
constraint that its denominator is nonzero: a claim is only about the points where its
expressions are defined.

An identity is checked by sympy alone: the difference of its sides must simplify to 0
(expansion, cancellation, simplification, after `doit` for sums and limits). It is
reported as an identity, never as proved.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from fractions import Fraction
from typing import Iterable, Sequence

import sympy as sp
import z3

from theory import symbols as S

PROVED = "proved"
IDENTITY = "identity"
UNPROVED = "unproved"

UNSAT, SAT, UNKNOWN = "unsat", "sat", "unknown"
"""z3's answers for hypotheses ∧ ¬claim: unsat proves the claim, sat refutes it."""

DEFAULT_TIMEOUT_MS = 10_000
"""Each z3 call stops after this many milliseconds (then the answer is `unknown`)."""

SUPPORTED = "Add, Mul, Pow with a rational exponent, Abs, Min, Max, Rational and real Symbol"


class ConversionError(ValueError):
    """A sympy expression the z3 converter does not translate."""


@dataclass(frozen=True)
class Proof:
    """The outcome of one attempt: `status` is 'proved', 'identity' or 'unproved'; `method` says how or why not.

    For z3 attempts `outcome` is z3's answer ('unsat', 'sat', 'unknown'), `counterexample`
    the model of a 'sat' answer (symbol name → value as text), `domains` the domain
    constraints that were added, and `seconds` the time taken.
    """

    status: str
    method: str
    outcome: str | None = None
    counterexample: dict[str, str] | None = None
    domains: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def proved(self) -> bool:
        return self.status == PROVED

    @property
    def refuted(self) -> bool:
        return self.outcome == SAT


def _short(expression: sp.Basic, limit: int = 160) -> str:
    text = sp.sstr(expression)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ----------------------------------------------------------------------------- sympy → z3


def _declared_domain(symbol: sp.Symbol) -> S.Domain | None:
    """The theory.symbols domain of a symbol, when it is one of MODEL.md's parameters (same name and assumptions)."""
    try:
        parameter = S.parameter(symbol.name)
    except KeyError:
        return None
    return parameter.domain if parameter.symbol == symbol else None


class Z3Converter:
    """Translates sympy expressions and relations to z3 over the reals, collecting side constraints.

    `constraints` holds the domain of every symbol met and the defining constraints of the
    auxiliary root variables; `domains` describes the domain constraints in words.
    """

    def __init__(self) -> None:
        self.variables: dict[sp.Symbol, z3.ArithRef] = {}
        self.constraints: list[z3.BoolRef] = []
        self.domains: list[str] = []
        self._roots: dict[tuple[sp.Basic, int], z3.ArithRef] = {}

    # symbols and numbers

    def variable(self, symbol: sp.Symbol) -> z3.ArithRef:
        if symbol in self.variables:
            return self.variables[symbol]
        if symbol.is_real is not True:
            raise ConversionError(f"cannot translate symbol {symbol} to z3: it is not declared real")
        variable = z3.Real(symbol.name)
        if any(known.name == symbol.name for known in self.variables):
            raise ConversionError(f"two different symbols are both called {symbol.name!r}")
        self.variables[symbol] = variable
        domain = _declared_domain(symbol)
        if domain is not None:
            self._domain_from_interval(symbol, variable, domain)
        else:
            self._domain_from_assumptions(symbol, variable)
        return variable

    def _bound(self, symbol: sp.Symbol, constraint: z3.BoolRef, text: str) -> None:
        self.constraints.append(constraint)
        self.domains.append(text)

    def _domain_from_interval(self, symbol: sp.Symbol, variable: z3.ArithRef, domain: S.Domain) -> None:
        """The interval of the domain; an integer domain is relaxed to its real interval (a proof
        over the reals covers the integers; a counterexample may then be a non-integer)."""
        if math.isfinite(domain.low):
            low = z3.RealVal(str(Fraction(domain.low)))
            if domain.low_closed:
                self._bound(symbol, variable >= low, f"{symbol.name} ≥ {domain.low:g}")
            else:
                self._bound(symbol, variable > low, f"{symbol.name} > {domain.low:g}")
        if math.isfinite(domain.high):
            high = z3.RealVal(str(Fraction(domain.high)))
            if domain.high_closed:
                self._bound(symbol, variable <= high, f"{symbol.name} ≤ {domain.high:g}")
            else:
                self._bound(symbol, variable < high, f"{symbol.name} < {domain.high:g}")

    def _domain_from_assumptions(self, symbol: sp.Symbol, variable: z3.ArithRef) -> None:
        if symbol.is_positive:
            self._bound(symbol, variable > 0, f"{symbol.name} > 0")
        elif symbol.is_nonnegative:
            self._bound(symbol, variable >= 0, f"{symbol.name} ≥ 0")
        elif symbol.is_negative:
            self._bound(symbol, variable < 0, f"{symbol.name} < 0")
        elif symbol.is_nonpositive:
            self._bound(symbol, variable <= 0, f"{symbol.name} ≤ 0")

    @staticmethod
    def number(value: sp.Rational) -> z3.ArithRef:
        return z3.RealVal(f"{int(value.p)}/{int(value.q)}") if value.q != 1 else z3.RealVal(int(value.p))

    # expressions

    def expression(self, expression: sp.Basic) -> z3.ArithRef:
        """The z3 term of a sympy expression (raises ConversionError outside SUPPORTED)."""
        expression = sp.sympify(expression)
        if isinstance(expression, sp.Symbol):
            return self.variable(expression)
        if expression.is_Rational:
            return self.number(expression)
        if isinstance(expression, sp.Float):
            raise ConversionError(f"cannot translate the float {expression} to z3: write it as a sympy Rational")
        if isinstance(expression, sp.Add):
            return z3.Sum([self.expression(argument) for argument in expression.args])
        if isinstance(expression, sp.Mul):
            numerator, denominator = [], []
            for argument in expression.args:
                if isinstance(argument, sp.Pow) and argument.exp.is_Rational and argument.exp < 0:
                    denominator.append(self.expression(sp.Pow(argument.base, -argument.exp)))
                else:
                    numerator.append(self.expression(argument))
            top = z3.Product(numerator) if numerator else z3.RealVal(1)
            return self._divide(top, z3.Product(denominator)) if denominator else top
        if isinstance(expression, sp.Pow):
            return self._power(expression.base, expression.exp)
        if isinstance(expression, sp.Abs):
            inner = self.expression(expression.args[0])
            return z3.If(inner >= 0, inner, -inner)
        if isinstance(expression, (sp.Min, sp.Max)):
            terms = [self.expression(argument) for argument in expression.args]
            result = terms[0]
            for term in terms[1:]:
                result = z3.If(term < result, term, result) if isinstance(expression, sp.Min) else z3.If(term > result, term, result)
            return result
        raise ConversionError(f"cannot translate {_short(expression)} ({type(expression).__name__}) to z3: supported are {SUPPORTED}")

    def _power(self, base: sp.Basic, exponent: sp.Basic) -> z3.ArithRef:
        if not exponent.is_Rational:
            raise ConversionError(f"cannot translate the power {_short(sp.Pow(base, exponent, evaluate=False))} to z3: the exponent must be rational")
        exponent = sp.Rational(exponent)
        if exponent < 0:
            return self._divide(z3.RealVal(1), self._power(base, -exponent))
        if exponent.q == 1:
            translated = self.expression(base)
            return z3.Product([translated] * int(exponent.p)) if exponent.p > 0 else z3.RealVal(1)
        root = self._root(base, int(exponent.q))
        return z3.Product([root] * int(exponent.p))

    def _divide(self, numerator: z3.ArithRef, denominator: z3.ArithRef) -> z3.ArithRef:
        """numerator/denominator where it is defined: the constraint denominator ≠ 0 is added
        (z3 leaves x/0 unspecified, which would let it invent spurious counterexamples)."""
        self.constraints.append(denominator != 0)
        return numerator / denominator

    def _root(self, base: sp.Basic, degree: int) -> z3.ArithRef:
        """r ≥ 0 with r^degree = base: the real root sympy means by base**(1/degree)."""
        key = (base, degree)
        if key not in self._roots:
            translated = self.expression(base)
            root = z3.Real(f"root{degree}_{len(self._roots)}")
            self.constraints.append(root >= 0)
            self.constraints.append(z3.Product([root] * degree) == translated)
            self._roots[key] = root
        return self._roots[key]

    # relations

    def relation(self, relation: sp.Basic) -> z3.BoolRef:
        """The z3 formula of a sympy relation (Le, Lt, Ge, Gt, Eq, Ne) or a boolean combination of them."""
        if relation is sp.true:
            return z3.BoolVal(True)
        if relation is sp.false:
            return z3.BoolVal(False)
        if isinstance(relation, sp.And):
            return z3.And([self.relation(argument) for argument in relation.args])
        if isinstance(relation, sp.Or):
            return z3.Or([self.relation(argument) for argument in relation.args])
        if isinstance(relation, sp.Not):
            return z3.Not(self.relation(relation.args[0]))
        if isinstance(relation, sp.Rel):
            left, right = self.expression(relation.lhs), self.expression(relation.rhs)
            operators = {"<=": left <= right, "<": left < right, ">=": left >= right, ">": left > right, "==": left == right, "!=": left != right}
            if relation.rel_op in operators:
                return operators[relation.rel_op]
        raise ConversionError(f"cannot translate {_short(relation)} to a z3 formula: expected a relation (≤, <, ≥, >, =, ≠) or And/Or/Not of relations")


# ----------------------------------------------------------------------------- deciding


def _value_text(value: z3.ExprRef) -> str:
    if z3.is_rational_value(value):
        fraction = Fraction(value.numerator_as_long(), value.denominator_as_long())
        return str(fraction)
    if z3.is_algebraic_value(value):
        return value.approx(20).as_decimal(20).rstrip("?") + " (algebraic)"
    return str(value)


def _counterexample(model: z3.ModelRef, converter: Z3Converter) -> dict[str, str]:
    return {symbol.name: _value_text(model.eval(variable, model_completion=True)) for symbol, variable in sorted(converter.variables.items(), key=lambda item: item[0].name)}


def _check(formulas: Sequence[z3.BoolRef], timeout_ms: int) -> tuple[str, z3.Solver]:
    solver = z3.Solver()
    solver.set("timeout", int(timeout_ms))
    solver.add(*formulas)
    answer = solver.check()
    if answer == z3.unsat:
        return UNSAT, solver
    return (SAT if answer == z3.sat else UNKNOWN), solver


def decide(claim: sp.Basic, hypotheses: Sequence[sp.Basic] = (), *, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> Proof:
    """Does `claim` follow from `hypotheses` (sympy relations) and the symbols' domains? z3 decides.

    'proved' when hypotheses ∧ ¬claim is unsat (and the hypotheses alone are satisfiable);
    'unproved' otherwise, with the counterexample when z3 finds one. Raises
    ConversionError for an expression z3 cannot take.
    """
    start = time.perf_counter()
    converter = Z3Converter()
    assumed = [converter.relation(hypothesis) for hypothesis in hypotheses]
    goal = converter.relation(claim)
    context = list(converter.constraints) + assumed
    domains = tuple(converter.domains)

    def finish(status: str, method: str, outcome: str | None, counterexample=None) -> Proof:
        return Proof(status, method, outcome, counterexample, domains, time.perf_counter() - start)

    consistent, _ = _check(context, timeout_ms)
    if consistent == UNSAT:
        return finish(UNPROVED, "vacuous: the hypotheses and domains have no common solution", None)
    if consistent == UNKNOWN:
        return finish(UNPROVED, "z3 could not show the hypotheses consistent (unknown or timeout)", None)
    answer, solver = _check(context + [z3.Not(goal)], timeout_ms)
    if answer == UNSAT:
        return finish(PROVED, f"z3: hypotheses ∧ ¬claim is unsat ({len(assumed)} hypotheses, {len(domains)} domain constraints)", UNSAT)
    if answer == SAT:
        model = _counterexample(solver.model(), converter)
        shown = ", ".join(f"{name} = {value}" for name, value in model.items())
        return finish(UNPROVED, f"refuted by z3 (sat): counterexample {shown}", SAT, model)
    reason = solver.reason_unknown()
    return finish(UNPROVED, f"z3 answered unknown ({reason})", UNKNOWN)


def replay_counterexample(claim: sp.Basic, hypotheses: Sequence[sp.Basic], counterexample: dict[str, str]) -> bool | None:
    """Check a z3 counterexample with sympy, independently of z3: True when, at its values,
    every hypothesis holds and the claim fails; None when a value is not rational (algebraic)."""
    values: dict[sp.Symbol, sp.Rational] = {}
    symbols = set().union(*(relation.free_symbols for relation in (claim, *hypotheses)))
    for symbol in symbols:
        text = counterexample.get(symbol.name)
        if text is None or "algebraic" in text:
            return None
        values[symbol] = sp.Rational(text)
    holds = [bool(sp.sympify(relation).xreplace(values).doit()) for relation in hypotheses]
    return all(holds) and not bool(sp.sympify(claim).xreplace(values).doit())


# ----------------------------------------------------------------------------- identities


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
        ("power simplification", lambda e: sp.simplify(sp.powsimp(sp.powdenest(sp.expand_power_base(e, force=True), force=True), force=True))),
    ):
        if rewrite(difference) == 0:
            return name
    return None


def check_identity(left: sp.Basic, right: sp.Basic) -> Proof:
    """`left = right` (scalars, matrix expressions, sums, limits): 'identity' when the difference rewrites to 0."""
    start = time.perf_counter()
    difference = left - right
    how = _vanishes(difference)
    if how is not None:
        return Proof(IDENTITY, f"sympy: left − right reduces to 0 by {how}", seconds=time.perf_counter() - start)
    if not isinstance(difference, sp.MatrixExpr):
        difference = sp.simplify(difference.doit())
    return Proof(UNPROVED, f"left − right does not reduce to 0: {_short(difference)}", seconds=time.perf_counter() - start)


def combine(proofs: Iterable[Proof], status: str) -> Proof:
    """Conjunction: `status` when every proof has it; otherwise the first failure's reason."""
    proofs = list(proofs)
    seconds = sum(proof.seconds for proof in proofs)
    for index, proof in enumerate(proofs, start=1):
        if proof.status != status:
            prefix = f"part {index} of {len(proofs)}: " if len(proofs) > 1 else ""
            return Proof(UNPROVED, prefix + proof.method, proof.outcome, proof.counterexample, proof.domains, seconds)
    if len(proofs) == 1:
        return proofs[0]
    domains = tuple(dict.fromkeys(domain for proof in proofs for domain in proof.domains))
    method = "; ".join(f"({index}) {proof.method}" for index, proof in enumerate(proofs, start=1))
    return Proof(status, method, proofs[0].outcome, None, domains, seconds)

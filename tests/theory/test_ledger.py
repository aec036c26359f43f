"""theory.ledger and `steps`: every step of MODEL.md's sketches is proved or linked to a numerical
check, the proved inequalities hold at random points, and false steps come out unproved."""

from __future__ import annotations

import json

import numpy as np
import sympy as sp

import proofs_check
from proofs_check.cli import main
from proofs_check.commands import steps as steps_command
from theory import convergence as C
from theory import ledger as Lg
from theory.prover import prove_identity, prove_inequality, prove_nonnegative

REQUIRED_STEPS = (
    "bounded-signal/forward",
    "bounded-signal/backward",
    "signal-stability/forward-split",
    "signal-stability/S_phi-product",
    "signal-stability/L_phi-bound",
    "signal-stability/rank-one-bound",
    "objective-smoothness/operator-norm",
    "analog-increment",
    "box-invariance/lower-identity",
    "box-invariance",
    "signal-delay",
    "gradient-delay",
    "convergence/descent-lemma",
    "convergence/inner-product",
    "convergence/young",
    "convergence/update-norm",
    "convergence/three-term-split",
    "convergence/step-size",
    "convergence/telescoping",
    "choice-of-alpha/rate",
    "sync/variance-sum",
    "digital/limit",
)

a, b = sp.symbols("a b", positive=True)
x, y = sp.symbols("x y", real=True)


def mutant(obligation, justification: str = "algebra") -> Lg.Step:
    return Lg.Step("mutant", "test", "a deliberately false step", justification, Lg.Symbolic((obligation,)))


def status(step: Lg.Step) -> str:
    return Lg.verify_step(step).status


def test_every_step_is_proved_or_numerical():
    verdicts = Lg.verify_ledger()
    unproved = [(verdict.step.id, verdict.detail) for verdict in verdicts if verdict.status == Lg.UNPROVED]
    assert not unproved
    assert {verdict.status for verdict in verdicts} == {Lg.PROVED, Lg.NUMERICAL}


def test_ledger_covers_the_sketches_with_unique_ids_and_known_checks():
    steps = Lg.ledger()
    ids = [step.id for step in steps]
    assert len(ids) == len(set(ids))
    assert set(REQUIRED_STEPS) <= set(ids)
    for step in steps:
        assert step.justification in Lg.JUSTIFICATIONS
        assert step.latex
        if isinstance(step.verification, Lg.Numerical):
            assert step.verification.check in proofs_check.lemmas() + Lg.THEOREM_CHECKS and step.verification.quantities
    checks = {step.verification.check for step in steps if isinstance(step.verification, Lg.Numerical)}
    assert {"bounded-signal", "signal-stability", "objective-smoothness", "analog-increment", "signal-delay", "gradient-delay"} <= checks


def test_symbolic_steps_expose_sympy_relations():
    young = next(step for step in Lg.ledger() if step.id == "convergence/young")
    (relation,) = young.relations
    assert isinstance(relation, sp.LessThan)


def _sample(symbol: sp.Symbol, rng: np.random.Generator) -> float:
    if symbol.is_integer:
        return float(rng.integers(0 if symbol.is_nonnegative else -5, 6))
    if symbol.is_positive:
        return float(rng.uniform(0.01, 5.0))
    if symbol.is_nonnegative:
        return float(rng.uniform(0.0, 5.0))
    return float(rng.uniform(-5.0, 5.0))


def test_proved_inequalities_hold_at_random_points():
    """An independent numerical audit of the prover: every proved inequality, at 200 random points."""
    rng = np.random.default_rng(20241015)
    audited = 0
    for step in Lg.ledger():
        if not isinstance(step.verification, Lg.Symbolic):
            continue
        for obligation in step.verification.obligations:
            if not isinstance(obligation, Lg.Inequality):
                continue
            difference = obligation.larger - obligation.smaller
            for old, new in obligation.substitutions:
                difference = difference.subs(old, new)
            symbols = sorted(difference.free_symbols, key=lambda symbol: symbol.name)
            function = sp.lambdify(symbols, difference, modules="numpy")
            for _ in range(200):
                value = function(*(_sample(symbol, rng) for symbol in symbols))
                assert value >= -1e-9 * (1 + abs(value)), (step.id, obligation.text)
            audited += 1
    assert audited >= 15


def test_mutant_young_with_the_wrong_weight_is_unproved():
    assert status(mutant(Lg.Inequality(2 * a * b, a**2 + b**2 / 4), "Young")) == Lg.UNPROVED
    assert status(mutant(Lg.Inequality(2 * a * b, a**2 + b**2), "Young")) == Lg.PROVED


def test_mutant_square_of_a_sum_is_unproved():
    assert status(mutant(Lg.Inequality((a + b) ** 2, a**2 + b**2))) == Lg.UNPROVED
    assert "refuted" in Lg.verify_step(mutant(Lg.Inequality((a + b) ** 2, a**2 + b**2))).detail
    assert status(mutant(Lg.Inequality((x + y + Lg.z) ** 2, 2 * (x**2 + y**2 + Lg.z**2)))) == Lg.UNPROVED


def test_mutant_wrong_telescoping_is_unproved():
    F, k, K = Lg.f_expected, Lg.k, C.K
    wrong = Lg.Identity(sp.Sum(F(k) - F(k + 1), (k, 0, K - 1)), F(0) - F(K + 1))
    assert status(mutant(wrong, "telescoping")) == Lg.UNPROVED
    off_by_one = Lg.Identity(sp.Sum(F(k) - F(k + 1), (k, 0, K)), F(0) - F(K))
    assert status(mutant(off_by_one, "telescoping")) == Lg.UNPROVED


def test_mutant_step_size_with_a_too_small_absorption_is_unproved():
    alpha, beta, L = C.alpha, C.beta, C.L
    wrong = Lg.Inequality(6 * L * alpha**2, alpha * beta / 8, ((beta, 24 * L * alpha + Lg.r),))
    assert status(mutant(wrong, "step-size condition")) == Lg.UNPROVED
    no_hypothesis = Lg.Inequality(6 * L * alpha**2, alpha * beta / 4)
    assert status(mutant(no_hypothesis, "step-size condition")) == Lg.UNPROVED


def test_mutant_box_identity_with_the_wrong_sign_is_unproved():
    g = sp.Symbol("g", nonnegative=True)
    wrong = Lg.Identity(C.tau + Lg.ald_update(Lg.w, g), (C.tau + Lg.w) * (1 + C.alpha * g / C.tau))
    assert status(mutant(wrong)) == Lg.UNPROVED


def test_mutant_rate_constant_too_small_is_unproved():
    rate = next(step for step in Lg.ledger() if step.id == "choice-of-alpha/rate")
    sqrt_regime = rate.verification.obligations[0]
    too_small = Lg.Inequality(sqrt_regime.smaller, sqrt_regime.larger * sp.Rational(20, 96), sqrt_regime.substitutions)
    assert status(mutant(too_small, "choice of α")) == Lg.UNPROVED


def test_mutant_certificates_must_match_and_be_nonnegative():
    three = Lg.Inequality((x + y) ** 2, 2 * x**2 + 2 * y**2, certificate=(x + y) ** 2)
    assert status(mutant(three)) == Lg.UNPROVED
    negative = prove_nonnegative(-((x - y) ** 2), certificate=-((x - y) ** 2))
    assert not negative.proved
    one_step = next(step for step in Lg.ledger() if step.id == "convergence/one-step").verification.obligations[0]
    dropped = Lg.Inequality(one_step.smaller, one_step.larger - C.alpha * C.sigma**2 * C.W_max**2 / (C.beta * C.tau**2), one_step.substitutions, one_step.certificate)
    assert status(mutant(dropped)) == Lg.UNPROVED


def test_mutant_matrix_identity_in_the_wrong_order_is_unproved():
    n = sp.Symbol("n", integer=True, positive=True)
    W, V = sp.MatrixSymbol("W", n, n), sp.MatrixSymbol("V", n, n)
    assert not prove_identity(W * V, V * W).proved
    assert prove_identity(W * (V + W), W * V + W * W).proved


def test_prover_refuses_what_sympy_cannot_decide():
    assert not prove_inequality(x, y).proved
    assert not prove_nonnegative(sp.sin(x)).proved
    assert prove_nonnegative(sp.cos(x) ** 2).proved


def test_steps_command_lists_every_step(capsys):
    assert main(["steps", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert len(report["steps"]) == len(Lg.ledger())
    assert report["counts"]["unproved"] == 0
    assert report["counts"]["proved"] + report["counts"]["numerical"] == len(report["steps"])
    for entry in report["steps"]:
        assert {"id", "statement", "justification", "status", "verification", "latex"} <= set(entry)
    assert main(["steps"]) == 0
    assert "0 unproved" in capsys.readouterr().out


def test_steps_command_exits_1_on_an_unproved_step(capsys, monkeypatch):
    false_step = mutant(Lg.Inequality(2 * a * b, a**2 + b**2 / 4), "Young")
    monkeypatch.setattr(steps_command, "verify_ledger", lambda: Lg.verify_ledger() + (Lg.verify_step(false_step),))
    assert main(["steps"]) == 1
    assert "unproved" in capsys.readouterr().out

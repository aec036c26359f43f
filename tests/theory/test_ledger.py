"""theory.ledger, theory.prover and `steps`: every step of MODEL.md's sketches is proved by z3 from its
hypotheses, an identity checked by sympy, or linked to a numerical check; the sympy → z3 converter;
mutants refuted with counterexamples that replay; dropped hypotheses break proofs; no circularity."""

from __future__ import annotations

import json
import time

import pytest
import sympy as sp
import z3

import proofs_check
from proofs_check.cli import main
from proofs_check.commands import steps as steps_command
from theory import convergence as C
from theory import ledger as Lg
from theory import prover as P

REQUIRED_STEPS = (
    "device/min-max",
    "device/ald-constants",
    "device/ald-worst-case",
    "bounded-signal/forward",
    "signal-stability/forward-split",
    "signal-stability/S_phi-product",
    "signal-stability/rank-one-bound",
    "objective-smoothness/operator-norm",
    "analog-increment",
    "analog-increment/response-entrywise",
    "box-invariance",
    "signal-delay",
    "gradient-delay",
    "convergence/descent-lemma",
    "convergence/entry-inner-product",
    "convergence/inner-product",
    "convergence/young",
    "convergence/square-split",
    "convergence/entry-update-norm",
    "convergence/second-moment",
    "convergence/step-size",
    "convergence/telescoping",
    "async/one-step",
    "async/sum",
    "async/average",
    "sync/independence",
    "sync/variance-sum",
    "sync/one-step",
    "sync/sum",
    "sync/average",
    "choice-of-alpha/descent",
    "choice-of-alpha/noise",
    "choice-of-alpha/delay",
    "choice-of-alpha/vanishing",
    "choice-of-alpha/paper-delay",
    "complexity/two-term",
    "digital/limit",
)

x, y = sp.symbols("x y", real=True)
a, b = sp.symbols("a b", positive=True)


def step(step_id: str) -> Lg.Step:
    return next(candidate for candidate in Lg.ledger() if candidate.id == step_id)


def decided(*obligations: Lg.Implication) -> Lg.Step:
    return Lg.Step("test", "test", "a test step", "algebra", Lg.Decided(tuple(obligations)))


# ----------------------------------------------------------------------------- the ledger


def test_every_step_is_proved_an_identity_or_numerical():
    verdicts = Lg.verify_ledger()
    unproved = [(verdict.step.id, verdict.detail) for verdict in verdicts if verdict.status == Lg.UNPROVED]
    assert not unproved
    counts = Lg.counts(verdicts)
    assert set(counts) == {"proved", "identity", "numerical", "unproved"}
    assert counts["proved"] >= 30 and counts["identity"] >= 15 and counts["numerical"] >= 15
    for verdict in verdicts:
        kind = verdict.step.verification.kind
        # proved means z3 said unsat; identities and numerical steps are never counted as proved
        assert (verdict.status == Lg.PROVED) == (kind == "z3")
        assert (verdict.status == Lg.IDENTITY) == (kind == "identity")
        if verdict.status == Lg.PROVED:
            assert verdict.proof.outcome == P.UNSAT and "unsat" in verdict.detail


def test_ledger_covers_the_sketches_with_unique_ids_and_known_checks():
    steps = Lg.ledger()
    ids = [candidate.id for candidate in steps]
    assert len(ids) == len(set(ids))
    assert set(REQUIRED_STEPS) <= set(ids)
    for candidate in steps:
        assert candidate.justification in Lg.JUSTIFICATIONS
        assert candidate.latex
        if isinstance(candidate.verification, Lg.Numerical):
            assert candidate.verification.check in proofs_check.lemmas() + Lg.THEOREM_CHECKS and candidate.verification.quantities
    checks = {candidate.verification.check for candidate in steps if isinstance(candidate.verification, Lg.Numerical)}
    assert {"bounded-signal", "signal-stability", "objective-smoothness", "analog-increment", "signal-delay", "gradient-delay", "async-convergence", "sync-convergence"} <= checks
    # the theorem checks of proofs_check sample these numerical steps by id
    for step_id in ("convergence/descent-lemma", "convergence/inner-product", "convergence/second-moment", "gradient-delay", "sync/independence"):
        assert isinstance(step(step_id).verification, Lg.Numerical)


def test_steps_use_only_earlier_steps_and_the_synchronous_chain_is_its_own():
    position = {candidate.id: index for index, candidate in enumerate(Lg.ledger())}
    for candidate in Lg.ledger():
        for used in candidate.uses:
            assert used in position, (candidate.id, used)
            assert position[used] < position[candidate.id], (candidate.id, used)

    def closure(step_id: str) -> set[str]:
        found, frontier = set(), [step_id]
        while frontier:
            current = frontier.pop()
            for used in step(current).uses:
                if used not in found:
                    found.add(used)
                    frontier.append(used)
        return found

    sync = closure("sync/average")
    assert {"sync/one-step", "sync/sum", "convergence/step-size", "convergence/descent-lemma"} <= sync
    assert not any(used.startswith("async/") for used in sync)
    assert "gradient-delay" not in sync
    assert not any(used.startswith("sync/") for used in closure("async/average"))
    # each chain ends in an identity with its theorem's stated right side, not with the other's
    sync_average, async_average = step("sync/average").verification.identities[0], step("async/average").verification.identities[0]
    assert sync_average.right == C.sync_convergence().rhs and async_average.right == C.async_convergence().rhs
    assert not sync_average.left.has(C.c_D)


def test_the_chains_encode_model_v2_steps():
    absorption = step("convergence/step-size").verification.obligations[0]
    assert absorption.claim == sp.Le(sp.Rational(3, 2) * C.L * C.alpha**2 * C.q_max**2, C.alpha * C.beta / 4)
    assert [hypothesis.relation for hypothesis in absorption.hypotheses] == [sp.Le(C.alpha, C.beta / (6 * C.L * C.q_max**2))]
    young = step("convergence/young").verification.obligations[0]
    assert young.claim.rhs.has(C.beta) and not young.hypotheses
    one_step = step("async/one-step").verification.obligations[0]
    assert one_step.claim.rhs.has(C.q_max) and one_step.claim.rhs.has(C.G_max)
    assert isinstance(step("convergence/telescoping").verification, Lg.Algebraic)


# ----------------------------------------------------------------------------- the converter


def _value(term: z3.ArithRef, values: dict[str, int]) -> float:
    substituted = z3.substitute(term, *[(z3.Real(name), z3.RealVal(value)) for name, value in values.items()])
    simplified = z3.simplify(substituted)
    return float(simplified.as_fraction()) if z3.is_rational_value(simplified) else float(simplified.approx(20).as_fraction())


def test_converter_translates_sums_products_rational_powers_and_divisions():
    converter = P.Z3Converter()
    expression = sp.Rational(3, 2) * x**2 * y - x / (y**2 + 1) + 7
    assert _value(converter.expression(expression), {"x": 2, "y": -3}) == pytest.approx(float(expression.subs({x: 2, y: -3})))
    converter = P.Z3Converter()
    term = converter.expression(sp.sqrt(a) + sp.cbrt(b) ** 2)
    assert any("root2" in str(constraint) for constraint in converter.constraints)
    assert any("root3" in str(constraint) for constraint in converter.constraints)
    assert len(converter.domains) == 2 and "a > 0" in converter.domains  # positivity from sympy assumptions
    assert z3.is_arith(term)
    # the parameters of theory.symbols get their domains from there
    converter = P.Z3Converter()
    converter.expression(C.K + C.G_max + C.q_max)
    assert {"K ≥ 1", "G_max ≥ 0", "q_max > 0"} <= set(converter.domains)
    assert "(y**2 + 1" not in str(converter.constraints)


def test_converter_semantics_are_decided_correctly():
    assert P.decide(sp.Eq(sp.sqrt(x**2), sp.Abs(x))).proved
    assert P.decide(sp.Eq(sp.Max(x, y) + sp.Min(x, y), x + y)).proved
    assert P.decide(sp.Le(sp.cbrt(a) ** 3, a)).proved
    assert P.decide(sp.Le(a / b, a), [sp.Ge(b, 1)]).proved
    assert not P.decide(sp.Le(a / b, a)).proved


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        (sp.sin(x), "sin"),
        (sp.Float(0.5) * x, "float"),
        (sp.exp(x) + 1, "exp"),
        (x ** sp.Symbol("p", positive=True), "exponent must be rational"),
        (sp.Symbol("c") + 1, "not declared real"),
    ],
)
def test_converter_rejects_what_it_cannot_translate_with_a_clear_error(expression, message):
    with pytest.raises(P.ConversionError, match=message):
        P.Z3Converter().expression(expression)
    with pytest.raises(P.ConversionError):
        P.decide(sp.Le(expression, 1, evaluate=False))


def test_division_by_zero_is_not_a_counterexample():
    # without the denominator ≠ 0 constraint z3 could pick y = 0 and any value of 1/0
    assert P.decide(sp.Eq(y * (x / y), x)).proved


def test_inconsistent_hypotheses_prove_nothing():
    proof = P.decide(sp.Le(x, 0), [sp.Gt(a, 1), sp.Lt(a, 0)])
    assert not proof.proved and "vacuous" in proof.method


def test_a_timeout_leaves_a_step_unproved():
    hard = sp.Ge(x**6 + y**6 + sp.Symbol("z", real=True) ** 6 - 3 * x**2 * y**2 * sp.Symbol("z", real=True) ** 2 - x * y * sp.Symbol("z", real=True), -1)
    start = time.perf_counter()
    proof = P.decide(hard, timeout_ms=1)
    assert time.perf_counter() - start < 5
    assert not proof.proved and proof.outcome == P.UNKNOWN and "unknown" in proof.method


# ----------------------------------------------------------------------------- z3 proves each polynomial step, refutes each mutant


@pytest.mark.parametrize("step_id", [candidate.id for candidate in Lg.ledger() if candidate.verification.kind == "z3"])
def test_z3_proves_each_polynomial_step_from_its_hypotheses(step_id):
    verdict = Lg.verify_step(step(step_id))
    assert verdict.status == Lg.PROVED, verdict.detail
    assert verdict.proof.seconds < P.DEFAULT_TIMEOUT_MS / 1000


@pytest.mark.parametrize("mutant", Lg.mutants(), ids=lambda mutant: mutant.id)
def test_z3_refutes_each_mutant_with_a_counterexample_that_replays(mutant):
    verdict = Lg.verify_step(mutant)
    assert verdict.status == Lg.UNPROVED
    assert verdict.proof.outcome == P.SAT
    assert verdict.proof.counterexample and "counterexample" in verdict.detail
    print(mutant.id, verdict.proof.counterexample)
    obligation = mutant.verification.obligations[0]
    replay = P.replay_counterexample(obligation.claim, [hypothesis.relation for hypothesis in obligation.hypotheses], verdict.proof.counterexample)
    assert replay is True  # sympy confirms: the hypotheses hold there and the claim fails


def test_there_are_mutants_of_several_kinds_of_step():
    names = {mutant.id for mutant in Lg.mutants()}
    assert {"mutant/young-weight", "mutant/absorption", "mutant/three-term-split", "mutant/one-step", "mutant/delay-branch", "mutant/two-term"} <= names
    assert len(names) >= 10


@pytest.mark.parametrize(
    ("step_id", "dropped"),
    [
        ("convergence/step-size", ("α ≤ β/(6 L q_max²) (step-size condition)",)),
        ("async/one-step", ("α ≤ β/(6 L q_max²) (step-size condition)",)),
        ("choice-of-alpha/delay", ("β ≤ q_max (a minimum is at most a maximum)",)),
        ("box-invariance", ("α|g| ≤ τ",)),
        ("convergence/entry-update-norm", ("F + |G| = max(q₊, q₋) ≤ q_max (device/min-max, A4)",)),
        ("device/ald-step-size", ("α ≤ β/(24L)",)),
    ],
)
def test_a_step_whose_hypotheses_are_dropped_is_no_longer_proved(step_id, dropped):
    original = step(step_id)
    texts = {hypothesis.text for obligation in original.verification.obligations for hypothesis in obligation.hypotheses}
    assert set(dropped) <= texts
    weakened = Lg.Step(step_id, "test", "weakened", original.justification, Lg.Decided(tuple(obligation.without(*dropped) for obligation in original.verification.obligations)))
    verdict = Lg.verify_step(weakened)
    assert verdict.status == Lg.UNPROVED and verdict.proof.outcome == P.SAT, verdict.detail


# ----------------------------------------------------------------------------- identities


def test_identities_are_checked_by_sympy_and_wrong_ones_fail():
    F, k, K = Lg.f_expected, Lg.k, C.K
    right = Lg.Identity(sp.Sum(F(k) - F(k + 1), (k, 0, K - 1)), F(0) - F(K))
    assert right.prove().status == P.IDENTITY
    for wrong in (Lg.Identity(sp.Sum(F(k) - F(k + 1), (k, 0, K - 1)), F(0) - F(K + 1)), Lg.Identity(sp.Sum(F(k) - F(k + 1), (k, 0, K)), F(0) - F(K))):
        assert wrong.prove().status == P.UNPROVED
    n = sp.Symbol("n", integer=True, positive=True)
    W, V = sp.MatrixSymbol("W", n, n), sp.MatrixSymbol("V", n, n)
    assert P.check_identity(W * V, V * W).status == P.UNPROVED
    assert P.check_identity(W * (V + W), W * V + W * W).status == P.IDENTITY
    wrong_average = Lg.Identity(step("sync/average").verification.identities[0].left, C.async_convergence().rhs)
    assert wrong_average.prove().status == P.UNPROVED


# ----------------------------------------------------------------------------- the command


def test_steps_command_lists_every_step_with_the_four_counts(capsys):
    start = time.perf_counter()
    assert main(["steps", "--json"]) == 0
    assert time.perf_counter() - start < 30
    report = json.loads(capsys.readouterr().out)
    assert len(report["steps"]) == len(Lg.ledger())
    counts = report["counts"]
    assert set(counts) == {"proved", "identity", "numerical", "unproved"}
    assert counts["unproved"] == 0 and sum(counts.values()) == len(report["steps"])
    for entry in report["steps"]:
        assert {"id", "statement", "justification", "status", "verification", "latex", "uses"} <= set(entry)
        if entry["status"] == "proved":
            assert entry["z3"] == "unsat" and "hypotheses" in entry and "domains" in entry
    mutants = report["mutants"]
    assert mutants["refuted"] == mutants["total"] == len(Lg.mutants())
    assert all(entry["z3"] == "sat" and entry["counterexample"] for entry in mutants["steps"])
    assert main(["steps"]) == 0
    table = capsys.readouterr().out
    assert "0 unproved" in table and "identity" in table and "mutant/young-weight" in table and "sat" in table


def test_steps_command_exits_1_on_an_unproved_step(capsys, monkeypatch):
    false_step = decided(Lg.Implication(sp.Le(2 * a * b, a**2 + b**2 / 4)))
    monkeypatch.setattr(steps_command, "verify_ledger", lambda **_: Lg.verify_ledger() + (Lg.verify_step(false_step),))
    assert main(["steps"]) == 1
    output = capsys.readouterr().out
    assert "unproved" in output and "refuted by z3" in output


def test_runs_report_counts_the_four_statuses():
    from proofs_check.report import build_report
    from proofs_check.verification import VerificationResult

    result = VerificationResult(quick=True, seed=0, settings=[], lemma_checks={}, records=[], consistency=[], constants=[], ledger=list(Lg.verify_ledger()))
    counts = build_report(result, 0.0)["ledger"]["counts"]
    assert counts == Lg.counts(Lg.verify_ledger())
    assert set(counts) == {"proved", "identity", "numerical", "unproved"}

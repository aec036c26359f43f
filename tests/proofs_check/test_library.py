"""One object per lemma: the registry, the two paths (sympy statement vs numerical evaluator),
and the public hypothesis strategies drawing valid instances of every lemma."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import proofs_check
from proofs_check.instances import finite_rows
from proofs_check.library import BUILTIN, REGISTRY, Registry, RegistryError, UserLemma, get_lemma
from proofs_check.strategies import instances, networks
from proofs_check.tolerance import HOLDS, judge_lemma, overall_status
from theory.statements import Statement, StatementPart

MODEL_ORDER = ("bounded-signal", "signal-stability", "objective-smoothness", "analog-increment", "box-invariance", "signal-delay", "gradient-delay")


def test_registry_lists_the_seven_lemmas_of_model_md_in_order():
    assert proofs_check.lemmas()[:7] == MODEL_ORDER
    assert tuple(lemma.id for lemma in BUILTIN) == MODEL_ORDER
    for lemma in BUILTIN:
        assert lemma.statement is not None and lemma.false_variants, lemma.id
        assert type(lemma).__module__ == f"proofs_check.library.{lemma.id.replace('-', '_')}", "one module per lemma"


def test_registry_refuses_a_second_lemma_with_a_taken_id():
    registry = Registry(BUILTIN)
    impostor = UserLemma("bounded-signal", lambda c: c.norm(c.x), "X")
    with pytest.raises(RegistryError, match="already registered"):
        registry.register(impostor)
    with pytest.raises(RegistryError, match="unknown lemma 'nope'"):
        registry.get("nope")


def _with_uniform_bounds(instance):
    """X and Y fixed on the instance, so every part sees the same X (the statements have one X)."""
    x = float(np.max(np.linalg.norm(instance.inputs, axis=-1)))
    y = 1.0 if instance.targets.dtype.kind == "i" else float(np.max(np.linalg.norm(instance.targets, axis=-1)))
    return dataclasses.replace(instance, X=x, Y=y)


def formula_mismatches(lemma, instance, statement: Statement | None = None) -> tuple[int, list[str]]:
    """Compare every part the statement and the evaluator share: (parts compared, names that differ)."""
    statement = statement or lemma.statement
    evaluation = lemma.evaluate(instance)
    symbolic = statement.evaluate_rhs(instance.layers, evaluation.values)
    compared, mismatched = 0, []
    for name, formula in symbolic.items():
        numeric = sorted((p for p in evaluation.parts if p.name == name), key=lambda p: p.layer or 0)
        if not numeric:
            continue
        compared += 1
        numeric_rhs = np.stack(np.broadcast_arrays(*[np.asarray(p.rhs, dtype=float) for p in numeric]), -1)
        numeric_rhs, formula = np.broadcast_arrays(numeric_rhs, np.asarray(formula, dtype=float))
        if not np.allclose(numeric_rhs, formula, rtol=1e-10, atol=1e-300):
            mismatched.append(name)
    return compared, mismatched


@pytest.mark.parametrize("lemma_id", MODEL_ORDER)
@settings(max_examples=25)
@given(data=st.data())
def test_statement_and_evaluator_agree(lemma_id, data):
    """Two paths per lemma: the sympy right sides at the evaluator's symbol values equal its right sides."""
    lemma = get_lemma(lemma_id)
    instance = _with_uniform_bounds(data.draw(instances(lemma, max_layers=4, max_width=4)))
    compared, mismatched = formula_mismatches(lemma, instance)
    assert compared >= 1 and mismatched == []


def test_a_wrong_statement_is_caught_by_the_two_paths():
    lemma = get_lemma("bounded-signal")
    wrong = dataclasses.replace(
        lemma.statement, parts=tuple(StatementPart(p.name, p.lhs_latex, (lambda M, p=p: tuple(2 * e for e in p.rhs(M))), p.per_layer) for p in lemma.statement.parts)
    )
    instance = proofs_check.Instance("bounded-signal", "tanh", "squared", (np.array([[0.5, -0.2]]),), np.array([[1.0, 2.0]]), np.array([[0.3]]))
    compared, mismatched = formula_mismatches(lemma, _with_uniform_bounds(instance), wrong)
    assert compared >= 3 and len(mismatched) == compared


@pytest.mark.parametrize("lemma_id", MODEL_ORDER)
@settings(max_examples=20)
@given(data=st.data())
def test_strategies_draw_valid_instances_of_every_lemma(lemma_id, data):
    lemma = get_lemma(lemma_id)
    instance = data.draw(instances(lemma_id))
    assert instance.lemma == lemma_id and instance.inputs.ndim == 2
    assert bool(finite_rows(instance)) and bool(lemma.assumptions_hold(instance))
    assert overall_status(judge_lemma(instance)) == HOLDS


def output_norm(c):
    """||z_M|| per sample."""
    return c.norm(c.forward().output)


FALSE_NORM = UserLemma("test-output-norm-false", output_norm, "omega_max*X", quantity="||z_M||")
TRUE_NORM = UserLemma("test-output-norm-true", output_norm, "L_phi**(M - 1)*omega_prod*X", quantity="||z_M||")


@settings(max_examples=20)
@given(instance=instances(TRUE_NORM))
def test_strategies_draw_user_lemma_instances_from_their_family(instance):
    assert instance.lemma == TRUE_NORM.id
    assert overall_status(judge_lemma(instance, lemma=TRUE_NORM)) == HOLDS


def test_a_plain_given_test_finds_a_false_user_lemma():
    @settings(max_examples=200, database=None)
    @given(instance=instances(FALSE_NORM, max_layers=3, max_width=3))
    def property_of_false_lemma(instance):
        assert overall_status(judge_lemma(instance, lemma=FALSE_NORM)) == HOLDS

    with pytest.raises(AssertionError):
        property_of_false_lemma()


@settings(max_examples=30)
@given(network=networks(max_layers=4, max_width=5))
def test_networks_are_within_the_assumptions(network):
    assert 1 <= network.layers <= 4 and all(1 <= d <= 5 for d in network.dims)
    assert np.all(np.isfinite(network.omega)) and network.X >= 0
    assert overall_status(judge_lemma(network.instance())) == HOLDS


@pytest.mark.parametrize(
    "build",
    [lambda: networks(max_layers=0), lambda: networks(min_width=3, max_width=2), lambda: networks(activations=["relu"]), lambda: instances("no-such-lemma")],
)
def test_strategy_arguments_are_validated(build):
    from hypothesis.errors import InvalidArgument

    with pytest.raises(InvalidArgument):
        build()


def test_domain_types_are_registered_with_from_type():
    @settings(max_examples=5)
    @given(st.from_type(proofs_check.Instance), st.from_type(proofs_check.strategies.Network))
    def drawn(instance, network):
        assert instance.lemma in REGISTRY.ids() and network.layers >= 1

    drawn()

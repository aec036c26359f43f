"""Every lemma of MODEL.md §4 holds on random networks within the assumptions (property tests),
the equality cases are attained, and a deliberately wrong constant is caught."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import Phase, example, given, settings, target
from hypothesis import strategies as st

from proofs_check import library as lemmas
from proofs_check.instances import Instance
from proofs_check.strategies import instances
from proofs_check.tolerance import HOLDS, judge_lemma, overall_status
from theory import constants as theory_constants



def largest_ratio(verdicts) -> float:
    return max(float(np.max(v.ratio)) if v.ratio.size else 0.0 for v in verdicts)


def assert_lemma_holds(instance: Instance, model: lemmas.ConstantsModel = lemmas.EXACT, steer: bool = True) -> float:
    """The lemma (or a mutant) holds at the instance; `steer` feeds the ratio to hypothesis's targeting."""
    verdicts = judge_lemma(instance, model)
    ratio = largest_ratio(verdicts)
    if steer and np.isfinite(ratio):
        target(ratio, label=instance.lemma)
    failing = [(v.name, v.layer, float(np.nanmax(v.ratio))) for v in verdicts if (v.status != HOLDS).any()]
    assert overall_status(verdicts) == HOLDS, f"{instance.lemma} fails: {failing}"
    return ratio


@pytest.mark.parametrize("lemma", lemmas.lemma_ids())
@given(data=st.data())
def test_lemma_holds_on_random_networks(lemma, data):
    assert_lemma_holds(data.draw(instances(lemma)))


# ----------------------------------------------------------------- equality cases


def _single_unit(lemma: str, **fields) -> Instance:
    values = dict(
        activation="identity",
        loss="squared",
        weights=(np.array([[0.8]]),),
        inputs=np.array([[1.7]]),
        targets=np.array([[0.3]]),
        alpha=0.05,
        tau=np.inf,
    )
    values.update(fields)
    return Instance(lemma, **values)


def _part_ratio(instance: Instance, name: str) -> float:
    verdicts = judge_lemma(instance)
    matches = [v for v in verdicts if v.name == name]
    assert matches, [v.name for v in verdicts]
    assert all((v.status == HOLDS).all() for v in verdicts)
    return max(float(np.max(v.ratio)) for v in matches)


def _one_step_history() -> tuple[np.ndarray, ...]:
    from numerics.activations import IDENTITY
    from numerics.devices import DigitalDevice
    from numerics.losses import SQUARED
    from proofs_check.histories import stale_history

    return stale_history((np.array([[0.8]]),), np.array([[1.7]]), np.array([[0.3]]), IDENTITY, SQUARED, DigitalDevice(), 0.05, 1, [0])


_HISTORY = _one_step_history()
_DELAYED = {"history": _HISTORY, "weights": (_HISTORY[0][-1],), "forward_delays": np.array([1])}

EQUALITY_CASES = [
    ("bounded-signal", {}, "||z_M|| ≤ Z_M"),
    ("signal-stability", {"forward_weights": (np.array([[0.5]]),)}, "||z_m − z̃_m|| ≤ ζ_m"),
    ("objective-smoothness", {"forward_weights": (np.array([[0.2]]),)}, "||∇f(W;ξ) − ∇f(W';ξ)||_F ≤ ||Γ_sym u||"),
    ("analog-increment", {}, "||W⁺ − W||_F ≤ α q_max ||g||_F"),
    ("box-invariance", {"weights": (np.array([[2.0]]),), "tau": 2.0, "gradient": (np.array([[0.0]]),)}, "|w⁺_ij| ≤ τ"),
    ("signal-delay", _DELAYED, "||z̃_m − z_m|| ≤ ζ_m (measured u^f)"),
    ("gradient-delay", _DELAYED, "||g̃_k − ∇f(W^{(k)};ξ_k)||_F ≤ ||Γ(u^f, u^b)||"),
]


@pytest.mark.parametrize("lemma, fields, part", EQUALITY_CASES, ids=[case[0] for case in EQUALITY_CASES])
def test_equality_case_is_attained(lemma, fields, part):
    """M = 1 and a single unit: the bound is attained (ratio 1, decided in 50-digit arithmetic)."""
    assert _part_ratio(_single_unit(lemma, **fields), part) == pytest.approx(1.0, abs=1e-9)


# ------------------------------------------------------------------------- mutants


def _without_curvature(omega, X, L_phi, S_phi, L_ell, G_ell, u_f, u_b, sqrt=np.sqrt):
    return theory_constants.stability_constants(omega, X, L_phi, 0 * S_phi, L_ell, G_ell, u_f, u_b, sqrt=sqrt)


# A counterexample to each mutant, tried first by the property tests (hypothesis `example`):
# hypothesis's generation depends on literals it mines from the loaded modules, so the
# mutant tests must not rest on the random phase alone. The random phase and the
# adversarial engine (tests/proofs_check/test_engine.py) refute the same mutants.
CURVATURE_COUNTEREXAMPLE = Instance(
    "signal-stability",
    "tanh",
    "squared",
    weights=(np.array([[0.66]]), np.array([[0.1]])),
    inputs=np.array([[1.0]]),
    targets=np.array([[3.0]]),
    forward_weights=(np.array([[0.7]]), np.array([[0.1]])),
)
DELAY_COUNTEREXAMPLE = _single_unit("gradient-delay", **_DELAYED)


def test_mutant_dropping_S_phi_from_eps_is_caught():
    """ε_m without its S_φ ω_{m+1} Δ_{m+1} ζ_m term is a false bound: the property test must fail."""
    mutant = lemmas.ConstantsModel("S_φ dropped from ε_m", stability=_without_curvature)

    @settings(max_examples=300, database=None)
    @given(instance=instances("signal-stability", max_layers=3))
    @example(instance=CURVATURE_COUNTEREXAMPLE)
    def property_under_mutation(instance):
        assert_lemma_holds(instance, mutant)

    with pytest.raises(AssertionError, match="signal-stability fails"):
        property_under_mutation()
    assert_lemma_holds(CURVATURE_COUNTEREXAMPLE, steer=False)  # the counterexample satisfies the true lemma


def test_mutant_ignoring_the_delay_is_caught():
    """The gradient-delay bound with the delay ignored (d = 0 in the right side) must be refuted."""
    mutant = lemmas.ConstantsModel("delay ignored", ignore_delays=True)

    @settings(max_examples=200, database=None)
    @given(instance=instances("gradient-delay", max_layers=3))
    @example(instance=DELAY_COUNTEREXAMPLE)
    def property_under_mutation(instance):
        assert_lemma_holds(instance, mutant)

    with pytest.raises(AssertionError, match="gradient-delay fails"):
        property_under_mutation()
    assert_lemma_holds(DELAY_COUNTEREXAMPLE, steer=False)


def _mutant_found_by_generation(lemma: str, mutant: lemmas.ConstantsModel, examples: int) -> bool:
    """Does the random phase alone (no explicit example) refute the mutant?"""

    @settings(max_examples=examples, database=None, phases=[Phase.generate, Phase.target])
    @given(instance=instances(lemma, max_layers=3))
    def property_under_mutation(instance):
        assert_lemma_holds(instance, mutant)

    try:
        property_under_mutation()
    except AssertionError:
        return True
    return False


def test_generation_alone_refutes_the_mutants():
    """Without explicit examples, random networks still refute both mutants (with more draws)."""
    assert _mutant_found_by_generation("gradient-delay", lemmas.ConstantsModel("delay ignored", ignore_delays=True), 300)
    assert _mutant_found_by_generation("signal-stability", lemmas.ConstantsModel("S_φ dropped", stability=_without_curvature), 1000)

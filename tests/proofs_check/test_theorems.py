"""Theorem checks (proofs_check.theorems): the convergence theorems of MODEL.md §5 as
statistical checks over seeds, the iteration complexity and the computation density.

Each check must be able to fail: a false right side (rhs_scale = 1e-6), a false step, a
wrong complexity claim and a tampered schedule record are all reported violated, and a
NaN or a failed hypothesis is an error, never 'holds'.
"""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from numerics import network
from numerics.activations import TANH
from numerics.data import initial_weights
from numerics.losses import SQUARED
from numerics.schedules import build_schedule
from proofs_check import theorems
from proofs_check.precision import FLOAT64

CONVERGENCE = ("sync-convergence", "async-convergence")


@pytest.fixture(scope="module")
def quick_results():
    """The quick convergence checks with seed 0, computed once per module."""
    return {theorem_id: theorems.check_convergence(theorem_id, quick=True, seed=0) for theorem_id in CONVERGENCE}


def _json_round_trip(result: theorems.TheoremResult) -> dict:
    return json.loads(json.dumps(result.as_dict(), allow_nan=False))


# ----------------------------------------------------------------------------- convergence


@pytest.mark.parametrize("theorem_id", CONVERGENCE)
def test_quick_convergence_holds_with_measured_constants(quick_results, theorem_id):
    result = quick_results[theorem_id]
    assert result.status == "holds", result.details.get("reason")
    assert result.id == theorem_id
    details = result.details
    assert 0 < result.lhs < result.rhs
    assert details["ci"]["lower"] <= result.lhs <= details["ci"]["upper"]
    assert details["confidence"] == 0.99
    assert math.isclose(sum(details["terms"].values()), result.rhs, rel_tol=1e-12)
    assert set(details["terms"]) == {"descent", "noise", "asymptotic_floor", "delay"}
    assert details["terms"]["asymptotic_floor"] > 0  # finite τ: the floor is present
    assert all(details["hypotheses"].values())
    assert details["L"] <= details["a_priori"]["L_0"] and details["beta"] >= details["a_priori"]["beta_0"]
    assert details["alpha"] <= details["beta"] / (24 * details["L"])
    assert details["K"] == max(details["K_values"]) and details["seeds"] == 8
    parameters = sum(a * b for a, b in zip(details["dims"][1:], details["dims"][:-1]))
    assert math.isclose(details["sigma2"], details["sigma_noise"] ** 2 * parameters, rel_tol=1e-12)
    assert details["trace_replay_max_difference"] == 0.0
    for step_id, step in details["steps"].items():
        assert step["status"] == "holds", step_id
        assert step["samples"] > 1000
        assert step["max_ratio"] <= 1
    rate = details["rate"]
    assert rate["reference_exponent"] == -0.5
    assert all(math.isfinite(rate[key]) for key in ("fitted_exponent", "rhs_exponent", "vanishing_part_exponent"))
    assert -0.6 < rate["vanishing_part_exponent"] < -0.4  # sqrt branch: the bound's vanishing part ∝ K^(-1/2)
    assert _json_round_trip(result)["details"] == details


def test_sync_reports_sp_and_wop_with_the_same_bound(quick_results):
    details = quick_results["sync-convergence"].details
    assert set(details["means"]) == {"sp", "wop"}
    assert details["c_D"] == 0.0 and details["terms"]["delay"] == 0.0
    assert details["delays"] == {"forward": [0, 0], "backward": [0, 0]}
    assert "sync/independence" in details["steps"]
    # σ²/B per update: the mean squared averaged noise is σ²/B, not σ²
    step = details["steps"]["sync/independence"]
    assert math.isclose(step["expected"], details["sigma2"] / details["mini_batch"])
    assert step["ci"]["lower"] <= step["expected"] <= step["ci"]["upper"]


def test_async_measures_delays_and_c_D(quick_results):
    details = quick_results["async-convergence"].details
    assert details["delays"]["forward"] == [2, 1, 0] and details["delays"]["backward"] == [0, 0, 0]
    assert details["c_D"] > 0 and details["terms"]["delay"] > 0
    assert details["steps"]["gradient-delay"]["max_ratio"] > 0


@pytest.mark.parametrize("theorem_id", CONVERGENCE)
def test_false_right_side_is_violated(quick_results, theorem_id):
    result = theorems.check_convergence(theorem_id, quick=True, seed=0, rhs_scale=1e-6)
    assert result.status == "violated"
    assert "confidence bound" in result.details["reason"]
    assert math.isclose(result.rhs, 1e-6 * quick_results[theorem_id].rhs, rel_tol=1e-12)


@pytest.mark.parametrize("theorem_id", CONVERGENCE)
def test_same_seed_gives_identical_results(quick_results, theorem_id):
    again = theorems.check_convergence(theorem_id, quick=True, seed=0)
    assert again == quick_results[theorem_id]


def test_other_seed_changes_the_measurement(quick_results):
    other = theorems.check_convergence("async-convergence", quick=True, seed=1)
    assert other.status == "holds"
    assert other.lhs != quick_results["async-convergence"].lhs


def test_diverging_step_size_is_an_error(monkeypatch):
    monkeypatch.setattr(theorems, "chosen_step_size_value", lambda *args, **kwargs: 1e6)
    result = theorems.check_convergence("sync-convergence", quick=True, seed=0)
    assert result.status == "error"
    assert "NaN or infinite" in result.details["reason"]
    assert result.lhs is None and result.rhs is None
    assert result.details["inputs"]["alpha"] == 1e6
    _json_round_trip(result)


def test_failed_hypothesis_is_an_error_not_holds(monkeypatch):
    # α far above β/(24L): the runs stay finite, but L ≤ L_0 and α ≤ β/(24L) fail after the run
    monkeypatch.setattr(theorems, "chosen_step_size_value", lambda *args, **kwargs: 0.05)
    result = theorems.check_convergence("async-convergence", quick=True, seed=0)
    assert result.status == "error"
    assert "hypothesis not met" in result.details["reason"]
    assert not all(result.details["hypotheses"].values())


def test_verdict_function():
    status, interval = theorems.convergence_verdict([1.0, 1.1, 0.9], 2.0)
    assert status == "holds" and interval["lower"] < 1.0 < interval["upper"]
    assert theorems.convergence_verdict([1.0, 1.1, 0.9], 0.5)[0] == "violated"
    assert theorems.convergence_verdict([1.0, 1.1, 0.9], 2.0, rhs_scale=0.1)[0] == "violated"
    # the lower confidence bound, not the mean, decides: a mean above rhs with a wide interval holds
    assert theorems.convergence_verdict([0.0, 4.0], 1.9)[0] == "holds"
    for samples, rhs in (([1.0, float("nan")], 2.0), ([1.0, 1.1], float("nan")), ([1.0, 1.1], math.inf), ([math.inf, 1.0], 2.0)):
        status, details = theorems.convergence_verdict(samples, rhs)
        assert status == "error"
        json.dumps(details, allow_nan=False)
    with pytest.raises(ValueError):
        theorems.convergence_verdict([1.0], 2.0)


def test_false_step_is_violated(monkeypatch):
    """A step with a wrong constant (3 → 0.3 in the second-moment bound) makes the theorem violated."""
    true_sides = theorems._step_sides

    def false_sides(q, arithmetic, constants):
        sides = true_sides(q, arithmetic, constants)
        lhs, rhs = sides["convergence/second-moment"]
        sides["convergence/second-moment"] = (lhs, rhs / 10)
        return sides

    monkeypatch.setattr(theorems, "_step_sides", false_sides)
    result = theorems.check_convergence("async-convergence", quick=True, seed=0)
    assert result.status == "violated"
    step = result.details["steps"]["convergence/second-moment"]
    assert step["status"] == "violated" and step["max_ratio"] > 1
    assert "step convergence/second-moment violated" in result.details["reason"]


def test_near_ties_are_decided_in_mpmath(monkeypatch):
    """Force every entry to count as a near tie: the 50-digit recomputation agrees with float64."""
    setup = dataclasses.replace(theorems.convergence_setup("async-convergence", True), seeds=2)
    data = theorems.teacher_student_sphere(setup.dims, setup.samples, 0)
    initial = initial_weights(list(setup.dims), 0, scale=setup.init_scale)
    tau = 8 * max(float(np.max(np.abs(w))) for w in initial)
    run = theorems._train(setup, "ap", 4, 0.01, tau, 0.3, 0, initial, data)
    x, y = data.inputs, data.targets
    run.gradient = network.gradients(run.versions, x, y, TANH, SQUARED)
    run.loss = network.mean_loss(run.versions, x, y, TANH, SQUARED)
    current, following = [v[:-1] for v in run.versions], [v[1:] for v in run.versions]
    forward = [[theorems._gather(v, run.forward_members[0][:, m]) for m, v in enumerate(run.versions)]]
    backward = [[theorems._gather(v, run.backward_members[0][:, m]) for m, v in enumerate(run.versions)]]
    q = theorems._quantities(current, following, forward, backward, run.applied, x, y, FLOAT64, 2)
    constants = {"L": 5.0, "tau": tau, "W_max": tau / 4, "alpha_c_D": 0.5}

    float_tallies = {name: theorems._StepTally() for name in theorems.DETERMINISTIC_STEPS}
    theorems._judge_steps(run, q, constants, float_tallies, theorems._recompute_entries(run, x, y, constants))
    monkeypatch.setattr(theorems, "NEAR_TIE", 1e9)
    precise_tallies = {name: theorems._StepTally() for name in theorems.DETERMINISTIC_STEPS}
    theorems._judge_steps(run, q, constants, precise_tallies, theorems._recompute_entries(run, x, y, constants))
    for name in theorems.DETERMINISTIC_STEPS:
        precise, plain = precise_tallies[name], float_tallies[name]
        assert precise.near_ties == precise.samples == 8 and plain.near_ties == 0
        assert precise.status == plain.status == "holds"
        assert math.isclose(precise.max_ratio, plain.max_ratio, rel_tol=1e-6, abs_tol=1e-12)


def test_progress_wraps_the_runs():
    calls = []

    def progress(iterable, total):
        calls.append(total)
        return iterable

    result = theorems.check_convergence("async-convergence", quick=True, seed=3, progress=progress)
    assert result.status == "holds"
    assert calls == [len(result.details["K_values"])]


def test_unknown_theorem_is_rejected():
    with pytest.raises(ValueError, match="unknown convergence theorem"):
        theorems.check_convergence("iteration-complexity", quick=True, seed=0)


# ----------------------------------------------------------------------------- complexity


def test_iteration_complexity_matches_the_paper():
    result = theorems.check_iteration_complexity()
    assert result.status == "holds"
    assert result.lhs is None and result.rhs is None
    derived = {row["schedule"]: row["derived"] for row in result.details["schedules"]}
    assert derived == {"ap": [-2, -1], "sp": [-2], "wop": [-2]}
    _json_round_trip(result)


@pytest.mark.parametrize(
    "claim",
    [
        {"ap": (-2, -1), "sp": (-2, -1), "wop": (-2,)},  # SP claimed to pay the delay term
        {"ap": (-2,), "sp": (-2,), "wop": (-2,)},  # AP's ε⁻¹ term dropped
        {"ap": (-2, -1), "sp": (-2,)},  # WOP missing
        {"ap": ("-2", "-1/2"), "sp": (-2,), "wop": (-2,)},  # an exponent off
    ],
)
def test_wrong_complexity_claim_is_violated(claim):
    result = theorems.check_iteration_complexity(claim)
    assert result.status == "violated"
    assert "differ from the claim" in result.details["reason"]


# ----------------------------------------------------------------------------- density


def test_computation_density_matches_closed_forms():
    result = theorems.check_computation_density()
    assert result.status == "holds"
    assert result.lhs <= 1e-12
    ap = result.details["ap_limit"]
    assert ap["increasing"] and ap["limit"] == 1
    for row, J in zip(ap["records"], (10, 100, 1000)):
        assert row["density"] == pytest.approx(J / (J + 3), abs=1e-12)
    assert ap["gap_to_limit"][-1] < 0.005
    _json_round_trip(result)


def test_tampered_record_is_violated():
    record = build_schedule("sp", 3, 8, 2)
    assert theorems.check_computation_density([record]).status == "holds"
    tampered = dataclasses.replace(record, slots=record.slots + 1)
    result = theorems.check_computation_density([record, tampered])
    assert result.status == "violated"
    assert "sp M=3 J=8 B=2" in result.details["reason"]
    assert [row["status"] for row in result.details["records"]] == ["holds", "violated"]

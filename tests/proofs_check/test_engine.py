"""The engine can fail: wrong bounds are refuted with replayable witnesses, NaN is an error,
near ties are decided in 50 digits, true bounds (even at 2× slack) are never reported violated."""

from __future__ import annotations

import numpy as np
import pytest

from proofs_check.builtin import builtin_settings
from proofs_check.claims import candidate_claim, false_variant_claims, own_claim
from proofs_check.cli import main
from proofs_check.engine import ClaimCheck, adversarial_check, check_instances, refute
from proofs_check.instances import Instance, instance_arrays, instance_bytes, instance_from_arrays, load_instance, replace
from proofs_check.library import REGISTRY, Part, lemma_ids

LEMMA_IDS = lemma_ids()
from proofs_check.tolerance import ERROR, HOLDS, VIOLATED, judge, judge_part
from proofs_check.traces import TraceSetting, simulate, trace_instances
from proofs_check.verification import Budgets


@pytest.fixture(scope="module")
def quick_trace_instances() -> dict[str, list[Instance]]:
    """Instances of every lemma from a slice of the quick built-in set (AP and SP, both devices)."""
    kept: dict[str, list[Instance]] = {lemma: [] for lemma in LEMMA_IDS}
    for setting in builtin_settings(quick=True, seed=0)[::5]:
        for lemma, instance in trace_instances(simulate(setting)).items():
            kept[lemma].append(instance)
    return kept


def test_seeded_wrong_bound_is_violated_with_a_replayable_witness(tmp_path, capsys):
    witness = tmp_path / "w.npz"
    code = main(["bound", "--lemma", "bounded-signal", "--rhs", "G/omega_max", "--budget", "2", "--witness", str(witness)])
    output = capsys.readouterr().out
    assert code == 1
    assert "VIOLATED" in output and witness.exists()
    instance = load_instance(witness)
    assert instance.lemma == "bounded-signal"
    assert main(["replay", str(witness), "--rhs", "G/omega_max"]) == 1
    assert main(["replay", str(witness)]) == 0, "the lemma's own bound holds at the same instance"
    assert "violated" in capsys.readouterr().out


def test_a_false_bound_found_only_by_adversarial_search(tmp_path):
    """G/ω_max survives the traces of some settings; the search must find a witness from scratch."""
    claim = candidate_claim("bounded-signal", "bound*0.999")
    check = adversarial_check(claim, 3.0, seed=0, stop_at_violation=True)
    assert check.status == VIOLATED
    assert check.witness is not None and check.witness.origin == "adversarial search"
    assert check.witness_ratio > 1.0


def test_nan_in_a_trace_is_an_error_not_holds(quick_trace_instances):
    instance = quick_trace_instances["signal-stability"][0]
    poisoned_layer = instance.weights[0].copy()
    poisoned_layer[3, 0, 0] = np.nan
    poisoned = replace(instance, weights=(poisoned_layer,) + instance.weights[1:])
    check = check_instances(own_claim("signal-stability"), [(poisoned, "trace")])
    assert check.status == ERROR
    assert check.witness is not None and np.isnan(check.witness.weights[0]).any()


def test_nan_on_either_side_never_holds():
    for lhs, rhs in [(np.nan, 1.0), (1.0, np.nan), (np.inf, 1.0), (0.5, np.inf)]:
        verdict = judge_part(Part("p", np.array([lhs]), np.array([rhs])))
        assert verdict.status[0] == ERROR


def test_near_ties_are_decided_in_high_precision():
    """A float tie that is a violation in exact arithmetic is reported violated, and vice versa."""
    instance = Instance("bounded-signal", "identity", "squared", (np.eye(1),), np.ones((1, 1)), np.zeros((1, 1)))
    tie = [Part("p", np.array([1.0]), np.array([1.0 - 1e-12]))]
    assert judge(instance, tie, lambda _: [Part("p", np.array([1.0]), np.array([0.99]))])[0].status[0] == VIOLATED
    assert judge(instance, tie, lambda _: [Part("p", np.array([1.0]), np.array([1.0]))])[0].status[0] == HOLDS
    far = [Part("p", np.array([2.0]), np.array([1.0]))]
    assert judge(instance, far, lambda _: pytest.fail("no recomputation far from a tie"))[0].status[0] == VIOLATED


def test_a_vacuous_near_tie_is_recomputed_only_when_float64_finds_it_violated():
    """An identity that holds in float64 is no evidence and is left as it is; one that float64
    finds violated (which only a wrong evaluator can produce) is decided in 50 digits."""
    instance = Instance("bounded-signal", "identity", "squared", (np.eye(1),), np.ones((1, 1)), np.zeros((1, 1)))
    holding = [Part("p", np.array([1.0]), np.array([1.0 - 1e-12]), vacuous=True)]
    verdict = judge(instance, holding, lambda _: pytest.fail("a vacuous entry that holds is not recomputed"))[0]
    assert verdict.status[0] == HOLDS and verdict.re_evaluated == 0 and verdict.vacuous[0]
    violated = [Part("p", np.array([1.0]), np.array([1.0 - 1e-7]), vacuous=True)]
    assert judge(instance, violated, lambda _: [Part("p", np.array([1.0]), np.array([0.99]))])[0].status[0] == VIOLATED
    assert judge(instance, violated, lambda _: [Part("p", np.array([1.0]), np.array([1.0]))])[0].re_evaluated == 1


def test_the_float64_spectral_norm_agrees_with_lapacks_svd():
    """||W||_2 from the smaller Gram matrix (closed form for 2 × 2, eigvalsh above, the Euclidean norm
    for a row or column) agrees with np.linalg.norm(·, 2) to 2e-15 relative on every shape from 1 × 1
    to 7 × 7, at scales from 1e-300 to 1e300, on zero, rank-one and random stacks; NaN and inf give NaN."""
    from proofs_check.precision import FLOAT64

    rng = np.random.default_rng(3)
    for trial in range(600):
        rows, columns = (int(v) for v in rng.integers(1, 8, 2))
        scale = 10.0 ** rng.uniform(-300, 300)
        matrices = rng.standard_normal((3, rows, columns)) * scale
        matrices[0] = 0.0
        matrices[1] = np.outer(rng.standard_normal(rows), rng.standard_normal(columns)) * scale
        reference = np.linalg.norm(matrices, 2, axis=(-2, -1))
        norms = FLOAT64.spectral_norm(matrices)
        assert norms[0] == 0.0
        assert np.allclose(norms, reference, rtol=2e-15, atol=0.0), (rows, columns, norms, reference)
    broken = np.ones((2, 3, 3))
    broken[0, 1, 1] = np.nan
    broken[1, 0, 2] = np.inf
    assert np.isnan(FLOAT64.spectral_norm(broken)).all()


def test_the_50_digit_spectral_norm_is_a_50_digit_evaluation():
    """||W||_2 in mpmath (the largest eigenvalue of the smaller Gram matrix) agrees with mpmath's
    SVD to 45 digits on every shape class (1 × n, 2 × n, n × n, tall, wide, degenerate), and tells
    apart matrices that differ by 1e-40 (so it is no float64 value in disguise)."""
    import mpmath

    from proofs_check.precision import MPMATH

    rng = np.random.default_rng(0)
    shapes = [(1, 4), (4, 1), (2, 2), (2, 5), (5, 2), (3, 3), (4, 4), (6, 3), (3, 6)]
    matrices = [rng.normal(size=shape) for shape in shapes] + [np.eye(3), np.zeros((3, 3)), np.ones((4, 3))]
    with MPMATH.context():
        for matrix in matrices:
            converted = MPMATH.convert(matrix[None])
            norm = MPMATH.spectral_norm(converted)[0]
            reference = max(abs(v) for v in mpmath.svd_r(mpmath.matrix(converted[0].tolist()), compute_uv=False))
            assert abs(norm - reference) <= mpmath.mpf("1e-45") * max(reference, 1), matrix.shape
        nudged = MPMATH.convert(np.eye(3)[None])
        nudged[0, 0, 0] += mpmath.mpf("1e-40")
        assert MPMATH.spectral_norm(nudged)[0] - 1 > mpmath.mpf("0.9e-40")


def test_tolerance_is_exactly_model_md():
    assert judge_part(Part("p", np.array([1.0 + 0.9e-9]), np.array([1.0]))).status[0] == HOLDS
    assert judge_part(Part("p", np.array([1.0 + 2e-9]), np.array([1.0]))).status[0] == VIOLATED
    assert judge_part(Part("p", np.array([0.9e-12]), np.array([0.0]))).status[0] == HOLDS
    assert judge_part(Part("p", np.array([2e-12]), np.array([0.0]))).status[0] == VIOLATED


@pytest.mark.parametrize("lemma", LEMMA_IDS)
def test_twice_the_bound_holds(lemma, quick_trace_instances):
    claim = candidate_claim(lemma, "2*bound")
    check = check_instances(claim, [(instance, "trace") for instance in quick_trace_instances[lemma]])
    adversarial_check(claim, 1.0, seed=0, check=check)
    assert check.status == HOLDS
    assert check.max_ratio <= 0.5 + 1e-9


@pytest.mark.parametrize("lemma", LEMMA_IDS)
def test_own_bounds_hold_on_traces_and_search(lemma, quick_trace_instances):
    check = check_instances(own_claim(lemma), [(instance, "trace") for instance in quick_trace_instances[lemma]])
    adversarial_check(own_claim(lemma), 1.0, seed=3, check=check)
    assert check.status == HOLDS, (check.witness_part, check.witness_ratio)
    assert 0.0 < check.max_ratio <= 1.0 + 1e-9


@pytest.mark.slow
def test_kill_rate_is_total_within_the_default_budget(quick_trace_instances):
    budget = Budgets.for_mode(quick=False).variant_search
    survivors = []
    for claim in false_variant_claims():
        check = refute(claim, quick_trace_instances[claim.lemma.id], budget, seed=0)
        if check.status != VIOLATED:
            survivors.append(claim.name)
        else:
            assert check.witness is not None and check.witness_ratio > 1.0
    assert survivors == [], f"false variants not refuted: {survivors}"


@pytest.mark.parametrize("seed", [4, 14])
def test_the_quick_budget_finds_the_hardest_false_variant_by_search_alone(seed):
    """S_φ omitted from the smoothness constant L is false only in a narrow region (M = 2,
    softsign, squared loss, the smallest widths); with the quick budget of 60,000 evaluations
    the search missed it on these seeds and `run --quick --seed 4` reported 21/22. The quick
    budget now finds it on every seed 0–39 (docs/verification.md)."""
    claim = next(c for c in false_variant_claims() if c.lemma.id == "objective-smoothness" and c.kind == "S_φ omitted")
    check = refute(claim, [], Budgets.for_mode(quick=True).variant_search, seed=seed)
    assert check.status == VIOLATED and check.witness_ratio > 1.0


def test_witness_round_trip(quick_trace_instances, tmp_path):
    instance = quick_trace_instances["gradient-delay"][0]
    again = instance_from_arrays(instance_arrays(instance))
    for name in ("weights", "history", "gradient"):
        for a, b in zip(getattr(instance, name), getattr(again, name)):
            assert np.array_equal(a, b)
    assert np.array_equal(instance.forward_delays, again.forward_delays)
    assert again.lemma == instance.lemma and again.tau == instance.tau and again.extra == instance.extra
    path = tmp_path / "w.npz"
    path.write_bytes(instance_bytes(instance))
    assert np.array_equal(load_instance(path).inputs, instance.inputs)


@pytest.mark.parametrize(
    "arguments, fragment",
    [
        (["bound", "--lemma", "bounded-signal", "--rhs", "foo*G"], "unknown symbol(s) foo"),
        (["bound", "--lemma", "bounded-signal", "--rhs", "2*(G"], "cannot parse"),
        (["bound", "--lemma", "bounded-signal", "--rhs", "__import__('os')"], "may only contain"),
        (["bound", "--lemma", "nonsense", "--rhs", "G"], "unknown lemma 'nonsense'; allowed: bounded-signal"),
        (["bound", "--lemma", "bounded-signal", "--rhs", "G", "--budget", "-1"], "--budget"),
        (["tightness", "--lemma", "bounded-signal", "--budget", "0"], "--budget"),
    ],
)
def test_bad_bound_input_exits_2_with_one_line(arguments, fragment, capsys):
    try:
        code = main(arguments)
    except SystemExit as exit:
        code = exit.code
    error = capsys.readouterr().err
    assert code == 2
    assert error.count("\n") == 1 and fragment in error
    if "symbol" in fragment or "parse" in fragment:
        assert "known symbols: M, alpha, tau, W_max" in error and "bound" in error


def test_adversarial_search_is_reproducible():
    first = adversarial_check(own_claim("signal-delay"), 0.5, seed=11)
    second = adversarial_check(own_claim("signal-delay"), 0.5, seed=11)
    assert first.max_ratio == second.max_ratio
    assert first.search["evaluations"] == second.search["evaluations"]
    other = adversarial_check(own_claim("signal-delay"), 0.5, seed=12)
    assert other.search["structures"] > 0


def test_outside_the_assumptions_is_skipped_not_judged():
    """A delay window that leaves the ALD box (W_max ≥ τ) is outside the lemma's hypotheses."""
    from numerics.devices import make_device

    setting = TraceSetting("ap", (3, 4, 2), "tanh", "squared", make_device("ald", 1.0), 0.05, 6)
    instance = trace_instances(simulate(setting))["gradient-delay"]
    tau = float(np.max([np.abs(h).max() for h in instance.history])) * 0.5
    shrunk = replace(instance, tau=tau)
    row_max = np.max([np.abs(h).max(axis=(1, 2, 3)) for h in instance.history], axis=0)
    check = check_instances(own_claim("gradient-delay"), [(shrunk, "trace")])
    assert check.outside_assumptions == int((row_max >= tau).sum()) > 0
    inside_rows = int((row_max < tau).sum())
    assert (check.samples > 0) == (inside_rows > 0)


def test_vacuous_entries_never_count_as_evidence():
    """0 ≤ 0 entries and parts marked as definitions are counted apart, never in samples or ratios."""
    instance = Instance("bounded-signal", "identity", "squared", (np.array([[0.0]]),), np.array([[1.0]]), np.array([[0.0]]))
    parts = [Part("0 ≤ 0", np.zeros(3), np.zeros(3)), Part("a definition", np.ones(2), np.ones(2), vacuous=True), Part("real", np.array([0.5]), np.array([1.0]))]
    check = ClaimCheck(own_claim("bounded-signal"))
    check.add(instance, [judge_part(part) for part in parts], "trace")
    assert check.samples == 1 and check.vacuous == 5
    assert check.max_ratio == pytest.approx(0.5) and check.median_ratio == pytest.approx(0.5)
    assert check.verdict == HOLDS


def test_a_check_whose_every_entry_is_vacuous_is_an_error_not_holds():
    instance = Instance("bounded-signal", "identity", "squared", (np.array([[0.0]]),), np.array([[1.0]]), np.array([[0.0]]))
    check = ClaimCheck(own_claim("bounded-signal"))
    check.add(instance, [judge_part(Part("0 ≤ 0", np.zeros(4), np.zeros(4)))], "trace")
    assert check.samples == 0 and check.vacuous == 4
    assert check.verdict == ERROR and check.max_ratio == -np.inf


def test_a_violated_definition_is_still_reported():
    """A vacuous part that fails means the code is wrong: the status says so."""
    instance = Instance("bounded-signal", "identity", "squared", (np.array([[0.0]]),), np.array([[1.0]]), np.array([[0.0]]))
    check = ClaimCheck(own_claim("bounded-signal"))
    check.add(instance, [judge_part(Part("a definition", np.array([2.0]), np.array([1.0]), vacuous=True))], "trace")
    assert check.verdict == VIOLATED and check.samples == 0


def test_a_bound_false_only_for_four_or_more_layers_is_refuted():
    """True for M ≤ 3 (it equals G's worst case there), false for M ≥ 4: the search must reach deep networks."""
    claim = candidate_claim("bounded-signal", "sqrt(Min(M,3))*G_ell*X*L_phi**(M-1)*omega_max**(M-1)")
    check = adversarial_check(claim, 10.0, seed=0, stop_at_violation=True)
    assert check.status == VIOLATED and check.witness.layers >= 4 and check.witness_ratio > 1


def test_a_bound_false_only_for_widths_of_four_or_more_is_refuted():
    """||W_m||_2 ≤ ||W_m||_F ≤ sqrt(d_m d_{m−1})·W_max ≤ 3·W_max when every dimension is ≤ 3, so the factor
    is exactly 1 there and the candidate equals the bound; a layer with a dimension 4 can have ||W_m||_2 up to
    4·W_max (a flat rank-one matrix), where it falls below. The search must reach widths 4."""
    claim = candidate_claim("bounded-signal", "bound*Min(1, 3*W_max/omega_max)**8")
    check = adversarial_check(claim, 10.0, seed=0, stop_at_violation=True)
    assert check.status == VIOLATED and check.witness_ratio > 1
    assert max(max(w.shape) for w in check.witness.weights) >= 4


def test_a_bound_false_only_for_delay_windows_of_four_or_more_is_refuted():
    """Min(D,3)/Max(D,1) = 1 for every delay D ≤ 3 (the candidate equals the bound) and 3/D below it for
    D ≥ 4: the search must draw delay windows beyond 3."""
    claim = candidate_claim("gradient-delay", "bound*Min(D,3)/Max(D,1)")
    check = adversarial_check(claim, 10.0, seed=0, stop_at_violation=True)
    assert check.status == VIOLATED and check.witness_ratio > 1
    delays = np.concatenate([np.ravel(check.witness.forward_delays), np.ravel(check.witness.backward_delays)])
    assert delays.max() >= 4


def test_every_search_evaluation_is_a_batch(monkeypatch):
    """The refinement evaluates whole batches (a generation of differential evolution, a point with its
    n forward-difference neighbours), never one point per call, and counts every row against the budget."""
    from proofs_check import adversarial

    claim = own_claim("objective-smoothness")
    rows = []

    def counted(instance):
        rows.append(instance.inputs.shape[0])
        return claim.score(instance)

    result = adversarial.search(claim.lemma, counted, adversarial.evaluations_for(0.4), seed=0)
    assert min(rows) > 1 and sum(rows) == result.evaluations >= adversarial.evaluations_for(0.4)


def test_the_search_finds_the_box_invariance_worst_case_and_the_judge_keeps_it():
    """|w⁺| = τ is attained (w on the box's face, α|g| = τ): the search's best ratio is τ/(τ + 1e-12) and
    the 50-digit judge of that instance agrees (the instance lies inside the hypotheses exactly)."""
    check = adversarial_check(own_claim("box-invariance"), 0.4, seed=0)
    assert check.status == HOLDS and check.search["best_ratio"] > 1 - 1e-12
    assert check.max_ratio == pytest.approx(check.search["best_ratio"], abs=1e-15)


def test_the_search_draws_deep_wide_and_long_structures():
    from proofs_check.library import get_lemma

    rng = np.random.default_rng(0)
    structures = [get_lemma("gradient-delay").draw_structure(rng) for _ in range(600)]
    assert max(s.layers for s in structures) == 6 and max(max(s.dims) for s in structures) == 4
    assert max(s.window for s in structures) == 5
    assert sum(s.layers >= 4 for s in structures) / len(structures) > 0.25


def test_a_non_finite_matrix_has_a_nan_spectral_norm_not_a_crash():
    from proofs_check.precision import FLOAT64

    norms = FLOAT64.spectral_norm(np.array([[[np.nan, 1.0], [0.0, 1.0]], [[3.0, 0.0], [0.0, 4.0]], [[np.inf, 0.0], [0.0, 1.0]]]))
    assert np.isnan(norms[0]) and norms[1] == 4.0 and np.isnan(norms[2])


# ------------------------------------------------------------- devices and schedules of MODEL.md version 2


def _instances_of(settings) -> dict[str, list[Instance]]:
    from proofs_check.traces import simulate_all

    kept: dict[str, list[Instance]] = {}
    for trace in simulate_all(settings):
        for lemma, instance in trace_instances(trace).items():
            kept.setdefault(lemma, []).append(instance)
    return kept


@pytest.fixture(scope="module")
def new_trace_instances() -> dict[str, dict[str, list[Instance]]]:
    """Instances from the quick built-in runs of each new schedule (pipedream, 2bw, 1f1b), of
    the softbounds device (p = 2, γ₊ ≠ γ₋) and, for contrast, of AP on ALD."""
    from numerics.devices import AsymmetricLinearDevice

    settings = builtin_settings(quick=True, seed=0)
    groups = {
        "pipedream": [s for s in settings if s.schedule == "pipedream"],
        "2bw": [s for s in settings if s.schedule == "2bw"],
        "1f1b": [s for s in settings if s.schedule == "1f1b"],
        "softbounds": [s for s in settings if s.device.name == "softbounds"],
        "ap": [s for s in settings if s.schedule == "ap" and isinstance(s.device, AsymmetricLinearDevice)][:12],
    }
    return {name: _instances_of(group) for name, group in groups.items()}


@pytest.mark.slow
@pytest.mark.parametrize("source", ["pipedream", "2bw", "1f1b", "softbounds"])
def test_every_false_variant_is_refuted_with_traces_from_the_new_schedules_and_devices(source, new_trace_instances):
    """The kill rate stays total when the trace instances come from the new schedules or the
    softbounds device (refuted on those traces, or failing that by the search)."""
    budget = Budgets.for_mode(quick=False).variant_search
    survivors = []
    for claim in false_variant_claims():
        check = refute(claim, new_trace_instances[source].get(claim.lemma.id, []), budget, seed=0)
        if check.status != VIOLATED:
            survivors.append(claim.name)
    assert survivors == [], f"false variants not refuted with {source} traces: {survivors}"


@pytest.mark.parametrize("source", ["pipedream", "2bw"])
def test_gradient_delay_with_measured_backward_delays_holds_and_ignoring_them_is_refuted(source, new_trace_instances):
    """pipedream and 2bw read stale versions in their backward passes (d^b > 0): the lemma with
    the measured d^b holds on their traces, the variant that uses only d^f is refuted there."""
    from proofs_check.claims import variant_claim
    from proofs_check.library import get_lemma

    instances = new_trace_instances[source]["gradient-delay"]
    assert all(np.array_equal(i.backward_delays, i.forward_delays) for i in instances)  # both schedules: d^b = d^f
    assert max(int(i.backward_delays.max()) for i in instances) > 0
    own = check_instances(own_claim("gradient-delay"), [(i, "trace") for i in instances])
    assert own.status == HOLDS and own.samples > 0
    lemma = get_lemma("gradient-delay")
    ignoring = variant_claim(lemma, next(v for v in lemma.false_variants if v.kind == "backward delay ignored"))
    refuted = check_instances(ignoring, [(i, "trace") for i in instances])
    assert refuted.status == VIOLATED and refuted.witness_ratio > 1
    assert "W^b_m" in refuted.witness_part


def test_ignoring_backward_delays_is_harmless_where_there_are_none(new_trace_instances):
    """On AP traces d^b = 0: the variant that ignores d^b is MODEL.md's own bound there (so its
    refutation on pipedream/2bw traces is about d^b, not an artefact)."""
    from proofs_check.claims import variant_claim
    from proofs_check.library import get_lemma

    instances = new_trace_instances["ap"]["gradient-delay"]
    assert all(int(i.backward_delays.max()) == 0 for i in instances) and max(int(i.forward_delays.max()) for i in instances) > 0
    lemma = get_lemma("gradient-delay")
    ignoring = variant_claim(lemma, next(v for v in lemma.false_variants if v.kind == "backward delay ignored"))
    assert check_instances(ignoring, [(i, "trace") for i in instances]).status != VIOLATED


@pytest.mark.parametrize("factor", ["1", "beta"])
def test_analog_increment_with_the_softbounds_q_max_holds_and_a_wrong_constant_is_refuted(factor, new_trace_instances):
    """||W⁺ − W||_F ≤ α q_max ||g||_F with the softbounds q_max = max(γ₊, γ₋)(1 + W_max/τ)^p holds
    on its traces; with q_max replaced by 1 or by β it is refuted there."""
    from proofs_check.claims import Claim
    from proofs_check.library import get_lemma
    from proofs_check.library.variants import STEP_FACTOR_BETA, STEP_FACTOR_ONE

    instances = new_trace_instances["softbounds"]["analog-increment"]
    assert instances and all(i.device is not None and i.device.name == "softbounds" and i.device.exponent == 2 for i in instances)
    own = check_instances(own_claim("analog-increment"), [(i, "trace") for i in instances])
    assert own.status == HOLDS and own.samples > 0
    model = STEP_FACTOR_ONE if factor == "1" else STEP_FACTOR_BETA
    wrong = Claim(get_lemma("analog-increment"), f"q_max replaced by {factor}", model=model, kind="wrong device constant", only=("α q_max",))
    check = check_instances(wrong, [(i, "trace") for i in instances])
    assert check.status == VIOLATED and check.witness_ratio > 1


def test_box_invariance_on_softbounds_traces_reads_the_update_before_its_clip(new_trace_instances):
    """The softbounds update clips to ±τ, so |w⁺| ≤ τ after the clip cannot fail: the lemma is
    about the update before the clip (MODEL.md §4), which a run near the bound brings close to τ."""
    instances = new_trace_instances["softbounds"]["box-invariance"]
    check = check_instances(own_claim("box-invariance"), [(i, "trace") for i in instances])
    assert check.status == HOLDS and check.samples > 0 and check.max_ratio > 0.9
    from proofs_check.library.box_invariance import unclipped_update
    from proofs_check.library.context import Context

    instance = instances[0]
    lemma_step = unclipped_update(Context(instance), instance.weights, instance.gradient)
    clipped = [instance.device.update(w, g, instance.alpha) for w, g in zip(instance.weights, instance.gradient)]
    inside = [np.abs(u) <= instance.tau for u in lemma_step]
    assert all(np.allclose(u[i], c[i], rtol=0, atol=1e-12) for u, c, i in zip(lemma_step, clipped, inside))


def test_a_kept_evaluation_gives_the_checks_of_a_fresh_one(quick_trace_instances):
    """Judging a lemma's own claim and every false variant with the lemma's evaluation kept from
    the trace task (`KnownEvaluation`) gives the checks of evaluating afresh, field for field and
    ratio for ratio; and the kept evaluation is what is read (a doctored one changes the verdict)."""
    import dataclasses

    from proofs_check.claims import known_evaluation

    def summary(check):
        witness_ratio = "nan" if np.isnan(check.witness_ratio) else check.witness_ratio
        return (check.samples, check.vacuous, check.status, check.max_ratio, check.worst_part, check.witness_part, witness_ratio,
                check.re_evaluated, dict(check.sources), check.all_ratios().tobytes())

    compared = 0
    for lemma_id, instances in quick_trace_instances.items():
        lemma = REGISTRY.get(lemma_id)
        claims = [own_claim(lemma)] + [claim for claim in false_variant_claims([lemma])]
        for instance in instances[:4]:
            known = known_evaluation(lemma, instance)
            for claim in claims:
                fresh = check_instances(claim, [(instance, "trace")])
                kept = check_instances(claim, [(instance, "trace")], known=[known])
                assert summary(kept) == summary(fresh), (claim.name, instance.origin)
                compared += 1
    assert compared > 100
    instance = quick_trace_instances["bounded-signal"][0]
    known = known_evaluation(REGISTRY.get("bounded-signal"), instance)
    doctored = dataclasses.replace(known, parts=tuple(dataclasses.replace(part, rhs=0.5 * np.asarray(part.lhs)) for part in known.parts))
    assert check_instances(own_claim("bounded-signal"), [(instance, "trace")], known=[doctored]).status == VIOLATED

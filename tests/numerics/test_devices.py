"""The devices of MODEL.md §2: softbounds, pulsed, their constants and the registry.

Every statement here can fail: each check is paired with a false statement it rejects.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from numerics.activations import TANH
from numerics.data import initial_weights, teacher_student
from numerics.devices import (
    DEVICE_NAMES, PULSE_LIMIT, AsymmetricLinearDevice, DigitalDevice, PulseCountError, PulsedDevice, SoftBoundsDevice, device_settings, make_device,
    variation_factors,
)
from numerics.losses import SQUARED
from numerics.streams import generator
from numerics.training import TrainingSettings, train

finite = dict(allow_nan=False, allow_infinity=False)


# ----- softbounds ---------------------------------------------------------------------------


@st.composite
def box_inputs(draw):
    """(τ, α, W, g): |w| ≤ τ and any gradient (the clip may act when α|g| > τ)."""
    tau = draw(st.floats(0.05, 20.0))
    alpha = draw(st.floats(1e-5, 2.0))
    shape = draw(st.tuples(st.integers(1, 4), st.integers(1, 5)))
    unit = draw(arrays(float, shape, elements=st.floats(-1.0, 1.0, **finite)))
    gradient = draw(arrays(float, shape, elements=st.floats(-50.0, 50.0, **finite)))
    return tau, alpha, unit * tau, gradient


def _ald_equal(device, tau, alpha, weight, gradient) -> bool:
    """softbounds == ALD bit for bit where ALD stays in [−τ, τ], and == clip(ALD) everywhere."""
    ald = AsymmetricLinearDevice(tau=tau).update(weight, gradient, alpha)
    soft = device.update(weight, gradient, alpha)
    inside = np.abs(ald) <= tau
    return bool(np.array_equal(soft[inside], ald[inside]) and np.array_equal(soft, np.clip(ald, -tau, tau)))


@given(box_inputs())
def test_softbounds_with_p_1_and_unit_gains_is_ald_bit_for_bit(inputs):
    tau, alpha, weight, gradient = inputs
    assert _ald_equal(SoftBoundsDevice(tau=tau), tau, alpha, weight, gradient)


def test_softbounds_is_ald_bit_for_bit_under_box_invariance_and_the_check_can_fail():
    """Under box invariance (|w| ≤ τ, α|g| ≤ τ) ALD never left the box on these 200,000
    entries, so the equality is with ALD itself; another exponent or gain is not ALD."""
    rng = np.random.default_rng(3)
    tau, alpha = 1.7, 0.05
    weight = rng.uniform(-tau, tau, (400, 500))
    gradient = rng.uniform(-1, 1, weight.shape) * tau / alpha
    ald = AsymmetricLinearDevice(tau=tau).update(weight, gradient, alpha)
    assert np.all(np.abs(ald) <= tau)
    assert np.array_equal(SoftBoundsDevice(tau=tau).update(weight, gradient, alpha), ald)
    for other in (SoftBoundsDevice(tau=tau, exponent=1 + 1e-12), SoftBoundsDevice(tau=tau, gamma_up=1 + 2**-52), SoftBoundsDevice(tau=tau * (1 + 1e-15))):
        assert not _ald_equal(other, tau, alpha, weight, gradient)


def _model_softbounds(weight, gradient, alpha, tau, p, up, down):
    """MODEL.md §2 written out per entry: clip(W − α g F − α|g| G, −τ, τ)."""
    q_up = up * np.maximum(1 - weight / tau, 0) ** p
    q_down = down * np.maximum(1 + weight / tau, 0) ** p
    F, G = (q_up + q_down) / 2, (q_down - q_up) / 2
    return np.clip(weight - alpha * gradient * F - alpha * np.abs(gradient) * G, -tau, tau)


@given(
    box_inputs(), st.floats(0.2, 4.0), st.floats(0.2, 3.0), st.floats(0.2, 3.0),
    st.booleans(), st.booleans(),
)
def test_softbounds_is_the_model_formula_and_update_into_is_update(inputs, p, up, down, in_place, spare):
    tau, alpha, weight, gradient = inputs
    device = SoftBoundsDevice(tau=tau, exponent=p, gamma_up=up, gamma_down=down)
    expected = device.update(weight, gradient, alpha)
    np.testing.assert_allclose(expected, _model_softbounds(weight, gradient, alpha, tau, p, up, down), rtol=1e-12, atol=1e-12 * tau)
    w, g = weight.copy(), gradient.copy()
    out = w if in_place else np.empty_like(w)
    device.update_into(w, g, alpha, out, np.empty_like(w), spare_gradient=spare)
    assert np.array_equal(out, expected)


def test_softbounds_moves_by_the_response_functions_and_its_symmetric_point():
    device = SoftBoundsDevice(tau=2.0, exponent=2.0, gamma_up=1.2, gamma_down=0.8)
    w = np.array([-1.0, 0.0, 0.5, 1.5])
    up = device.update(w, np.full(4, -1.0), 0.01) - w  # Δ = +0.01
    down = device.update(w, np.full(4, 1.0), 0.01) - w
    np.testing.assert_allclose(up, 0.01 * 1.2 * (1 - w / 2) ** 2, rtol=1e-12)
    np.testing.assert_allclose(down, -0.01 * 0.8 * (1 + w / 2) ** 2, rtol=1e-12)
    star = device.symmetric_point
    assert star > 0  # γ₊ > γ₋: the balance point sits above 0
    np.testing.assert_allclose(device.response_up(np.array(star)), device.response_down(np.array(star)), rtol=1e-12)
    assert SoftBoundsDevice(tau=2.0).symmetric_point == 0.0


def test_softbounds_clips_where_p_below_1_would_leave_the_box():
    device = SoftBoundsDevice(tau=1.0, exponent=0.5)
    out = device.update(np.array([0.99, -0.99]), np.array([-10.0, 10.0]), 0.1)
    np.testing.assert_array_equal(out, [1.0, -1.0])
    unclipped = 0.99 + 1.0 * (1 - 0.99) ** 0.5
    assert unclipped > 1.0  # the clip acted


# ----- device constants against brute force ------------------------------------------------

GRID = 200_001


def brute_force_constants(device, W_max):
    """β, q_max, G_max as min/max over a grid of [−W_max, W_max] (ends included), with the
    response functions written out here."""
    if device.name == "digital":
        return 1.0, 1.0, 0.0
    p, up, down = (getattr(device, name, 1.0) for name in ("exponent", "gamma_up", "gamma_down"))
    tau = device.tau
    w = np.linspace(-W_max, W_max, GRID)
    q_up = up * np.maximum(1 - w / tau, 0) ** p
    q_down = down * np.maximum(1 + w / tau, 0) ** p
    return float(np.min(np.minimum(q_up, q_down))), float(np.max(np.maximum(q_up, q_down))), float(np.max(np.abs(q_down - q_up) / 2))


def constants_match(device, W_max) -> bool:
    computed = device.constants(W_max)
    return all(math.isclose(float(c), b, rel_tol=1e-9, abs_tol=1e-12) for c, b in zip(computed, brute_force_constants(device, W_max)))


@given(
    st.floats(0.1, 10.0), st.floats(0.0, 0.98), st.floats(0.1, 4.0), st.floats(0.1, 5.0), st.floats(0.1, 5.0),
    st.sampled_from(["softbounds", "pulsed"]),
)
def test_device_constants_equal_brute_force_over_parameters(tau, ratio, p, up, down, name):
    device = make_device(name, tau=tau, exponent=p, gamma_up=up, gamma_down=down)
    assert constants_match(device, ratio * tau)


@pytest.mark.parametrize(
    "device",
    [DigitalDevice(), AsymmetricLinearDevice(tau=2.0), SoftBoundsDevice(tau=1.5, exponent=2.0, gamma_up=1.2, gamma_down=0.8),
     SoftBoundsDevice(tau=1.0, exponent=0.5, gamma_up=0.7, gamma_down=1.9), PulsedDevice(tau=1.0, exponent=3.0, gamma_up=2.0, dw_min=0.01, c2c=0.2, d2d=0.1)],
    ids=lambda d: d.name,
)
def test_device_constants_equal_brute_force(device):
    W_max = 0.7 * (device.tau if math.isfinite(device.tau) else 1.0)
    assert constants_match(device, W_max)
    beta, q_max, G_max = device.constants(W_max)
    assert 0 < beta <= 1 * max(getattr(device, "gamma_up", 1), getattr(device, "gamma_down", 1)) and q_max >= beta and G_max >= 0


def test_brute_force_rejects_wrong_constants():
    """The comparison can fail: a p = 2 device does not have ALD's constants, and the pulsed
    device's constants are its nominal mean model's (not those of other gains)."""
    device = SoftBoundsDevice(tau=1.0, exponent=2.0)
    wrong = dataclasses.replace(device, exponent=1.0)
    assert not all(math.isclose(float(c), b, rel_tol=1e-9) for c, b in zip(wrong.constants(0.5), brute_force_constants(device, 0.5)))
    pulsed = PulsedDevice(gamma_up=1.5)
    assert pulsed.constants(0.5) == pulsed.mean_model.constants(0.5)
    assert pulsed.constants(0.5) != PulsedDevice().constants(0.5)


# ----- the pulsed device --------------------------------------------------------------------

PULSED = dict(tau=1.0, exponent=2.0, gamma_up=1.2, gamma_down=0.8)
WEIGHTS = np.array([-0.3, -0.1, 0.0, 0.2, 0.3])
DESIRED = np.array([-0.0083, -0.0041, 0.0043, 0.0081])  # Δ = −αg
ALPHA = 0.1


def pulsed_mean(dw_min, per_seed=25_000, seeds=range(4)):
    """Mean and standard error of W⁺ − W for every (w, Δ) pair, over `per_seed` elements of
    each seed's run (c2c = d2d = 0): one vectorised update per seed."""
    device = PulsedDevice(dw_min=dw_min, **PULSED)
    W, D = (a.ravel() for a in np.meshgrid(WEIGHTS, DESIRED, indexing="ij"))
    weight = np.repeat(W[:, None], per_seed, axis=1)
    gradient = np.repeat((-D / ALPHA)[:, None], per_seed, axis=1)
    moves = np.concatenate([device.bind([weight.shape], [seed])[0].update(weight, gradient, ALPHA) - weight for seed in seeds], axis=1)
    return device, W, D, moves.mean(axis=1), moves.std(axis=1, ddof=1) / math.sqrt(moves.shape[1])


def exact_pulsed_mean(device, w, desired):
    """E[W⁺] − W with c2c = d2d = 0, computed here: the deterministic pulse sequence w_k and
    E = (1 − f) w_{⌊x⌋} + f w_{⌊x⌋+1}, x = |Δ|/dw_min."""
    x = abs(desired) / device.dw_min
    whole, f = math.floor(x), x - math.floor(x)
    sequence = [w]
    for _ in range(whole + 1):
        v = sequence[-1]
        if desired > 0:
            v = v + device.dw_min * device.gamma_up * max(1 - v / device.tau, 0) ** device.exponent
        else:
            v = v - device.dw_min * device.gamma_down * max(1 + v / device.tau, 0) ** device.exponent
        sequence.append(min(max(v, -device.tau), device.tau))
    return (1 - f) * sequence[whole] + f * sequence[whole + 1] - w


def test_pulsed_mean_is_softbounds_plus_the_second_order_term():
    """Over 100,000 elements (4 seeds) per (w, Δ): the mean move is within 4 standard errors of
    Δq + ½ q q′ (Δ² − |Δ| dw_min + f(1 − f) dw_min²), and more than 4 away from the plain
    softbounds move Δq (the second-order term is resolved, so the check can fail)."""
    device, W, D, mean, se = pulsed_mean(0.001)
    model = device.second_order_mean(W, D)
    softbounds = device.mean_model.update(W, -D / ALPHA, ALPHA) - W
    # The expansion's O(Δ³) remainder is below the statistical resolution here:
    exact = np.array([exact_pulsed_mean(device, w, d) for w, d in zip(W, D)])
    assert np.all(np.abs(exact - model) <= se)
    assert np.all(np.abs(mean - model) <= 4 * se), np.max(np.abs(mean - model) / se)
    assert np.all(np.abs(mean - softbounds) > 4 * se)
    assert np.all(np.abs(mean - exact) <= 4 * se)


def test_pulsed_deviation_from_the_continuum_model_shrinks_with_dw_min():
    """The deviation of the mean move from the dw_min → 0 limit Δq + ½ q q′ Δ² (root mean square
    over the pairs) at dw_min = 0.004, 0.002, 0.001 falls roughly in proportion to dw_min,
    resolved at many standard errors."""
    deviations, errors = [], []
    for dw_min in (0.004, 0.002, 0.001):
        device, W, D, mean, se = pulsed_mean(dw_min)
        continuum = dataclasses.replace(device, dw_min=1e-12).second_order_mean(W, D)
        deviations.append(float(np.sqrt(np.mean((mean - continuum) ** 2))))
        errors.append(float(np.sqrt(np.mean(se**2))))
    assert all(deviation > 4 * error for deviation, error in zip(deviations, errors))
    assert deviations[0] > deviations[1] > deviations[2]
    for coarse, fine in zip(deviations, deviations[1:]):
        assert 1.5 < coarse / fine < 2.6


def test_pulsed_p_1_compounds_exactly():
    """p = 1, n whole pulses up from w: τ − (τ − w)(1 − γ₊ dw_min/τ)^n (MODEL.md §2)."""
    device = PulsedDevice(tau=2.0, gamma_up=1.3, dw_min=0.01)
    (layer,) = device.bind([(3,)], [0])
    w = np.array([-1.0, 0.2, 1.5])
    n = 37
    out = layer.update(w, np.full(3, -n * 0.01 / 0.5), 0.5)  # |Δ| = 0.37: fractional part 0 up to rounding
    np.testing.assert_allclose(out, 2.0 - (2.0 - w) * (1 - 1.3 * 0.01 / 2.0) ** n, rtol=0, atol=1e-12)


def test_pulsed_max_pulses_caps_the_move_and_the_clip_holds():
    device = PulsedDevice(tau=1.0, exponent=0.5, dw_min=0.05, max_pulses=1)
    (layer,) = device.bind([(2, 2)], [4])
    w = np.array([[0.0, 0.5], [-0.2, 0.999]])
    out = layer.update(w, np.full((2, 2), -100.0), 0.1)  # Δ = 10: hundreds of pulses asked, one applied
    expected = np.clip(w + 0.05 * (1 - w) ** 0.5, -1, 1)
    np.testing.assert_array_equal(out, expected)
    uncapped = PulsedDevice(tau=1.0, exponent=0.5, dw_min=0.05).bind([(2, 2)], [4])[0].update(w, np.full((2, 2), -100.0), 0.1)
    assert np.all(uncapped >= out) and np.max(uncapped - out) > 0.1 and np.all(np.abs(uncapped) <= 1.0)


def test_d2d_factors_are_positive_mean_one_and_drawn_once():
    factors = variation_factors(generator(0, "device-variation", 0), 0.8, (200_000,))
    assert np.all((factors > 0) & (factors < 2))
    assert abs(float(np.mean(factors)) - 1) < 4 * float(np.std(factors)) / math.sqrt(factors.size)
    device = PulsedDevice(dw_min=0.01, d2d=0.3)
    first = device.bind([(3, 4), (2, 3)], [5])
    again = device.bind([(3, 4), (2, 3)], [5])
    other = device.bind([(3, 4), (2, 3)], [6])
    for a, b, c in zip(first, again, other):
        assert a.dw_min[0].shape == a.gamma_up[0].shape == a.gamma_down[0].shape == b.dw_min[0].shape
        assert np.array_equal(a.dw_min[0], b.dw_min[0]) and np.array_equal(a.gamma_down[0], b.gamma_down[0])
        assert not np.array_equal(a.dw_min[0], c.dw_min[0])
        assert not np.array_equal(a.gamma_up[0], a.gamma_down[0])
    nominal = PulsedDevice(dw_min=0.01).bind([(3, 4)], [5])[0]
    assert nominal.dw_min == [0.01] and nominal.gamma_up == [1.0]


def _pulsed_run(seeds, device, replicas=False):
    dims = [4, 6, 3]
    data = teacher_student(dims, 24, 1, TANH, SQUARED)
    initial = initial_weights(dims, 1, bound=0.5)
    if replicas:
        initial = [np.stack([w] * len(seeds)) for w in initial]
    settings = TrainingSettings(
        schedule="ap", device=device, learning_rate=0.1, updates=8, activation=TANH, loss=SQUARED, seeds=tuple(seeds)
    )
    return train(initial, data, settings).final_weights


def test_pulsed_runs_are_bit_identical_for_a_seed_and_differ_across_seeds():
    device = PulsedDevice(exponent=1.5, gamma_up=1.1, dw_min=0.004, c2c=0.3, d2d=0.2, max_pulses=40)
    first, again, other = _pulsed_run([3], device), _pulsed_run([3], device), _pulsed_run([4], device)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert all(not np.array_equal(a, c) for a, c in zip(first, other))
    batched = _pulsed_run([3, 4], device, replicas=True)
    assert all(np.array_equal(b[0], a) and np.array_equal(b[1], c) for b, a, c in zip(batched, first, other))


def test_pulsed_non_finite_increments_give_nan_and_huge_counts_are_an_error():
    """A NaN or infinite Δ is never hidden (W⁺ = NaN there, as for ALD); an update that would
    need more than PULSE_LIMIT pulses on an element raises instead of looping, unless capped."""
    (layer,) = PulsedDevice(dw_min=0.01).bind([(1, 3)], [0])
    out = layer.update(np.zeros((1, 3)), np.array([[np.nan, np.inf, 1.0]]), 0.1)
    assert np.isnan(out[0, 0]) and np.isnan(out[0, 1]) and np.isfinite(out[0, 2])
    with np.errstate(invalid="ignore"):
        assert np.all(np.isnan(AsymmetricLinearDevice().update(np.zeros(2), np.array([np.nan, np.inf]), 0.1)))
    huge = np.full((1, 2), -(PULSE_LIMIT + 10) * 0.01 / 0.1)
    (uncapped,) = PulsedDevice(dw_min=0.01).bind([(1, 2)], [0])
    with pytest.raises(PulseCountError, match="max_pulses"):
        uncapped.update(np.zeros((1, 2)), huge, 0.1)
    (capped,) = PulsedDevice(dw_min=0.01, max_pulses=3).bind([(1, 2)], [0])
    np.testing.assert_allclose(capped.update(np.zeros((1, 2)), huge, 0.1), 1 - 0.99**3, rtol=1e-12)


def test_the_pulsed_device_needs_binding():
    with pytest.raises(TypeError, match="bind"):
        PulsedDevice().update(np.zeros(2), np.ones(2), 0.1)


# ----- the registry -------------------------------------------------------------------------


def test_every_registered_device_builds_from_its_name_with_defaults():
    for name in DEVICE_NAMES:
        device = make_device(name)
        assert device.name == name
        assert tuple(f.name for f in dataclasses.fields(device)) == device_settings(name)
    assert set(DEVICE_NAMES) == {"digital", "ald", "softbounds", "pulsed"}


def test_every_device_setting_has_a_docstring():
    import ast
    import inspect

    import numerics.devices as module

    tree = ast.parse(inspect.getsource(module))
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name in {type(make_device(n)).__name__ for n in DEVICE_NAMES}:
            body = node.body
            for i, statement in enumerate(body):
                if isinstance(statement, ast.AnnAssign):
                    following = body[i + 1] if i + 1 < len(body) else None
                    assert isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant), f"{node.name}.{statement.target.id}"


@pytest.mark.parametrize(
    ("name", "settings", "named"),
    [
        ("ald", {"tau": 0.0}, "tau"), ("softbounds", {"tau": -1.0}, "tau"), ("softbounds", {"exponent": 0.0}, "exponent"),
        ("softbounds", {"gamma_up": 0.0}, "gamma_up"), ("softbounds", {"gamma_down": -1.0}, "gamma_down"),
        ("pulsed", {"dw_min": 0.0}, "dw_min"), ("pulsed", {"c2c": -0.1}, "c2c"), ("pulsed", {"d2d": -1.0}, "d2d"),
        ("pulsed", {"max_pulses": 0}, "max_pulses"), ("pulsed", {"exponent": math.nan}, "exponent"),
        ("ald", {"exponent": 2.0}, "exponent"), ("softbounds", {"dw_min": 0.1}, "dw_min"), ("digital", {"gamma_up": 1.0}, "gamma_up"),
    ],
)
def test_make_device_rejects_bad_or_foreign_settings_naming_them(name, settings, named):
    with pytest.raises(ValueError, match=named):
        make_device(name, **settings)


def test_make_device_unknown_name_lists_the_kinds():
    with pytest.raises(KeyError, match="softbounds"):
        make_device("pcm")


def test_simulate_pulsed_same_seed_same_trace_other_seed_other_trace(tmp_path, capsys):
    """Through the command line with fixed --data/--init (so only the device draws from the
    seed): seed 3 twice gives identical files, seed 4 other weights."""
    from proofs_check.cli import main

    rng = np.random.default_rng(0)
    np.savez(tmp_path / "init.npz", W1=0.3 * rng.standard_normal((5, 3)), W2=0.3 * rng.standard_normal((2, 5)))
    np.savez(tmp_path / "data.npz", x=rng.standard_normal((12, 3)), y=rng.standard_normal((12, 2)))
    traces = []
    for run, seed in enumerate((3, 3, 4)):
        out = tmp_path / f"run{run}"
        arguments = [
            "simulate", "--schedule", "sp", "--device", "pulsed", "--dw-min", "0.002", "--c2c", "0.2", "--d2d", "0.1",
            "--lr", "0.1", "--updates", "5", "--seed", str(seed), "--data", str(tmp_path / "data.npz"), "--init", str(tmp_path / "init.npz"),
            "--out", str(out), "--json",
        ]
        assert main(arguments) == 0
        capsys.readouterr()
        with np.load(out / "trace.npz") as archive:
            traces.append({key: archive[key] for key in archive.files})
    assert all(np.array_equal(traces[0][key], traces[1][key]) for key in traces[0])
    assert not np.array_equal(traces[0]["W1_final"], traces[2]["W1_final"])


# ----- replica batching: the device decides which devices share one batched run


def test_digital_and_ald_batch_as_one_ald_run_whose_replicas_update_as_alone():
    devices = [DigitalDevice(), AsymmetricLinearDevice(tau=0.7), AsymmetricLinearDevice(tau=2.5)]
    assert {device.replica_family() for device in devices} == {AsymmetricLinearDevice}
    batched = devices[1].batch_replicas(devices)
    rng = generator(0, "init")
    weight, gradient = rng.uniform(-0.5, 0.5, (3, 4, 5)), rng.normal(size=(3, 4, 5))
    together = batched.update(weight, gradient, 0.05)
    for replica, device in enumerate(devices):
        assert np.array_equal(together[replica], device.update(weight[replica], gradient[replica], 0.05)), device


def test_a_device_outside_the_family_is_refused_not_batched_as_another():
    softbounds = SoftBoundsDevice(tau=1.0, exponent=2.0)
    assert softbounds.replica_family() != AsymmetricLinearDevice().replica_family()
    assert softbounds.batch_replicas([softbounds, SoftBoundsDevice(tau=1.0, exponent=2.0)]) is softbounds
    with pytest.raises(ValueError, match="only with itself"):
        softbounds.batch_replicas([softbounds, SoftBoundsDevice(tau=1.0, exponent=3.0)])
    with pytest.raises(ValueError, match="ALD replicas"):
        DigitalDevice().batch_replicas([DigitalDevice(), softbounds])
    pulsed = PulsedDevice(dw_min=0.01)
    with pytest.raises(ValueError, match="only with itself"):
        pulsed.batch_replicas([pulsed, PulsedDevice(dw_min=0.02)])

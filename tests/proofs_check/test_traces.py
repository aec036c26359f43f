"""Traces of the built-in set: batched as replicas they equal the unbatched runs bit for bit,
and they are consistent with the device rule and the mixed pass."""

from __future__ import annotations

import numpy as np
import pytest

from proofs_check.builtin import builtin_settings
from proofs_check.traces import recomputed_gradients_match, replayed_updates_match, simulate, simulate_all


@pytest.fixture(scope="module")
def settings():
    everything = builtin_settings(quick=True, seed=4)
    return [s for s in everything if s.dims == everything[0].dims and s.activation == "tanh"]


def test_replica_traces_equal_unbatched_traces(settings):
    batched = simulate_all(settings)
    assert [t.setting for t in batched] == settings
    for trace in batched:
        alone = simulate(trace.setting)
        for kept, single in zip(trace.result.versions, alone.result.versions):
            assert all(np.array_equal(a, b) for a, b in zip(kept, single))
        for kept, single in zip(trace.result.applied_gradients, alone.result.applied_gradients):
            assert all(np.array_equal(a, b) for a, b in zip(kept, single))
        assert np.array_equal(trace.result.reference_loss, alone.result.reference_loss)
        assert np.array_equal(trace.data.inputs, alone.data.inputs)


def test_traces_replay_exactly(settings):
    for trace in simulate_all(settings[:6]):
        assert replayed_updates_match(trace)
        assert recomputed_gradients_match(trace) <= 1e-12


def test_a_tampered_trace_is_caught(settings):
    trace = simulate(settings[0])
    trace.result.versions[0][3] = trace.result.versions[0][3] + 1e-9
    assert not replayed_updates_match(trace)


# ------------------------------------------------------------- devices and schedules of MODEL.md version 2


@pytest.mark.parametrize("schedule", ["ap", "pipedream", "2bw", "1f1b"])
def test_delay_instances_carry_the_measured_forward_and_backward_delays(schedule):
    """The delay lemmas' instances hold the delays the run measured, which MODEL.md §3's closed
    forms predict: pipedream and 2bw read stale versions in their backward passes too."""
    from numerics.devices import AsymmetricLinearDevice
    from numerics.schedules import schedule_named
    from proofs_check.traces import TraceSetting, trace_instances
    from theory import schedules as closed_forms

    layers, updates = 3, 6
    mini_batch = max(2, schedule_named(schedule).smallest_mini_batch(layers))
    setting = TraceSetting(schedule, (3, 4, 4, 2), "tanh", "squared", AsymmetricLinearDevice(tau=1.0), 0.05, updates, mini_batch=mini_batch)
    instance = trace_instances(simulate(setting))["gradient-delay"]
    for name, expression in (("forward_delays", closed_forms.forward_delay(schedule)), ("backward_delays", closed_forms.backward_delay(schedule))):
        expected = [[int(closed_forms.evaluate(expression, layers, mini_batch, updates * mini_batch, k=k, m=m)) for m in range(1, layers + 1)] for k in range(updates)]
        assert np.array_equal(getattr(instance, name), expected), name
    assert instance.history[0].shape[1] == 1 + int(max(instance.forward_delays.max(), instance.backward_delays.max()))


def test_trace_instances_carry_the_device_and_a_pulsed_run_gives_no_device_lemma():
    """The lemmas read the run's device (its constants); the pulsed device, random given g, is
    not covered by the device lemmas (it is measured against its mean model instead)."""
    from numerics.devices import PulsedDevice, SoftBoundsDevice
    from proofs_check.traces import TraceSetting, trace_instances

    softbounds = SoftBoundsDevice(tau=1.0, exponent=2.0, gamma_up=1.25, gamma_down=0.75)
    instances = trace_instances(simulate(TraceSetting("pipedream", (3, 4, 2), "tanh", "squared", softbounds, 0.05, 5)))
    assert {lemma for lemma, instance in instances.items() if instance.device != softbounds} == set()
    assert {"analog-increment", "box-invariance", "signal-delay", "gradient-delay"} <= set(instances)
    pulsed = PulsedDevice(tau=1.0, exponent=2.0, gamma_up=1.25, gamma_down=0.75, dw_min=0.001)
    trace = simulate(TraceSetting("pipedream", (3, 4, 2), "tanh", "squared", pulsed, 0.05, 5))
    assert set(trace_instances(trace)) == {"bounded-signal", "signal-stability", "objective-smoothness"}


def test_a_softbounds_instance_round_trips_with_its_device(tmp_path):
    from numerics.devices import SoftBoundsDevice
    from proofs_check.instances import instance_bytes, load_instance
    from proofs_check.traces import TraceSetting, trace_instances

    device = SoftBoundsDevice(tau=2.0, exponent=2.0, gamma_up=1.5, gamma_down=0.5)
    instance = trace_instances(simulate(TraceSetting("ap", (3, 4, 2), "tanh", "squared", device, 0.05, 3)))["analog-increment"]
    path = tmp_path / "w.npz"
    path.write_bytes(instance_bytes(instance))
    assert load_instance(path).device == device


@pytest.fixture(scope="module")
def model_error_report():
    from proofs_check.builtin import model_error_setting
    from proofs_check.model_error import model_error

    return model_error(model_error_setting(quick=True, seed=0), seed=0)


def test_pulsed_model_error_is_reported_with_standard_errors(model_error_report):
    """The pulsed device against its softbounds mean model: with dw_min = 0.001 the mean
    increment's deviation from the softbounds increment is measurable (the O(α²|g|²/τ) term of
    MODEL.md §2: many standard errors from 0), and what is left after the second-order term is
    within 4 standard errors of 0; one pulsed update lands closer to the prediction as dw_min shrinks."""
    rows = {row["dw_min"]: row for row in model_error_report["pulse_sizes"]}
    fine, coarse = rows[min(rows)], rows[max(rows)]
    assert fine["updates_compared"] > 0
    assert abs(fine["mean_relative_deviation"]) > 4 * fine["mean_relative_deviation_standard_error"] > 0
    assert abs(fine["second_order_relative_deviation"]) < 4 * fine["second_order_relative_deviation_standard_error"]
    assert fine["mean_relative_distance"] < coarse["mean_relative_distance"]
    assert model_error_report["kind"].startswith("model error") and np.isfinite(model_error_report["floor_factor"])


def test_model_error_is_reproducible_from_the_seed(model_error_report):
    from proofs_check.builtin import model_error_setting
    from proofs_check.model_error import model_error

    assert model_error(model_error_setting(quick=True, seed=0), seed=0) == model_error_report
    assert model_error(model_error_setting(quick=True, seed=1), seed=1) != model_error_report


def test_pulsed_and_softbounds_runs_batch_as_replicas_of_their_own_device():
    """Settings that differ only in seed run as replicas of their own device (never as ALD),
    each replica bit for bit its unbatched run (the pulsed device: its own seed's pulses)."""
    from numerics.devices import PulsedDevice, SoftBoundsDevice
    from proofs_check.traces import TraceSetting

    for device in (SoftBoundsDevice(tau=1.0, exponent=2.0, gamma_up=1.25, gamma_down=0.75), PulsedDevice(tau=1.0, exponent=2.0, dw_min=0.01, c2c=0.1, d2d=0.1)):
        group = [TraceSetting("pipedream", (3, 4, 2), "tanh", "squared", device, 0.05, 4, seed=seed) for seed in (3, 4)]
        batched = simulate_all(group)
        for trace in batched:
            alone = simulate(trace.setting)
            for kept, single in zip(trace.result.versions, alone.result.versions):
                assert all(np.array_equal(a, b) for a, b in zip(kept, single))
        assert not np.array_equal(batched[0].result.versions[0][-1], batched[1].result.versions[0][-1])

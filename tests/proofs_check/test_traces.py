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

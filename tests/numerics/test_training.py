"""Training runs (numerics.training): reductions to plain SGD, device limits, schedule
equivalences, determinism, noise statistics and the ALD update rule (MODEL.md §2–3)."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
from scipy import stats

from numerics import network
from numerics.activations import activation_by_name
from numerics.data import Dataset
from numerics.devices import AsymmetricLinearDevice, DigitalDevice, make_device
from numerics.losses import loss_by_name
from numerics.replicas import replica, train_replicas
from numerics.schedules import SCHEDULE_NAMES
from numerics.training import TrainingSettings, train
from proofs_check.cli import main


def _task(dims, samples, loss_name, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    weights = tuple(scale * rng.standard_normal((dims[m + 1], dims[m])) / math.sqrt(dims[m]) for m in range(len(dims) - 1))
    x = rng.standard_normal((samples, dims[0]))
    y = rng.integers(0, dims[-1], size=samples) if loss_name == "cross-entropy" else rng.standard_normal((samples, dims[-1]))
    return weights, Dataset(x, y)


def _settings(schedule, device, updates, loss_name="squared", activation_name="tanh", **extra):
    return TrainingSettings(
        schedule=schedule,
        device=device,
        learning_rate=extra.pop("learning_rate", 0.1),
        updates=updates,
        activation=activation_by_name(activation_name),
        loss=loss_by_name(loss_name),
        **extra,
    )


# ----- AP with one stage is plain SGD ------------------------------------------------------


@pytest.mark.parametrize("loss_name", ["squared", "cross-entropy"])
@pytest.mark.parametrize("device_name", ["digital", "ald"])
def test_ap_with_one_stage_is_plain_sgd(loss_name, device_name):
    dims, b, updates, alpha, tau = (4, 3), 3, 25, 0.2, 1.5
    initial, data = _task(dims, 10, loss_name, seed=1, scale=0.5)
    device = make_device(device_name, tau)
    settings = _settings("ap", device, updates, loss_name, learning_rate=alpha, micro_batch_size=b, keep_versions=True)
    result = train(initial, data, settings)

    activation, loss = settings.activation, settings.loss
    W = initial[0].copy()
    for k in range(updates):
        np.testing.assert_allclose(result.versions[0][k], W, rtol=1e-12, atol=1e-15, err_msg=f"version {k}")
        rows = (k * b + np.arange(b)) % data.size
        x, y = data.inputs[rows], data.targets[rows]
        np.testing.assert_allclose(result.reference_loss[k], network.mean_loss([W], x, y, activation, loss), rtol=1e-12)
        (g,) = network.gradients([W], x, y, activation, loss)
        W = W - alpha * g if device_name == "digital" else W - alpha * g - (alpha / tau) * np.abs(g) * W
    np.testing.assert_allclose(result.final_weights[0], W, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(result.forward_versions[:, 0], np.arange(updates))
    np.testing.assert_array_equal(result.backward_versions[:, 0], np.arange(updates))
    # The run moved: a trivially static run would also "agree".
    assert np.max(np.abs(W - initial[0])) > 0.05


# ----- ALD reduces to digital -------------------------------------------------------------


@pytest.mark.parametrize("schedule", ["ap", "sp"])
def test_ald_with_infinite_tau_is_digital_exactly(schedule):
    initial, data = _task((3, 5, 4, 2), 17, "squared", seed=2)
    digital = train(initial, data, _settings(schedule, DigitalDevice(), 12, mini_batch=2))
    analog = train(initial, data, _settings(schedule, AsymmetricLinearDevice(tau=math.inf), 12, mini_batch=2))
    for d, a in zip(digital.final_weights, analog.final_weights):
        np.testing.assert_array_equal(a, d)
    np.testing.assert_array_equal(analog.reference_loss, digital.reference_loss)


@pytest.mark.parametrize("schedule", ["ap", "sp"])
def test_ald_with_huge_tau_matches_digital(schedule):
    initial, data = _task((3, 5, 4, 2), 17, "cross-entropy", seed=3)
    digital = train(initial, data, _settings(schedule, DigitalDevice(), 12, "cross-entropy", mini_batch=2))
    analog = train(initial, data, _settings(schedule, AsymmetricLinearDevice(tau=1e12), 12, "cross-entropy", mini_batch=2))
    moved = max(float(np.max(np.abs(w - w0))) for w, w0 in zip(digital.final_weights, initial))
    assert moved > 0.01
    for d, a in zip(digital.final_weights, analog.final_weights):
        np.testing.assert_allclose(a, d, rtol=1e-9, atol=1e-12)
    # …while a small τ does not match digital (the comparison can fail).
    small = train(initial, data, _settings(schedule, AsymmetricLinearDevice(tau=0.5), 12, "cross-entropy", mini_batch=2))
    assert not all(np.allclose(s, d, rtol=1e-9, atol=1e-12) for s, d in zip(small.final_weights, digital.final_weights))


# ----- synchronous schedules apply the same averaged gradients ----------------------------


@pytest.mark.parametrize("device", [DigitalDevice(), AsymmetricLinearDevice(tau=2.0)], ids=["digital", "ald"])
@pytest.mark.parametrize("loss_name", ["squared", "cross-entropy"])
def test_sp_wop_single_give_identical_weights(device, loss_name):
    initial, data = _task((3, 4, 4, 3), 13, loss_name, seed=4, scale=0.8)
    results = {
        schedule: train(initial, data, _settings(schedule, device, 6, loss_name, mini_batch=3, micro_batch_size=2, keep_versions=True))
        for schedule in ("sp", "wop", "single")
    }
    reference = results["sp"]
    assert results["sp"].record.slots != results["wop"].record.slots  # genuinely different schedules
    for name in ("wop", "single"):
        other = results[name]
        for m in range(3):
            for k in range(7):
                np.testing.assert_array_equal(other.versions[m][k], reference.versions[m][k])
        np.testing.assert_array_equal(other.reference_loss, reference.reference_loss)
        np.testing.assert_array_equal(other.forward_versions, reference.forward_versions)
    # …and differ from AP, whose forwards read stale weights and whose updates use one micro-batch.
    ap = train(initial, data, _settings("ap", device, 6, loss_name, micro_batch_size=2))
    assert not np.array_equal(ap.final_weights[0], reference.final_weights[0])


@pytest.mark.parametrize("schedule", SCHEDULE_NAMES)
def test_skipping_reference_losses_changes_no_weight(schedule):
    """reference_losses=False: no reference loss, and every version, applied gradient, final
    weight and max |W| bit for bit those of the default run (which evaluates the losses and
    holds versions for them); a replica stack in chunks merges the missing losses too."""
    initial, data = _task((3, 4, 4, 3), 13, "cross-entropy", seed=6, scale=0.8)
    stack = tuple(np.stack([w, 0.5 * w, -w]) for w in initial)
    device = AsymmetricLinearDevice(tau=np.array([np.inf, 2.0, 1.0]).reshape(3, 1, 1))
    settings = _settings(schedule, device, 6, "cross-entropy", mini_batch=3, micro_batch_size=2, noise=0.05, seeds=(0, 1, 2), keep_versions=True)
    reference = train(stack, data, settings)
    skipped = train_replicas(stack, data, dataclasses.replace(settings, reference_losses=False), chunk=2, workers=1)
    assert reference.reference_loss.shape == (3, 6) and skipped.reference_loss is None
    for m in range(3):
        np.testing.assert_array_equal(skipped.final_weights[m], reference.final_weights[m])
        for k in range(7):
            np.testing.assert_array_equal(skipped.versions[m][k], reference.versions[m][k])
        for k in range(6):
            np.testing.assert_array_equal(skipped.applied_gradients[m][k], reference.applied_gradients[m][k])
    np.testing.assert_array_equal(skipped.max_abs_weight, reference.max_abs_weight)
    assert replica(skipped, 1).reference_loss is None
    # Without kept versions the updates run in place in the live buffers: the same weights.
    in_place = train(stack, data, dataclasses.replace(settings, reference_losses=False, keep_versions=False))
    for m in range(3):
        np.testing.assert_array_equal(in_place.final_weights[m], reference.final_weights[m])
    np.testing.assert_array_equal(in_place.max_abs_weight, reference.max_abs_weight)


def test_sync_update_averages_its_micro_batches():
    """SP's first update is W − α·mean of the B micro-batch gradients at W^{(0)}."""
    initial, data = _task((3, 4, 2), 12, "squared", seed=5)
    b, B, alpha = 2, 3, 0.1
    result = train(initial, data, _settings("sp", DigitalDevice(), 1, mini_batch=B, micro_batch_size=b, learning_rate=alpha))
    activation, loss = activation_by_name("tanh"), loss_by_name("squared")
    per_micro_batch = [network.gradients(initial, data.inputs[j * b : (j + 1) * b], data.targets[j * b : (j + 1) * b], activation, loss) for j in range(B)]
    for m in range(2):
        expected = initial[m] - alpha * sum(g[m] for g in per_micro_batch) / B
        np.testing.assert_allclose(result.final_weights[m], expected, rtol=1e-13, atol=1e-15)


# ----- determinism through the command line -----------------------------------------------


def _simulate(out, *extra):
    arguments = ["simulate", "--schedule", "ap", "--device", "ald", "--tau", "3", "--lr", "0.05", "--updates", "30", "--out", str(out), *extra]
    assert main(arguments) == 0
    with np.load(out / "trace.npz") as archive:
        trace = {key: archive[key] for key in archive.files}
    return trace, json.loads((out / "summary.json").read_text())


@pytest.mark.parametrize("noise", [[], ["--noise", "0.3"]], ids=["clean", "noisy"])
def test_same_seed_gives_bit_identical_trace(tmp_path, capsys, noise):
    first, first_summary = _simulate(tmp_path / "a", "--seed", "5", *noise)
    second, second_summary = _simulate(tmp_path / "b", "--seed", "5", *noise)
    assert first.keys() == second.keys()
    for key in first:
        np.testing.assert_array_equal(first[key], second[key], err_msg=key)
    assert first_summary == second_summary
    assert (tmp_path / "a" / "trace.npz").read_bytes() == (tmp_path / "b" / "trace.npz").read_bytes()
    capsys.readouterr()


def test_different_seeds_differ(tmp_path, capsys):
    first, _ = _simulate(tmp_path / "a", "--seed", "1")
    second, _ = _simulate(tmp_path / "b", "--seed", "2")
    assert not np.array_equal(first["W1_final"], second["W1_final"])
    assert not np.array_equal(first["loss"], second["loss"])
    capsys.readouterr()


def test_seed_drives_only_the_noise_with_fixed_files(tmp_path, capsys):
    initial, data = _task((3, 4, 2), 9, "squared", seed=6, scale=0.5)
    np.savez(tmp_path / "init.npz", W1=initial[0], W2=initial[1])
    np.savez(tmp_path / "data.npz", x=data.inputs, y=data.targets)
    files = ["--data", str(tmp_path / "data.npz"), "--init", str(tmp_path / "init.npz")]
    clean_1, _ = _simulate(tmp_path / "c1", "--seed", "1", *files)
    clean_2, _ = _simulate(tmp_path / "c2", "--seed", "2", *files)
    np.testing.assert_array_equal(clean_1["W1_final"], clean_2["W1_final"])
    noisy_1, _ = _simulate(tmp_path / "n1", "--seed", "1", "--noise", "0.1", *files)
    noisy_2, _ = _simulate(tmp_path / "n2", "--seed", "2", "--noise", "0.1", *files)
    assert not np.array_equal(noisy_1["W1_final"], noisy_2["W1_final"])
    assert not np.array_equal(noisy_1["W1_final"], clean_1["W1_final"])
    capsys.readouterr()


# ----- gradient noise ---------------------------------------------------------------------


def test_noise_has_the_right_variance():
    """One SP update of α = 1 from the same weights, with and without noise, on R seeded replicas.

    The difference of the two results is the noise the update applied: the mean of B
    independent N(0, σ²) draws per entry, so N(0, σ²/B). With n entries the sum of the
    squared standardised differences is χ²(n); we require it inside the two-sided
    1e-6 quantiles (a wrong variance by 10% already falls far outside for n = 4000), and a
    Kolmogorov–Smirnov test against N(0, 1) above p = 1e-6.
    """
    dims, replicas, sigma, B = (3, 5, 4, 2), 100, 0.7, 4
    initial, data = _task(dims, 16, "squared", seed=7)
    stacked = tuple(np.broadcast_to(w, (replicas,) + w.shape).copy() for w in initial)
    seeds = tuple(range(1000, 1000 + replicas))

    def run(noise):
        settings = _settings("sp", DigitalDevice(), 1, learning_rate=1.0, mini_batch=B, noise=noise, seeds=seeds)
        return train(stacked, data, settings).final_weights

    clean, noisy = run(0.0), run(sigma)
    applied = np.concatenate([(c - n).ravel() for c, n in zip(clean, noisy)])
    n = applied.size
    assert n == replicas * sum(dims[m] * dims[m + 1] for m in range(len(dims) - 1))
    standardised = applied / (sigma / math.sqrt(B))
    chi_square = float(np.sum(standardised**2))
    low, high = stats.chi2.ppf([1e-6, 1 - 1e-6], n)
    assert low < chi_square < high, f"chi-square {chi_square:.1f} outside ({low:.1f}, {high:.1f}) for n = {n}"
    # A 10% error in the standard deviation would be detected by the same bound.
    assert not low < chi_square / 1.1**2 < high and not low < chi_square * 1.1**2 < high
    assert abs(float(np.mean(standardised))) < 5 / math.sqrt(n)
    assert stats.kstest(standardised, "norm").pvalue > 1e-6
    # Replicas draw independent noise (different seeds), the same as unbatched runs with those seeds.
    per_replica = np.concatenate([(c - n_).reshape(replicas, -1) for c, n_ in zip(clean, noisy)], axis=1)
    correlation = np.corrcoef(per_replica)[np.triu_indices(replicas, 1)]
    assert np.max(np.abs(correlation)) < 0.9  # no two replicas share their noise
    single = train(initial, data, _settings("sp", DigitalDevice(), 1, learning_rate=1.0, mini_batch=B, noise=sigma, seeds=(seeds[3],)))
    for w, batched in zip(single.final_weights, noisy):
        np.testing.assert_allclose(batched[3], w, rtol=1e-13, atol=1e-15)


def test_noise_is_independent_of_the_schedule_order():
    """Micro-batch j's noise is the same under SP and WOP (seeded per micro-batch), so the runs agree."""
    initial, data = _task((3, 4, 2), 12, "squared", seed=8)
    sp = train(initial, data, _settings("sp", DigitalDevice(), 4, mini_batch=2, noise=0.2, seeds=(9,)))
    wop = train(initial, data, _settings("wop", DigitalDevice(), 4, mini_batch=2, noise=0.2, seeds=(9,)))
    for a, b in zip(sp.final_weights, wop.final_weights):
        np.testing.assert_array_equal(a, b)


# ----- the ALD update rule ----------------------------------------------------------------


def test_ald_update_on_a_hand_example():
    """W⁺ = W − αg − (α/τ)|g| ⊙ W with α = 0.1, τ = 2, computed by hand."""
    W = np.array([[0.5, -0.2], [0.0, 0.9]])
    g = np.array([[1.0, -2.0], [0.3, -0.5]])
    # (0,0): 0.5 − 0.1 − 0.05·1·0.5 = 0.375      (0,1): −0.2 + 0.2 − 0.05·2·(−0.2) = 0.02
    # (1,0): 0 − 0.03 − 0 = −0.03                 (1,1): 0.9 + 0.05 − 0.05·0.5·0.9 = 0.9275
    expected = np.array([[0.375, 0.02], [-0.03, 0.9275]])
    np.testing.assert_allclose(AsymmetricLinearDevice(tau=2.0).update(W, g, 0.1), expected, rtol=0, atol=1e-15)
    np.testing.assert_allclose(DigitalDevice().update(W, g, 0.1), [[0.4, 0.0], [-0.03, 0.95]], rtol=0, atol=1e-15)


def test_ald_pulls_toward_zero():
    """Up and down steps differ: from w > 0 a step down is larger than a step up of the same |g|."""
    device = AsymmetricLinearDevice(tau=1.0)
    w = np.array([0.6])
    down = w - device.update(w, np.array([1.0]), 0.1)
    up = device.update(w, np.array([-1.0]), 0.1) - w
    np.testing.assert_allclose(down, 0.1 * (1 + 0.6), rtol=1e-14)
    np.testing.assert_allclose(up, 0.1 * (1 - 0.6), rtol=1e-14)


def _holds(lhs, rhs):
    """MODEL.md tolerance: lhs ≤ rhs·(1 + 1e-9) + 1e-12."""
    return np.all(lhs <= rhs * (1 + 1e-9) + 1e-12)


def test_box_invariance():
    """|w| ≤ τ and α|g| ≤ τ keep |w⁺| ≤ τ, including the corners w = ±τ, α|g| = τ."""
    rng = np.random.default_rng(10)
    for tau in (0.1, 1.0, 7.5):
        alpha = 0.3
        w = rng.uniform(-tau, tau, size=(400, 50))
        g = rng.uniform(-tau / alpha, tau / alpha, size=w.shape)
        w[:, 0], w[:, 1] = tau, -tau
        g[:, 2], g[:, 3] = tau / alpha, -tau / alpha
        g[::2, 0], g[1::2, 1] = -tau / alpha, tau / alpha  # push the boundary weights outward
        updated = AsymmetricLinearDevice(tau=tau).update(w, g, alpha)
        assert _holds(np.abs(updated), tau)
    # The hypothesis α|g| ≤ τ matters: a larger step leaves the box (the check can fail).
    tau, alpha = 1.0, 1.0
    escaped = AsymmetricLinearDevice(tau=tau).update(np.array([0.9]), np.array([-3.0]), alpha)
    np.testing.assert_allclose(escaped, [0.9 + 3.0 - 3.0 * 0.9])
    assert not _holds(np.abs(escaped), tau)


def test_ald_training_stays_in_the_box():
    """A whole ALD run with small steps keeps every version within [−τ, τ]."""
    tau = 0.6
    initial, data = _task((3, 6, 2), 20, "squared", seed=11, scale=0.4)
    assert max(float(np.max(np.abs(w))) for w in initial) <= tau
    result = train(initial, data, _settings("ap", AsymmetricLinearDevice(tau=tau), 60, learning_rate=0.05, keep_versions=True))
    for m, versions in enumerate(result.versions):
        for k, (version, gradient) in enumerate(zip(versions, list(result.applied_gradients[m]) + [None])):
            assert _holds(np.abs(version), tau)
            if gradient is not None:
                assert np.all(0.05 * np.abs(gradient) <= tau)
    assert _holds(result.max_abs_weight, tau)
    largest = max(float(np.max(np.abs(v))) for versions in result.versions for v in versions)
    assert result.max_abs_weight == pytest.approx(largest, rel=0, abs=0)


def test_ald_rejects_nonpositive_tau():
    for tau in (0.0, -1.0, math.nan):
        with pytest.raises(ValueError, match="tau"):
            AsymmetricLinearDevice(tau=tau)


# ----- the stacked pass of synchronous schedules ------------------------------------------------


def test_only_schedules_without_delay_run_as_stacked_updates():
    """`synchronous_update_order` names the record's layer order for the schedules whose every read is
    the current version (single, wop, sp, 1f1b) and None for the others (ap, pipedream, 2bw)."""
    from numerics.schedules import schedule_named
    from numerics.training import synchronous_update_order

    for name in SCHEDULE_NAMES:
        schedule = schedule_named(name)
        layers = 1 if name == "single" else 3
        per_update = schedule.micro_batches_per_update(4)
        order = synchronous_update_order(name, layers, 12 * per_update, per_update)
        assert (order is not None) == (not schedule.asynchronous), name
        if order is not None:
            assert sorted(order) == list(range(layers))


@pytest.mark.parametrize("schedule", ["single", "wop", "sp", "1f1b"])
def test_the_stacked_pass_gives_the_slot_loops_numbers_bit_for_bit(schedule, monkeypatch):
    """A synchronous run computed an update at a time (all B micro-batches stacked) equals the slot
    loop in every bit: every version, applied gradient, reference loss and largest weight, with
    replicas, noise, i.i.d. rows, both losses, three activations and every device kind (the
    pulsed device's draws follow the record's update order)."""
    import itertools

    import numerics.training as training
    from numerics.data import CYCLIC, IID

    devices = [DigitalDevice(), AsymmetricLinearDevice(tau=2.0), make_device("softbounds", tau=1.5, exponent=2.0), make_device("pulsed", tau=1.5, dw_min=0.01, c2c=0.1)]
    architectures = [(2, 3)] if schedule == "single" else [(3, 4, 2), (3, 5, 4, 3)]
    cases = list(itertools.product(architectures, [0, 3], [CYCLIC, IID], ["squared", "cross-entropy"], ["tanh", "softsign"], devices, [0.0, 0.1], [(1, 1), (3, 4)]))
    for dims, replicas, sampling, loss_name, activation_name, device, noise, (b, mini_batch) in cases[:: 3 if schedule != "single" else 1]:
        weights, data = _task(dims, 20, loss_name, seed=len(dims) + replicas)
        if replicas:
            weights = tuple(np.stack([w * (1 + 0.1 * r) for r in range(replicas)]) for w in weights)
        settings = _settings(
            schedule, device, 5, loss_name, activation_name, micro_batch_size=b, mini_batch=mini_batch, noise=noise,
            seeds=tuple(range(max(replicas, 1))), keep_versions=True, sampling=sampling, learning_rate=0.05,
        )
        stacked = train(weights, data, settings)
        with monkeypatch.context() as patch:
            patch.setattr(training, "synchronous_update_order", lambda *arguments: None)
            slots = train(weights, data, settings)
        case = (dims, replicas, sampling.name, loss_name, activation_name, device.name, noise, b, mini_batch)
        for mine, theirs in zip(stacked.versions + stacked.applied_gradients, slots.versions + slots.applied_gradients):
            assert all(np.array_equal(u, v) for u, v in zip(mine, theirs)), case
        assert np.array_equal(stacked.reference_loss, slots.reference_loss), case
        assert np.array_equal(stacked.max_abs_weight, slots.max_abs_weight), case
        assert all(np.array_equal(u, v) for u, v in zip(stacked.final_weights, slots.final_weights)), case


# ----- kept versions: written into one store per layer, never recycled ----------------------


@pytest.mark.parametrize("schedule", SCHEDULE_NAMES)
@pytest.mark.parametrize("device_name", ["ald", "pulsed"])
def test_kept_versions_are_the_run_itself(schedule, device_name):
    """A run that keeps its versions makes the same run as one that does not (final weights,
    reference losses, range), and its store replays: W^{(k+1)} = U(W^{(k)}, g̃_k) for every k
    with the deterministic device, W^{(K)} the final weights. A store slot handed out again as
    a scratch or gradient buffer would break the replay."""
    device = AsymmetricLinearDevice(tau=0.8) if device_name == "ald" else make_device("pulsed", tau=0.8, dw_min=0.01)
    initial, data = _task((3, 5, 4, 2), 24, "squared", seed=5, scale=0.5)
    stacked = [np.stack([w, 0.9 * w]) for w in initial]
    options = dict(micro_batch_size=3, mini_batch=4, noise=0.05, seeds=(2, 3))
    kept = train(stacked, data, _settings(schedule, device, 9, keep_versions=True, **options))
    plain = train(stacked, data, _settings(schedule, device, 9, keep_versions=False, **options))
    for a, b in zip(kept.final_weights, plain.final_weights):
        assert np.array_equal(a, b)
    assert np.array_equal(kept.reference_loss, plain.reference_loss)
    assert np.array_equal(kept.max_abs_weight, plain.max_abs_weight)
    assert np.array_equal(kept.max_abs_weight, np.max([np.max(np.abs(v), axis=(0, -2, -1)) for v in kept.versions], axis=0))
    for m, (versions, gradients) in enumerate(zip(kept.versions, kept.applied_gradients)):
        assert versions.shape == (10,) + stacked[m].shape and gradients.shape == (9,) + stacked[m].shape
        assert np.array_equal(versions[0], stacked[m]) and np.array_equal(versions[-1], kept.final_weights[m])
        assert not np.shares_memory(versions, kept.final_weights[m])
        if device_name == "ald":
            for k in range(9):
                assert np.array_equal(device.update(versions[k], gradients[k], 0.1), versions[k + 1])

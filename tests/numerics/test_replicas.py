"""Replicas (numerics.replicas, `simulate --replicas`): a batched run of R replicas is bit for
bit R unbatched runs (np.array_equal, never allclose): final weights, reference losses and
max_abs_weight, for AP and SP, digital and ALD, with and without noise, with cyclic and
i.i.d. sampling (replica r draws its rows with its own seed), for seeded stacks, for an
α × τ grid, through the threaded chunked runner, and through the command line."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from numerics.activations import activation_by_name
from numerics.data import CYCLIC, IID, Dataset
from numerics.devices import AsymmetricLinearDevice, DigitalDevice
from numerics.losses import loss_by_name
from numerics.replicas import (
    broadcast_replicas,
    hyper_grid,
    replica,
    replica_seeds,
    seeded_initial_weights,
    seeded_teacher_student,
    train_replicas,
)
from numerics.training import TrainingResult, TrainingSettings, train
from proofs_check.cli import main

DIMS = (5, 7, 6, 3)


def _settings(schedule, device, seeds, noise=0.0, loss="squared", activation="tanh", **extra):
    return TrainingSettings(
        schedule=schedule,
        device=device,
        learning_rate=extra.pop("learning_rate", 0.1),
        updates=extra.pop("updates", 10),
        activation=activation_by_name(activation),
        loss=loss_by_name(loss),
        micro_batch_size=extra.pop("micro_batch_size", 3),
        mini_batch=extra.pop("mini_batch", 2),
        noise=noise,
        seeds=tuple(seeds),
        **extra,
    )


def assert_same_run(batched: TrainingResult, single: TrainingResult, context: str = "") -> None:
    """Bit-identical final weights, reference losses and max_abs_weight (and versions when kept)."""
    for m, (b, s) in enumerate(zip(batched.final_weights, single.final_weights), start=1):
        assert np.array_equal(b, s), f"{context} W{m}_final differs"
    assert np.array_equal(batched.reference_loss, single.reference_loss), f"{context} reference loss differs"
    assert np.array_equal(batched.max_abs_weight, single.max_abs_weight), f"{context} max_abs_weight differs"
    np.testing.assert_array_equal(batched.forward_versions, single.forward_versions)
    np.testing.assert_array_equal(batched.backward_versions, single.backward_versions)
    assert len(batched.update_rows) == len(single.update_rows)
    for k, (b, s) in enumerate(zip(batched.update_rows, single.update_rows)):
        assert np.array_equal(b, s), f"{context} rows of update {k} differ"
    if single.versions is not None:
        for m in range(len(single.versions)):
            for k, (b, s) in enumerate(zip(batched.versions[m], single.versions[m])):
                assert np.array_equal(b, s), f"{context} version {k} of W{m + 1} differs"
            for k, (b, s) in enumerate(zip(batched.applied_gradients[m], single.applied_gradients[m])):
                assert np.array_equal(b, s), f"{context} applied gradient {k} of W{m + 1} differs"


def _seeded(replicas, base_seed, loss="squared", activation="tanh", tau=2.0, samples=13):
    seeds = replica_seeds(base_seed, replicas)
    initial = seeded_initial_weights(DIMS, seeds, bound=tau / 2)
    data = seeded_teacher_student(DIMS, samples, seeds, activation_by_name(activation), loss_by_name(loss))
    return seeds, initial, data


def _unbatched(initial, data, settings, r):
    """Replica r's inputs and settings as an unbatched run."""
    weights = [w[r] for w in initial]
    single_data = Dataset(data.inputs[r], data.targets[r]) if data.inputs.ndim == 3 else data
    return train(weights, single_data, dataclasses.replace(settings, seeds=(settings.seeds[r],)))


# ----- seeded replicas ---------------------------------------------------------------------


SAMPLING = pytest.mark.parametrize("sampling", [CYCLIC, IID], ids=["cyclic", "iid"])


@SAMPLING
@pytest.mark.parametrize("noise", [0.0, 0.3], ids=["clean", "noisy"])
@pytest.mark.parametrize("device", [DigitalDevice(), AsymmetricLinearDevice(tau=2.0)], ids=["digital", "ald"])
@pytest.mark.parametrize("schedule", ["ap", "sp"])
def test_seeded_replicas_are_bit_identical_to_single_runs(schedule, device, noise, sampling):
    seeds, initial, data = _seeded(4, 11)
    settings = _settings(schedule, device, seeds, noise, sampling=sampling)
    batched = train(initial, data, settings)
    assert batched.reference_loss.shape == (4, settings.updates)
    for r in range(4):
        assert_same_run(replica(batched, r), _unbatched(initial, data, settings, r), f"replica {r}:")
    # The replicas are genuinely different runs (different seeds), and they moved.
    assert not np.array_equal(batched.final_weights[0][0], batched.final_weights[0][1])
    assert np.max(np.abs(batched.final_weights[0] - initial[0])) > 1e-3


@SAMPLING
@pytest.mark.parametrize(("schedule", "loss", "activation"), [("wop", "cross-entropy", "softsign"), ("single", "squared", "identity"), ("ap", "cross-entropy", "tanh")])
def test_other_schedules_losses_activations_and_kept_versions(schedule, loss, activation, sampling):
    """The remaining schedules, cross-entropy, the generic (non-tanh) activation path, and
    every kept version and applied gradient; b = 4 and B = 3 (a power of two and not)."""
    seeds, initial, data = _seeded(3, 2, loss=loss, activation=activation)
    settings = _settings(schedule, AsymmetricLinearDevice(tau=2.0), seeds, 0.2, loss, activation, micro_batch_size=4, mini_batch=3, updates=6, keep_versions=True, sampling=sampling)
    batched = train(initial, data, settings)
    for r in range(3):
        assert_same_run(replica(batched, r), _unbatched(initial, data, settings, r), f"replica {r}:")


@SAMPLING
@pytest.mark.parametrize("loss", ["squared", "cross-entropy"])
@pytest.mark.parametrize("schedule", ["ap", "sp"])
def test_long_sums_and_wrapping_rows(schedule, loss, sampling):
    """Sums long enough for numpy's pairwise summation (≥ 9 terms: 10 outputs, B·b = 16 rows)
    and micro-batches that wrap around N: the sums run in the unbatched order."""
    dims = (12, 16, 16, 10)
    seeds = replica_seeds(30, 3)
    activation, loss_ = activation_by_name("tanh"), loss_by_name(loss)
    initial = seeded_initial_weights(dims, seeds, bound=1.0)
    data = seeded_teacher_student(dims, 21, seeds, activation, loss_)
    settings = _settings(schedule, AsymmetricLinearDevice(tau=2.0), seeds, 0.1, loss, micro_batch_size=8, mini_batch=2, updates=8, sampling=sampling)
    batched = train(initial, data, settings)
    for r in range(3):
        assert_same_run(replica(batched, r), _unbatched(initial, data, settings, r), f"replica {r}:")


# ----- a hyper-parameter grid ---------------------------------------------------------------


@pytest.mark.parametrize("noise", [0.0, 0.2], ids=["clean", "noisy"])
@pytest.mark.parametrize("schedule", ["ap", "sp"])
def test_learning_rate_tau_grid_matches_single_runs(schedule, noise):
    """α × τ grid on shared data (no replica axis) and shared initial weights; replica
    r = i·len(τ) + j equals the unbatched run with α_i, τ_j."""
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((17, DIMS[0])), rng.standard_normal((17, DIMS[-1]))
    data = Dataset(x, y)
    start = [np.clip(0.5 * rng.standard_normal((DIMS[m + 1], DIMS[m])), -0.9, 0.9) for m in range(len(DIMS) - 1)]
    learning_rates, taus = [0.03, 0.1, 0.2], [1.0, 2.5]
    alpha, tau = hyper_grid(learning_rates, taus)
    assert alpha.shape == (6,) and tau.shape == (6, 1, 1)
    replicas = alpha.size
    initial = broadcast_replicas(start, replicas)
    seeds = (7,) * replicas
    settings = _settings(schedule, AsymmetricLinearDevice(tau=tau), seeds, noise, learning_rate=alpha)
    batched = train(initial, data, settings)
    for r in range(replicas):
        i, j = divmod(r, len(taus))
        single = train(start, data, _settings(schedule, AsymmetricLinearDevice(tau=taus[j]), (7,), noise, learning_rate=learning_rates[i]))
        assert_same_run(replica(batched, r), single, f"α={learning_rates[i]}, τ={taus[j]}:")
    losses = batched.reference_loss[:, -1]
    assert len(set(losses.tolist())) == replicas  # every grid point is a different run


def test_grid_on_shared_labels():
    """Cross-entropy on shared integer labels (no replica axis) with B·b = 12 rows per update."""
    rng = np.random.default_rng(8)
    dims = (6, 9, 10)
    data = Dataset(rng.standard_normal((25, 6)), rng.integers(0, 10, 25))
    start = [0.4 * rng.standard_normal((dims[m + 1], dims[m])) for m in range(2)]
    alpha, tau = hyper_grid([0.05, 0.3], [1.0, 3.0])
    settings = _settings("sp", AsymmetricLinearDevice(tau=tau), (1,) * 4, 0.0, "cross-entropy", learning_rate=alpha, micro_batch_size=4, mini_batch=3)
    batched = train(broadcast_replicas(start, 4), data, settings)
    for r in range(4):
        single = train(start, data, dataclasses.replace(settings, learning_rate=float(alpha[r]), device=AsymmetricLinearDevice(tau=float(tau[r, 0, 0])), seeds=(1,)))
        assert_same_run(replica(batched, r), single, f"replica {r}:")


@pytest.mark.parametrize("loss", ["squared", "cross-entropy"])
@pytest.mark.parametrize("schedule", ["ap", "sp"])
def test_iid_rows_per_replica_from_shared_data(schedule, loss):
    """Shared data (no replica axis) and shared initial weights; each replica draws its own
    i.i.d. rows from its seed (per-replica gathers of shared inputs and shared labels), with
    B·b = 16 rows per update for pairwise sums, and a per-replica α."""
    rng = np.random.default_rng(12)
    dims = (6, 9, 10)
    labels = loss == "cross-entropy"
    data = Dataset(rng.standard_normal((23, 6)), rng.integers(0, 10, 23) if labels else rng.standard_normal((23, 10)))
    start = [np.clip(0.4 * rng.standard_normal((dims[m + 1], dims[m])), -0.9, 0.9) for m in range(2)]
    alpha = np.array([0.05, 0.1, 0.2, 0.1])
    seeds = (3, 4, 5, 6)
    settings = _settings(schedule, AsymmetricLinearDevice(tau=2.0), seeds, 0.05, loss, learning_rate=alpha, micro_batch_size=8, mini_batch=2, sampling=IID)
    batched = train(broadcast_replicas(start, 4), data, settings)
    assert batched.update_rows[0].shape == (4, 8 if schedule == "ap" else 16)
    for r in range(4):
        single = train(start, data, dataclasses.replace(settings, learning_rate=float(alpha[r]), seeds=(seeds[r],)))
        assert_same_run(replica(batched, r), single, f"replica {r}:")
    # Replicas 1 and 3 share α but not their seed: different rows, different runs.
    assert not np.array_equal(batched.update_rows[0][1], batched.update_rows[0][3])
    assert not np.array_equal(batched.final_weights[0][1], batched.final_weights[0][3])


def test_digital_learning_rate_grid():
    """A per-replica α alone, on the digital device."""
    seeds, initial, data = _seeded(3, 0)
    alpha = np.array([0.01, 0.05, 0.2])
    settings = _settings("ap", DigitalDevice(), seeds, learning_rate=alpha)
    batched = train(initial, data, settings)
    for r in range(3):
        single = _unbatched(initial, data, dataclasses.replace(settings, learning_rate=float(alpha[r])), r)
        assert_same_run(replica(batched, r), single, f"replica {r}:")


# ----- the chunked, threaded runner ----------------------------------------------------------


@SAMPLING
@pytest.mark.parametrize("noise", [0.0, 0.25], ids=["clean", "noisy"])
def test_train_replicas_in_threaded_chunks_is_bit_identical(noise, sampling):
    seeds, initial, data = _seeded(7, 40)
    alpha = np.linspace(0.05, 0.15, 7)
    tau = np.linspace(1.5, 3.0, 7).reshape(7, 1, 1)
    settings = _settings("ap", AsymmetricLinearDevice(tau=tau), seeds, noise, learning_rate=alpha, sampling=sampling)
    whole = train(initial, data, settings)
    chunked = train_replicas(initial, data, settings, workers=2, chunk=2)
    serial = train_replicas(initial, data, settings, workers=1, chunk=3)
    for r in range(7):
        single = _unbatched(initial, data, dataclasses.replace(settings, learning_rate=float(alpha[r]), device=AsymmetricLinearDevice(tau=float(tau[r, 0, 0]))), r)
        for result, name in ((whole, "whole"), (chunked, "threads"), (serial, "serial")):
            assert_same_run(replica(result, r), single, f"{name} replica {r}:")


def test_train_replicas_rejects_bad_shapes():
    seeds, initial, data = _seeded(2, 0)
    settings = _settings("ap", DigitalDevice(), seeds)
    with pytest.raises(ValueError, match="replica axis"):
        train_replicas([w[0] for w in initial], data, settings)
    with pytest.raises(ValueError, match="seeds"):
        train_replicas(initial, data, dataclasses.replace(settings, seeds=(0,)))
    with pytest.raises(ValueError, match="chunk"):
        train_replicas(initial, data, settings, chunk=0)
    with pytest.raises(ValueError, match="replicas"):
        replica_seeds(0, 0)


# ----- the building blocks -------------------------------------------------------------------


@given(
    lead=st.sampled_from([(), (1,), (3,)]),
    rows=st.integers(1, 9),
    cols=st.integers(1, 9),
    per_replica_rates=st.booleans(),
    in_place=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_update_in_place_equals_the_device_formula(lead, rows, cols, per_replica_rates, in_place, seed):
    """A device's temporary-free `update_into` (the training loop's form) is its `update`, bit for bit."""
    rng = np.random.default_rng(seed)
    weight = rng.uniform(-1, 1, lead + (rows, cols))
    gradient = rng.standard_normal(lead + (rows, cols)) * 3
    if per_replica_rates and lead:
        alpha = rng.uniform(0.01, 0.5, lead + (1, 1))
        tau = rng.uniform(0.5, 4.0, lead + (1, 1))
    else:
        alpha, tau = float(rng.uniform(0.01, 0.5)), float(rng.uniform(0.5, 4.0))
    for device in (DigitalDevice(), AsymmetricLinearDevice(tau=tau)):
        expected = device.update(weight, gradient, alpha)
        w, g = weight.copy(), gradient.copy()
        out = w if in_place else np.empty_like(w)
        device.update_into(w, g, alpha, out, np.empty_like(w), spare_gradient=in_place)
        assert np.array_equal(out, expected)
        if not in_place:
            assert np.array_equal(w, weight) and np.array_equal(g, gradient)


def test_stacked_matmul_equals_the_unbatched_products():
    """The premise: numpy's stacked matmul issues one BLAS call per replica with the unbatched
    call's operands and strides, so each replica's product has the same bits (gemm, gemv for
    b = 1 or one output, a shared broadcast input, a sliced view as input)."""
    rng = np.random.default_rng(0)
    for b, k, n in [(1, 7, 5), (3, 1, 4), (8, 32, 64), (8, 64, 10), (5, 33, 1), (4, 300, 17), (256, 6, 8)]:
        a = rng.standard_normal((3, b + 2, k))[:, 1 : b + 1]
        weight, delta = rng.standard_normal((3, n, k)), rng.standard_normal((3, b, n))
        forward, gradient, backward = a @ np.swapaxes(weight, -1, -2), np.swapaxes(delta, -1, -2) @ a, delta @ weight
        shared = a[0] @ np.swapaxes(weight, -1, -2)
        for r in range(3):
            assert np.array_equal(forward[r], np.ascontiguousarray(a[r]) @ weight[r].T), (b, k, n)
            assert np.array_equal(gradient[r], delta[r].T @ a[r]), (b, k, n)
            assert np.array_equal(backward[r], delta[r] @ weight[r]), (b, k, n)
            assert np.array_equal(shared[r], a[0] @ weight[r].T), (b, k, n)


@pytest.mark.parametrize("labels", [False, True])
def test_dataset_window_is_take_of_the_rows(labels):
    rng = np.random.default_rng(1)
    for shape in [(7,), (2, 7)]:
        x = rng.standard_normal(shape + (3,))
        y = rng.integers(0, 4, shape) if labels else rng.standard_normal(shape + (2,))
        data = Dataset(x, y)
        for start in range(0, 20):
            for count in (1, 3, 7):
                rows = (start + np.arange(count)) % 7
                for got, expected in zip(data.window(start, count), data.take(rows)):
                    assert np.array_equal(got, expected)


def test_seeded_stacks_are_the_single_seed_tasks():
    from numerics.data import initial_weights, teacher_student

    activation, loss = activation_by_name("tanh"), loss_by_name("cross-entropy")
    seeds = replica_seeds(9, 3)
    assert seeds == (9, 10, 11)
    stacked_weights = seeded_initial_weights(DIMS, seeds, bound=0.5)
    stacked_data = seeded_teacher_student(DIMS, 10, seeds, activation, loss)
    for r, seed in enumerate(seeds):
        for w, single in zip(stacked_weights, initial_weights(DIMS, seed, bound=0.5)):
            assert np.array_equal(w[r], single)
        task = teacher_student(DIMS, 10, seed, activation, loss)
        assert np.array_equal(stacked_data.inputs[r], task.inputs) and np.array_equal(stacked_data.targets[r], task.targets)


# ----- the command line ----------------------------------------------------------------------

SIMULATE = ["simulate", "--schedule", "ap", "--device", "ald", "--tau", "2", "--lr", "0.05", "--updates", "25", "--dims", "4,6,5,3"]


def _simulate(capsys, out, *extra):
    code = main([*SIMULATE, "--out", str(out), "--json", *extra])
    printed = capsys.readouterr().out
    assert code == 0
    with np.load(out / "trace.npz") as archive:
        trace = {key: archive[key] for key in archive.files}
    summary = json.loads((out / "summary.json").read_text())
    assert json.loads(printed) == summary
    return trace, summary


@pytest.mark.parametrize("sampling", [[], ["--sampling", "iid"]], ids=["cyclic", "iid"])
@pytest.mark.parametrize("noise", [[], ["--noise", "0.2"]], ids=["clean", "noisy"])
def test_cli_replica_r_is_the_run_with_seed_plus_r(capsys, tmp_path, noise, sampling):
    noise = [*noise, *sampling]
    trace, summary = _simulate(capsys, tmp_path / "batched", "--replicas", "3", "--seed", "5", *noise)
    assert summary["sampling"] == ("iid" if sampling else "cyclic")
    assert summary["replicas"] == 3 and summary["seeds"] == [5, 6, 7] and summary["seed"] == 5
    assert trace["W1_final"].shape == (3, 6, 4) and trace["W3_final"].shape == (3, 3, 5)
    assert trace["loss"].shape == (3, 25)
    assert trace["fwd_version"].shape == trace["bwd_version"].shape == (25, 3)
    assert len(summary["final_loss"]) == len(summary["max_abs_weight"]) == 3
    for r in range(3):
        single, single_summary = _simulate(capsys, tmp_path / f"single{r}", "--seed", str(5 + r), *noise)
        for key in ("W1_final", "W2_final", "W3_final", "loss"):
            assert np.array_equal(trace[key][r], single[key]), f"replica {r}: {key}"
        for key in ("fwd_version", "bwd_version"):
            assert np.array_equal(trace[key], single[key])
        assert summary["final_loss"][r] == single_summary["final_loss"]
        assert summary["max_abs_weight"][r] == single_summary["max_abs_weight"]
        for key in ("slots", "density", "fwd_delay_max", "bwd_delay_max", "dims", "tau", "lr", "updates", "sampling"):
            assert summary[key] == single_summary[key]


def test_cli_one_replica_is_todays_output(capsys, tmp_path):
    default, default_summary = _simulate(capsys, tmp_path / "default", "--seed", "3")
    explicit, explicit_summary = _simulate(capsys, tmp_path / "explicit", "--seed", "3", "--replicas", "1")
    assert (tmp_path / "default" / "trace.npz").read_bytes() == (tmp_path / "explicit" / "trace.npz").read_bytes()
    assert default_summary == explicit_summary
    assert "replicas" not in default_summary and "seeds" not in default_summary
    assert isinstance(default_summary["final_loss"], float) and isinstance(default_summary["max_abs_weight"], float)
    assert default["loss"].shape == (25,)


def test_cli_shared_files(capsys, tmp_path):
    """--init and --data are shared by every replica: with both, replicas differ only by noise."""
    rng = np.random.default_rng(4)
    dims = [4, 6, 5, 3]
    np.savez(tmp_path / "init.npz", **{f"W{m}": np.clip(0.5 * rng.standard_normal((dims[m], dims[m - 1])), -0.9, 0.9) for m in range(1, 4)})
    np.savez(tmp_path / "data.npz", x=rng.standard_normal((20, 4)), y=rng.standard_normal((20, 3)))
    init, data = ["--init", str(tmp_path / "init.npz")], ["--data", str(tmp_path / "data.npz")]

    clean, _ = _simulate(capsys, tmp_path / "clean", "--replicas", "3", *init, *data)
    for r in (1, 2):
        assert np.array_equal(clean["W1_final"][r], clean["W1_final"][0])
    noisy, _ = _simulate(capsys, tmp_path / "noisy", "--replicas", "3", "--noise", "0.1", "--seed", "2", *init, *data)
    assert not np.array_equal(noisy["W1_final"][0], noisy["W1_final"][1])
    for r in range(3):
        single, _ = _simulate(capsys, tmp_path / f"noisy{r}", "--noise", "0.1", "--seed", str(2 + r), *init, *data)
        assert np.array_equal(noisy["W1_final"][r], single["W1_final"]) and np.array_equal(noisy["loss"][r], single["loss"])
    # --init alone: the same start, but each replica's own generated data.
    shared_start, _ = _simulate(capsys, tmp_path / "start", "--replicas", "2", *init)
    assert not np.array_equal(shared_start["W1_final"][0], shared_start["W1_final"][1])
    single, _ = _simulate(capsys, tmp_path / "start1", "--seed", "1", *init)
    assert np.array_equal(shared_start["W1_final"][1], single["W1_final"])


def test_cli_shared_labels(capsys, tmp_path):
    """Cross-entropy labels from --data shared by the replicas; final_loss per replica."""
    rng = np.random.default_rng(5)
    np.savez(tmp_path / "data.npz", x=rng.standard_normal((30, 4)), y=rng.integers(0, 3, 30))
    files = ["--data", str(tmp_path / "data.npz"), "--loss", "cross-entropy", "--micro-batch-size", "5"]
    batched, summary = _simulate(capsys, tmp_path / "batched", "--replicas", "2", "--seed", "8", *files)
    for r in range(2):
        single, single_summary = _simulate(capsys, tmp_path / f"single{r}", "--seed", str(8 + r), *files)
        assert np.array_equal(batched["W2_final"][r], single["W2_final"]) and np.array_equal(batched["loss"][r], single["loss"])
        assert summary["final_loss"][r] == single_summary["final_loss"]


def test_cli_iid_shared_labels(capsys, tmp_path):
    """Cross-entropy labels from --data shared by the replicas, rows drawn per replica."""
    rng = np.random.default_rng(5)
    np.savez(tmp_path / "data.npz", x=rng.standard_normal((30, 4)), y=rng.integers(0, 3, 30))
    files = ["--data", str(tmp_path / "data.npz"), "--loss", "cross-entropy", "--micro-batch-size", "5", "--sampling", "iid"]
    batched, summary = _simulate(capsys, tmp_path / "batched", "--replicas", "2", "--seed", "8", *files)
    for r in range(2):
        single, single_summary = _simulate(capsys, tmp_path / f"single{r}", "--seed", str(8 + r), *files)
        assert np.array_equal(batched["W2_final"][r], single["W2_final"]) and np.array_equal(batched["loss"][r], single["loss"])
        assert summary["final_loss"][r] == single_summary["final_loss"]


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5"])
def test_cli_rejects_bad_replicas(capsys, tmp_path, value):
    out = tmp_path / "out"
    try:
        code = main([*SIMULATE, "--replicas", value, "--out", str(out)])
    except SystemExit as stop:
        code = stop.code
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert captured.err.count("\n") == 1 and "--replicas" in captured.err and "Traceback" not in captured.err
    assert not out.exists()


def test_cli_human_output_lists_replicas(capsys, tmp_path):
    code = main([*SIMULATE, "--replicas", "12", "--updates", "5", "--out", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert code == 0
    assert "12 replicas (seeds 0..11)" in out and "[12 replicas: min" in out
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert len(summary["final_loss"]) == 12 and all(math.isfinite(v) for v in summary["final_loss"])

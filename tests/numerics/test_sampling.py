"""Sampling (MODEL.md §3 "Sampling", numerics.data): the cyclic default and i.i.d. rows.

i.i.d. rows: within [0, N), drawn with replacement, a function of (j, b, N, seed) alone
(the same seed gives the same rows, another j or seed other rows; the schedule's order and
the number of replicas do not matter), uniform by a chi-square test; the training loop,
the traces and `simulate --sampling iid` use them. The cyclic default keeps its window fast
path, which is the generic row-table path bit for bit.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from scipy import stats

from numerics.activations import activation_by_name
from numerics.data import CYCLIC, IID, IID_BLOCK, SAMPLING_NAMES, SAMPLINGS, CyclicSampling, Dataset, Sampling, sampling_by_name
from numerics.devices import AsymmetricLinearDevice, DigitalDevice
from numerics.losses import loss_by_name
from numerics.replicas import replica, replica_seeds, seeded_initial_weights, seeded_teacher_student
from numerics.streams import generator
from numerics.training import TrainingSettings, train
from proofs_check.cli import main

SIGNIFICANCE = 1e-3
"""Level α of the chi-square tests: uniformity is rejected when p < α."""
MIN_EXPECTED_PER_CELL = 100
"""The tests run where they are informative: at least this many expected draws per cell
(the chi-square approximation wants ≥ 5), checked by a power control below."""


def _settings(schedule="sp", device=None, seeds=(0,), sampling=IID, **extra):
    return TrainingSettings(
        schedule=schedule,
        device=device or AsymmetricLinearDevice(tau=2.0),
        learning_rate=extra.pop("learning_rate", 0.1),
        updates=extra.pop("updates", 8),
        activation=activation_by_name(extra.pop("activation", "tanh")),
        loss=loss_by_name(extra.pop("loss", "squared")),
        micro_batch_size=extra.pop("micro_batch_size", 3),
        mini_batch=extra.pop("mini_batch", 2),
        seeds=tuple(seeds),
        sampling=sampling,
        **extra,
    )


def _same(a, b) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a.final_weights, b.final_weights)) and np.array_equal(a.reference_loss, b.reference_loss)


# ----- the rule ---------------------------------------------------------------------------------


def test_the_registry_of_rules():
    assert SAMPLING_NAMES == ("cyclic", "iid")
    assert SAMPLINGS["cyclic"] is CYCLIC and sampling_by_name("iid") is IID
    assert TrainingSettings.__dataclass_fields__["sampling"].default is CYCLIC  # the default stays cyclic
    with pytest.raises(KeyError, match="'cyclic', 'iid'|cyclic, iid"):
        sampling_by_name("shuffled")
    assert IID == dataclasses.replace(IID) and hash(IID) == hash(dataclasses.replace(IID)) and IID != CYCLIC


def test_cyclic_rows_are_the_windows():
    data = Dataset(np.zeros((7, 2)), np.zeros((7, 1)))
    assert np.array_equal(data.rows(0, 3), [0, 1, 2])
    assert np.array_equal(data.rows(2, 3), [6, 0, 1])
    assert np.array_equal(data.rows(2, 3, sampling=CYCLIC, seed=9), [6, 0, 1])  # no seed dependence


@pytest.mark.parametrize(("size", "b"), [(1, 1), (1, 4), (3, 5), (7, 1), (100, 16), (2**20, 8)])
def test_iid_rows_lie_in_range(size, b):
    for seed in (0, 5):
        for j in range(200):
            rows = IID.rows(j, b, size, seed)
            assert rows.shape == (b,) and np.issubdtype(rows.dtype, np.integer)
            assert rows.min() >= 0 and rows.max() < size
    if size == 1:
        assert np.array_equal(IID.rows(3, b, size, 0), np.zeros(b))


def test_iid_rows_are_drawn_with_replacement():
    # N = 5, b = 4: a micro-batch without a repeat has probability 5·4·3·2 / 5^4 = 0.192.
    repeats = sum(len(set(IID.rows(j, 4, 5, 0).tolist())) < 4 for j in range(200))
    assert 100 < repeats < 200
    # b > N is allowed and must repeat.
    assert len(IID.rows(0, 9, 4, 0)) == 9


def test_iid_rows_are_a_function_of_j_b_n_and_the_seed():
    size, b = 1000, 8
    drawn = {}
    for seed in range(5):
        for j in range(40):
            rows = IID.rows(j, b, size, seed)
            assert np.array_equal(rows, IID.rows(j, b, size, seed))  # the same seed: the same rows
            assert np.array_equal(rows, Dataset(np.zeros((size, 1)), np.zeros((size, 1))).rows(j, b, sampling=IID, seed=seed))
            drawn[(seed, j)] = tuple(rows.tolist())
    assert len(set(drawn.values())) == len(drawn)  # another j or another seed: other rows
    # The stream: row j mod 1024 of integers(0, N, (1024, b)) of the generator of stream "sampling", key j // 1024.
    assert IID_BLOCK == 1024
    for j in (17, 1024 + 17):
        block = np.random.default_rng(np.random.SeedSequence(3, spawn_key=(4, j // 1024))).integers(0, size, size=(1024, b))
        assert np.array_equal(IID.rows(j, b, size, 3), generator(3, "sampling", j // 1024).integers(0, size, size=(1024, b))[17])
        assert np.array_equal(IID.rows(j, b, size, 3), block[17])


def test_the_table_does_not_depend_on_the_number_of_micro_batches_or_replicas():
    size, b = 50, 4
    alone = IID.table(2100, b, size, (7,))  # three blocks of i.i.d. draws, the last one cut
    assert alone.shape == (2100, b)
    assert np.array_equal(alone, [IID.rows(j, b, size, 7) for j in range(2100)])
    assert np.array_equal(IID.table(10, b, size, (7,)), alone[:10])
    assert np.array_equal(IID.table(1500, b, size, (7,)), alone[:1500])
    stacked = IID.table(30, b, size, (5, 6, 7, 8), (2, 2))
    assert stacked.shape == (2, 2, 30, b)
    assert np.array_equal(stacked[1, 0], alone[:30])
    assert np.array_equal(CYCLIC.table(30, b, size, (1, 2), (2,))[1], CYCLIC.table(30, b, size, (9,)))
    with pytest.raises(ValueError, match="seeds"):
        IID.table(3, b, size, (1, 2), (3,))


@pytest.mark.parametrize("size, dtype", [(1, np.uint8), (256, np.uint8), (257, np.uint16), (70_000, np.uint32)])
def test_the_table_holds_row_indices_in_the_smallest_unsigned_type(size, dtype):
    b = 3
    for sampling in (IID, CYCLIC):
        table = sampling.table(1030, b, size, (4, 5), (2,))
        assert table.dtype == dtype
        assert np.array_equal(table[1], [sampling.rows(j, b, size, 5) for j in range(1030)])
    data = Dataset(np.arange(2.0 * size).reshape(size, 2), np.arange(size))
    rows = IID.table(5, b, size, (4,))
    wide = rows.astype(np.intp)
    assert all(np.array_equal(x, y) for x, y in zip(data.take(rows), data.take(wide)))


# ----- uniformity: chi-square tests at a fixed seed -------------------------------------------


def _chi_square(counts: np.ndarray) -> tuple[float, float]:
    counts = counts.ravel()
    assert counts.sum() / counts.size >= MIN_EXPECTED_PER_CELL
    result = stats.chisquare(counts)
    return float(result.statistic), float(result.pvalue)


def test_iid_row_frequencies_are_uniform():
    """N = 10 rows, b = 5, J = 4000 micro-batches: 20,000 draws, 2,000 expected per row;
    chi-square with 9 degrees of freedom at level α = 0.001."""
    size, b, micro_batches = 10, 5, 4000
    rows = IID.table(micro_batches, b, size, (0,))
    statistic, p = _chi_square(np.bincount(rows.ravel(), minlength=size))
    assert p > SIGNIFICANCE, (statistic, p)
    # Every position within a micro-batch is uniform too (4,000 draws each, 400 per row).
    for position in range(b):
        assert _chi_square(np.bincount(rows[:, position], minlength=size))[1] > SIGNIFICANCE


def test_iid_pairs_within_a_micro_batch_are_independent():
    """The rows at positions 0 and 1 of a micro-batch: uniform on the N² pairs (with
    replacement: the diagonal as often as any other pair). N = 6, J = 7200: 200 per pair,
    35 degrees of freedom, α = 0.001."""
    size, micro_batches = 6, 7200
    rows = IID.table(micro_batches, 2, size, (1,))
    pairs = np.bincount(rows[:, 0] * size + rows[:, 1], minlength=size * size)
    statistic, p = _chi_square(pairs)
    assert p > SIGNIFICANCE, (statistic, p)


def test_iid_rows_across_seeds_are_uniform():
    """Micro-batch 0 over 2,000 seeds (replicas): N = 8, b = 4, 1,000 per row, α = 0.001."""
    size = 8
    rows = IID.table(1, 4, size, tuple(range(2000)), (2000,))
    statistic, p = _chi_square(np.bincount(rows.ravel(), minlength=size))
    assert p > SIGNIFICANCE, (statistic, p)


def test_the_chi_square_test_has_power_at_these_sizes():
    """Control: with the same number of draws (20,000 on N = 10), a sampler that picks row 0
    with probability 0.12 instead of 0.10 is rejected at α = 0.001."""
    rng = np.random.default_rng(0)
    probabilities = np.full(10, 0.88 / 9)
    probabilities[0] = 0.12
    biased = rng.choice(10, size=20000, p=probabilities)
    assert _chi_square(np.bincount(biased, minlength=10))[1] < SIGNIFICANCE
    # Cyclic rows are exactly uniform over whole cycles (statistic 0, p = 1): uniform, not random.
    cyclic = CYCLIC.table(4000, 5, 10, (0,))
    statistic, p = _chi_square(np.bincount(cyclic.ravel(), minlength=10))
    assert statistic == 0.0 and p == 1.0


# ----- training with i.i.d. rows --------------------------------------------------------------

DIMS = (4, 6, 5, 3)


def _task(samples=13, seed=3, loss="squared"):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((samples, DIMS[0]))
    y = rng.integers(0, DIMS[-1], samples) if loss == "cross-entropy" else rng.standard_normal((samples, DIMS[-1]))
    initial = [np.clip(0.5 * rng.standard_normal((DIMS[m + 1], DIMS[m])), -0.9, 0.9) for m in range(len(DIMS) - 1)]
    return Dataset(x, y), initial


def test_training_reads_the_iid_rows_of_each_micro_batch():
    data, initial = _task()
    settings = _settings("sp", seeds=(4,), micro_batch_size=3, mini_batch=2, updates=6)
    result = train(initial, data, settings)
    for k, rows in enumerate(result.update_rows):
        expected = np.concatenate([IID.rows(2 * k + i, 3, data.size, 4) for i in range(2)])
        assert np.array_equal(rows, expected)
    cyclic = train(initial, data, dataclasses.replace(settings, sampling=CYCLIC))
    assert not np.array_equal(result.reference_loss, cyclic.reference_loss)
    assert not np.array_equal(result.final_weights[0], cyclic.final_weights[0])
    other_seed = train(initial, data, dataclasses.replace(settings, seeds=(5,)))
    assert not np.array_equal(result.reference_loss, other_seed.reference_loss)


def test_the_rows_do_not_depend_on_the_schedule_order():
    """single, WOP and SP run their operations in different orders and read the same rows,
    so they are the same run bit for bit; AP and SP with B = 1 read the same rows."""
    data, initial = _task()
    runs = {schedule: train(initial, data, _settings(schedule, seeds=(2,), mini_batch=3)) for schedule in ("single", "wop", "sp")}
    for schedule in ("wop", "sp"):
        assert all(np.array_equal(a, b) for a, b in zip(runs[schedule].update_rows, runs["single"].update_rows))
        assert _same(runs[schedule], runs["single"]), schedule
    ap = train(initial, data, _settings("ap", seeds=(2,), mini_batch=1))
    sp = train(initial, data, _settings("sp", seeds=(2,), mini_batch=1))
    assert all(np.array_equal(a, b) for a, b in zip(ap.update_rows, sp.update_rows))


class _TableCyclic(CyclicSampling):
    """Cyclic rows read through the generic row table instead of the window fast path."""

    batches = Sampling.batches


@pytest.mark.parametrize("loss", ["squared", "cross-entropy"])
@pytest.mark.parametrize("schedule", ["ap", "sp"])
def test_the_cyclic_fast_path_is_the_row_table(schedule, loss):
    """Windows (views) and the row table (copies) give the same runs bit for bit: unbatched,
    seeded replicas (data with a replica axis) and shared data (shared labels), with noise."""
    activation, loss_ = activation_by_name("tanh"), loss_by_name(loss)
    data, initial = _task(samples=11, loss=loss)
    settings = _settings(schedule, sampling=CYCLIC, seeds=(1,), loss=loss, micro_batch_size=4, noise=0.1, keep_versions=True)
    table = dataclasses.replace(settings, sampling=_TableCyclic())
    assert _same(train(initial, data, settings), train(initial, data, table))

    seeds = replica_seeds(3, 3)
    stacked, stacked_data = seeded_initial_weights(DIMS, seeds, bound=1.0), seeded_teacher_student(DIMS, 11, seeds, activation, loss_)
    batched = {"seeds": seeds}
    window_run = train(stacked, stacked_data, dataclasses.replace(settings, **batched))
    table_run = train(stacked, stacked_data, dataclasses.replace(table, **batched))
    assert _same(window_run, table_run)
    for r in range(3):
        assert np.array_equal(replica(table_run, r).update_rows[2], window_run.update_rows[2])
    shared = train(stacked, data, dataclasses.replace(settings, **batched))
    assert _same(shared, train(stacked, data, dataclasses.replace(table, **batched)))


# ----- simulate --sampling --------------------------------------------------------------------

SIMULATE = ["simulate", "--schedule", "sp", "--device", "ald", "--tau", "2", "--lr", "0.05", "--updates", "12", "--dims", "4,6,5,3", "--samples", "40"]


def _simulate(capsys, out, *extra):
    code = main([*SIMULATE, "--out", str(out), "--json", *extra])
    printed = capsys.readouterr().out
    assert code == 0
    with np.load(out / "trace.npz") as archive:
        trace = {key: archive[key] for key in archive.files}
    summary = json.loads((out / "summary.json").read_text())
    assert json.loads(printed) == summary
    return trace, summary


def test_simulate_iid_sampling(capsys, tmp_path):
    iid, iid_summary = _simulate(capsys, tmp_path / "iid", "--sampling", "iid", "--seed", "3")
    cyclic, cyclic_summary = _simulate(capsys, tmp_path / "cyclic", "--seed", "3")
    _, explicit_summary = _simulate(capsys, tmp_path / "explicit", "--sampling", "cyclic", "--seed", "3")
    assert iid_summary["sampling"] == "iid" and cyclic_summary["sampling"] == "cyclic"
    assert (tmp_path / "cyclic" / "trace.npz").read_bytes() == (tmp_path / "explicit" / "trace.npz").read_bytes()
    assert cyclic_summary == explicit_summary
    assert iid["loss"].shape == cyclic["loss"].shape == (12,)
    assert not np.array_equal(iid["loss"], cyclic["loss"])
    assert iid["loss"][0] != cyclic["loss"][0]  # the first update's samples already differ
    for key in ("slots", "density", "fwd_delay_max", "bwd_delay_max"):
        assert iid_summary[key] == cyclic_summary[key]
    # The seed chooses the rows: the same seed reproduces them, another seed does not.
    again, _ = _simulate(capsys, tmp_path / "again", "--sampling", "iid", "--seed", "3")
    assert np.array_equal(again["loss"], iid["loss"])


def test_simulate_iid_replicas_with_shared_files(capsys, tmp_path):
    """With --data and --init shared and no noise, i.i.d. replicas still differ (each draws its
    rows with its own seed), and replica r is the single run with seed --seed + r."""
    rng = np.random.default_rng(4)
    dims = [4, 6, 5, 3]
    np.savez(tmp_path / "init.npz", **{f"W{m}": np.clip(0.5 * rng.standard_normal((dims[m], dims[m - 1])), -0.9, 0.9) for m in range(1, 4)})
    np.savez(tmp_path / "data.npz", x=rng.standard_normal((20, 4)), y=rng.integers(0, 3, 20))
    files = ["--init", str(tmp_path / "init.npz"), "--data", str(tmp_path / "data.npz"), "--loss", "cross-entropy", "--sampling", "iid"]
    batched, summary = _simulate(capsys, tmp_path / "batched", "--replicas", "3", "--seed", "2", *files)
    assert summary["sampling"] == "iid" and summary["seeds"] == [2, 3, 4]
    assert not np.array_equal(batched["W1_final"][0], batched["W1_final"][1])
    for r in range(3):
        single, single_summary = _simulate(capsys, tmp_path / f"single{r}", "--seed", str(2 + r), *files)
        for key in ("W1_final", "W2_final", "W3_final", "loss"):
            assert np.array_equal(batched[key][r], single[key]), (r, key)
        assert summary["final_loss"][r] == single_summary["final_loss"]
        assert summary["max_abs_weight"][r] == single_summary["max_abs_weight"]


@pytest.mark.parametrize("value", ["random", "IID", ""])
def test_simulate_rejects_an_unknown_sampling(capsys, tmp_path, value):
    out = tmp_path / "out"
    try:
        code = main([*SIMULATE, "--sampling", value, "--out", str(out)])
    except SystemExit as stop:
        code = stop.code
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert "--sampling" in captured.err and "'cyclic'" in captured.err and "'iid'" in captured.err
    assert not out.exists()


# ----- traces -----------------------------------------------------------------------------------


def test_iid_traces_recompute_their_gradients_with_the_same_rows():
    from proofs_check.traces import TraceSetting, recomputed_gradients_match, replayed_updates_match, simulate, simulate_all

    device = AsymmetricLinearDevice(tau=1.5)
    settings = [
        TraceSetting(schedule, (3, 5, 4, 2), "tanh", "squared", device, 0.05, 6, micro_batch_size=3, mini_batch=2, samples=16, seed=seed, sampling=IID)
        for schedule in ("ap", "sp")
        for seed in (0, 1)
    ] + [TraceSetting("sp", (3, 5, 4, 2), "tanh", "squared", DigitalDevice(), 0.05, 6, micro_batch_size=3, samples=16, seed=1, sampling=IID)]
    assert "iid sampling" in settings[0].label and "sampling" not in dataclasses.replace(settings[0], sampling=CYCLIC).label
    traces = simulate_all(settings)
    for trace in traces:
        alone = simulate(trace.setting)  # the batched trace (replicas) is the unbatched one
        assert np.array_equal(trace.result.reference_loss, alone.result.reference_loss)
        assert all(np.array_equal(a, b) for a, b in zip(trace.result.update_rows, alone.result.update_rows))
        assert all(np.array_equal(a, b) for layer, other in zip(trace.result.versions, alone.result.versions) for a, b in zip(layer, other))
        assert replayed_updates_match(trace)
        assert recomputed_gradients_match(trace) <= 1e-12
    # The recomputation follows the setting's sampling: with cyclic rows it does not match.
    trace = traces[2]
    wrong = dataclasses.replace(trace, setting=dataclasses.replace(trace.setting, sampling=CYCLIC))
    assert recomputed_gradients_match(wrong) > 1e-6

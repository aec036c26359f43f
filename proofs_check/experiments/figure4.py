"""The paper's Figure 4 at laptop scale: digits MLPs without pipeline (single, WOP), with the
synchronous (SP) and the asynchronous (AP) pipeline, digital SGD and ALD analog SGD; and the
schedules practitioners run beside them (MODEL.md §3): 1F1B with flush (PipeDream-Flush),
PipeDream (weight stashing) and PipeDream-2BW (double-buffered weights).

Design (fixed before any result, the same for every schedule and number of stages):

- Data: `proofs_check.experiments.digits` (standardised digits, stratified 75/25 split
  by `--seed`). Networks 64-32-…-32-10 with M = 1..8 layers (M − 1 hidden layers of 32
  tanh units), initial weights N(0, 1/d_{m−1}) (numerics.data.initial_weights, seed s).
- Work: micro-batches of b = 8 samples; an epoch is 168 micro-batches (21 mini-batches of
  B = 8), the same for every schedule. AP updates after every micro-batch (168 updates per
  epoch); single, WOP and SP after every mini-batch of B micro-batches (21 per epoch).
  The full run trains 15 epochs with 8 seeds, the quick one 5 epochs with 3 seeds.
- Step sizes (linear scaling, not tuned per result): AP takes α = 0.02 per update with one
  micro-batch's gradient; the synchronous schedules take B·α = 0.16 per update with the mean
  of B micro-batch gradients. Both apply the same step per sample, so an epoch moves the
  weights by the same first-order amount; with the same α per update a synchronous epoch
  would take a B times smaller step.
- Devices: digital SGD, and ALD with τ = 0.7 (chosen on a pilot run before the reported
  ones: digital weights reach |w| ≈ 0.8–0.9, the ALD's stay near 0.5, so the bias
  (α/τ)|g| ⊙ W toward 0 costs test loss and, with AP, some accuracy, while every seed still
  trains). Both run as replicas of one stack: an ALD with τ = ∞ is digital SGD bit for bit.
  Initial weights are clipped to ±τ/2 (as `simulate` does for ALD) for both devices, so every
  run starts inside the ALD's box [−τ, τ] from the same point.
- Control: the single device with B = 1 and AP's α ("per micro-batch, no delay"): AP's
  updates with every delay 0. AP minus the control is what staleness costs per epoch.
- Seeds: replica seed s sets the initial weights and the per-epoch reshuffles; seeds are
  `--seed` … `--seed` + S − 1.
- Measurements: test accuracy at the reference point W^{(k)} after every mini-batch
  (every update of the synchronous schedules, every B-th of AP), observed during one
  continuous run (`observe.py`); the slot at which W^{(k)} is complete from the scheduler's
  record (`completion_slots`), so AP's slots include its 2(M − 1) fill and drain and its
  J/(J + M − 1) density. Time to accuracy: slots until the test accuracy first reaches the
  target 0.90, per seed.

- The other schedules: 1F1B updates as SP (B·α per mini-batch, so it computes SP's iterates,
  checked bit for bit), PipeDream per micro-batch as AP (α), 2BW per group of B as SP (B·α).
  They are trained at `extra_schedule_stages` (every M in the full run, the main M with
  `--quick`); their throughput, delays and memory come from the scheduler's record at every M.
- Memory: per stage, the peak in-flight micro-batches (forward done, backward not yet) and
  the peak weight versions held, from the record, beside MODEL.md §3's closed forms
  (theory.schedules); the activation memory of a stage is its peak in-flight micro-batches
  times the floats one micro-batch leaves there, b·(d_{m−1} + d_m) (the layer input a_{m−1}
  for the gradient and the pre-activation z_m for φ′ or the loss), its weight memory the peak
  versions times d_m·d_{m−1}. 1F1B holds min(B, M − m + 1) micro-batches where SP holds B:
  the reason practitioners run 1F1B.

Single, WOP and SP compute the same iterates (the same mini-batch SGD; only the slots
differ), which every run checks bit for bit; their time-to-accuracy speed-ups are therefore
exactly their throughput speed-ups, and only AP's can differ from its throughput.
"""

from __future__ import annotations

import contextvars
import dataclasses
import hashlib
import threading
from collections import OrderedDict, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Iterable, Sequence

import numpy as np
from matplotlib.figure import Figure

from numerics.activations import TANH
from numerics.devices import AsymmetricLinearDevice, make_device
from numerics.losses import CROSS_ENTROPY
from numerics.replicas import seeded_initial_weights
from numerics.schedules import SCHEDULES, ScheduleRecord, build_schedule, schedule_named
from numerics.training import TrainingSettings, schedule_record
from proofs_check import latex
from proofs_check.experiments import digits
from proofs_check.experiments.observe import completion_slots, observed_train
from proofs_check.executor import IN_PROCESS, Executor
from proofs_check.experiments.summary import plain_list, spread
from theory import schedules as closed_forms

Array = np.ndarray
Progress = Callable[[Iterable, int], Iterable]

DEVICES = ("digital", "ald")
CONTROL = "control"
"""Per-micro-batch updates without delay: the single device with B = 1 and AP's α, i.e. AP
with every delay 0. AP minus this control isolates what staleness costs."""
PAPER_SCHEDULES = ("single", "wop", "sp", "ap")
"""The schedules of the paper's Figure 4 (trained at every M)."""
EXTRA_SCHEDULES = tuple(name for name in SCHEDULES if name not in PAPER_SCHEDULES)
"""The other schedules of numerics.schedules.SCHEDULES (1f1b, pipedream, 2bw): trained at
`Figure4Config.extra_schedule_stages`, measured from their records at every M."""
SCHEDULE_NAMES = tuple(SCHEDULES)
"""Every schedule of the registry, in MODEL.md's order."""
RUNS = SCHEDULE_NAMES + (CONTROL,)
SCHEDULE_LABELS = {
    "single": "single device",
    "wop": "WOP (no pipeline)",
    "sp": "SP (synchronous)",
    "1f1b": "1F1B (synchronous, flush)",
    "ap": "AP (asynchronous)",
    "pipedream": "PipeDream (stashing)",
    "2bw": "2BW (double-buffered)",
    CONTROL: "per micro-batch, no delay (control)",
}
DEVICE_LABELS = {"digital": "digital SGD", "ald": "ALD analog SGD"}
THROUGHPUT_TOLERANCE = 0.05
"""Measured throughput speed-ups must agree with the closed forms within 5%."""


@dataclass(frozen=True)
class Figure4Config:
    """Everything that defines the experiment (the JSON summary records it)."""

    quick: bool
    seeds: int
    """S replica seeds per (schedule, device, M)."""
    seed: int
    """Split seed and first replica seed."""
    epochs: int
    stages: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7, 8)
    main_stages: int = 4
    """M of the accuracy panels and the accuracy table."""
    width: int = 32
    micro_batch_size: int = 8
    mini_batch: int = 8
    learning_rate: float = 0.02
    """α per AP update (one micro-batch); the synchronous schedules use B·α."""
    tau: float = 0.7
    target: float = 0.90
    init_scale: float = 1.0
    extra_schedule_stages: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7, 8)
    """M at which the schedules beyond the paper's four (EXTRA_SCHEDULES) are trained; their
    throughput and memory come from the scheduler's record at every M of `stages`."""

    def learning_rate_of(self, schedule: str) -> float:
        """α for the schedules that update per micro-batch (AP, PipeDream) and the control,
        B·α for those that average B micro-batches per update (single, WOP, SP, 1F1B, 2BW)."""
        return self.learning_rate * self.micro_batches_per_update(schedule)

    def micro_batches_per_update(self, schedule: str) -> int:
        """1 for the control and the schedules that update per micro-batch, else B (the registry's rule)."""
        return 1 if schedule == CONTROL else schedule_named(schedule).micro_batches_per_update(self.mini_batch)

    def trains(self, stages: int, schedule: str) -> bool:
        """Whether the (M, schedule) cell is trained (every paper schedule and the control at
        every M; the other schedules at `extra_schedule_stages`)."""
        return schedule not in EXTRA_SCHEDULES or stages in self.extra_schedule_stages

    def as_dict(self) -> dict:
        values = dataclasses.asdict(self)
        values["stages"] = list(self.stages)
        values["extra_schedule_stages"] = list(self.extra_schedule_stages)
        return values


def figure4_config(quick: bool, seeds: int | None = None, seed: int = 0) -> Figure4Config:
    """Full: 8 seeds, 15 epochs, every schedule at every M; quick: 3 seeds, 5 epochs, the
    schedules beyond the paper's four trained at the main M only. M = 1..8 in both."""
    default_seeds, epochs = (3, 5) if quick else (8, 15)
    config = Figure4Config(quick=quick, seeds=default_seeds if seeds is None else seeds, seed=seed, epochs=epochs)
    return dataclasses.replace(config, extra_schedule_stages=(config.main_stages,)) if quick else config


# ----------------------------------------------------------------------------- runs


@dataclass(frozen=True)
class _ScheduleMeasurements:
    """What the throughput and memory rows take from a scheduler's record: a cell returns
    these few numbers instead of the record, so every record is built once."""

    slots: int
    """Slots of the whole run."""
    micro_batches: int
    """J."""
    density: float
    """Busy device-slots / (devices × slots)."""
    memory: dict
    """`schedule_memory` of the record."""


def _measure(record: ScheduleRecord, dims: list[int], micro_batch_size: int) -> _ScheduleMeasurements:
    return _ScheduleMeasurements(record.slots, record.micro_batches, record.density, schedule_memory(record, dims, micro_batch_size))


@dataclass
class _Run:
    stages: int
    schedule: str
    accuracy: Array
    """[checkpoints, 2S]: test accuracy at each checkpoint, digital replicas first."""
    test_loss: Array
    """[checkpoints, 2S]: mean test cross-entropy at each checkpoint."""
    slots: Array
    """[checkpoints]: slots elapsed when the checkpoint's reference point is complete."""
    measurements: _ScheduleMeasurements
    """The record's slots, density and memory (meaningful for the schedules, not the control)."""
    final_weights: tuple[Array, ...]
    max_abs_weight: Array


class _TestEvaluations:
    """`digits.evaluate` on the test split, remembered by a SHA-256 digest of the weights.

    Single, WOP, SP and 1F1B reach bit-identical reference points (so do AP and the control
    at M = 1), and a process runs the cells of one M one after another: each distinct point
    is evaluated once. A remembered result is the one `digits.evaluate` gives for the same
    bytes, so no number depends on whether it was remembered. Safe to call from several
    threads (a Dask worker may run cells side by side)."""

    def __init__(self, split: digits.DigitsSplit, capacity: int) -> None:
        self.split = split
        self.capacity = capacity
        """Results kept (the least recently used is forgotten first)."""
        self.results: OrderedDict[bytes, tuple[Array, Array]] = OrderedDict()
        self.lock = threading.Lock()

    def __call__(self, weights: Sequence[Array]) -> tuple[Array, Array]:
        """(accuracy, mean cross-entropy) per replica, read-only arrays."""
        digest = hashlib.sha256()
        for weight in weights:
            digest.update(repr(weight.shape).encode())
            digest.update(np.ascontiguousarray(weight, dtype=float).data)
        key = digest.digest()
        with self.lock:
            if key in self.results:
                self.results.move_to_end(key)
                return self.results[key]
        result = digits.evaluate(weights, self.split.test_inputs, self.split.test_labels)
        for array in result:
            array.setflags(write=False)
        with self.lock:
            self.results[key] = result
            if len(self.results) > self.capacity:
                self.results.popitem(last=False)
        return result


_QUEUED_EVALUATIONS = 32
"""At most this many reference points of a cell wait for their test evaluation (the training
loop waits when the evaluation thread falls that far behind)."""


def _train(config: Figure4Config, stages: int, schedule: str, data, seeds: tuple[int, ...], checkpoint_micro_batches: Array, evaluate: _TestEvaluations) -> _Run:
    S = len(seeds)
    dims = digits.mlp_dims(stages, config.width)
    initial = seeded_initial_weights(dims, seeds, scale=config.init_scale, bound=config.tau / 2)
    initial = tuple(np.concatenate([w, w]) for w in initial)  # digital replicas, then ALD
    # One ALD with a τ per replica: each device's τ for its S replicas (digital SGD is τ = ∞).
    tau = np.concatenate([np.full(S, make_device(device, config.tau).tau) for device in DEVICES]).reshape(-1, 1, 1)
    per_update = config.micro_batches_per_update(schedule)
    schedule_name = "single" if schedule == CONTROL else schedule
    micro_batches = int(checkpoint_micro_batches[-1])
    settings = TrainingSettings(
        schedule=schedule_name,
        device=AsymmetricLinearDevice(tau=tau),
        learning_rate=config.learning_rate_of(schedule),
        updates=micro_batches // per_update,
        activation=TANH,
        loss=CROSS_ENTROPY,
        micro_batch_size=config.micro_batch_size,
        mini_batch=per_update,
        seeds=tuple(range(2 * S)),
        reference_losses=False,  # the experiment reads the test split's accuracy and loss instead
    )
    points = checkpoint_micro_batches // per_update
    index = {int(k): i for i, k in enumerate(points)}
    accuracy = np.full((len(points), 2 * S), np.nan)
    test_loss = np.full((len(points), 2 * S), np.nan)

    # The evaluations run on a thread beside the training loop (numpy releases the GIL in
    # their matrix products and tanh); the observer's arrays are never written again.
    beside = ThreadPoolExecutor(max_workers=1)
    evaluations = {}
    queued: deque = deque()

    def on_point(k: int, weights) -> None:
        evaluations[k] = beside.submit(contextvars.copy_context().run, evaluate, weights)
        queued.append(evaluations[k])
        if len(queued) > _QUEUED_EVALUATIONS:  # bound the reference points held in memory
            queued.popleft().result()

    try:
        result = observed_train(initial, data, settings, points, on_point)
        for k, evaluation in evaluations.items():
            accuracy[index[k]], test_loss[index[k]] = evaluation.result()
    finally:
        beside.shutdown(cancel_futures=True)  # an interrupted run does not wait for the evaluations left
    record = schedule_record(schedule_name, stages, micro_batches, per_update)
    slots = completion_slots(record)[points]
    measurements = _measure(record, dims, config.micro_batch_size)
    return _Run(stages, schedule, accuracy, test_loss, slots, measurements, result.final_weights, np.asarray(result.max_abs_weight))


def _first_reach(accuracy: Array, axis_values: Array, target: float) -> Array:
    """Per replica: the axis value (slots or epochs) at the first checkpoint with accuracy ≥ target; NaN if never."""
    reached = accuracy >= target
    first = np.argmax(reached, axis=0)
    values = np.asarray(axis_values, dtype=float)[first]
    return np.where(reached.any(axis=0), values, np.nan)


def _closed_form_speed_up(schedule: str, stages: int, mini_batch: int, micro_batches: int) -> tuple[float, float]:
    """(speed-up of theory.schedules.speed_up — AP as J → ∞ —, the finite-J ratio of total_slots)."""
    values = dict(stages=stages, mini_batch=mini_batch, micro_batches=micro_batches)
    asymptotic = float(closed_forms.evaluate(closed_forms.speed_up(schedule), **values))
    single = closed_forms.evaluate(closed_forms.total_slots("single"), **values)
    finite = float(single / closed_forms.evaluate(closed_forms.total_slots(schedule), **values))
    return asymptotic, finite


def _checkpoints(config: Figure4Config, per_epoch: int) -> Array:
    """Micro-batches done at each checkpoint: every mini-batch of B, 0..epochs·per_epoch."""
    return np.arange(0, per_epoch * config.epochs + 1, config.mini_batch)


@lru_cache(maxsize=1)
def _training_data(config: Figure4Config):
    """(split, replicated epoch stream, replica seeds, checkpoints, test evaluations) of the
    configuration: computed once per process (a worker's cells share it); every cell only
    reads it (and the evaluations remember what they computed)."""
    split = digits.digits_split(config.seed)
    per_epoch = digits.micro_batches_per_epoch(split.train_size, config.micro_batch_size, config.mini_batch)
    seeds = tuple(config.seed + r for r in range(config.seeds))
    inputs, labels = digits.epoch_stream(split, seeds, config.epochs, per_epoch * config.micro_batch_size)
    checkpoints = _checkpoints(config, per_epoch)
    # Enough for the checkpoints of the cells between two that share their points (SP after
    # single and WOP, the control after AP, PipeDream and 2BW).
    evaluations = _TestEvaluations(split, capacity=4 * len(checkpoints))
    return split, digits.replicated(inputs, labels, 2), seeds, checkpoints, evaluations


def figure4_cell_task(task: tuple[Figure4Config, int, str]) -> _Run:
    """Task (`proofs_check.executor`): one (M, schedule) cell, both devices and every seed as
    replicas of one run; a function of the configuration and the cell alone."""
    config, stages, schedule = task
    _, data, seeds, checkpoint_micro_batches, evaluations = _training_data(config)
    return _train(config, stages, schedule, data, seeds, checkpoint_micro_batches, evaluations)


def schedule_memory(record: ScheduleRecord, dims: list[int], micro_batch_size: int, closed_form_schedule: str | None = None) -> dict:
    """Peak in-flight micro-batches and peak weight versions per stage, measured on the
    scheduler's record, beside MODEL.md §3's closed forms (theory.schedules) of
    `closed_form_schedule` (default: the record's own schedule), and the memory they mean.

    Activation floats of stage m: peak in-flight × b·(d_{m−1} + d_m) (a_{m−1} and z_m of
    every micro-batch whose backward is pending); weight floats: peak versions × d_m·d_{m−1}.
    `matches` is True when both measured lists equal the closed forms entry by entry."""
    name = closed_form_schedule or record.schedule
    M, B, J = record.layers, record.mini_batch, record.micro_batches
    in_flight_closed = [int(v) for v in closed_forms.per_stage(closed_forms.peak_in_flight(name), M, B, J)]
    versions_closed = [int(v) for v in closed_forms.per_stage(closed_forms.peak_versions(name), M, B, J)]
    per_micro_batch = [micro_batch_size * (dims[m] + dims[m + 1]) for m in range(M)]
    weight_size = [dims[m] * dims[m + 1] for m in range(M)]
    in_flight, versions = list(record.peak_in_flight), list(record.peak_versions)
    activation = [n * size for n, size in zip(in_flight, per_micro_batch)]
    activation_closed = [n * size for n, size in zip(in_flight_closed, per_micro_batch)]
    weights = [n * size for n, size in zip(versions, weight_size)]
    weights_closed = [n * size for n, size in zip(versions_closed, weight_size)]
    return {
        "stages": M,
        "schedule": record.schedule,
        "closed_form_of": name,
        "mini_batch": B,
        "micro_batches": J,
        "peak_in_flight": in_flight,
        "peak_in_flight_closed_form": in_flight_closed,
        "peak_versions": versions,
        "peak_versions_closed_form": versions_closed,
        "activation_floats_per_micro_batch": per_micro_batch,
        "peak_activation_floats": activation,
        "peak_activation_floats_closed_form": activation_closed,
        "peak_activation_floats_total": int(sum(activation)),
        "peak_activation_floats_total_closed_form": int(sum(activation_closed)),
        "peak_weight_floats_total": int(sum(weights)),
        "peak_weight_floats_total_closed_form": int(sum(weights_closed)),
        "forward_delay": record.largest_forward_delay,
        "backward_delay": record.largest_backward_delay,
        "matches": in_flight == in_flight_closed and versions == versions_closed,
    }


def run_figure4(config: Figure4Config, progress: Progress | None = None, executor: Executor = IN_PROCESS) -> dict:
    """Train every (M, schedule) with both devices and S seeds as replicas; return the summary
    (plain JSON data: every number the figure and the tables show). The cells run through
    `executor` (in-process by default); the summary does not depend on where they ran."""
    if config.seeds < 1:
        raise ValueError(f"the number of seeds must be >= 1, got {config.seeds}")
    if config.main_stages not in config.stages:
        raise ValueError(f"the main M={config.main_stages} is not among the stages {config.stages}")
    split = digits.digits_split(config.seed)
    B, b = config.mini_batch, config.micro_batch_size
    per_epoch = digits.micro_batches_per_epoch(split.train_size, b, B)
    total = per_epoch * config.epochs
    checkpoint_micro_batches = _checkpoints(config, per_epoch)
    epochs_axis = checkpoint_micro_batches / per_epoch
    seeds = tuple(config.seed + r for r in range(config.seeds))
    S = len(seeds)

    jobs = [(stages, schedule) for stages in config.stages for schedule in RUNS if config.trains(stages, schedule)]
    cells = executor.map(figure4_cell_task, [(config, stages, schedule) for stages, schedule in jobs], progress)
    runs: dict[tuple[int, str], _Run] = dict(zip(jobs, cells))
    _training_data.cache_clear()  # release the replicated epoch stream

    identical = {}
    control_is_ap_at_one_stage = 1 not in config.stages or bool(np.array_equal(runs[1, "ap"].accuracy, runs[1, CONTROL].accuracy))
    for stages in config.stages:
        sp = runs[stages, "sp"]
        identical[str(stages)] = all(
            np.array_equal(runs[stages, other].accuracy, sp.accuracy)
            and all(np.array_equal(a, c) for a, c in zip(runs[stages, other].final_weights, sp.final_weights))
            for other in ("single", "wop", "1f1b")
            if (stages, other) in runs
        )
        for schedule in RUNS:
            if (stages, schedule) in runs:
                runs[stages, schedule].final_weights = ()  # release memory

    device_rows = {device: slice(i * S, (i + 1) * S) for i, device in enumerate(DEVICES)}
    run_rows = []
    reach_slots: dict[tuple[int, str, str], Array] = {}
    reach_epochs: dict[tuple[int, str, str], Array] = {}
    final: dict[tuple[int, str, str], Array] = {}
    for (stages, schedule), run in runs.items():
        for device, rows in device_rows.items():
            accuracy = run.accuracy[:, rows]
            reach_slots[stages, schedule, device] = _first_reach(accuracy, run.slots, config.target)
            reach_epochs[stages, schedule, device] = _first_reach(accuracy, epochs_axis, config.target)
            final[stages, schedule, device] = accuracy[-1]
            run_rows.append(
                {
                    "stages": stages,
                    "schedule": schedule,
                    "device": device,
                    "final_accuracy": plain_list(accuracy[-1]),
                    "final_accuracy_summary": spread(accuracy[-1]),
                    "best_accuracy_summary": spread(np.max(accuracy, axis=0)),
                    "final_test_loss": plain_list(run.test_loss[-1, rows]),
                    "final_test_loss_summary": spread(run.test_loss[-1, rows]),
                    "slots_to_target": plain_list(reach_slots[stages, schedule, device]),
                    "slots_to_target_summary": spread(reach_slots[stages, schedule, device]),
                    "epochs_to_target": plain_list(reach_epochs[stages, schedule, device]),
                    "epochs_to_target_summary": spread(reach_epochs[stages, schedule, device]),
                    "total_slots": int(run.slots[-1]),
                    "max_abs_weight": plain_list(run.max_abs_weight[rows]),
                }
            )

    def measurements(stages: int, schedule: str) -> _ScheduleMeasurements:
        """From the cell's run, or from a record built here when the cell was not trained."""
        if (stages, schedule) in runs:
            return runs[stages, schedule].measurements
        record = build_schedule(schedule, stages, total, config.micro_batches_per_update(schedule))
        return _measure(record, digits.mlp_dims(stages, config.width), b)

    throughput = []
    memory = []
    for stages in config.stages:
        single = measurements(stages, "single")
        for schedule in SCHEDULE_NAMES:
            record = measurements(stages, schedule)
            memory.append(record.memory)
            measured = (single.slots / single.micro_batches) / (record.slots / record.micro_batches)
            asymptotic, finite = _closed_form_speed_up(schedule, stages, B, record.micro_batches)
            throughput.append(
                {
                    "stages": stages,
                    "schedule": schedule,
                    "micro_batches": record.micro_batches,
                    "slots": record.slots,
                    "slots_per_micro_batch": record.slots / record.micro_batches,
                    "density": record.density,
                    "speed_up": measured,
                    "closed_form": asymptotic,
                    "closed_form_finite_J": finite,
                    "relative_difference": abs(measured - asymptotic) / asymptotic,
                    "relative_difference_finite_J": abs(measured - finite) / finite,
                }
            )

    time_to_accuracy = []
    gaps = []
    for stages in config.stages:
        for device in DEVICES:
            baseline = reach_slots[stages, "single", device]
            for schedule in SCHEDULE_NAMES:
                if not config.trains(stages, schedule):
                    continue
                ratio = baseline / reach_slots[stages, schedule, device]
                time_to_accuracy.append({"stages": stages, "schedule": schedule, "device": device, "speed_up": plain_list(ratio), "summary": spread(ratio)})
            gap = final[stages, "ap", device] - final[stages, "sp", device]
            epoch_gap = reach_epochs[stages, "ap", device] - reach_epochs[stages, "sp", device]
            stale = final[stages, "ap", device] - final[stages, CONTROL, device]
            stale_epochs = reach_epochs[stages, "ap", device] - reach_epochs[stages, CONTROL, device]
            gaps.append(
                {
                    "stages": stages,
                    "device": device,
                    "final_accuracy_gap": plain_list(gap),
                    "final_accuracy_gap_summary": spread(gap),
                    "epochs_to_target_gap": plain_list(epoch_gap),
                    "epochs_to_target_gap_summary": spread(epoch_gap),
                    "staleness_final_accuracy_gap": plain_list(stale),
                    "staleness_final_accuracy_gap_summary": spread(stale),
                    "staleness_epochs_to_target_gap": plain_list(stale_epochs),
                    "staleness_epochs_to_target_gap_summary": spread(stale_epochs),
                }
            )

    main = config.main_stages
    curves = {
        device: {
            schedule: {
                "slots": [int(s) for s in runs[main, schedule].slots],
                "accuracy_mean": plain_list(np.mean(runs[main, schedule].accuracy[:, rows], axis=1)),
                "accuracy_std": plain_list(np.std(runs[main, schedule].accuracy[:, rows], axis=1, ddof=1) if S > 1 else np.zeros(len(epochs_axis))),
            }
            for schedule in RUNS
            if config.trains(main, schedule)
        }
        for device, rows in device_rows.items()
    }
    worst = max(row["relative_difference"] for row in throughput)
    memory_mismatches = [f"{row['schedule']} at M={row['stages']}" for row in memory if not row["matches"]]
    return {
        "experiment": "figure4",
        "config": config.as_dict(),
        "data": split.describe(),
        "design": {
            "dims_main": digits.mlp_dims(main, config.width),
            "micro_batches_per_epoch": per_epoch,
            "samples_per_epoch": per_epoch * b,
            "updates_per_epoch": {schedule: per_epoch // config.micro_batches_per_update(schedule) for schedule in RUNS},
            "learning_rate": {schedule: config.learning_rate_of(schedule) for schedule in RUNS},
            "control": "the single device with B = 1 and AP's alpha: AP's updates with every delay 0 (not a schedule of the paper; isolates staleness)",
            "learning_rate_rule": "linear scaling: AP alpha per micro-batch update, the synchronous schedules B*alpha per mini-batch update (same step per sample); fixed before the runs",
            "devices": {"digital": "ALD with tau = inf (digital SGD bit for bit)", "ald": f"ALD with tau = {config.tau}"},
            "seeds": list(seeds),
            "checkpoint_every_micro_batches": B,
            "target_accuracy": config.target,
            "accuracy": "test split, arg-max logit, at the reference point W^(k) (weights after k updates)",
            "slots": "slots elapsed when every layer has reached version k, from the scheduler's record of the whole continuous run",
            "std": "sample standard deviation over seeds (ddof = 1)",
            "memory": "per stage from the record of the whole run: peak in-flight micro-batches x b*(d_{m-1} + d_m) activation floats, peak weight versions x d_m*d_{m-1} weight floats; beside MODEL.md section 3's closed forms",
            "trained": {schedule: [m for m in config.stages if config.trains(m, schedule)] for schedule in RUNS},
        },
        "checkpoints": {"micro_batches": [int(c) for c in checkpoint_micro_batches], "epochs": [float(e) for e in epochs_axis]},
        "curves": {"stages": main, **curves},
        "runs": run_rows,
        "throughput": throughput,
        "memory": memory,
        "time_to_accuracy": time_to_accuracy,
        "ap_minus_sp": gaps,
        "checks": {
            "synchronous_schedules_identical": identical,
            "ap_equals_control_at_one_stage": control_is_ap_at_one_stage,
            "throughput_worst_relative_difference": worst,
            "throughput_within_tolerance": bool(worst <= THROUGHPUT_TOLERANCE),
            "throughput_tolerance": THROUGHPUT_TOLERANCE,
            "memory_matches_closed_forms": not memory_mismatches,
            "memory_mismatches": memory_mismatches,
        },
    }


# ----------------------------------------------------------------------------- lookups


def find(rows: list[dict], **keys) -> dict:
    """The row of a summary list whose entries equal `keys`."""
    for row in rows:
        if all(row.get(key) == value for key, value in keys.items()):
            return row
    raise KeyError(f"no row with {keys}")


# ----------------------------------------------------------------------------- figure

_STYLE = {
    "single": dict(color="tab:gray", linestyle="-", linewidth=2.6, alpha=0.7),
    "wop": dict(color="tab:green", linestyle=(0, (5, 3)), linewidth=1.6),
    "sp": dict(color="tab:blue", linestyle=(0, (1, 1.5)), linewidth=1.8),
    "1f1b": dict(color="tab:cyan", linestyle=(0, (6, 2, 1, 2)), linewidth=1.2),
    "ap": dict(color="tab:red", linestyle="-", linewidth=1.4),
    "pipedream": dict(color="tab:orange", linestyle=(0, (4, 1.5)), linewidth=1.2),
    "2bw": dict(color="tab:purple", linestyle=(0, (2, 1)), linewidth=1.2),
    CONTROL: dict(color="black", linestyle=(0, (3, 2)), linewidth=0.9),
}
_MARKERS = {"single": "x", "wop": "s", "sp": "o", "1f1b": "D", "ap": "^", "pipedream": "v", "2bw": "P"}


def figure4_figure(summary: dict) -> Figure:
    """Rows: digital SGD, ALD. Columns: test accuracy vs epoch, vs slots (M = main), and the
    speed-up over the single device vs M (throughput: closed forms as lines, measured as
    hollow markers; time to the target accuracy: mean ± std over seeds as error bars), and
    the peak memory vs M (activations top, weights bottom; closed forms as lines, the
    record's measurements as markers).
    Drawn at two-column width (proofs_check.figures.DOUBLE_COLUMN) with paper-sized text."""
    from proofs_check.figures import DOUBLE_COLUMN, paper_style

    with paper_style(7.0):
        return _figure4_figure(summary, DOUBLE_COLUMN)


def _figure4_figure(summary: dict, width: float) -> Figure:
    from matplotlib.lines import Line2D

    config = summary["config"]
    epochs = np.asarray(summary["checkpoints"]["epochs"])
    stages = np.asarray(config["stages"])
    main = summary["curves"]["stages"]
    figure = Figure(figsize=(width, 0.62 * width), layout="constrained")
    grid = figure.subplots(2, 4, squeeze=False)
    _memory_panels(summary, grid[0][3], grid[1][3])
    for row, device in enumerate(DEVICES):
        by_epoch, by_slot, speed, _ = grid[row]
        for schedule in RUNS:
            if schedule not in summary["curves"][device]:
                continue
            curve = summary["curves"][device][schedule]
            mean = np.asarray(curve["accuracy_mean"], dtype=float)
            std = np.asarray(curve["accuracy_std"], dtype=float)
            label = SCHEDULE_LABELS[schedule]
            slots = np.asarray(curve["slots"], dtype=float)
            style = dict(_STYLE[schedule], linewidth=_STYLE[schedule]["linewidth"] * 0.6)
            panels = ((by_epoch, epochs, slice(None)),) if schedule == CONTROL else ((by_epoch, epochs, slice(None)), (by_slot, slots, slots > 0))
            for axes, x, keep in panels:
                axes.plot(x[keep], mean[keep], label=label if axes is by_epoch and row == 0 else None, **style)
                axes.fill_between(x[keep], (mean - std)[keep], (mean + std)[keep], color=_STYLE[schedule]["color"], alpha=0.12, linewidth=0)
        for axes in (by_epoch, by_slot):
            axes.axhline(config["target"], color="black", linewidth=0.6, linestyle=":")
            axes.set_ylim(0.5, 1.0)
            axes.set_ylabel("test accuracy")
            axes.grid(alpha=0.3)
        by_epoch.set_xlabel("epoch")
        by_slot.set_xscale("log")
        by_slot.set_xlabel("slots (log scale)")
        by_epoch.set_title(f"{DEVICE_LABELS[device]}, M = {main}")
        by_slot.set_title(f"{DEVICE_LABELS[device]}, M = {main}")

        dense = np.linspace(1, stages.max(), 200)
        for schedule in ("wop", "sp", "1f1b", "ap", "pipedream", "2bw"):
            colour = _STYLE[schedule]["color"]
            if schedule in ("ap", "pipedream", "2bw"):
                closed = dense
            elif schedule in ("sp", "1f1b"):
                closed = dense * config["mini_batch"] / (config["mini_batch"] + dense - 1)
            else:
                closed = np.ones_like(dense)
            if schedule in ("wop", "sp", "ap"):  # 1F1B's closed form is SP's, PipeDream's and 2BW's AP's
                speed.plot(dense, closed, color=colour, linewidth=0.8, alpha=0.8)
            measured = [find(summary["throughput"], stages=int(m), schedule=schedule)["speed_up"] for m in stages]
            speed.plot(stages, measured, linestyle="none", marker=_MARKERS[schedule], markersize=5, markerfacecolor="none", markeredgecolor=colour, markeredgewidth=0.7)
            trained = [int(m) for m in stages if any(r["stages"] == m and r["schedule"] == schedule and r["device"] == device for r in summary["time_to_accuracy"])]
            rows = [find(summary["time_to_accuracy"], stages=m, schedule=schedule, device=device)["summary"] for m in trained]
            means = np.array([np.nan if r["mean"] is None else r["mean"] for r in rows])
            stds = np.array([0.0 if r["std"] is None else r["std"] for r in rows])
            offset = {"wop": -0.2, "sp": -0.12, "1f1b": -0.04, "ap": 0.04, "pipedream": 0.12, "2bw": 0.2}[schedule]
            positions = np.asarray(trained, dtype=float) + offset
            speed.errorbar(positions, means, yerr=stds, linestyle="none", marker=_MARKERS[schedule], markersize=2.5, color=colour, capsize=1.5, elinewidth=0.7)
            for m, r, y in zip(positions, rows, means):
                if r["missing"]:  # not every seed reached the target: say how many did
                    speed.annotate(f"{r['count']}/{r['count'] + r['missing']} seeds", (m, 0 if np.isnan(y) else y), textcoords="offset points", xytext=(3, -8), fontsize=5, color=colour)
        speed.set_xlabel("stages M")
        speed.set_ylabel("speed-up over one device")
        speed.set_title(f"speed-up, {config['seeds']} seeds")
        speed.set_xticks(stages)
        speed.grid(alpha=0.3)
    key = [Line2D([], [], color=_STYLE[s]["color"], marker=_MARKERS[s], markerfacecolor="none", linestyle="none", label=_SHORT[s]) for s in SCHEDULE_NAMES]
    key += [
        Line2D([], [], color="gray", linewidth=0.8, label="closed form"),
        Line2D([], [], color="gray", marker="o", markerfacecolor="none", linestyle="none", label="scheduler record"),
        Line2D([], [], color="gray", marker="o", markersize=2.5, linestyle="none", label=f"time to {config['target']:.0%} (mean ± std)"),
    ]
    figure.legend(
        handles=key, loc="outside lower center", ncol=len(key), frameon=False, handlelength=1.2, handletextpad=0.4, columnspacing=0.9,
        title="speed-up and memory panels: markers by schedule; lines are MODEL.md's closed forms",
    )
    figure.legend(
        *grid[0][0].get_legend_handles_labels(),  # the accuracy curves (the key of the other panels is below)
        loc="outside upper center", ncol=4, frameon=False, handlelength=2.2, columnspacing=1.0,
        title=f"schedule (test accuracy at each mini-batch; mean ± std over seeds; dotted: target {config['target']:.2f}; single = WOP = SP per epoch)",
    )
    return figure


def _memory_panels(summary: dict, activations, weights) -> None:
    """Peak activation floats (top) and peak weight floats (bottom), summed over the stages,
    against M for every schedule: MODEL.md §3's closed forms as lines, the record's as markers."""
    stages = np.asarray(summary["config"]["stages"])
    for axes, key, title in (
        (activations, "peak_activation_floats_total", "peak activation memory"),
        (weights, "peak_weight_floats_total", "peak weight memory"),
    ):
        for schedule in SCHEDULE_NAMES:
            rows = [find(summary["memory"], stages=int(m), schedule=schedule) for m in stages]
            colour = _STYLE[schedule]["color"]
            axes.plot(stages, [r[key + "_closed_form"] for r in rows], color=colour, linewidth=1.0, alpha=0.8)
            axes.plot(stages, [r[key] for r in rows], linestyle="none", marker=_MARKERS[schedule], markersize=4, markerfacecolor="none", markeredgecolor=colour, markeredgewidth=0.7)
        axes.set_yscale("log")
        axes.set_xlabel("stages M")
        axes.set_ylabel("floats, all stages (log scale)")
        axes.set_title(title)
        axes.set_xticks(stages)
        axes.grid(alpha=0.3)


# ----------------------------------------------------------------------------- tables


def _pm(summary: dict, digits_after: int = 3, scale: float = 1.0) -> str:
    if summary["mean"] is None:
        return "not reached"
    mean = summary["mean"] * scale
    mean = 0.0 if round(mean, digits_after) == 0 else mean  # no "-0.00"
    spread = f"$\\pm {summary['std'] * scale:.{digits_after}f}$"
    if summary["missing"]:
        spread += f" ({summary['count']}/{summary['count'] + summary['missing']})"
    return latex.over(f"${mean:.{digits_after}f}$", spread)


_SHORT = {"single": "single", "wop": "WOP", "sp": "SP", "1f1b": "1F1B", "ap": "AP", "pipedream": "PipeDream", "2bw": "2BW", CONTROL: "control (no delay)"}


def accuracy_table(summary: dict) -> str:
    """Per device and schedule at the main M: final test accuracy and loss, epochs and slots to the target."""
    config = summary["config"]
    main = config["main_stages"]
    body = []
    for device in DEVICES:
        body.append(latex.escape(DEVICE_LABELS[device]))
        for schedule in RUNS:
            if main not in summary["design"]["trained"][schedule]:
                continue
            row = find(summary["runs"], stages=main, schedule=schedule, device=device)
            body.append(
                [
                    latex.escape(_SHORT[schedule]),
                    _pm(row["final_accuracy_summary"]),
                    _pm(row["final_test_loss_summary"]),
                    _pm(row["epochs_to_target_summary"], 2),
                    _pm(row["slots_to_target_summary"], 0),
                    latex.number(int(row["total_slots"])),
                ]
            )
    caption = (
        f"Digits MLP ($M={main}$, {config['epochs']} epochs, {config['seeds']} seeds): final test accuracy and test cross-entropy, "
        f"epochs and slots until the test accuracy first reaches {config['target']:.2f} "
        r"(mean $\pm$ sample std over seeds; a count $n/S$ when only $n$ seeds reached it), and the slots of the whole run. "
        f"Single, WOP and SP compute the same iterates; AP and the control (the single device updating after every micro-batch: "
        f"AP without delays) update per micro-batch with $\\alpha={config['learning_rate']}$, "
        f"the others per mini-batch of $B={config['mini_batch']}$ with $B\\alpha$; ALD $\\tau={config['tau']}$."
    )
    header = ["schedule", latex.head("final", "accuracy"), latex.head("test", "loss"), latex.head("epochs", "to target"), latex.head("slots", "to target"), latex.head("total", "slots")]
    return latex.table(header, body, caption, "tab:figure4-accuracy", "lrrrrr", size="small")


def speed_up_table(summary: dict) -> str:
    """Per M: throughput speed-ups (scheduler vs closed form) and AP's time-to-accuracy speed-ups (mean ± std)."""
    config = summary["config"]
    body = []
    for stages in config["stages"]:
        cells = [latex.number(int(stages))]
        for schedule in ("wop", "sp", "ap"):
            row = find(summary["throughput"], stages=stages, schedule=schedule)
            cells.append(latex.over(f"${row['speed_up']:.3f}$", f"(${row['closed_form']:.3f}$)"))
        for device in DEVICES:
            cells.append(_pm(find(summary["time_to_accuracy"], stages=stages, schedule="ap", device=device)["summary"], 2))
        body.append(cells)
    header = ["$M$"] + [latex.head(f"{name} thr.", "(closed)") for name in ("WOP", "SP", "AP")] + [latex.head("AP t.t.a.", "(digital)"), latex.head("AP t.t.a.", "(ALD)")]
    caption = (
        "Speed-up over the single device. Throughput (thr.): single-device slots per micro-batch over the "
        "schedule's, both from the scheduler's records of the runs, above the closed forms (in parentheses) $1$ (WOP), "
        r"$MB/(B+M-1)$ (SP) and $M$ (AP, $J\to\infty$) of MODEL.md \S3. "
        f"Time to accuracy (t.t.a.): single-device slots to {config['target']:.2f} test accuracy over AP's, per seed "
        r"(mean $\pm$ sample std over seeds). WOP's and SP's equal their throughput speed-ups exactly, since they compute the single device's iterates."
    )
    return latex.table(header, body, caption, "tab:figure4-speed-up", "rrrrrr", size="small")


def gaps_table(summary: dict) -> str:
    """Per M: final accuracy of AP minus SP and AP minus the no-delay control (pp), and the epochs-to-target difference to the control."""
    config = summary["config"]
    body = []
    for stages in config["stages"]:
        cells = [latex.number(int(stages))]
        rows = {device: find(summary["ap_minus_sp"], stages=stages, device=device) for device in DEVICES}
        for key, scale, digits_after in (
            ("final_accuracy_gap_summary", 100.0, 2),
            ("staleness_final_accuracy_gap_summary", 100.0, 2),
            ("staleness_epochs_to_target_gap_summary", 1.0, 2),
        ):
            for device in DEVICES:
                cells.append(_pm(rows[device][key], digits_after, scale=scale))
        body.append(cells)
    header = ["$M$"] + [latex.head(what, f"({device})") for what in ("AP$-$SP", "AP$-$ctrl", "epochs AP$-$ctrl") for device in ("dig.", "ALD")]
    caption = (
        "What AP costs per epoch: final test accuracy of AP minus SP and of AP minus the control (per-micro-batch updates "
        r"without delay, so the difference is what staleness costs), in percentage points, and the difference in epochs to "
        f"{config['target']:.2f} test accuracy between AP and the control; per seed, mean $\\pm$ sample std over {config['seeds']} seeds."
    )
    return latex.table(header, body, caption, "tab:figure4-gaps", "rrrrrrr", size="small", column_separation="4pt")


def schedules_table(summary: dict) -> str:
    """Per schedule at the main M: throughput speed-up beside its closed form, time-to-accuracy
    speed-up per device, peak in-flight micro-batches per stage (measured = closed form, or both
    shown), and the peak activation and weight floats of all stages."""
    config = summary["config"]
    main = config["main_stages"]
    body = []
    for schedule in SCHEDULE_NAMES:
        throughput = find(summary["throughput"], stages=main, schedule=schedule)
        memory = find(summary["memory"], stages=main, schedule=schedule)
        cells = [latex.escape(_SHORT[schedule]), f"${throughput['speed_up']:.2f}$ / ${throughput['closed_form']:.2f}$"]
        for device in DEVICES:
            cells.append(_pm(find(summary["time_to_accuracy"], stages=main, schedule=schedule, device=device)["summary"], 2))
        in_flight = ",".join(map(str, memory["peak_in_flight"]))
        closed = ",".join(map(str, memory["peak_in_flight_closed_form"]))
        cells.append(in_flight if in_flight == closed else f"{in_flight} (closed {closed})")
        cells.append(latex.number(memory["peak_activation_floats_total"]) + " / " + latex.number(memory["peak_activation_floats_total_closed_form"]))
        cells.append(",".join(map(str, memory["peak_versions"])))
        body.append(cells)
    header = ["schedule", "thr. / closed", "t.t.a. dig.", "t.t.a. ALD", "in flight", "activ. / closed", "versions"]
    caption = (
        f"Every schedule of MODEL.md \\S3 at $M={main}$, $B={config['mini_batch']}$, $b={config['micro_batch_size']}$: throughput speed-up over the single device "
        "(scheduler's record / closed form; PipeDream and 2BW as $J\\to\\infty$), time-to-accuracy speed-up "
        f"(to {config['target']:.2f} test accuracy, mean $\\pm$ sample std over {config['seeds']} seeds), peak in-flight micro-batches per stage "
        "(stage 1 first; MODEL's closed form beside it where they differ), peak activation floats of all stages (in flight $\\times\\, b(d_{m-1}+d_m)$; record / closed form) "
        "and peak weight versions per stage. 1F1B computes SP's iterates with SP's slots but holds $\\min(B, M-m+1)$ micro-batches where SP holds $B$."
    )
    return latex.table(header, body, caption, "tab:figure4-schedules", "lrrrlrl", size="footnotesize", column_separation="4pt")

"""The paper's Figure 4 at laptop scale: digits MLPs without pipeline (single, WOP), with the
synchronous (SP) and the asynchronous (AP) pipeline, digital SGD and ALD analog SGD.

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

Single, WOP and SP compute the same iterates (the same mini-batch SGD; only the slots
differ), which every run checks bit for bit; their time-to-accuracy speed-ups are therefore
exactly their throughput speed-ups, and only AP's can differ from its throughput.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Iterable

import numpy as np
from matplotlib.figure import Figure

from numerics.activations import TANH
from numerics.devices import AsymmetricLinearDevice, make_device
from numerics.losses import CROSS_ENTROPY
from numerics.replicas import seeded_initial_weights
from numerics.training import TrainingSettings, compiled_schedule
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
SCHEDULE_NAMES = ("single", "wop", "sp", "ap")
"""The schedules of the paper's Figure 4 this experiment trains (numerics.schedules.SCHEDULES has more)."""
RUNS = SCHEDULE_NAMES + (CONTROL,)
SCHEDULE_LABELS = {
    "single": "single device",
    "wop": "WOP (no pipeline)",
    "sp": "SP (synchronous)",
    "ap": "AP (asynchronous)",
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

    def learning_rate_of(self, schedule: str) -> float:
        """α for AP and the control (one micro-batch per update), B·α for single, WOP, SP."""
        return self.learning_rate if schedule in ("ap", CONTROL) else self.learning_rate * self.mini_batch

    def micro_batches_per_update(self, schedule: str) -> int:
        return 1 if schedule in ("ap", CONTROL) else self.mini_batch

    def as_dict(self) -> dict:
        values = dataclasses.asdict(self)
        values["stages"] = list(self.stages)
        return values


def figure4_config(quick: bool, seeds: int | None = None, seed: int = 0) -> Figure4Config:
    """Full: 8 seeds, 15 epochs; quick: 3 seeds, 5 epochs. M = 1..8 in both."""
    default_seeds, epochs = (3, 5) if quick else (8, 15)
    return Figure4Config(quick=quick, seeds=default_seeds if seeds is None else seeds, seed=seed, epochs=epochs)


# ----------------------------------------------------------------------------- runs


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
    record_slots: int
    micro_batches: int
    final_weights: tuple[Array, ...]
    max_abs_weight: Array


def _train(config: Figure4Config, stages: int, schedule: str, split: digits.DigitsSplit, data, seeds: tuple[int, ...], checkpoint_micro_batches: Array) -> _Run:
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
    )
    points = checkpoint_micro_batches // per_update
    index = {int(k): i for i, k in enumerate(points)}
    accuracy = np.full((len(points), 2 * S), np.nan)
    test_loss = np.full((len(points), 2 * S), np.nan)

    def on_point(k: int, weights) -> None:
        accuracy[index[k]], test_loss[index[k]] = digits.evaluate(weights, split.test_inputs, split.test_labels)

    result = observed_train(initial, data, settings, points, on_point)
    record, _ = compiled_schedule(schedule_name, stages, micro_batches, per_update)
    slots = completion_slots(record)[points]
    return _Run(stages, schedule, accuracy, test_loss, slots, record.slots, micro_batches, result.final_weights, np.asarray(result.max_abs_weight))


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
    """(split, replicated epoch stream, replica seeds, checkpoints) of the configuration:
    computed once per process (a worker's cells share it); every cell only reads it."""
    split = digits.digits_split(config.seed)
    per_epoch = digits.micro_batches_per_epoch(split.train_size, config.micro_batch_size, config.mini_batch)
    seeds = tuple(config.seed + r for r in range(config.seeds))
    inputs, labels = digits.epoch_stream(split, seeds, config.epochs, per_epoch * config.micro_batch_size)
    return split, digits.replicated(inputs, labels, 2), seeds, _checkpoints(config, per_epoch)


def figure4_cell_task(task: tuple[Figure4Config, int, str]) -> _Run:
    """Task (`proofs_check.executor`): one (M, schedule) cell, both devices and every seed as
    replicas of one run; a function of the configuration and the cell alone."""
    config, stages, schedule = task
    split, data, seeds, checkpoint_micro_batches = _training_data(config)
    return _train(config, stages, schedule, split, data, seeds, checkpoint_micro_batches)


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
    checkpoint_micro_batches = _checkpoints(config, per_epoch)
    epochs_axis = checkpoint_micro_batches / per_epoch
    seeds = tuple(config.seed + r for r in range(config.seeds))
    S = len(seeds)

    jobs = [(stages, schedule) for stages in config.stages for schedule in RUNS]
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
            for other in ("single", "wop")
        )
        for schedule in RUNS:
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

    throughput = []
    for stages in config.stages:
        single = runs[stages, "single"]
        for schedule in SCHEDULE_NAMES:
            run = runs[stages, schedule]
            measured = (single.record_slots / single.micro_batches) / (run.record_slots / run.micro_batches)
            asymptotic, finite = _closed_form_speed_up(schedule, stages, B, run.micro_batches)
            throughput.append(
                {
                    "stages": stages,
                    "schedule": schedule,
                    "micro_batches": run.micro_batches,
                    "slots": run.record_slots,
                    "slots_per_micro_batch": run.record_slots / run.micro_batches,
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
        }
        for device, rows in device_rows.items()
    }
    worst = max(row["relative_difference"] for row in throughput)
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
        },
        "checkpoints": {"micro_batches": [int(c) for c in checkpoint_micro_batches], "epochs": [float(e) for e in epochs_axis]},
        "curves": {"stages": main, **curves},
        "runs": run_rows,
        "throughput": throughput,
        "time_to_accuracy": time_to_accuracy,
        "ap_minus_sp": gaps,
        "checks": {
            "synchronous_schedules_identical": identical,
            "ap_equals_control_at_one_stage": control_is_ap_at_one_stage,
            "throughput_worst_relative_difference": worst,
            "throughput_within_tolerance": bool(worst <= THROUGHPUT_TOLERANCE),
            "throughput_tolerance": THROUGHPUT_TOLERANCE,
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
    "ap": dict(color="tab:red", linestyle="-", linewidth=1.4),
    CONTROL: dict(color="black", linestyle=(0, (3, 2)), linewidth=0.9),
}
_MARKERS = {"wop": "s", "sp": "o", "ap": "^"}


def figure4_figure(summary: dict) -> Figure:
    """Rows: digital SGD, ALD. Columns: test accuracy vs epoch, vs slots (M = main), and the
    speed-up over the single device vs M (throughput: closed forms as lines, measured as
    hollow markers; time to the target accuracy: mean ± std over seeds as error bars).
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
    grid = figure.subplots(2, 3, squeeze=False)
    for row, device in enumerate(DEVICES):
        by_epoch, by_slot, speed = grid[row]
        for schedule in RUNS:
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
        by_slot.set_xlabel("slots (clock cycles, log scale)")
        by_epoch.set_title(f"{DEVICE_LABELS[device]}, M = {main}")
        by_slot.set_title(f"{DEVICE_LABELS[device]}, M = {main}")

        dense = np.linspace(1, stages.max(), 200)
        for schedule in ("wop", "sp", "ap"):
            colour = _STYLE[schedule]["color"]
            if schedule == "ap":
                closed = dense
            elif schedule == "sp":
                closed = dense * config["mini_batch"] / (config["mini_batch"] + dense - 1)
            else:
                closed = np.ones_like(dense)
            speed.plot(dense, closed, color=colour, linewidth=0.8, alpha=0.8)
            measured = [find(summary["throughput"], stages=int(m), schedule=schedule)["speed_up"] for m in stages]
            speed.plot(stages, measured, linestyle="none", marker=_MARKERS[schedule], markersize=5, markerfacecolor="none", markeredgecolor=colour, markeredgewidth=0.7)
            rows = [find(summary["time_to_accuracy"], stages=int(m), schedule=schedule, device=device)["summary"] for m in stages]
            means = np.array([np.nan if r["mean"] is None else r["mean"] for r in rows])
            stds = np.array([0.0 if r["std"] is None else r["std"] for r in rows])
            offset = {"wop": -0.12, "sp": 0.0, "ap": 0.12}[schedule]
            speed.errorbar(stages + offset, means, yerr=stds, linestyle="none", marker=_MARKERS[schedule], markersize=2.5, color=colour, capsize=1.5, elinewidth=0.7)
            for m, r, y in zip(stages, rows, means):
                if r["missing"]:  # not every seed reached the target: say how many did
                    speed.annotate(f"{r['count']}/{r['count'] + r['missing']}", (m + offset, 0 if np.isnan(y) else y), textcoords="offset points", xytext=(3, -8), fontsize=5, color=colour)
        speed.set_xlabel("stages M")
        speed.set_ylabel("speed-up over one device")
        speed.set_title(f"{DEVICE_LABELS[device]}: speed-up ({config['seeds']} seeds)")
        speed.set_xticks(stages)
        speed.grid(alpha=0.3)
        if row == 0:
            key = [Line2D([], [], color=_STYLE[s]["color"], marker=_MARKERS[s], linestyle="none", label=s.upper()) for s in ("wop", "sp", "ap")]
            key += [
                Line2D([], [], color="gray", linewidth=0.8, label="closed form"),
                Line2D([], [], color="gray", marker="o", markerfacecolor="none", linestyle="none", label="throughput"),
                Line2D([], [], color="gray", marker="o", markersize=2.5, linestyle="none", label=f"time to {config['target']:.0%} (±std)"),
            ]
            speed.legend(handles=key, loc="upper left", ncol=2, fontsize=5.5, handlelength=1.2, columnspacing=0.6, borderpad=0.3, labelspacing=0.3)
    figure.legend(
        loc="outside upper center", ncol=len(RUNS), frameon=False, handlelength=2.2, columnspacing=1.0,
        title=f"schedule (test accuracy at each mini-batch; mean ± std over seeds; dotted: target {config['target']:.2f}; single = WOP = SP per epoch)",
    )
    return figure


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


_SHORT = {"single": "single", "wop": "WOP", "sp": "SP", "ap": "AP", CONTROL: "control"}


def accuracy_table(summary: dict) -> str:
    """Per device and schedule at the main M: final test accuracy and loss, epochs and slots to the target."""
    config = summary["config"]
    main = config["main_stages"]
    body = []
    for device in DEVICES:
        body.append(latex.escape(DEVICE_LABELS[device]))
        for schedule in RUNS:
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

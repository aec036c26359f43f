"""The devices of MODEL.md §2 on the digits MLP: final accuracy and the measured floor beside
the theorem's floor 4 G_max² σ²/(B β²) (MODEL.md §5).

Design (fixed before any result, the same for every device and schedule):

- Data: `proofs_check.experiments.digits` (standardised digits, stratified 75/25 split by
  `--seed`); network 64-32-32-10 (M = 3, tanh, no biases, softmax cross-entropy), initial
  weights N(0, 1/d_{m−1}) clipped to ±τ/2 (the same start for every device).
- Sampling: i.i.d. (`numerics.data.IID`: every micro-batch draws b rows uniformly with
  replacement from the replica's seed), so assumption (A2) of §5 holds by construction and
  the gradient noise of a micro-batch has exactly the variance σ²(W) = tr Cov/b measured below.
- Schedules: AP (one micro-batch per update, α) and SP (the mean of B micro-batches per
  update, B·α: the same step per sample), b = 8, B = 8, α = 0.02, as `experiment figure4`.
- Devices: digital SGD (the reference, G_max = 0); ALD (τ = 1); `softbounds` with p = 2,
  γ₊ = 1.2, γ₋ = 0.8 (τ = 1: its symmetric point w* = τ(1 − r)/(1 + r), r = (γ₋/γ₊)^{1/p},
  is ≈ 0.10, not 0); `pulsed` with that softbounds device as its mean model, at several pulse
  sizes dw_min, with cycle-to-cycle noise c2c and with device-to-device variation d2d.
- Measurements, per seed: the test accuracy after the last update; the plateau, the mean of
  ||∇f(W^{(k)})||² (the full training-split gradient at the reference point) over the tail
  of training (the last `tail_fraction` of the updates, at every mini-batch boundary),
  observed during one continuous run (`observe.py`); the device's excess, the plateau minus
  the digital run's plateau on the same seed and schedule (same initial weights and rows);
  σ², the sampling variance of a micro-batch gradient, measured exactly from the per-sample
  gradients at `variance_points` tail reference points (largest value, as (A2) bounds it);
  W_max, the largest |w| over every version of the run (`TrainingResult.max_abs_weight`).
- Prediction: the floor 4 G_max² σ²/(B β²) with β, G_max from `device.constants(W_max)` (the
  pulsed device: its softbounds mean model), B = 1 for AP and 8 for SP; and the theorem's
  whole right side as K → ∞ at the run's α (noise + floor + delay terms of
  `theory.convergence.rhs_terms`, L and Γ from the lemmas with ω_m = W_max·sqrt(d_m d_{m−1}),
  c_D from the record's measured delays), which bounds the plateau wherever the hypotheses
  hold. Each row names the hypotheses it meets; a row outside them gets no verdict.
- Seeds: replica seed s (`--seed` … `--seed` + S − 1) sets the initial weights, the sampled
  rows and the pulsed device's draws; every device sees the same initial weights and rows.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np
from matplotlib.figure import Figure

from numerics import network
from numerics.activations import TANH
from numerics.data import IID, Dataset
from numerics.devices import Device, make_device
from numerics.losses import CROSS_ENTROPY
from numerics.replicas import seeded_initial_weights
from numerics.training import TrainingSettings
from proofs_check import latex
from proofs_check.experiments import digits
from proofs_check.experiments.observe import observed_train
from proofs_check.experiments.summary import plain_list, spread
from proofs_check.theorems import convergence_verdict
from theory import convergence as C
from theory.constants import ACTIVATION_CONSTANTS, LOSS_CONSTANTS, constants_for, gamma_matrix

Array = np.ndarray
Progress = Callable[[Iterable, int], Iterable]

SCHEDULES = ("ap", "sp")
"""AP (per micro-batch, with delays) and SP (per mini-batch, no delay)."""
REFERENCE = "digital"
"""The case every excess is measured against (G_max = 0: the theorem predicts no floor)."""


@dataclass(frozen=True)
class DeviceCase:
    """One device of the experiment: a label for the tables and the device's settings."""

    label: str
    """Short name in tables and figures (ASCII)."""
    kind: str
    """A name of numerics.devices.DEVICE_KINDS."""
    settings: tuple[tuple[str, float], ...] = ()
    """(setting, value) pairs passed to `make_device` (τ included where the device has one)."""

    def device(self) -> Device:
        """The device object (`numerics.devices.make_device`)."""
        return make_device(self.kind, **dict(self.settings))

    def as_dict(self) -> dict:
        return {"label": self.label, "kind": self.kind, "settings": dict(self.settings)}


@dataclass(frozen=True)
class DevicesConfig:
    """Everything that defines the experiment (the JSON summary records it)."""

    quick: bool
    """The quick variant (fewer seeds, epochs and devices)."""
    seed: int
    """Split seed and first replica seed."""
    seeds: int
    """S replica seeds per (device, schedule)."""
    epochs: int
    """Training length in epochs (an epoch: the micro-batches of `digits.micro_batches_per_epoch`)."""
    cases: tuple[DeviceCase, ...]
    """The devices, the digital reference first."""
    stages: int = 3
    """M: layers (and pipeline stages)."""
    width: int = 32
    """Hidden units per hidden layer."""
    micro_batch_size: int = 8
    """b: samples per micro-batch."""
    mini_batch: int = 8
    """B: micro-batches per SP update."""
    learning_rate: float = 0.02
    """α per AP update (one micro-batch); SP uses B·α."""
    tail_fraction: float = 0.5
    """The plateau is the mean over the last `tail_fraction` of the updates."""
    variance_points: int = 4
    """Tail reference points at which σ² is measured (evenly spaced, the last included)."""

    def learning_rate_of(self, schedule: str) -> float:
        """α for AP, B·α for SP (the same step per sample)."""
        return self.learning_rate * self.micro_batches_per_update(schedule)

    def micro_batches_per_update(self, schedule: str) -> int:
        """1 for AP, B for SP."""
        return 1 if schedule == "ap" else self.mini_batch

    def as_dict(self) -> dict:
        values = {field.name: getattr(self, field.name) for field in dataclasses.fields(self) if field.name != "cases"}
        values["cases"] = [case.as_dict() for case in self.cases]
        return values


TAU = 1.0
"""τ of every analog device."""
SOFTBOUNDS = (("tau", TAU), ("exponent", 2.0), ("gamma_up", 1.2), ("gamma_down", 0.8))
"""The non-linear, asymmetric response-function device (and every pulsed device's mean model)."""


def device_cases(quick: bool) -> tuple[DeviceCase, ...]:
    """Digital, ALD, softbounds, and the pulsed device at two pulse sizes, with c2c and with d2d
    (quick: one pulse size, then c2c and d2d together)."""
    cases = [
        DeviceCase("digital", "digital"),
        DeviceCase("ALD", "ald", (("tau", TAU),)),
        DeviceCase("softbounds p=2", "softbounds", SOFTBOUNDS),
    ]
    if quick:
        cases.append(DeviceCase("pulsed dw=0.002 c2c=0.3 d2d=0.3", "pulsed", SOFTBOUNDS + (("dw_min", 0.002), ("c2c", 0.3), ("d2d", 0.3))))
        return tuple(cases)
    for dw_min in (0.0005, 0.002):
        cases.append(DeviceCase(f"pulsed dw={dw_min:g}", "pulsed", SOFTBOUNDS + (("dw_min", dw_min),)))
    cases.append(DeviceCase("pulsed dw=0.002 c2c=0.3", "pulsed", SOFTBOUNDS + (("dw_min", 0.002), ("c2c", 0.3))))
    cases.append(DeviceCase("pulsed dw=0.002 d2d=0.3", "pulsed", SOFTBOUNDS + (("dw_min", 0.002), ("d2d", 0.3))))
    return tuple(cases)


def devices_config(quick: bool, seeds: int | None = None, seed: int = 0) -> DevicesConfig:
    """Full: 5 seeds, 6 epochs, seven devices; quick: 2 seeds, 2 epochs, four devices."""
    default_seeds, epochs = (2, 2) if quick else (5, 6)
    return DevicesConfig(quick=quick, seed=seed, seeds=default_seeds if seeds is None else seeds, epochs=epochs, cases=device_cases(quick))


# ----------------------------------------------------------------------------- measurements


def gradient_statistics(weights, inputs: Array, labels: Array, micro_batch_size: int) -> tuple[Array, Array]:
    """(||∇f(W)||², σ²(W)) per replica on the samples given, cross-entropy loss.

    ∇f is the mean gradient over the samples; σ²(W) = E||∇f(W; ξ) − ∇f(W)||² for a micro-batch
    ξ of b rows drawn uniformly with replacement = (mean over the rows of ||g_i||² − ||∇f||²)/b,
    exactly, since a per-sample gradient is rank one per layer: ||δ a^T||_F² = ||δ||²||a||²."""
    forward_pass = network.forward(weights, inputs, TANH)
    targets = np.broadcast_to(labels, forward_pass.output.shape[:-1])
    deltas = network.backward(forward_pass, targets, weights, TANH, CROSS_ENTROPY)
    gradient = network.gradients_from_pass(forward_pass, deltas)
    square = sum(np.sum(g * g, axis=(-2, -1)) for g in gradient)
    per_sample = sum(np.sum(d * d, axis=-1) * np.sum(a * a, axis=-1) for d, a in zip(deltas, forward_pass.layer_inputs))
    variance = np.maximum(np.mean(per_sample, axis=-1) - square, 0.0) / micro_batch_size
    return square, variance


@dataclass
class _Run:
    accuracy: Array
    """[S] test accuracy after the last update."""
    plateau: Array
    """[S] mean of ||∇f(W^{(k)})||² over the tail."""
    variance: Array
    """[S] largest σ²(W) over the variance points."""
    max_abs_weight: Array
    """[S] W_max per seed (every version)."""
    forward_delay: list[int]
    backward_delay: list[int]
    updates: int


def train_case(config: DevicesConfig, case: DeviceCase, schedule: str, split: digits.DigitsSplit) -> _Run:
    """One (device, schedule) cell with the S seeds as replicas: the measurements of the module docstring."""
    seeds = tuple(config.seed + r for r in range(config.seeds))
    dims = digits.mlp_dims(config.stages, config.width)
    device = case.device()
    initial = seeded_initial_weights(dims, seeds, bound=TAU / 2)  # the same start for every device, inside every box
    per_update = config.micro_batches_per_update(schedule)
    per_epoch = digits.micro_batches_per_epoch(split.train_size, config.micro_batch_size, config.mini_batch)
    updates = per_epoch * config.epochs // per_update
    settings = TrainingSettings(
        schedule=schedule,
        device=device,
        learning_rate=config.learning_rate_of(schedule),
        updates=updates,
        activation=TANH,
        loss=CROSS_ENTROPY,
        micro_batch_size=config.micro_batch_size,
        mini_batch=per_update,
        seeds=seeds,
        sampling=IID,
    )
    data = Dataset(np.asarray(split.train_inputs), np.asarray(split.train_labels))
    every = config.mini_batch // per_update  # a reference point at every mini-batch boundary
    first = int(math.ceil(updates * (1 - config.tail_fraction) / every)) * every
    tail = list(range(first, updates + 1, every))
    variance_at = {tail[int(i)] for i in np.linspace(0, len(tail) - 1, min(config.variance_points, len(tail))).round()}
    squares = np.full((len(tail), len(seeds)), np.nan)
    variance = np.full(len(seeds), -np.inf)
    final: list = []
    position = {k: i for i, k in enumerate(tail)}

    def on_point(k: int, weights) -> None:
        if k in variance_at:
            squares[position[k]], sampled = gradient_statistics(weights, split.train_inputs, split.train_labels, config.micro_batch_size)
            np.maximum(variance, sampled, out=variance)
        else:
            forward_pass = network.forward(weights, split.train_inputs, TANH)
            targets = np.broadcast_to(split.train_labels, forward_pass.output.shape[:-1])
            gradient = network.gradients_from_pass(forward_pass, network.backward(forward_pass, targets, weights, TANH, CROSS_ENTROPY))
            squares[position[k]] = sum(np.sum(g * g, axis=(-2, -1)) for g in gradient)
        if k == updates:
            final.append(tuple(weights))

    result = observed_train(initial, data, settings, tail, on_point)
    accuracy, _ = digits.evaluate(final[0], split.test_inputs, split.test_labels)
    return _Run(
        accuracy=np.asarray(accuracy, dtype=float),
        plateau=np.mean(squares, axis=0),
        variance=variance,
        max_abs_weight=np.asarray(result.max_abs_weight, dtype=float).reshape(len(seeds)),
        forward_delay=result.record.largest_forward_delay,
        backward_delay=result.record.largest_backward_delay,
        updates=updates,
    )


# ----------------------------------------------------------------------------- the prediction


def stationary_bound(config: DevicesConfig, case: DeviceCase, schedule: str, W_max: float, sigma2: float, X: float, delays: tuple[list[int], list[int]]) -> dict:
    """The floor 4 G_max² σ²/(B β²) and the theorem's right side as K → ∞ at the run's α
    (noise + floor + delay), with the hypotheses of MODEL.md §5 each checked on the run.

    β, q_max, G_max: `device.constants(W_max)` (the pulsed device: its softbounds mean model);
    L, G_vec, Γ: the lemmas with ω_m = W_max·sqrt(d_m d_{m−1}) ≥ ||W_m||_2 for every version,
    X the largest training input norm; c_D = q_max ||Γ (d^f ⊙ G_vec, d^b ⊙ G_vec)|| (0 for SP).
    Values are None where W_max ≥ τ (no constants exist)."""
    device = case.device()
    B = config.micro_batches_per_update(schedule)
    alpha = config.learning_rate_of(schedule)
    dims = digits.mlp_dims(config.stages, config.width)
    hypotheses = {
        "(A2) i.i.d. sampling": True,
        "(A4) W_max < tau": bool(W_max < device.tau),
        "deterministic update (the pulsed device is outside section 5)": device.name != "pulsed",
    }
    if not hypotheses["(A4) W_max < tau"]:
        return {"beta": None, "q_max": None, "G_max": None, "L": None, "c_D": None, "floor": None, "bound": None, "alpha": alpha, "B": B, "hypotheses": hypotheses}
    constants = device.constants(W_max)
    beta, q_max, G_max = (float(value) for value in constants)
    L_phi, S_phi = (float(value) for value in ACTIVATION_CONSTANTS[TANH.name])
    L_ell = float(LOSS_CONSTANTS[CROSS_ENTROPY.name])
    omega = np.array([W_max * math.sqrt(dims[m] * dims[m + 1]) for m in range(config.stages)])
    signal, G_ell, L = constants_for(omega, X, 0.0, L_phi, S_phi, L_ell, CROSS_ENTROPY.name)
    G_vec = np.asarray(signal.G_layers, dtype=float)
    Gamma = np.asarray(gamma_matrix(omega, X, L_phi, S_phi, L_ell, G_ell), dtype=float)
    forward_delay, backward_delay = (np.asarray(d, dtype=float) for d in delays)
    c_D = q_max * float(np.linalg.norm(Gamma @ np.concatenate([forward_delay * G_vec, backward_delay * G_vec]))) if schedule == "ap" else 0.0
    hypotheses["beta > 0"] = beta > 0
    hypotheses["alpha <= beta/(6 L q_max^2)"] = bool(alpha <= float(C.evaluate(C.step_size_bound(), {"beta": beta, "L": float(L), "q_max": q_max})))
    terms = C.rhs_terms(C.c_D, C.sigma**2 / C.B)
    values = {"alpha": alpha, "beta": beta, "q_max": q_max, "G_max": G_max, "L": float(L), "sigma": math.sqrt(sigma2), "B": float(B), "c_D": c_D}
    stationary = {name: float(C.evaluate(term, values)) for name, term in terms.items() if name != "descent"}
    return {
        "beta": beta, "q_max": q_max, "G_max": G_max, "L": float(L), "c_D": c_D, "alpha": alpha, "B": B,
        "floor": stationary["asymptotic_floor"],
        "bound": float(sum(stationary.values())),
        "bound_terms": stationary,
        "hypotheses": hypotheses,
    }


def row_verdict(plateau_per_seed: Array, bound: float | None, hypotheses: dict) -> tuple[str, list[str]]:
    """('error' | 'outside' | a `convergence_verdict` status, the failed hypotheses).

    A NaN or infinite plateau is an error, never 'holds'; a row whose hypotheses do not all
    hold gets no verdict ('outside', naming them); otherwise the plateau is judged against the
    bound as the theorem checks judge (violated only when the one-sided 99 % lower confidence
    bound of the mean over seeds exceeds it)."""
    values = np.asarray(plateau_per_seed, dtype=float)
    if values.size == 0 or not np.all(np.isfinite(values)) or bound is None or not math.isfinite(bound):
        return "error", [name for name, held in hypotheses.items() if not held]
    failed = [name for name, held in hypotheses.items() if not held]
    if failed:
        return "outside", failed
    status, _ = convergence_verdict(values, bound)
    return status, []


# ----------------------------------------------------------------------------- the experiment


def standard_error(values: Array) -> float | None:
    """Sample std / sqrt(n) over the finite values (None for fewer than two)."""
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    return float(np.std(finite, ddof=1) / math.sqrt(finite.size)) if finite.size > 1 else None


def run_devices(config: DevicesConfig, progress: Progress | None = None) -> dict:
    """Train every (device, schedule) with S seeds as replicas; return the summary (plain JSON data)."""
    if config.seeds < 2:
        raise ValueError(f"the standard error over seeds needs at least 2 seeds, got {config.seeds}")
    if not config.cases or config.cases[0].kind != REFERENCE:
        raise ValueError("the first device case must be the digital reference")
    split = digits.digits_split(config.seed)
    X = float(np.max(np.linalg.norm(split.train_inputs, axis=-1)))
    jobs = [(case, schedule) for case in config.cases for schedule in SCHEDULES]
    iterator: Iterable = jobs if progress is None else progress(jobs, len(jobs))
    runs = {(case.label, schedule): train_case(config, case, schedule, split) for case, schedule in iterator}

    rows = []
    for case in config.cases:
        for schedule in SCHEDULES:
            run = runs[case.label, schedule]
            reference = runs[config.cases[0].label, schedule]
            W_max = float(np.max(run.max_abs_weight))
            sigma2 = float(np.max(run.variance))
            prediction = stationary_bound(config, case, schedule, W_max, sigma2, X, (run.forward_delay, run.backward_delay))
            status, failed = row_verdict(run.plateau, prediction["bound"], prediction["hypotheses"])
            excess = run.plateau - reference.plateau
            rows.append(
                {
                    "device": case.label,
                    "kind": case.kind,
                    "schedule": schedule,
                    "updates": run.updates,
                    "final_accuracy": plain_list(run.accuracy),
                    "final_accuracy_summary": spread(run.accuracy),
                    "plateau": plain_list(run.plateau),
                    "plateau_summary": spread(run.plateau),
                    "plateau_standard_error": standard_error(run.plateau),
                    "excess_over_digital": plain_list(excess),
                    "excess_over_digital_summary": spread(excess),
                    "excess_standard_error": standard_error(excess),
                    "sigma2": sigma2,
                    "W_max": W_max,
                    "forward_delay": run.forward_delay,
                    "backward_delay": run.backward_delay,
                    **{key: value for key, value in prediction.items() if key != "hypotheses"},
                    "floor_over_excess": prediction["floor"] / float(np.mean(excess)) if prediction["floor"] is not None and np.mean(excess) > 0 else None,
                    "floor_above_excess": None if case.kind == REFERENCE or prediction["floor"] is None else bool(np.mean(excess) <= prediction["floor"]),
                    "hypotheses": prediction["hypotheses"],
                    "outside_hypotheses": failed,
                    "verdict": status,
                }
            )
    finite = all(
        row["plateau_summary"]["missing"] == 0 and all(v is not None for v in row["plateau"]) and all(v is not None for v in row["final_accuracy"])
        for row in rows
    )
    judged = [row for row in rows if row["verdict"] not in ("outside",)]
    return {
        "experiment": "devices",
        "config": config.as_dict(),
        "data": split.describe(),
        "design": {
            "dims": digits.mlp_dims(config.stages, config.width),
            "sampling": "i.i.d.: every micro-batch draws b rows uniformly with replacement (numerics.data.IID), seed per replica",
            "learning_rate": {schedule: config.learning_rate_of(schedule) for schedule in SCHEDULES},
            "micro_batches_per_update": {schedule: config.micro_batches_per_update(schedule) for schedule in SCHEDULES},
            "plateau": f"mean of ||grad f(W^(k))||^2 (full training split) over the last {config.tail_fraction:g} of the updates, at every mini-batch boundary",
            "excess": "plateau minus the digital run's plateau, same seed and schedule",
            "sigma2": "largest sampling variance of a micro-batch gradient, tr Cov / b exactly from per-sample gradients, over the variance points of the tail and the seeds",
            "floor": "4 G_max^2 sigma^2 / (B beta^2), beta and G_max from device.constants(W_max) (pulsed: its softbounds mean model)",
            "bound": "noise + floor + delay terms of the theorem (K -> infinity at the run's alpha), L and Gamma from the lemmas with omega_m = W_max sqrt(d_m d_{m-1})",
            "seeds": [config.seed + r for r in range(config.seeds)],
            "standard_error": "sample std over seeds / sqrt(S)",
        },
        "rows": rows,
        "checks": {
            "every_measurement_finite": finite,
            "no_violation": all(row["verdict"] != "violated" for row in judged),
            "no_error": all(row["verdict"] != "error" for row in rows),
            "floor_above_excess_everywhere": all(row["floor_above_excess"] is not False for row in rows),
            "rows_outside_hypotheses": [f"{row['device']} / {row['schedule']}: {', '.join(row['outside_hypotheses'])}" for row in rows if row["verdict"] == "outside"],
        },
    }


# ----------------------------------------------------------------------------- lookups, figure, table


def find(rows: list[dict], **keys) -> dict:
    """The row whose entries equal `keys`."""
    for row in rows:
        if all(row.get(key) == value for key, value in keys.items()):
            return row
    raise KeyError(f"no row with {keys}")


_COLOURS = {"ap": "tab:red", "sp": "tab:blue"}
_OFFSETS = {"ap": -0.12, "sp": 0.12}


def devices_figure(summary: dict) -> Figure:
    """Left: final test accuracy per device (mean ± std over seeds, AP and SP). Right, log
    scale: the measured plateau and the excess over digital (mean ± standard error) beside the
    predicted floor 4 G_max² σ²/(B β²) per device. Drawn at two-column width
    (proofs_check.figures.DOUBLE_COLUMN) with paper-sized text."""
    from proofs_check.figures import DOUBLE_COLUMN, paper_style

    with paper_style(7.0):
        return _devices_figure(summary, DOUBLE_COLUMN)


def _devices_figure(summary: dict, width: float) -> Figure:
    labels = [case["label"] for case in summary["config"]["cases"]]
    positions = np.arange(len(labels), dtype=float)
    figure = Figure(figsize=(width, 0.48 * width), layout="constrained")
    accuracy_axes, floor_axes = figure.subplots(1, 2)
    for schedule in SCHEDULES:
        rows = [find(summary["rows"], device=label, schedule=schedule) for label in labels]
        colour = _COLOURS[schedule]
        x = positions + _OFFSETS[schedule]
        accuracy_axes.errorbar(x, [r["final_accuracy_summary"]["mean"] for r in rows], yerr=[r["final_accuracy_summary"]["std"] for r in rows], linestyle="none", marker="o", markersize=3.5, color=colour, capsize=2, elinewidth=0.8)
        plateau = np.array([r["plateau_summary"]["mean"] for r in rows], dtype=float)
        floor_axes.errorbar(x, plateau, yerr=[r["plateau_standard_error"] or 0.0 for r in rows], linestyle="none", marker="o", markersize=3.5, color=colour, capsize=2, elinewidth=0.8, label=f"{schedule.upper()} plateau (measured)")
        excess = np.array([r["excess_over_digital_summary"]["mean"] for r in rows[1:]], dtype=float)
        keep = excess > 0
        floor_axes.errorbar(x[1:][keep], excess[keep], yerr=np.array([r["excess_standard_error"] or 0.0 for r in rows[1:]])[keep], linestyle="none", marker="s", markersize=3.5, markerfacecolor="none", color=colour, capsize=2, elinewidth=0.8, label=f"{schedule.upper()} excess over digital (measured)")
        predicted = np.array([np.nan if r["floor"] is None else r["floor"] for r in rows[1:]], dtype=float)
        floor_axes.plot(x[1:], predicted, linestyle="none", marker="_", markersize=10, markeredgewidth=1.6, color=colour, label=f"{schedule.upper()} predicted floor 4G²σ²/(Bβ²)")
    for axes in (accuracy_axes, floor_axes):
        axes.set_xticks(positions)
        axes.set_xticklabels(labels, rotation=20, ha="right", fontsize=6)
        axes.grid(alpha=0.3)
    accuracy_axes.set_ylabel("final test accuracy")
    accuracy_axes.set_title(f"digits MLP, M = {summary['config']['stages']}: final accuracy\n(mean ± std over {summary['config']['seeds']} seeds)")
    floor_axes.set_yscale("log")
    floor_axes.set_ylabel("||∇f||² (log scale)")
    floor_axes.set_title("measured floor (mean ± s.e.)\nbeside MODEL's 4 G_max² σ²/(B β²)")
    figure.legend(*floor_axes.get_legend_handles_labels(), loc="outside lower center", ncol=3, frameon=False, columnspacing=1.2)
    return figure


def _scaled(mean: float | None, error: float | None, scale: float) -> str:
    """mean ± error in units of `scale` (two decimals), '--' when missing."""
    if mean is None:
        return "--"
    text = f"{mean / scale:.2f}"
    return f"${text}\\pm{error / scale:.2f}$" if error is not None else f"${text}$"


def _short(value: float | None) -> str:
    """Three significant digits in math mode ('--' when missing)."""
    return "--" if value is None else latex.number(float(value), 3)


def devices_table(summary: dict) -> str:
    """Per device and schedule: final accuracy, plateau ± s.e., excess over digital ± s.e.,
    σ², W_max, predicted floor, and the verdict against the whole bound."""
    config = summary["config"]
    failing = sorted({name for row in summary["rows"] for name in row["outside_hypotheses"]})
    outside_count = sum(row["verdict"] == "outside" for row in summary["rows"])
    body = []
    for row in summary["rows"]:
        body.append(
            [
                latex.escape(row["device"]),
                latex.escape(row["schedule"].upper()),
                f"${row['final_accuracy_summary']['mean']:.3f}$",
                _scaled(row["plateau_summary"]["mean"], row["plateau_standard_error"], 1e-2),
                "--" if row["kind"] == REFERENCE else _scaled(row["excess_over_digital_summary"]["mean"], row["excess_standard_error"], 1e-2),
                _short(row["sigma2"]),
                f"${row['W_max']:.2f}$",
                _short(row["floor"]),
                latex.escape(row["verdict"]),
            ]
        )
    caption = (
        f"Devices on the digits MLP ($M={config['stages']}$, {config['epochs']} epochs, {config['seeds']} seeds, i.i.d.\\ sampling, $b={config['micro_batch_size']}$; "
        f"AP $\\alpha={config['learning_rate']}$ per micro-batch, SP $B\\alpha$ per mini-batch of $B={config['mini_batch']}$). "
        f"Final test accuracy (mean over seeds); plateau: mean of $\\|\\nabla f\\|^2$ over the last {config['tail_fraction']:g} of the updates, and its excess over digital SGD on the same seeds "
        "(mean $\\pm$ standard error over seeds); $\\sigma^2$ the measured sampling variance of a micro-batch gradient; $W_{\\max}$ the largest $|w|$; "
        "predicted floor $4G_{\\max}^2\\sigma^2/(B\\beta^2)$ (pulsed: its softbounds mean model). Verdict against the theorem's whole right side as $K\\to\\infty$; "
        f"outside: a hypothesis fails ({outside_count} of {len(summary['rows'])} rows; failing: {latex.escape('; '.join(failing)) or 'none'})."
    )
    header = ["device", "sched.", "acc.", r"plateau ($10^{-2}$)", r"excess ($10^{-2}$)", r"$\sigma^2$", r"$W_{\max}$", "floor", "verdict"]
    text = latex.table(header, body, caption, "tab:devices", r"p{2.4cm}lrrrrrrl")
    return text.replace("\\centering\n", "\\centering\n\\scriptsize\n\\setlength{\\tabcolsep}{3pt}\n", 1)

"""Simulator traces, and their view as lemma instances (every update of a run at once).

A trace keeps every weight version W_m^{(k)}, the gradient g̃_k each update applied and the
versions its passes read. Each lemma builds its own instance from a `TraceView` (its `from_trace`). Instance-level
quantities (ω, X, Y) are measured per instance where the lemma is about a single pass;
the lemmas whose bound covers other updates (increments, delays) use trace-level bounds:
ω_m the largest ||W_m^{(k)}||_2 over the run, X and Y the largest norms over the data,
W_max the largest |w| over the run.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Iterable

import numpy as np

from numerics import network
from numerics.activations import ACTIVATIONS
from numerics.data import CYCLIC, Dataset, Sampling, initial_weights, teacher_student
from numerics.devices import Device, DigitalDevice, device_label, initial_bound
from numerics.losses import LOSSES
from numerics.replicas import replica, stack_replicas
from numerics.schedules import schedule_named
from numerics.training import TrainingResult, TrainingSettings, train
from proofs_check.instances import Instance
from proofs_check.library import REGISTRY, Lemma

Array = np.ndarray


@dataclass(frozen=True)
class TraceSetting:
    """One built-in simulation whose trace the lemmas are checked on."""

    schedule: str
    """A name of numerics.schedules.SCHEDULES: single, wop, sp, 1f1b, ap, pipedream, 2bw."""
    dims: tuple[int, ...]
    """d_0, ..., d_M."""
    activation: str
    loss: str
    device: Device
    """The update rule (numerics.devices, with its settings): digital SGD, ALD, softbounds or
    pulsed, with a scalar τ. The lemmas read its constants (`Device.constants`)."""
    learning_rate: float
    updates: int
    micro_batch_size: int = 4
    mini_batch: int = 2
    samples: int = 64
    seed: int = 0
    sampling: Sampling = CYCLIC
    """How micro-batch j picks its rows (numerics.data; i.i.d. rows from the seed)."""
    saturation: float | None = None
    """Scale each layer's seeded initial weights so that its largest |w| is saturation·τ,
    instead of clipping them to ±τ/2: a run that starts near the device bound (a finite τ
    and 0 < saturation < 1)."""

    def __post_init__(self) -> None:
        if self.saturation is not None and not (0 < self.saturation < 1 and math.isfinite(self.device.tau)):
            raise ValueError(f"saturation needs 0 < saturation < 1 and a finite τ, got {self.saturation!r} with τ = {self.device.tau}")

    @property
    def label(self) -> str:
        dims = "-".join(map(str, self.dims))
        start = f" from {self.saturation:g}τ" if self.saturation is not None else ""
        sampling = "" if self.sampling == CYCLIC else f" {self.sampling.name} sampling"
        return f"{self.schedule} {self.device_label}{start} {self.activation}/{self.loss} {dims} seed {self.seed}{sampling}"

    @property
    def device_label(self) -> str:
        """The device's name and τ, and its other settings where they differ from the defaults: 'softbounds(τ=1) p=2 gamma_up=1.5'."""
        changed = [
            f"{field.name}={getattr(self.device, field.name):g}"
            for field in dataclasses.fields(self.device)
            if field.name != "tau" and getattr(self.device, field.name) != field.default and getattr(self.device, field.name) is not None
        ]
        return " ".join([device_label(self.device)] + changed)

    def initial_weights(self) -> tuple[Array, ...]:
        """W^{(0)} of the run."""
        if self.saturation is None:
            return initial_weights(list(self.dims), self.seed, bound=initial_bound(self.device))
        weights = initial_weights(list(self.dims), self.seed)
        return tuple(w * (self.saturation * self.device.tau / np.max(np.abs(w))) for w in weights)


@dataclass
class Trace:
    """A run with every version kept, and its data."""

    setting: TraceSetting
    data: Dataset
    result: TrainingResult
    extra: dict = field(default_factory=dict)


def simulate(setting: TraceSetting) -> Trace:
    """Run the setting's simulation on its seeded teacher–student task, keeping every version."""
    activation, loss = ACTIVATIONS[setting.activation], LOSSES[setting.loss]
    data = teacher_student(list(setting.dims), setting.samples, setting.seed, activation, loss)
    initial = setting.initial_weights()
    settings = _training_settings(setting, setting.device, (setting.seed,))
    return Trace(setting, data, train(initial, data, settings))


def _training_settings(setting: TraceSetting, device: Device, seeds: tuple[int, ...]) -> TrainingSettings:
    """The run of a setting with every version kept (the device and seeds may be per replica)."""
    return TrainingSettings(
        schedule=setting.schedule,
        device=device,
        learning_rate=setting.learning_rate,
        updates=setting.updates,
        activation=ACTIVATIONS[setting.activation],
        loss=LOSSES[setting.loss],
        micro_batch_size=setting.micro_batch_size,
        mini_batch=setting.mini_batch,
        seeds=seeds,
        keep_versions=True,
        sampling=setting.sampling,
    )


def replica_groups(settings: list[TraceSetting]) -> list[list[int]]:
    """The indices of the settings that run together as replicas of one batched run: those
    that differ only in device and seed (in order of first appearance)."""
    groups: dict[tuple, list[int]] = {}
    for index, setting in enumerate(settings):
        # all but device and seed: the device's replica family decides (Device.replica_family)
        key = (dataclasses.replace(setting, device=DigitalDevice(), seed=0, saturation=None), setting.device.replica_family(), setting.saturation)
        groups.setdefault(key, []).append(index)
    return list(groups.values())


def simulate_all(settings: list[TraceSetting]) -> list[Trace]:
    """`simulate` of every setting; settings that differ only in device and seed run as
    replicas of one batched run of ALD with one τ per replica (numerics.replicas): digital
    SGD is ALD with τ = ∞, whose update W − αg − 0 equals W − αg. Every trace equals its
    unbatched `simulate` (tests/proofs_check/test_traces.py)."""
    traces: list[Trace | None] = [None] * len(settings)
    for members in replica_groups(settings):
        for index, trace in zip(members, simulate_group([settings[i] for i in members])):
            traces[index] = trace
    return traces


def simulate_group(group: list[TraceSetting]) -> list[Trace]:
    """The traces of one replica group (`replica_groups`), in order, from one batched run."""
    if len(group) == 1:
        return [simulate(group[0])]
    first = group[0]
    activation, loss = ACTIVATIONS[first.activation], LOSSES[first.loss]
    tasks = [teacher_student(list(s.dims), s.samples, s.seed, activation, loss) for s in group]
    initial = stack_replicas([s.initial_weights() for s in group])
    device = first.device.batch_replicas([s.device for s in group])  # bound per replica with each seed by the loop
    settings = _training_settings(first, device, tuple(s.seed for s in group))
    data = Dataset(np.stack([t.inputs for t in tasks]), np.stack([t.targets for t in tasks]))
    result = train(initial, data, settings)
    return [Trace(setting, task, replica(result, r)) for r, (setting, task) in enumerate(zip(group, tasks))]


class TraceView:
    """A trace as the ingredients of lemma instances (batch axis: the updates k = 0..K−1).

    Each lemma builds its instance from these (`Lemma.from_trace`); they are computed once
    per trace and shared. Bounds that cover other updates than the one evaluated (ω, X, Y,
    W_max) are trace-level: the largest over the run and the data.
    """

    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        setting, result = trace.setting, trace.result
        self.layers = len(setting.dims) - 1
        self.updates = setting.updates
        self.k = np.arange(self.updates)
        self.synchronous = not schedule_named(setting.schedule).asynchronous
        """Every pass of update k read W^{(k)} (a schedule with a flush: no staleness)."""
        self.tau = setting.device.tau
        self.device = setting.device
        """The run's device (its settings and constants)."""
        self.deterministic_device = all(rule is self.device for rule in self.device.bind([(1, 1)], [setting.seed]))
        """The update is a function of (W, g, α) (every device but pulsed): the device lemmas
        (analog increment, box invariance, the delay lemmas' worst case) cover it."""
        rows = np.stack(result.update_rows)
        inputs, targets = trace.data.take(rows)
        self.common = dict(
            activation=setting.activation,
            loss=setting.loss,
            inputs=inputs,
            targets=targets,
            alpha=setting.learning_rate,
            tau=self.tau,
            device=self.device,
            origin=f"trace: {setting.label}",
            extra={"setting": setting.label, "batch": "update index k"},
        )
        """Fields every instance of the trace shares."""

    def versions(self, indices: Array) -> tuple[Array, ...]:
        """W_m^{(indices[k, m])} stacked over k, per layer ([K, d_m, d_{m−1}])."""
        return tuple(layer[np.asarray(indices[:, m], dtype=np.intp)] for m, layer in enumerate(self.trace.result.versions))

    @cached_property
    def current(self) -> tuple[Array, ...]:
        """W^{(k)}: the reference points."""
        return self.versions(np.repeat(self.k[:, None], self.layers, axis=1))

    @cached_property
    def following(self) -> tuple[Array, ...]:
        """W^{(k+1)}."""
        return self.versions(np.repeat(self.k[:, None] + 1, self.layers, axis=1))

    @cached_property
    def read_forward(self) -> tuple[Array, ...]:
        """The versions the forward passes of update k read, per layer."""
        return self.versions(self.trace.result.forward_versions)

    @cached_property
    def read_backward(self) -> tuple[Array, ...]:
        """The versions the backward MVMs of update k read, per layer."""
        return self.versions(self.trace.result.backward_versions)

    @cached_property
    def applied(self) -> tuple[Array, ...]:
        """g̃_k: the gradient update k applied, per layer."""
        return tuple(self.trace.result.applied_gradients)

    @cached_property
    def bounds(self) -> dict:
        """Trace-level ω (tiled per update), X, Y and W_max."""
        trace = self.trace
        omega = np.array([float(np.max(np.linalg.norm(layer, 2, axis=(-2, -1)))) for layer in trace.result.versions])  # one SVD call per layer
        X = float(np.max(np.linalg.norm(trace.data.inputs, axis=-1)))
        if LOSSES[trace.setting.loss].integer_targets:
            Y = 1.0
        else:
            Y = float(np.max(np.linalg.norm(trace.data.targets, axis=-1)))
        W_max = float(max(np.max(np.abs(layer)) for layer in trace.result.versions))
        return {"omega": np.tile(omega, (self.updates, 1)), "X": X, "Y": Y, "W_max": W_max}

    @cached_property
    def delay_window(self) -> dict:
        """The fields of a delay instance: the window of versions W^{(k−n+1)}..W^{(k)} per
        update (n = 1 + the largest measured delay), and the measured delays d^f, d^b."""
        result = self.trace.result
        forward_delays = self.k[:, None] - result.forward_versions
        backward_delays = self.k[:, None] - result.backward_versions
        window = int(max(forward_delays.max(), backward_delays.max(), 0)) + 1
        offsets = np.arange(-window + 1, 1)
        history_indices = np.clip(self.k[:, None] + offsets[None, :], 0, None)
        history = tuple(layer[history_indices] for layer in result.versions)
        return dict(history=history, forward_delays=forward_delays, backward_delays=backward_delays)


def trace_instances(trace: Trace, lemmas: Iterable[Lemma] | None = None) -> dict[str, Instance]:
    """Every registered lemma's (or the given lemmas') batched instance on the trace, by id."""
    view = TraceView(trace)
    instances = {}
    for lemma in REGISTRY if lemmas is None else lemmas:
        instance = lemma.from_trace(view)
        if instance is not None:
            instances[lemma.id] = instance
    return instances


def replayed_updates_match(trace: Trace) -> bool:
    """Consistency of the trace with the device rule: W^{(k+1)} = update(W^{(k)}, g̃_k), bit for bit."""
    setting, result = trace.setting, trace.result
    for layer, gradients in zip(result.versions, result.applied_gradients):
        for k, gradient in enumerate(gradients):
            if not np.array_equal(setting.device.update(layer[k], gradient, setting.learning_rate), layer[k + 1]):
                return False
    return True


def recomputed_gradients_match(trace: Trace) -> float:
    """Largest |g̃_k − mixed-pass gradient recomputed from the recorded versions| (noise-free traces).

    Every update at once: the versions update k read, stacked over k, against its B micro-batches'
    samples [K, B, b, ...] (one BLAS call per update and micro-batch, as one at a time); the B
    gradients are summed in the order of a plain loop, (((0 + g_1) + g_2) + …) + g_0, then / B."""
    setting, result = trace.setting, trace.result
    activation, loss = ACTIVATIONS[setting.activation], LOSSES[setting.loss]
    per_update = schedule_named(setting.schedule).micro_batches_per_update(setting.mini_batch)
    updates, layers = setting.updates, len(result.versions)
    if updates == 0:
        return 0.0
    forward = [result.versions[m][result.forward_versions[:, m]][:, None] for m in range(layers)]
    backward = [result.versions[m][result.backward_versions[:, m]][:, None] for m in range(layers)]
    rows = np.array([
        [trace.data.rows(k * per_update + j, setting.micro_batch_size, sampling=setting.sampling, seed=setting.seed) for j in range(per_update)]
        for k in range(updates)
    ])
    x, y = trace.data.take(rows)
    members = network.gradients(forward, x, y, activation, loss, backward_weights=backward)  # per layer [K, B, d_m, d_{m−1}]
    worst = 0.0
    for m in range(layers):
        if per_update > 1:
            recomputed = 0
            for j in range(1, per_update):
                recomputed = recomputed + members[m][:, j]
            recomputed = (recomputed + members[m][:, 0]) / per_update
        else:
            recomputed = members[m][:, 0]
        worst = max(worst, float(np.max(np.abs(recomputed - result.applied_gradients[m]))))
    return worst

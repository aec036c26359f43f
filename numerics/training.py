"""A training run: a schedule of MODEL.md §3 driving a device of §2 on the network of §1.

The run executes the scheduler's record slot by slot. F(j) at stage m reads stage m's
current weights and stores z_m (and a_m); B(j) at stage m forms δ_m from the stored
forward values and the vector passed down by stage m+1, forms the gradient δ_m a_{m-1}^T
(plus injected noise), and passes W_m^T δ_m down with the weights at the start of the
slot. Updates apply at the end of their slot with the mean of their micro-batches'
gradients. Weights may carry leading replica axes; every array operation then runs all
replicas at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

import numpy as np

from numerics import network
from numerics.activations import Activation
from numerics.data import NOISE_STREAM, Dataset, generator
from numerics.devices import Device
from numerics.losses import Loss
from numerics.schedules import BACKWARD, ScheduleRecord, build_schedule

Array = np.ndarray
Progress = Callable[[Iterable, int], Iterable]


@dataclass(frozen=True)
class TrainingSettings:
    """Everything that defines a training run except the data and initial weights."""

    schedule: str
    """One of 'single', 'wop', 'sp', 'ap' (MODEL.md §3)."""
    device: Device
    """The update rule: digital SGD or ALD (MODEL.md §2)."""
    learning_rate: float | Array
    """Step size α > 0 (an array of shape [R] gives one α per replica)."""
    updates: int
    """Number of updates K each layer receives."""
    activation: Activation
    """Hidden activation φ."""
    loss: Loss
    """Loss ℓ on the linear output."""
    micro_batch_size: int = 4
    """Samples b per micro-batch."""
    mini_batch: int = 4
    """Micro-batches B averaged per update by single, WOP and SP (AP always uses 1)."""
    noise: float = 0.0
    """σ: N(0, σ²) added to every entry of every micro-batch gradient."""
    seeds: tuple[int, ...] = (0,)
    """Seed of each replica's noise stream (one seed for an unbatched run)."""
    keep_versions: bool = False
    """Keep every weight version and every applied gradient (for lemma checks)."""

    @property
    def micro_batches_per_update(self) -> int:
        """B for the synchronous schedules, 1 for AP."""
        return 1 if self.schedule == "ap" else self.mini_batch

    @property
    def micro_batches(self) -> int:
        """J = K·B micro-batches in total."""
        return self.updates * self.micro_batches_per_update


@dataclass
class TrainingResult:
    """What a run produced and what it read."""

    final_weights: tuple[Array, ...]
    """W_1..W_M after the last update."""
    reference_loss: Array
    """f(W^{(k)}; ξ_k) for k < K: the update's samples at its reference point, [..., K]."""
    forward_versions: Array
    """Version of layer m read by the forward passes of update k's micro-batches, [K, M]."""
    backward_versions: Array
    """Version of layer m read by the backward passes of update k's micro-batches, [K, M]."""
    max_abs_weight: Array
    """max_k ||W^{(k)}||_inf over the run (every version of every layer), per replica."""
    record: ScheduleRecord
    """The scheduler's record the run executed."""
    versions: list[list[Array]] | None = None
    """versions[m][k] = W_{m+1}^{(k)}, k = 0..K (when kept)."""
    applied_gradients: list[list[Array]] | None = None
    """applied_gradients[m][k]: the gradient g̃_k of layer m+1 that update k applied (when kept)."""
    update_rows: list[Array] = field(default_factory=list)
    """Dataset rows ξ_k of each update (the union of its micro-batches, in order)."""


def per_replica(value: float | Array, lead_shape: tuple[int, ...]) -> float | Array:
    """A scalar unchanged; an array of shape `lead_shape` reshaped to broadcast over [d_m, d_{m-1}]."""
    array = np.asarray(value, dtype=float)
    if array.ndim == 0:
        return float(array)
    if array.shape != lead_shape:
        raise ValueError(f"per-replica value has shape {array.shape}, expected {lead_shape}")
    return array.reshape(lead_shape + (1, 1))


class _GradientNoise:
    """Seeded N(0, σ²) noise per (replica, micro-batch), independent of the schedule's order."""

    def __init__(self, sigma: float, seeds: Sequence[int], lead_shape: tuple[int, ...], shapes: Sequence[tuple]) -> None:
        self.sigma = sigma
        self.seeds = seeds
        self.lead_shape = lead_shape
        self.shapes = shapes
        self.cache: dict[int, list[Array]] = {}

    def draw(self, micro_batch: int, layer_index: int) -> Array | float:
        if self.sigma == 0.0:
            return 0.0
        if micro_batch not in self.cache:
            per_replica_draws = []
            for seed in self.seeds:
                rng = generator(seed, NOISE_STREAM, micro_batch)
                per_replica_draws.append([rng.standard_normal(shape) for shape in self.shapes])
            if self.lead_shape:
                layers = [np.stack([draws[i] for draws in per_replica_draws]) for i in range(len(self.shapes))]
            else:
                layers = per_replica_draws[0]
            self.cache[micro_batch] = [self.sigma * noise for noise in layers]
        noise = self.cache[micro_batch][layer_index]
        if layer_index == 0:
            del self.cache[micro_batch]
        return noise


def train(
    initial: Sequence[Array],
    data: Dataset,
    settings: TrainingSettings,
    progress: Progress | None = None,
) -> TrainingResult:
    """Run `settings.schedule` for K updates from `initial` on `data`.

    `initial[m]` has shape [..., d_{m+1}, d_m]; leading axes are replicas (the data may
    carry the same leading axes or none). `progress`, if given, wraps the slot loop.
    """
    layers = len(initial)
    lead_shape = tuple(initial[0].shape[:-2])
    if len(settings.seeds) != max(1, int(np.prod(lead_shape))):
        raise ValueError(f"{len(settings.seeds)} noise seeds for replica shape {lead_shape}")
    record = build_schedule(settings.schedule, layers, settings.micro_batches, settings.micro_batches_per_update)
    learning_rate = per_replica(settings.learning_rate, lead_shape)
    activation, loss, device = settings.activation, settings.loss, settings.device
    per_update = settings.micro_batches_per_update

    weights = [np.array(w, dtype=float, copy=True) for w in initial]
    noise = _GradientNoise(settings.noise, settings.seeds, lead_shape, [w.shape[-2:] for w in weights])
    micro_batch_rows = [data.rows(j, settings.micro_batch_size) for j in range(settings.micro_batches)]
    update_rows = [np.concatenate(micro_batch_rows[k * per_update : (k + 1) * per_update]) for k in range(settings.updates)]

    layer_inputs: dict[tuple[int, int], Array] = {}
    pre_activations: dict[tuple[int, int], Array] = {}
    passed_down: dict[tuple[int, int], Array] = {}
    gradients: dict[tuple[int, int], Array] = {}

    kept_versions = [[w.copy()] for w in weights] if settings.keep_versions else None
    applied_gradients: list[list[Array]] | None = [[] for _ in weights] if settings.keep_versions else None
    pending_versions: list[dict[int, Array]] = [{0: w.copy()} for w in weights]
    version_count = [0] * layers
    reference_loss = np.zeros(lead_shape + (settings.updates,))
    next_reference = 0
    max_abs_weight = np.max([np.max(np.abs(w), axis=(-1, -2)) for w in weights], axis=0)

    def evaluate_ready_reference_points() -> None:
        nonlocal next_reference
        while next_reference < settings.updates and all(next_reference in pending for pending in pending_versions):
            point = [pending.pop(next_reference) for pending in pending_versions]
            x, y = data.take(update_rows[next_reference])
            reference_loss[..., next_reference] = network.mean_loss(point, x, y, activation, loss)
            next_reference += 1

    evaluate_ready_reference_points()
    slots = zip(record.operations_by_slot(), record.updates_by_slot())
    if progress is not None:
        slots = progress(slots, record.slots)
    for operations, update_events in slots:
        for op in operations:
            index, j = op.layer - 1, op.micro_batch
            weight = weights[index]
            if op.kind == BACKWARD:
                if index == layers - 1:
                    _, y = data.take(micro_batch_rows[j])
                    delta = network.output_delta(pre_activations.pop((j, index)), y, loss)
                else:
                    delta = network.hidden_delta(pre_activations.pop((j, index)), passed_down.pop((j, index)), activation)
                gradients[(j, index)] = network.weight_gradient(delta, layer_inputs.pop((j, index))) + noise.draw(j, index)
                if index > 0:
                    passed_down[(j, index - 1)] = network.backpropagate(weight, delta)
            else:
                if index == 0:
                    a, _ = data.take(micro_batch_rows[j])
                    a = np.broadcast_to(a, lead_shape + a.shape[-2:]) if lead_shape and a.ndim == 2 else a
                else:
                    a = activation.function(pre_activations[(j, index - 1)])
                layer_inputs[(j, index)] = a
                pre_activations[(j, index)] = network.layer_forward(weight, a)
        for event in update_events:
            index = event.layer - 1
            members = [gradients.pop((j, index)) for j in event.micro_batches]
            gradient = members[0] if len(members) == 1 else sum(members[1:], members[0]) / len(members)
            weights[index] = device.update(weights[index], gradient, learning_rate)
            version_count[index] += 1
            max_abs_weight = np.maximum(max_abs_weight, np.max(np.abs(weights[index]), axis=(-1, -2)))
            if version_count[index] < settings.updates:
                pending_versions[index][version_count[index]] = weights[index].copy()
            if kept_versions is not None:
                kept_versions[index].append(weights[index].copy())
                applied_gradients[index].append(gradient)
        if update_events:
            evaluate_ready_reference_points()

    forward_versions, backward_versions = record.versions_read
    first_of_update = np.arange(settings.updates) * per_update
    return TrainingResult(
        final_weights=tuple(weights),
        reference_loss=reference_loss,
        forward_versions=forward_versions[first_of_update],
        backward_versions=backward_versions[first_of_update],
        max_abs_weight=max_abs_weight,
        record=record,
        versions=kept_versions,
        applied_gradients=applied_gradients,
        update_rows=update_rows,
    )

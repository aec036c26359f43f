"""A training run: a schedule of MODEL.md §3 driving a device of §2 on the network of §1.

The run executes the scheduler's record slot by slot. Every operation uses the version
of its layer's weights that the record says it read (numerics.schedules: the current
weights, the version F stashed for PipeDream, the previous group's for 2BW). F(j) at
stage m stores z_m (and a_m); B(j) at stage m forms δ_m from the stored forward values and
the vector passed down by stage m+1, forms the gradient δ_m a_{m-1}^T (plus injected
noise), and passes W_m^T δ_m down with the version it read. Updates apply at the end of
their slot with the mean of their micro-batches' gradients. The samples of micro-batch j are the rows the run's sampling rule picks for it
(`TrainingSettings.sampling`, numerics.data: cyclic windows by default, or i.i.d. rows drawn
from each replica's seed), read when F(j) enters stage 1 and B(j) leaves stage M. Weights may carry leading replica axes; every array operation then runs all
replicas at once (a stacked matmul is one BLAS call per replica with the same operands
and strides as the unbatched call, so a batched run is bit-identical to separate runs;
`numerics.replicas` builds replica stacks and splits large ones over threads).

A synchronous schedule (every read is the current version: single, wop, sp, 1f1b) gives the
same numbers whatever the order of its slots, so its runs compute an update at a time: the
B micro-batches of update k go through one stacked forward and backward pass at W^{(k)}
(`synchronous_update_order`), and the layers update in the record's order. The stacked
matmul makes one BLAS call per micro-batch and replica with the slot loop's operands, and the
micro-batch gradients are summed in the same order, so the numbers are the slot loop's, bit
for bit (tests/numerics/test_training.py).

The slot loop is written for many small problems: the schedule is compiled once per
(schedule, M, J, B) into plain tuples; weight versions are never copied (an update
writes a new version into a recycled buffer, and a version stays untouched while the
reference point or a later operation that needs it is pending); elementwise arithmetic runs in place in the
same order of operations as `numerics.devices` and `numerics.network`, so the numbers
are exactly those of the plain formulas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Iterable, Sequence

import numpy as np

from numerics import network
from numerics.activations import TANH, Activation
from numerics.data import CYCLIC, Dataset, Sampling, replica_labels  # noqa: F401 - replica_labels re-exported
from numerics.devices import Device
from numerics.losses import Loss
from numerics.schedules import BACKWARD, ScheduleRecord, build_schedule, schedule_named
from numerics.streams import generator

Array = np.ndarray
Progress = Callable[[Iterable, int], Iterable]


@dataclass(frozen=True)
class TrainingSettings:
    """Everything that defines a training run except the data and initial weights."""

    schedule: str
    """A name of numerics.schedules.SCHEDULES (MODEL.md §3): single, wop, sp, 1f1b, ap, pipedream, 2bw."""
    device: Device
    """The update rule (MODEL.md §2): bound to the layer shapes and seeds once per run
    (`Device.bind`), then applied with each layer's `update_into`. For a τ grid, an ALD
    whose tau is an array of shape [R, 1, 1] (one τ per replica)."""
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
    """Micro-batches B averaged per update (a mini-batch, or a 2bw group); the schedules that
    update per micro-batch (ap, pipedream) use 1."""
    noise: float = 0.0
    """σ: N(0, σ²) added to every entry of every micro-batch gradient."""
    seeds: tuple[int, ...] = (0,)
    """Seed of each replica's noise and sampling streams (one seed for an unbatched run)."""
    keep_versions: bool = False
    """Keep every weight version and every applied gradient (for lemma checks)."""
    sampling: Sampling = CYCLIC
    """How micro-batch j picks its rows (numerics.data: CYCLIC, the default, or IID; replica r
    draws with its seed `seeds[r]`)."""
    reference_losses: bool = True
    """Evaluate f(W^{(k)}; ξ_k) at every reference point (`TrainingResult.reference_loss`);
    False skips it (and holds no version for it) in runs that never read it."""

    @property
    def micro_batches_per_update(self) -> int:
        """B, or 1 for the schedules that update per micro-batch (ap, pipedream)."""
        return schedule_named(self.schedule).micro_batches_per_update(self.mini_batch)

    @property
    def micro_batches(self) -> int:
        """J = K·B micro-batches in total."""
        return self.updates * self.micro_batches_per_update


@dataclass
class TrainingResult:
    """What a run produced and what it read."""

    final_weights: tuple[Array, ...]
    """W_1..W_M after the last update."""
    reference_loss: Array | None
    """f(W^{(k)}; ξ_k) for k < K: the update's samples at its reference point, [..., K]
    (None when `TrainingSettings.reference_losses` is False)."""
    forward_versions: Array
    """Version of layer m read by the forward passes of update k's micro-batches, [K, M]."""
    backward_versions: Array
    """Version of layer m read by the backward passes of update k's micro-batches, [K, M]."""
    max_abs_weight: Array
    """max_k ||W^{(k)}||_inf over the run (every version of every layer), per replica."""
    record: ScheduleRecord
    """The scheduler's record the run executed (shared by runs with the same schedule, M, J, B)."""
    versions: list[Array] | None = None
    """versions[m][k] = W_{m+1}^{(k)}, k = 0..K (when kept): one array [K+1, ..., d_m, d_{m-1}]
    per layer, into which the run wrote each version as it made it."""
    applied_gradients: list[Array] | None = None
    """applied_gradients[m][k]: the gradient g̃_k of layer m+1 that update k applied (when
    kept), one array [K, ..., d_m, d_{m-1}] per layer."""
    update_rows: list[Array] = field(default_factory=list)
    """Dataset rows ξ_k of each update (the union of its micro-batches, in order): [B·b] shared
    by the replicas (cyclic sampling), or [..., B·b] with the replica axes (a seeded sampling)."""


def per_replica(value: float | Array, lead_shape: tuple[int, ...]) -> float | Array:
    """A scalar unchanged; an array of shape `lead_shape` reshaped to broadcast over [d_m, d_{m-1}]."""
    array = np.asarray(value, dtype=float)
    if array.ndim == 0:
        return float(array)
    if array.shape != lead_shape:
        raise ValueError(f"per-replica value has shape {array.shape}, expected {lead_shape}")
    return array.reshape(lead_shape + (1, 1))


# ----- the compiled schedule ---------------------------------------------------------------

Slot = tuple[
    tuple[tuple[bool, int, int, int], ...],
    tuple[tuple[int, tuple[int, ...], bool], ...],
    tuple[tuple[int, int], ...],
]


@lru_cache(maxsize=64)
def schedule_record(schedule: str, layers: int, micro_batches: int, mini_batch: int) -> ScheduleRecord:
    """The scheduler's record (`build_schedule`), cached: the record is immutable and depends on
    nothing else, so runs with the same schedule, M, J and B (every replica, every seed) share it."""
    return build_schedule(schedule, layers, micro_batches, mini_batch)


@lru_cache(maxsize=32)
def compiled_schedule(schedule: str, layers: int, micro_batches: int, mini_batch: int) -> tuple[ScheduleRecord, tuple[Slot, ...]]:
    """The scheduler's record and, per slot, plain tuples for the slot loop: its operations
    as (backward?, layer index, j, version read), its updates as (layer index, micro-batches,
    old version read later?), and the older versions (layer index, version) whose last
    reader ran in the slot. Cached like `schedule_record`.
    """
    record = schedule_record(schedule, layers, micro_batches, mini_batch)
    last_read: dict[tuple[int, int], int] = {}
    operations: list[list[tuple[bool, int, int, int]]] = [[] for _ in range(record.slots)]
    for op in record.operations:
        last_read[op.layer - 1, op.version] = op.slot
        operations[op.slot].append((op.kind == BACKWARD, op.layer - 1, op.micro_batch, op.version))
    updates: list[list[tuple[int, tuple[int, ...], bool]]] = [[] for _ in range(record.slots)]
    released: list[list[tuple[int, int]]] = [[] for _ in range(record.slots)]
    for event in record.updates:
        key = (event.layer - 1, event.index)
        slot = last_read.get(key, -1)
        updates[event.slot].append((event.layer - 1, event.micro_batches, slot > event.slot))
        if slot > event.slot:  # superseded before its last reader ran
            released[slot].append(key)
    slots = tuple((tuple(ops), tuple(events), tuple(keys)) for ops, events, keys in zip(operations, updates, released))
    return record, slots


@lru_cache(maxsize=64)
def synchronous_update_order(schedule: str, layers: int, micro_batches: int, mini_batch: int) -> tuple[int, ...] | None:
    """The layers in the order the compiled schedule updates them, when every F and B reads its
    layer's current version (all delays 0) and the schedule applies, for k = 0, 1, …, the k-th
    update of every layer (averaging exactly the micro-batches of update k) before any (k+1)-th,
    in the same layer order each time; otherwise None. With an order, the run's numbers do not
    depend on the order of the slots (a synchronous schedule: single, wop, sp, 1f1b)."""
    record = schedule_record(schedule, layers, micro_batches, mini_batch)
    forward_delays, backward_delays = record.delays
    if forward_delays.any() or backward_delays.any():
        return None  # (with every delay 0, no version is read after the update that replaces it)
    events = record.updates  # in the order the slot loop applies them
    if micro_batches % mini_batch or len(events) != layers * (micro_batches // mini_batch):
        return None
    order = tuple(event.layer - 1 for event in events[:layers])
    if sorted(order) != list(range(layers)):
        return None
    for position, event in enumerate(events):
        k = position // layers
        if event.layer - 1 != order[position % layers] or event.index != k or tuple(event.micro_batches) != tuple(range(k * mini_batch, (k + 1) * mini_batch)):
            return None
    return order


# ----- gradient noise ----------------------------------------------------------------------


class _GradientNoise:
    """Seeded N(0, σ²) noise per (replica, micro-batch), independent of the schedule's order.

    Replica r's noise for micro-batch j comes from its own generator, stream "noise" with
    key j of seed `seeds[r]` (numerics.streams), drawn layer by layer, exactly as an
    unbatched run with seed `seeds[r]` draws it; nothing is drawn when σ = 0.
    """

    def __init__(self, sigma: float, seeds: Sequence[int], lead_shape: tuple[int, ...], shapes: Sequence[tuple]) -> None:
        self.sigma = float(sigma)
        self.seeds = tuple(int(seed) for seed in seeds)
        self.lead_shape = lead_shape
        self.shapes = [tuple(shape) for shape in shapes]
        self.cache: dict[int, list[Array]] = {}

    def draw(self, micro_batch: int, layer_index: int) -> Array:
        """σ·N(0, 1) noise of one layer for micro-batch j, shape lead_shape + [d_m, d_{m-1}]."""
        layers = self.cache.get(micro_batch)
        if layers is None:
            layers = [np.empty(self.lead_shape + shape) for shape in self.shapes]
            flat = [noise.reshape((-1,) + shape) for noise, shape in zip(layers, self.shapes)]
            for r, seed in enumerate(self.seeds):
                rng = generator(seed, "noise", micro_batch)
                for noise in flat:
                    rng.standard_normal(out=noise[r])
            for noise in layers:
                np.multiply(noise, self.sigma, out=noise)
            self.cache[micro_batch] = layers
        noise = layers[layer_index]
        if layer_index == 0:
            del self.cache[micro_batch]
        return noise


def _hidden_delta(activation, stored: Array, passed: Array) -> Array:
    """δ_m = φ'(z_m) ⊙ passed, from what the forward pass kept: for tanh the output a = tanh(z)
    (φ' = 1 − a², no second tanh), for any other activation the pre-activation z."""
    if activation is TANH:
        delta = np.square(stored)
        np.subtract(1.0, delta, out=delta)
        np.multiply(delta, passed, out=delta)
        return delta
    return activation.derivative(stored) * passed


def _divide(array: Array, count: int) -> None:
    """array /= count in place. For a power of two, multiplying by the exact reciprocal
    2^-k gives the same correctly rounded real x/count, so the same bits, and is ~3x faster."""
    if count & (count - 1) == 0:
        np.multiply(array, 1.0 / count, out=array)
    else:
        np.divide(array, count, out=array)


# ----- the run -----------------------------------------------------------------------------


def train(
    initial: Sequence[Array],
    data: Dataset,
    settings: TrainingSettings,
    progress: Progress | None = None,
) -> TrainingResult:
    """Run `settings.schedule` for K updates from `initial` on `data`.

    `initial[m]` has shape [..., d_{m+1}, d_m]; leading axes are replicas (the data may
    carry the same leading axes or none). `progress`, if given, wraps the loop (over the slots,
    or over the updates of a synchronous schedule).
    """
    layers = len(initial)
    lead_shape = tuple(initial[0].shape[:-2])
    if len(settings.seeds) != max(1, int(np.prod(lead_shape))):
        raise ValueError(f"{len(settings.seeds)} noise seeds for replica shape {lead_shape}")
    per_update = settings.micro_batches_per_update
    record = schedule_record(settings.schedule, layers, settings.micro_batches, per_update)
    learning_rate = per_replica(settings.learning_rate, lead_shape)
    activation, loss, device = settings.activation, settings.loss, settings.device
    tanh = activation is TANH  # φ'(z) = 1 − tanh(z)² from the stored a = tanh(z): no second tanh
    b = settings.micro_batch_size
    updates = settings.updates
    keep = settings.keep_versions
    last = layers - 1

    weights = [np.array(w, dtype=float, copy=True) for w in initial]
    shapes = [w.shape for w in weights]
    rules = device.bind(shapes, settings.seeds)  # one update rule per layer (a stochastic device's draws)
    noise = _GradientNoise(settings.noise, settings.seeds, lead_shape, [s[-2:] for s in shapes]) if settings.noise != 0.0 else None
    # The samples of every micro-batch, by the run's sampling rule (replica r with seeds[r]).
    batches = settings.sampling.batches(data, b, settings.micro_batches, settings.seeds, lead_shape)
    update_rows = batches.update_rows(updates, per_update)

    # Per layer: stored forward values and gradients by micro-batch, free buffers of the
    # layer's weight shape (recycled weight versions, gradients), one scratch buffer.
    layer_inputs: list[dict[int, Array]] = [{} for _ in range(layers)]
    pre_activations: list[dict[int, Array]] = [{} for _ in range(layers)]
    outputs: list[dict[int, Array]] = [{} for _ in range(layers)]  # a_m = tanh(z_m), kept for φ'
    passed_down: list[dict[int, Array]] = [{} for _ in range(layers)]
    gradients: list[dict[int, Array]] = [{} for _ in range(layers)]
    free: list[list[Array]] = [[] for _ in range(layers)]
    scratch = [np.empty(shape) for shape in shapes]

    def buffer(index: int) -> Array:
        pool = free[index]
        return pool.pop() if pool else np.empty(shapes[index])

    # Kept versions: update k writes W^{(k+1)} into slot k + 1 of its layer's store (no copies;
    # a store slot is never recycled) and g̃_k into slot k of the gradient store.
    kept_versions = [np.empty((updates + 1,) + shape) for shape in shapes] if keep else None
    applied_gradients = [np.empty((updates,) + shape) for shape in shapes] if keep else None
    if keep:
        for index, store in enumerate(kept_versions):
            store[0] = weights[index]
            weights[index] = store[0]

    def recycle(index: int, version: Array) -> None:
        """Return a superseded version's buffer to the layer's pool (a kept version stays)."""
        if not keep:
            free[index].append(version)
    # Versions held for a reference point whose loss is still to be evaluated.
    reference_losses = settings.reference_losses
    pending_versions: list[dict[int, Array]] = [{0: w} if reference_losses else {} for w in weights]
    # Superseded versions that a later operation still reads (stashed, or a previous group's).
    older_versions: list[dict[int, Array]] = [{} for _ in weights]
    version_count = [0] * layers
    reference_loss = np.zeros(lead_shape + (updates,)) if reference_losses else None
    next_reference = 0
    axes = (-2, -1)
    # max_k ||W^{(k)}||_inf = max(largest entry, −smallest entry) over the versions: two
    # reductions per update and no |W| temporary (kept versions: two reductions at the end).
    largest: list = []
    smallest: list = []
    if not keep:
        largest = [np.array(np.maximum.reduce(w, axis=axes)) if lead_shape else np.maximum.reduce(w, axis=None) for w in weights]
        smallest = [np.array(np.minimum.reduce(w, axis=axes)) if lead_shape else np.minimum.reduce(w, axis=None) for w in weights]

    def evaluate_ready_reference_points() -> None:
        nonlocal next_reference
        while next_reference < updates and all(next_reference in pending for pending in pending_versions):
            point = [pending.pop(next_reference) for pending in pending_versions]
            x, y = batches.samples(next_reference * per_update, per_update)
            reference_loss[..., next_reference] = network.mean_loss(point, x, y, activation, loss)
            for index, version in enumerate(point):
                if version is not weights[index] and next_reference not in older_versions[index]:
                    recycle(index, version)
            next_reference += 1

    def track_range(index: int, version: Array) -> None:
        """Fold a new version into the layer's largest and smallest entries."""
        if lead_shape:
            np.maximum(largest[index], np.maximum.reduce(version, axis=axes), out=largest[index])
            np.minimum(smallest[index], np.minimum.reduce(version, axis=axes), out=smallest[index])
        else:  # one replica: scalars, compared in Python (NaN propagates as in np.maximum)
            high, low = np.maximum.reduce(version, axis=None), np.minimum.reduce(version, axis=None)
            if high > largest[index] or high != high:
                largest[index] = high
            if low < smallest[index] or low != low:
                smallest[index] = low

    def apply_update(index: int, gradient: Array, read_later: bool) -> None:
        """W_m ← U(W_m, g, α) with the layer's rule: the next version of layer `index`."""
        old = weights[index]
        count = version_count[index]
        if keep:
            new = kept_versions[index][count + 1]
            applied_gradients[index][count] = gradient
        else:
            # The old version may be overwritten unless a reference point or a later operation still needs it.
            new = buffer(index) if read_later or count in pending_versions[index] else old
        if read_later:
            older_versions[index][count] = old
        rules[index].update_into(old, gradient, learning_rate, new, scratch[index], spare_gradient=True)
        weights[index] = new
        version_count[index] += 1
        if not keep:  # kept versions: the range is taken over the store at the end
            track_range(index, new)
        if reference_losses and version_count[index] < updates:
            pending_versions[index][version_count[index]] = new
        if gradient.shape == shapes[index] and gradient.flags.c_contiguous:
            free[index].append(gradient)

    evaluate_ready_reference_points()
    update_order = synchronous_update_order(settings.schedule, layers, settings.micro_batches, per_update)
    if update_order is not None:
        # Every operation reads its layer's current version (a synchronous schedule), so the
        # values do not depend on the order of the slots: the B micro-batches of an update run
        # as one stacked pass (one BLAS call per micro-batch and replica, as in the slot loop,
        # and the gradients summed in the same order), then the layers update in the record's
        # order: bit for bit the slot loop's numbers and update calls.
        stacked = (lambda w: w[..., None, :, :]) if lead_shape else (lambda w: w)
        steps: Iterable[int] = range(updates)
        if progress is not None:
            steps = progress(steps, updates)
        for k in steps:
            first = k * per_update
            x, y = batches.samples(first, per_update)
            a = x.reshape(x.shape[:-2] + (per_update, b, x.shape[-1]))
            y = y.reshape(y.shape[:-1] + (per_update, b)) if loss.integer_targets else y.reshape(y.shape[:-2] + (per_update, b, y.shape[-1]))
            inputs_of = []
            pre_activation_of = []
            for index in range(layers):
                if index > 0:
                    a = np.tanh(pre_activation_of[-1]) if tanh else activation.function(pre_activation_of[-1])
                inputs_of.append(a)
                pre_activation_of.append(a @ stacked(weights[index]).swapaxes(-1, -2))
            passed = None
            layer_gradients: list[Array] = [None] * layers
            for index in reversed(range(layers)):
                if index == last:
                    delta = loss.gradient(pre_activation_of[index], y)
                else:
                    delta = _hidden_delta(activation, inputs_of[index + 1] if tanh else pre_activation_of[index], passed)
                per_micro_batch = np.matmul(delta.swapaxes(-1, -2), inputs_of[index])
                _divide(per_micro_batch, b)
                if noise is not None:
                    for i in range(per_update):
                        view = per_micro_batch[..., i, :, :]
                        np.add(view, noise.draw(first + i, index), out=view)
                if index > 0:
                    passed = delta @ stacked(weights[index])
                gradient = per_micro_batch[..., 0, :, :].copy()
                if per_update > 1:
                    for i in range(1, per_update):
                        np.add(gradient, per_micro_batch[..., i, :, :], out=gradient)
                    _divide(gradient, per_update)
                layer_gradients[index] = gradient
            for index in update_order:
                apply_update(index, layer_gradients[index], False)
            if reference_losses:
                evaluate_ready_reference_points()
    else:
        _, program = compiled_schedule(settings.schedule, layers, settings.micro_batches, per_update)
        slots: Iterable[Slot] = program
        if progress is not None:
            slots = progress(slots, record.slots)
        for operations, update_events, released in slots:
            for backward, index, j, version in operations:
                weight = weights[index] if version == version_count[index] else older_versions[index][version]
                if backward:
                    if index == last:
                        delta = loss.gradient(pre_activations[index].pop(j), batches.targets(j))
                    else:
                        stored = outputs[index].pop(j) if tanh else pre_activations[index].pop(j)
                        delta = _hidden_delta(activation, stored, passed_down[index].pop(j))
                    gradient = np.matmul(delta.swapaxes(-1, -2), layer_inputs[index].pop(j), out=buffer(index))
                    _divide(gradient, b)
                    if noise is not None:
                        np.add(gradient, noise.draw(j, index), out=gradient)
                    gradients[index][j] = gradient
                    if index > 0:
                        passed_down[index - 1][j] = delta @ weight
                else:
                    if index == 0:
                        a = batches.inputs(j)
                    else:
                        if tanh:
                            a = outputs[index - 1][j] = np.tanh(pre_activations[index - 1].pop(j))
                        else:
                            a = activation.function(pre_activations[index - 1][j])
                    layer_inputs[index][j] = a
                    pre_activations[index][j] = a @ weight.swapaxes(-1, -2)
            for index, version in released:
                old = older_versions[index].pop(version)
                if version not in pending_versions[index]:
                    recycle(index, old)
            for index, members, read_later in update_events:
                gradient = gradients[index].pop(members[0])
                if len(members) > 1:
                    for j in members[1:]:
                        other = gradients[index].pop(j)
                        np.add(gradient, other, out=gradient)
                        free[index].append(other)
                    _divide(gradient, len(members))
                apply_update(index, gradient, read_later)
            if update_events and reference_losses:
                evaluate_ready_reference_points()

    if keep:
        every_version = (0,) + axes if lead_shape else None
        largest = [np.maximum.reduce(store, axis=every_version) for store in kept_versions]
        smallest = [np.minimum.reduce(store, axis=every_version) for store in kept_versions]
    max_abs_weight = np.max([np.maximum(high, -low) for high, low in zip(largest, smallest)], axis=0)
    forward_versions, backward_versions = record.versions_read
    first_of_update = np.arange(updates) * per_update
    return TrainingResult(
        final_weights=tuple(w.copy() for w in weights) if keep else tuple(weights),  # not views of the store
        reference_loss=reference_loss,
        forward_versions=forward_versions[first_of_update],
        backward_versions=backward_versions[first_of_update],
        max_abs_weight=max_abs_weight,
        record=record,
        versions=kept_versions,
        applied_gradients=applied_gradients,
        update_rows=update_rows,
    )

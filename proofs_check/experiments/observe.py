"""Reference points W^{(k)} of a continuous training run, observed while it runs.

`numerics.training.train` keeps only the weight versions a pending reference point needs
(or all of them with `keep_versions`, too much memory for thousands of updates of many
replicas). The experiments need a few quantities at the reference point W^{(k)} =
(W_1^{(k)}, …, W_M^{(k)}) of many updates k (test accuracy, the full-data gradient) without
interrupting the pipeline: training in segments would drain an asynchronous pipeline at
every segment boundary, resetting its delays and adding 2(M − 1) fill-and-drain slots.

`ObservedDevice` wraps a device of `numerics.devices` and is passed to `train` as the
device. `train` applies every update through the device's `update_into`, which the wrapper
answers with the wrapped device's own `update` (MODEL.md §2's rule, the same formula in
the same order of operations as the wrapped device's `update_into`, so the numbers are
those of an unobserved run). It calls it once per `UpdateEvent` of the scheduler's
record, in the record's order; the wrapper maps the i-th call to (layer m, update index
k) from that record and so knows that the array it returns is W_m^{(k+1)}. When every
layer has reached version k of a requested reference point, `on_point(k, weights)` is
called with that tuple. `on_update(layer, k, new_weight, gradient)` (optional) sees every update.

`observed_train` runs `train` with the wrapper and checks afterwards that the wrapper saw
exactly the record's updates and that its last versions are `train`'s final weights bit for
bit, so a change in `train`'s update order cannot go unnoticed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

import numpy as np

from numerics.data import Dataset
from numerics.devices import Device
from numerics.schedules import ScheduleRecord
from numerics.training import Progress, TrainingResult, TrainingSettings, schedule_record, train

Array = np.ndarray
PointCallback = Callable[[int, tuple[Array, ...]], None]
UpdateCallback = Callable[[int, int, Array, Array], None]


def update_events(record: ScheduleRecord) -> list[tuple[int, int]]:
    """(layer index 0..M−1, update index k) of every update, in the order `train` applies them."""
    return [(event.layer - 1, event.index) for event in record.updates]


def completion_slots(record: ScheduleRecord) -> Array:
    """Slots elapsed when the reference point W^{(k)} is complete, for k = 0..K.

    Entry k is 1 + the last slot at whose end an update with index k − 1 is applied (every
    layer has then reached version k); entry 0 is 0. Measured from the record.
    """
    last = np.zeros(record.update_count, dtype=np.int64)
    for event in record.updates:
        last[event.index] = max(last[event.index], event.slot + 1)
    return np.concatenate([[0], np.maximum.accumulate(last)])


@dataclass
class ObservedDevice:
    """A device that reports reference points W^{(k)} (k in `points`) while `train` runs."""

    inner: Device
    """The device whose rule is applied (digital, or ALD with a scalar or per-replica τ)."""
    events: Sequence[tuple[int, int]]
    """(layer index, update index) of each update, in `train`'s order (`update_events`)."""
    layers: int
    points: frozenset[int]
    """Update counts k whose reference point W^{(k)} is reported (k ≥ 1; W^{(0)} is the initial weights)."""
    on_point: PointCallback
    on_update: UpdateCallback | None = None
    calls: int = 0
    rules: tuple = ()
    """The wrapped device's per-layer rules (`Device.bind`): the device itself for a deterministic
    device, one rule per layer holding its draws for a random one (the pulsed device)."""
    last: list = field(default_factory=list)
    """The latest version of every layer (for the final check)."""
    _pending: dict[int, list] = field(default_factory=dict)

    name = "observed"

    def __post_init__(self) -> None:
        self.last = [None] * self.layers

    @property
    def tau(self):
        """The wrapped device's τ."""
        return self.inner.tau

    def bind(self, shapes, seeds) -> tuple:
        """The Device protocol's binding: binds the wrapped device (its per-layer rules, drawn
        as an unobserved run draws them) and is itself every layer's rule (its calls are
        counted across layers and routed to the layer's rule)."""
        self.rules = tuple(self.inner.bind(shapes, seeds))
        return (self,) * len(shapes)

    def update(self, weight: Array, gradient: Array, learning_rate) -> Array:
        """The wrapped device's W⁺ (a new array, which `train` copies into its buffer)."""
        if self.calls >= len(self.events):
            raise RuntimeError("train applied more updates than its schedule record holds")
        layer, index = self.events[self.calls]
        new = (self.rules[layer] if self.rules else self.inner).update(weight, gradient, learning_rate)
        self.calls += 1
        if new.shape != weight.shape:
            raise RuntimeError(f"update {self.calls} changed the shape of layer {layer + 1}")
        self.last[layer] = new
        if self.on_update is not None:
            self.on_update(layer, index, new, gradient)
        version = index + 1
        if version in self.points:
            waiting = self._pending.setdefault(version, [None] * self.layers)
            waiting[layer] = new
            if all(w is not None for w in waiting):
                del self._pending[version]
                self.on_point(version, tuple(waiting))
        return new

    def update_into(self, weight: Array, gradient: Array, learning_rate, out: Array, scratch: Array, spare_gradient: bool = False) -> None:
        """out = update(W, g, α): the reported W⁺ is `update`'s own array, never `train`'s recycled buffer."""
        np.copyto(out, self.update(weight, gradient, learning_rate))


def observed_train(
    initial: Sequence[Array],
    data: Dataset,
    settings: TrainingSettings,
    points: Iterable[int],
    on_point: PointCallback,
    on_update: UpdateCallback | None = None,
    progress: Progress | None = None,
) -> TrainingResult:
    """`train(initial, data, settings)` in one continuous run, calling `on_point(k, W^{(k)})`
    for every k in `points` (k = 0 is called first with the initial weights).

    Raises RuntimeError if the wrapper did not see exactly the record's updates or if its
    last versions differ from `train`'s final weights in any bit.
    """
    layers = len(initial)
    record = schedule_record(settings.schedule, layers, settings.micro_batches, settings.micro_batches_per_update)
    points = frozenset(int(k) for k in points)
    if any(k < 0 or k > settings.updates for k in points):
        raise ValueError(f"reference points must lie in 0..{settings.updates}")
    if 0 in points:
        on_point(0, tuple(np.asarray(w, dtype=float) for w in initial))
    device = ObservedDevice(settings.device, update_events(record), layers, points - {0}, on_point, on_update)
    observed = dataclasses.replace(settings, device=device)
    result = train(initial, data, observed, progress=progress)
    if device.calls != len(device.events):
        raise RuntimeError(f"train applied {device.calls} updates, its record holds {len(device.events)}")
    if device._pending:
        raise RuntimeError(f"reference points {sorted(device._pending)} never completed")
    for m, (seen, final) in enumerate(zip(device.last, result.final_weights)):
        if seen is not None and not np.array_equal(seen, final):
            raise RuntimeError(f"the observed versions of layer {m + 1} differ from train's final weights")
    return result

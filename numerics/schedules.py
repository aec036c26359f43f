"""Slot-accurate pipeline scheduler for the four schedules of MODEL.md §3.

One scheduler runs every schedule slot by slot. In each slot every device (stage) runs at
most one operation, F(j) or B(j) of micro-batch j through one layer, chosen by the
schedule's rule among the operations whose inputs were produced in an earlier slot.
Updates are applied at the end of a slot. The record holds, for every operation, the
slot, device, layer, micro-batch and the version of the layer's weights it read; slots,
density and delays are measured from this record, never taken from closed forms.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

SCHEDULE_NAMES = ("single", "wop", "sp", "ap")

FORWARD = "F"
BACKWARD = "B"


@dataclass(frozen=True)
class Operation:
    """One operation in one slot."""

    slot: int
    """Slot index, from 0."""
    device: int
    """Device (stage) that runs it, 1..devices."""
    layer: int
    """Layer m it computes, 1..M (equal to the device in pipelined schedules)."""
    kind: str
    """'F' (forward) or 'B' (backward)."""
    micro_batch: int
    """Micro-batch index j, from 0."""
    version: int
    """Version of layer m's weights read: the number of updates applied to it before this slot."""


@dataclass(frozen=True)
class UpdateEvent:
    """An update of one layer, applied at the end of a slot."""

    slot: int
    """Slot at whose end the update is applied."""
    layer: int
    """Layer m updated, 1..M."""
    index: int
    """Update index k: the layer goes from version k to version k + 1."""
    micro_batches: tuple[int, ...]
    """Micro-batches whose gradients the update averages."""


@dataclass(frozen=True)
class ScheduleRecord:
    """Everything the scheduler did for J micro-batches on M layers."""

    schedule: str
    layers: int
    """M."""
    devices: int
    """Number of devices: M for the pipelined schedules, 1 for the single device."""
    micro_batches: int
    """J."""
    mini_batch: int
    """B: micro-batches per update (1 for AP)."""
    operations: tuple[Operation, ...]
    """All operations, in slot order."""
    updates: tuple[UpdateEvent, ...]
    """All updates, in slot order."""
    slots: int
    """Number of slots from the first operation to the last."""

    @property
    def busy_slots(self) -> int:
        """Busy device-slots."""
        return len(self.operations)

    @property
    def density(self) -> float:
        """Computation density: busy device-slots / (devices × slots)."""
        return self.busy_slots / (self.devices * self.slots)

    @property
    def update_count(self) -> int:
        """Number of updates K each layer receives."""
        return self.micro_batches // self.mini_batch

    def update_of(self, micro_batch: int) -> int:
        """Index k of the update that applies micro-batch j's gradient."""
        return micro_batch // self.mini_batch

    @cached_property
    def versions_read(self) -> tuple[np.ndarray, np.ndarray]:
        """Versions read by F(j) and B(j) at every layer: two read-only int arrays [J, M]
        (a record is shared between runs of the same schedule)."""
        forward_versions = np.full((self.micro_batches, self.layers), -1, dtype=np.int64)
        backward_versions = np.full((self.micro_batches, self.layers), -1, dtype=np.int64)
        for op in self.operations:
            target = forward_versions if op.kind == FORWARD else backward_versions
            target[op.micro_batch, op.layer - 1] = op.version
        forward_versions.setflags(write=False)
        backward_versions.setflags(write=False)
        return forward_versions, backward_versions

    @cached_property
    def delays(self) -> tuple[np.ndarray, np.ndarray]:
        """Measured forward and backward delays d^f, d^b [J, M]: update index − version read."""
        update_index = (np.arange(self.micro_batches) // self.mini_batch)[:, None]
        forward_versions, backward_versions = self.versions_read
        delays = update_index - forward_versions, update_index - backward_versions
        for array in delays:
            array.setflags(write=False)
        return delays

    @property
    def largest_forward_delay(self) -> list[int]:
        """Largest measured forward delay per layer, layer 1 first."""
        return [int(d) for d in self.delays[0].max(axis=0)]

    @property
    def largest_backward_delay(self) -> list[int]:
        """Largest measured backward delay per layer, layer 1 first."""
        return [int(d) for d in self.delays[1].max(axis=0)]

    def operations_by_slot(self) -> list[list[Operation]]:
        """Operations grouped by slot (an empty list for an idle slot)."""
        grouped: list[list[Operation]] = [[] for _ in range(self.slots)]
        for op in self.operations:
            grouped[op.slot].append(op)
        return grouped

    def updates_by_slot(self) -> list[list[UpdateEvent]]:
        """Update events grouped by the slot at whose end they apply."""
        grouped: list[list[UpdateEvent]] = [[] for _ in range(self.slots)]
        for event in self.updates:
            grouped[event.slot].append(event)
        return grouped


class _SchedulerState:
    """Progress of the slot loop: per layer, the next F and B to run and when each ran."""

    def __init__(self, layers: int, micro_batches: int) -> None:
        self.layers = layers
        self.micro_batches = micro_batches
        self.next_forward = [0] * (layers + 2)
        self.next_backward = [0] * (layers + 2)
        self.forward_slot = np.full((micro_batches, layers + 2), np.iinfo(np.int64).max, dtype=np.int64)
        self.backward_slot = np.full((micro_batches, layers + 2), np.iinfo(np.int64).max, dtype=np.int64)
        self.versions = [0] * (layers + 2)
        self.completed_updates = 0

    def forward_done_before(self, micro_batch: int, layer: int, slot: int) -> bool:
        return layer == 0 or self.forward_slot[micro_batch, layer] < slot

    def backward_done_before(self, micro_batch: int, layer: int, slot: int) -> bool:
        return self.backward_slot[micro_batch, layer] < slot

    def forwards_done_before(self, micro_batches: range, layer: int, slot: int) -> bool:
        return layer == 0 or bool(np.all(self.forward_slot[micro_batches.start : micro_batches.stop, layer] < slot))

    def backwards_done_before(self, micro_batches: range, layer: int, slot: int) -> bool:
        return bool(np.all(self.backward_slot[micro_batches.start : micro_batches.stop, layer] < slot))


def build_schedule(schedule: str, layers: int, micro_batches: int, mini_batch: int = 1) -> ScheduleRecord:
    """Run `schedule` slot by slot for J = `micro_batches` micro-batches on M = `layers` layers.

    single: one device holds all layers and runs one micro-batch at a time; update per mini-batch.
    wop: a mini-batch passes stage 1 (all its micro-batches), then stage 2, …, then back down.
    sp: forwards of a mini-batch pipelined, then backwards pipelined, update after the flush.
    ap: 1F1B without stashing; each stage prefers a ready B, admits a new F only while fewer
        than M − m + 1 of its micro-batches await their B, and updates right after each B.
    """
    if schedule not in SCHEDULE_NAMES:
        raise ValueError(f"unknown schedule {schedule!r}; allowed: {', '.join(SCHEDULE_NAMES)}")
    if layers < 1:
        raise ValueError(f"the number of stages M must be >= 1, got {layers}")
    if micro_batches < 1:
        raise ValueError(f"the number of micro-batches J must be >= 1, got {micro_batches}")
    if schedule == "ap":
        mini_batch = 1
    if mini_batch < 1:
        raise ValueError(f"the mini-batch B must be >= 1, got {mini_batch}")
    if micro_batches % mini_batch:
        raise ValueError(f"the micro-batches J={micro_batches} must be a multiple of the mini-batch B={mini_batch}")

    state = _SchedulerState(layers, micro_batches)
    asynchronous = schedule == "ap"
    devices = 1 if schedule == "single" else layers
    layers_of_device = {1: list(range(1, layers + 1))} if devices == 1 else {m: [m] for m in range(1, layers + 1)}

    def mini_batch_of(j: int) -> range:
        start = (j // mini_batch) * mini_batch
        return range(start, start + mini_batch)

    def forward_ready(j: int, m: int, slot: int) -> bool:
        if j >= micro_batches or not state.forward_done_before(j, m - 1, slot):
            return False
        if asynchronous:
            return state.next_forward[m] - state.next_backward[m] < layers - m + 1
        if j // mini_batch > state.completed_updates:
            return False
        if schedule == "wop":
            return state.forwards_done_before(mini_batch_of(j), m - 1, slot)
        if schedule == "single" and m == 1 and j > 0:
            return state.backward_done_before(j - 1, 1, slot)
        return True

    def backward_ready(j: int, m: int, slot: int) -> bool:
        if j >= state.next_forward[m] or not state.forward_done_before(j, m, slot):
            return False
        if m < layers and not state.backward_done_before(j, m + 1, slot):
            return False
        if asynchronous or schedule == "single":
            return True
        if m == layers:
            return state.forwards_done_before(mini_batch_of(j), layers, slot)
        if schedule == "wop":
            return state.backwards_done_before(mini_batch_of(j), m + 1, slot)
        return True

    operations: list[Operation] = []
    updates: list[UpdateEvent] = []
    slot = 0
    while state.next_backward[1] < micro_batches:
        chosen: list[tuple[str, int, int, int]] = []
        for device, device_layers in layers_of_device.items():
            candidates = []
            for m in device_layers:
                j = state.next_backward[m]
                if backward_ready(j, m, slot):
                    candidates.append((0, j, -m, BACKWARD, m))
                j = state.next_forward[m]
                if forward_ready(j, m, slot):
                    candidates.append((1, j, -m, FORWARD, m))
            if candidates:
                _, j, _, kind, m = min(candidates)
                chosen.append((kind, device, m, j))
        if not chosen:
            raise RuntimeError(f"{schedule} scheduler made no progress in slot {slot}")
        for kind, device, m, j in chosen:
            operations.append(Operation(slot, device, m, kind, j, state.versions[m]))
            if kind == FORWARD:
                state.forward_slot[j, m] = slot
                state.next_forward[m] += 1
            else:
                state.backward_slot[j, m] = slot
                state.next_backward[m] += 1
        for kind, _, m, j in chosen:
            if kind != BACKWARD:
                continue
            if asynchronous:
                updates.append(UpdateEvent(slot, m, state.versions[m], (j,)))
                state.versions[m] += 1
            elif m == 1 and (j + 1) % mini_batch == 0:
                index = state.completed_updates
                members = tuple(mini_batch_of(j))
                for layer in range(1, layers + 1):
                    updates.append(UpdateEvent(slot, layer, index, members))
                    state.versions[layer] += 1
                state.completed_updates += 1
        slot += 1

    return ScheduleRecord(
        schedule=schedule,
        layers=layers,
        devices=devices,
        micro_batches=micro_batches,
        mini_batch=mini_batch,
        operations=tuple(operations),
        updates=tuple(updates),
        slots=slot,
    )

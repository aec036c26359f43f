"""Slot-accurate pipeline scheduler for the schedules of MODEL.md §3.

Each schedule is one `Schedule` object in the registry `SCHEDULES`: its admission and
priority rule (the 1F1B rule, fill-drain, stage by stage, or one micro-batch at a time on
one device), whether it flushes between mini-batches, its update policy (per micro-batch,
per mini-batch after the flush, or per group of B at each stage) and which weight version
each F and B reads (the current one, the one F stashed, or the previous group's).

One scheduler (`build_schedule`) runs every schedule slot by slot. In each slot every
device (stage) runs at most one operation, F(j) or B(j) of micro-batch j through one
layer, chosen by the schedule's rule among the operations whose inputs were produced in an
earlier slot and whose weight version exists. Updates are applied at the end of a slot.
The record holds, for every operation, the slot, device, layer, micro-batch and the
version of the layer's weights it read; slots, density, delays, peak in-flight
micro-batches and peak weight versions are measured from this record, never taken from
the closed forms (theory.schedules), which they are only compared against.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar

import numpy as np

FORWARD = "F"
BACKWARD = "B"


# ----- progress of the slot loop -----------------------------------------------------------


class _SchedulerState:
    """Progress of the slot loop: per layer, the next F and B to run, when each ran, the
    version each F read, and the layer's live version (updates applied so far).

    Plain Python lists indexed [layer][micro-batch] (the loop reads single entries, which
    lists answer several times faster than numpy scalars)."""

    def __init__(self, layers: int, micro_batches: int, mini_batch: int) -> None:
        self.layers = layers
        self.micro_batches = micro_batches
        self.mini_batch = mini_batch
        self.next_forward = [0] * (layers + 2)
        self.next_backward = [0] * (layers + 2)
        self.forward_slot = [[_NEVER] * micro_batches for _ in range(layers + 2)]
        self.backward_slot = [[_NEVER] * micro_batches for _ in range(layers + 2)]
        self.forward_version = [[-1] * micro_batches for _ in range(layers + 2)]
        self.versions = [0] * (layers + 2)

    def update_of(self, micro_batch: int) -> int:
        """Index k of the update (mini-batch, group or micro-batch) that applies micro-batch j."""
        return micro_batch // self.mini_batch

    def members(self, micro_batch: int) -> range:
        """The micro-batches sharing micro-batch j's update."""
        start = self.update_of(micro_batch) * self.mini_batch
        return range(start, start + self.mini_batch)

    def is_last_member(self, micro_batch: int) -> bool:
        return (micro_batch + 1) % self.mini_batch == 0

    def in_flight(self, layer: int) -> int:
        """Micro-batches whose F ran at layer m and whose B has not."""
        return self.next_forward[layer] - self.next_backward[layer]

    def forward_done_before(self, micro_batch: int, layer: int, slot: int) -> bool:
        return layer == 0 or self.forward_slot[layer][micro_batch] < slot

    def backward_done_before(self, micro_batch: int, layer: int, slot: int) -> bool:
        return self.backward_slot[layer][micro_batch] < slot

    def forwards_done_before(self, micro_batches: range, layer: int, slot: int) -> bool:
        return layer == 0 or max(self.forward_slot[layer][micro_batches.start : micro_batches.stop]) < slot

    def backwards_done_before(self, micro_batches: range, layer: int, slot: int) -> bool:
        return max(self.backward_slot[layer][micro_batches.start : micro_batches.stop]) < slot


_NEVER = sys.maxsize
"""The slot of an operation that has not run (later than every slot)."""


# ----- admission and priority ----------------------------------------------------------------


@dataclass(frozen=True)
class Admission:
    """Which ready operations a stage may run, beyond the data dependencies. Among the
    allowed ones every stage runs a ready B before a ready F (lowest micro-batch first)."""

    name: str
    """Short name of the rule, as the documentation calls it."""
    description: str
    """One sentence: what the rule allows."""

    def forward_allowed(self, state: _SchedulerState, micro_batch: int, layer: int, slot: int) -> bool:
        """May F(j) run at layer m in this slot (its input being ready)?"""
        return True

    def backward_allowed(self, state: _SchedulerState, micro_batch: int, layer: int, slot: int) -> bool:
        """May B(j) run at layer m in this slot (its inputs being ready)?"""
        return True


@dataclass(frozen=True)
class OneForwardOneBackward(Admission):
    """The 1F1B rule: a ready B first; stage m admits a new F only while fewer than M − m + 1
    of its micro-batches await their B."""

    def forward_allowed(self, state, micro_batch, layer, slot):
        return state.in_flight(layer) < state.layers - layer + 1


@dataclass(frozen=True)
class FillDrain(Admission):
    """GPipe: the mini-batch's forwards are pipelined through the stages, and the backwards
    start at stage M only once every forward of the mini-batch reached it."""

    def backward_allowed(self, state, micro_batch, layer, slot):
        return layer < state.layers or state.forwards_done_before(state.members(micro_batch), layer, slot)


@dataclass(frozen=True)
class StageByStage(Admission):
    """No pipelining: a mini-batch passes stage 1 (all its micro-batches), then stage 2, …,
    then back down from stage M to stage 1."""

    def forward_allowed(self, state, micro_batch, layer, slot):
        return state.forwards_done_before(state.members(micro_batch), layer - 1, slot)

    def backward_allowed(self, state, micro_batch, layer, slot):
        members = state.members(micro_batch)
        if layer == state.layers:
            return state.forwards_done_before(members, layer, slot)
        return state.backwards_done_before(members, layer + 1, slot)


@dataclass(frozen=True)
class OneAtATime(Admission):
    """One device: micro-batch j enters layer 1 only after B(j−1) left it."""

    def forward_allowed(self, state, micro_batch, layer, slot):
        return layer > 1 or micro_batch == 0 or state.backward_done_before(micro_batch - 1, 1, slot)


ONE_F_ONE_B_RULE = OneForwardOneBackward("1F1B", "a ready B before a ready F; stage m admits a new F only while fewer than M−m+1 micro-batches await their B")
FILL_DRAIN = FillDrain("fill-drain", "the forwards of the mini-batch pipelined, then its backwards pipelined")
STAGE_BY_STAGE = StageByStage("stage by stage", "the mini-batch passes stage 1, then stage 2, …, then back down; one stage busy at a time")
ONE_AT_A_TIME = OneAtATime("one at a time", "one device runs F through layers 1..M, then B through M..1, then the next micro-batch")


# ----- updates -------------------------------------------------------------------------------


@dataclass(frozen=True)
class UpdatePolicy:
    """When layers are updated, and with which micro-batches' mean gradient."""

    name: str
    """Short name, as the documentation calls it."""
    per_micro_batch: bool
    """Every update applies one micro-batch's gradient alone (B is 1 for the schedule)."""

    def updates_after_backward(self, state: _SchedulerState, micro_batch: int, layer: int) -> tuple[tuple[int, tuple[int, ...]], ...]:
        """The (layer, micro-batches) updates applied at the end of the slot in which B(j) ran at layer m."""
        raise NotImplementedError


@dataclass(frozen=True)
class PerMicroBatch(UpdatePolicy):
    """Stage m updates right after each B(j), with micro-batch j's gradient alone."""

    def updates_after_backward(self, state, micro_batch, layer):
        return ((layer, (micro_batch,)),)


@dataclass(frozen=True)
class AfterFlush(UpdatePolicy):
    """Every layer updates after the mini-batch's last B left stage 1, with the mini-batch's mean gradient."""

    def updates_after_backward(self, state, micro_batch, layer):
        if layer != 1 or not state.is_last_member(micro_batch):
            return ()
        members = tuple(state.members(micro_batch))
        return tuple((m, members) for m in range(1, state.layers + 1))


@dataclass(frozen=True)
class PerGroup(UpdatePolicy):
    """Stage m updates after the B of its group's last micro-batch, with the group's mean gradient."""

    def updates_after_backward(self, state, micro_batch, layer):
        if not state.is_last_member(micro_batch):
            return ()
        return ((layer, tuple(state.members(micro_batch))),)


PER_MICRO_BATCH = PerMicroBatch("per micro-batch", per_micro_batch=True)
AFTER_FLUSH = AfterFlush("per mini-batch, after the flush", per_micro_batch=False)
PER_GROUP = PerGroup("per group of B, at each stage", per_micro_batch=False)


# ----- which version an operation reads ------------------------------------------------------


@dataclass(frozen=True)
class VersionRule:
    """Which version of layer m's weights F(j) and B(j) read, and how older versions are stored."""

    name: str
    """Short name, as the documentation calls it."""
    stash_per_micro_batch: bool
    """True: every in-flight micro-batch keeps its own copy of an older version it will read
    (PipeDream's weight stashing). False: one buffer per version, shared by every operation
    that reads it (2BW's double buffer)."""
    relative: ClassVar[bool] = True
    """The version read depends on the state only relative to the update (the live version, or
    the one F read): then, once the pipeline drains, the run repeats itself (`build_schedule`)."""

    def forward_version(self, state: _SchedulerState, micro_batch: int, layer: int) -> int:
        """Version F(j) reads at layer m."""
        raise NotImplementedError

    def backward_version(self, state: _SchedulerState, micro_batch: int, layer: int) -> int:
        """Version B(j) reads at layer m (for both its MVM W_m^T δ_m and its gradient)."""
        raise NotImplementedError

    def smallest_mini_batch(self, layers: int) -> int:
        """The smallest B (micro-batches per update) the rule works with on M layers."""
        return 1


@dataclass(frozen=True)
class CurrentVersion(VersionRule):
    """F and B read the layer's weights at the start of their slot."""

    def forward_version(self, state, micro_batch, layer):
        return state.versions[layer]

    def backward_version(self, state, micro_batch, layer):
        return state.versions[layer]


@dataclass(frozen=True)
class StashedVersion(VersionRule):
    """F reads the current weights; B(j) reads the version F(j) read at that stage (stashed)."""

    def forward_version(self, state, micro_batch, layer):
        return state.versions[layer]

    def backward_version(self, state, micro_batch, layer):
        return state.forward_version[layer][micro_batch]


@dataclass(frozen=True)
class PreviousGroupVersion(VersionRule):
    """Every F and B of group g reads version max(g − 1, 0); needs B ≥ M, so that version
    exists when the group's first F reaches a stage."""

    relative: ClassVar[bool] = False  # group 0 reads version 0, not version −1: the start differs

    def forward_version(self, state, micro_batch, layer):
        return max(state.update_of(micro_batch) - 1, 0)

    def backward_version(self, state, micro_batch, layer):
        return max(state.update_of(micro_batch) - 1, 0)

    def smallest_mini_batch(self, layers):
        return layers


CURRENT = CurrentVersion("current", stash_per_micro_batch=False)
STASHED = StashedVersion("stashed", stash_per_micro_batch=True)
PREVIOUS_GROUP = PreviousGroupVersion("previous group", stash_per_micro_batch=False)


# ----- the schedules -------------------------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    """One schedule of MODEL.md §3: its rule, flush, update policy and version rule."""

    name: str
    """Registry key and command-line choice."""
    title: str
    """Human name, for figures and tables."""
    admission: Admission
    """Which ready operations a stage may run (B before F among them)."""
    flush: bool
    """A mini-batch's forwards start only after the previous mini-batch's update (no operation reads a stale version)."""
    update: UpdatePolicy
    """When layers update and with which gradients."""
    reads: VersionRule
    """Which version each F and B reads."""
    single_device: bool = False
    """One device holds all M layers (else stage m holds layer m)."""

    @property
    def asynchronous(self) -> bool:
        """No flush: operations may read stale versions (delays > 0)."""
        return not self.flush

    def micro_batches_per_update(self, mini_batch: int) -> int:
        """B as the schedule uses it: 1 when it updates per micro-batch, else `mini_batch`."""
        return 1 if self.update.per_micro_batch else mini_batch

    def smallest_mini_batch(self, layers: int) -> int:
        """The smallest B the schedule accepts on M layers (2bw: M)."""
        return self.reads.smallest_mini_batch(layers)

    def problem(self, layers: int, micro_batches: int, mini_batch: int) -> str | None:
        """Why (M, J, B) cannot be scheduled, naming the quantity and what is allowed, or None."""
        if layers < 1:
            return f"the number of stages M must be >= 1, got {layers}"
        if micro_batches < 1:
            return f"the number of micro-batches J must be >= 1, got {micro_batches}"
        if mini_batch < 1:
            return f"the mini-batch B must be >= 1, got {mini_batch}"
        per_update = self.micro_batches_per_update(mini_batch)
        if per_update < self.smallest_mini_batch(layers):
            return f"{self.name} needs the mini-batch B >= the stages M={layers}, got B={per_update}"
        if micro_batches % per_update:
            return f"the micro-batches J={micro_batches} must be a multiple of the mini-batch B={per_update}"
        return None

    def __str__(self) -> str:
        return self.name


_SCHEDULE_LIST = (
    Schedule("single", "single device", ONE_AT_A_TIME, flush=True, update=AFTER_FLUSH, reads=CURRENT, single_device=True),
    Schedule("wop", "WOP (model parallel, no pipeline)", STAGE_BY_STAGE, flush=True, update=AFTER_FLUSH, reads=CURRENT),
    Schedule("sp", "SP (synchronous pipeline, GPipe)", FILL_DRAIN, flush=True, update=AFTER_FLUSH, reads=CURRENT),
    Schedule("1f1b", "1F1B with flush (PipeDream-Flush)", ONE_F_ONE_B_RULE, flush=True, update=AFTER_FLUSH, reads=CURRENT),
    Schedule("ap", "AP (asynchronous 1F1B, no stashing)", ONE_F_ONE_B_RULE, flush=False, update=PER_MICRO_BATCH, reads=CURRENT),
    Schedule("pipedream", "PipeDream (asynchronous 1F1B, weight stashing)", ONE_F_ONE_B_RULE, flush=False, update=PER_MICRO_BATCH, reads=STASHED),
    Schedule("2bw", "PipeDream-2BW (double-buffered weights)", ONE_F_ONE_B_RULE, flush=False, update=PER_GROUP, reads=PREVIOUS_GROUP),
)

SCHEDULES: dict[str, Schedule] = {schedule.name: schedule for schedule in _SCHEDULE_LIST}
"""Every schedule of MODEL.md §3 by name, in MODEL's order."""

SCHEDULE_NAMES = tuple(SCHEDULES)
"""The registry's names (command-line choices)."""


def schedule_named(schedule: str | Schedule) -> Schedule:
    """The registered schedule called `schedule` (a Schedule is returned as is)."""
    if isinstance(schedule, Schedule):
        return schedule
    try:
        return SCHEDULES[schedule]
    except (KeyError, TypeError):
        raise ValueError(f"unknown schedule {schedule!r}; allowed: {', '.join(SCHEDULE_NAMES)}") from None


# ----- the record ----------------------------------------------------------------------------


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
    """Version of layer m's weights read: W_m^{(version)}, the weights after `version` updates of the layer."""


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

    definition: Schedule
    """The schedule that ran (its rules)."""
    layers: int
    """M."""
    devices: int
    """Number of devices: M for the pipelined schedules, 1 for the single device."""
    micro_batches: int
    """J."""
    mini_batch: int
    """B: micro-batches per update (1 for the schedules that update per micro-batch)."""
    operations: tuple[Operation, ...]
    """All operations, in slot order."""
    updates: tuple[UpdateEvent, ...]
    """All updates, in slot order."""
    slots: int
    """Number of slots from the first operation to the last."""

    @property
    def schedule(self) -> str:
        """The schedule's name."""
        return self.definition.name

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

    @cached_property
    def peak_in_flight(self) -> list[int]:
        """Per layer (stage), layer 1 first: the most micro-batches whose F ran there and
        whose B has not, at any slot boundary (the activations the stage holds)."""
        change = np.zeros((self.layers, self.slots), dtype=np.int64)
        for op in self.operations:
            change[op.layer - 1, op.slot] += 1 if op.kind == FORWARD else -1
        held = np.cumsum(change, axis=1)
        return [int(value) for value in np.maximum(held.max(axis=1), 0)]

    @cached_property
    def peak_versions(self) -> list[int]:
        """Per layer (stage), layer 1 first: the most weight arrays the stage holds at any
        slot boundary. It always holds its live weights (every update applied so far); an
        older version is held from the update that superseded it until the last operation
        that reads it: one copy per micro-batch that reads it when the schedule stashes per
        micro-batch (PipeDream), one shared buffer per version otherwise (2BW)."""
        per_micro_batch = self.definition.reads.stash_per_micro_batch
        superseded_at = {(event.layer, event.index): event.slot for event in self.updates}
        last_read: dict[tuple, int] = {}
        for op in self.operations:
            holder = (op.layer, op.version, op.micro_batch if per_micro_batch else None)
            last_read[holder] = max(last_read.get(holder, -1), op.slot)
        # Older copies held at the end of slot s: superseded at a slot <= s, read at a slot > s.
        change = np.zeros((self.layers, self.slots + 1), dtype=np.int64)
        for (layer, version, _), last in last_read.items():
            start = superseded_at.get((layer, version))
            if start is not None and start < last:
                change[layer - 1, start] += 1
                change[layer - 1, last] -= 1
        older = np.cumsum(change, axis=1)
        return [1 + int(value) for value in older.max(axis=1)]

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


# ----- the scheduler -------------------------------------------------------------------------


def _drained_after_first_update(state: _SchedulerState, layers: int) -> bool:
    """Whether the pipeline is empty at the end of this slot with every layer updated exactly
    once from the first B micro-batches (asked only when more whole updates are to come).

    The scheduler's choices depend on micro-batch indices only through their update
    (j // B), their members and their order, on versions only relative to the update, on
    slots only by comparison, and on J only at its end: from such a point on, the run is the
    run of J − B micro-batches shifted by (B micro-batches, one version, the slots so far),
    so the whole record repeats its first update (`_repeated`; tests/numerics/test_schedules.py
    compares it with the slot-by-slot record)."""
    B = state.mini_batch
    return all(
        state.next_forward[m] == B and state.next_backward[m] == B and state.versions[m] == 1 for m in range(1, layers + 1)
    )


def _repeated(operations: list[Operation], updates: list[UpdateEvent], period: int, mini_batch: int, count: int) -> tuple[list[Operation], list[UpdateEvent], int]:
    """The operations and updates of `count` updates, each the first (period slots, B micro-batches,
    one version per layer) shifted by its index; and the number of slots."""
    all_operations = [
        Operation(op.slot + k * period, op.device, op.layer, op.kind, op.micro_batch + k * mini_batch, op.version + k) for k in range(count) for op in operations
    ]
    all_updates = [
        UpdateEvent(event.slot + k * period, event.layer, event.index + k, tuple(j + k * mini_batch for j in event.micro_batches))
        for k in range(count)
        for event in updates
    ]
    return all_operations, all_updates, count * period


def build_schedule(schedule: str | Schedule, layers: int, micro_batches: int, mini_batch: int = 1) -> ScheduleRecord:
    """Run `schedule` (a registry name or a Schedule) slot by slot for J = `micro_batches`
    micro-batches on M = `layers` layers, B = `mini_batch` micro-batches per update (ignored
    by the schedules that update per micro-batch).

    In every slot each device picks, among its operations whose inputs were produced in an
    earlier slot, whose weight version exists, and that the schedule's admission rule and
    flush allow, a B before an F, the lowest micro-batch first (the deepest layer first on
    the single device). Updates apply at the end of the slot by the schedule's policy.
    """
    definition = schedule_named(schedule)
    problem = definition.problem(layers, micro_batches, mini_batch)
    if problem is not None:
        raise ValueError(problem)
    mini_batch = definition.micro_batches_per_update(mini_batch)
    admission, reads, update = definition.admission, definition.reads, definition.update
    state = _SchedulerState(layers, micro_batches, mini_batch)
    devices = 1 if definition.single_device else layers
    layers_of_device = {1: list(range(1, layers + 1))} if devices == 1 else {m: [m] for m in range(1, layers + 1)}

    def forward_ready(j: int, m: int, slot: int) -> bool:
        if j >= micro_batches or not state.forward_done_before(j, m - 1, slot):
            return False
        if definition.flush and state.versions[m] < state.update_of(j):
            return False
        if reads.forward_version(state, j, m) > state.versions[m]:
            return False
        return admission.forward_allowed(state, j, m, slot)

    def backward_ready(j: int, m: int, slot: int) -> bool:
        if j >= state.next_forward[m] or not state.forward_done_before(j, m, slot):
            return False
        if m < layers and not state.backward_done_before(j, m + 1, slot):
            return False
        if reads.backward_version(state, j, m) > state.versions[m]:
            return False
        return admission.backward_allowed(state, j, m, slot)

    kinds = ((BACKWARD, backward_ready, state.next_backward), (FORWARD, forward_ready, state.next_forward))
    operations: list[Operation] = []
    updates: list[UpdateEvent] = []
    slot = 0
    period = None
    # J a multiple of B with more than one update, and versions read relative to the update
    may_repeat = reads.relative and micro_batches % mini_batch == 0 and micro_batches > mini_batch
    while state.next_backward[1] < micro_batches:
        chosen: list[tuple[str, int, int, int]] = []
        for device, device_layers in layers_of_device.items():
            # A ready B goes before any F, so the Fs are looked at only when no B is ready;
            # among equals the lowest micro-batch, then the deepest layer (a layer that
            # cannot come first is not asked whether it is ready).
            for kind, ready, next_of in kinds:
                best = None
                for m in device_layers:
                    j = next_of[m]
                    if (best is None or (j, -m) < best) and ready(j, m, slot):
                        best = (j, -m)
                if best is not None:
                    chosen.append((kind, device, -best[1], best[0]))
                    break
        if not chosen:
            raise RuntimeError(f"{definition.name} scheduler made no progress in slot {slot}")
        for kind, device, m, j in chosen:
            if kind == FORWARD:
                version = reads.forward_version(state, j, m)
                state.forward_slot[m][j] = slot
                state.forward_version[m][j] = version
                state.next_forward[m] += 1
            else:
                version = reads.backward_version(state, j, m)
                state.backward_slot[m][j] = slot
                state.next_backward[m] += 1
            operations.append(Operation(slot, device, m, kind, j, version))
        for kind, _, m, j in chosen:
            if kind != BACKWARD:
                continue
            for layer, members in update.updates_after_backward(state, j, m):
                updates.append(UpdateEvent(slot, layer, state.versions[layer], members))
                state.versions[layer] += 1
        slot += 1
        if may_repeat and _drained_after_first_update(state, layers):
            period = slot
            break

    if period is not None:  # the rest of the run repeats the first update, shifted
        operations, updates, slot = _repeated(operations, updates, period, mini_batch, micro_batches // mini_batch)
    return ScheduleRecord(
        definition=definition,
        layers=layers,
        devices=devices,
        micro_batches=micro_batches,
        mini_batch=mini_batch,
        operations=tuple(operations),
        updates=tuple(updates),
        slots=slot,
    )

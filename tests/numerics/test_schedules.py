"""The slot-accurate scheduler (numerics.schedules) against MODEL.md §3.

Every measured quantity comes from the scheduler's record; the closed forms come from
theory.schedules and are evaluated exactly (sympy rationals turned into Fractions), so
a density of 4/7 is compared as 4/7, not as a float.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from fractions import Fraction
from functools import cache

import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from numerics.schedules import BACKWARD, FORWARD, SCHEDULE_NAMES, build_schedule
from theory import schedules as closed


def exact(value) -> Fraction:
    rational = sp.Rational(value)
    return Fraction(int(rational.p), int(rational.q))


@cache
def closed_slots(schedule: str, stages: int, mini_batch: int, micro_batches: int) -> Fraction:
    return exact(closed.evaluate(closed.total_slots(schedule), stages, mini_batch, micro_batches))


@cache
def closed_density(schedule: str, stages: int, mini_batch: int, micro_batches: int) -> Fraction:
    return exact(closed.evaluate(closed.density(schedule), stages, mini_batch, micro_batches))


@cache
def closed_delays(schedule: str, stages: int, stage: int, update: int) -> tuple[Fraction, Fraction]:
    forward = closed.evaluate(closed.forward_delay(schedule), stages, k=update, m=stage)
    backward = closed.evaluate(closed.backward_delay(schedule), stages, k=update, m=stage)
    return exact(forward), exact(backward)


@st.composite
def configurations(draw):
    schedule = draw(st.sampled_from(SCHEDULE_NAMES))
    stages = draw(st.integers(1, 6))
    if schedule == "ap":
        return schedule, stages, 1, draw(st.integers(1, 16))
    mini_batch = draw(st.integers(1, 5))
    return schedule, stages, mini_batch, mini_batch * draw(st.integers(1, 4))


def check_record(schedule, stages, mini_batch, micro_batches):
    """Build a record and check every property of MODEL §3 on it; returns the record."""
    record = build_schedule(schedule, stages, micro_batches, mini_batch)
    verify_record(record, schedule, stages, mini_batch, micro_batches)
    return record


def verify_record(record, schedule, stages, mini_batch, micro_batches):
    """Every property of MODEL §3 that a record of (schedule, M, B, J) must have."""
    M, B, J = stages, mini_batch, micro_batches
    assert (record.schedule, record.layers, record.mini_batch, record.micro_batches) == (schedule, M, B, J)

    # --- measured vs closed form -------------------------------------------------------
    assert record.slots == closed_slots(schedule, M, B, J)
    measured_density = Fraction(record.busy_slots, record.devices * record.slots)
    assert measured_density == closed_density(schedule, M, B, J)
    assert record.density == pytest.approx(float(measured_density), rel=1e-15)
    assert record.devices == (1 if schedule == "single" else M)

    forward_delays, backward_delays = record.delays
    for j in range(J):
        update = j // B
        for m in range(1, M + 1):
            expected_forward, expected_backward = closed_delays(schedule, M, m, update)
            assert forward_delays[j, m - 1] == expected_forward, (j, m)
            assert backward_delays[j, m - 1] == expected_backward, (j, m)
    largest_forward = [max(int(closed_delays(schedule, M, m, j // B)[0]) for j in range(J)) for m in range(1, M + 1)]
    assert record.largest_forward_delay == largest_forward
    assert record.largest_backward_delay == [0] * M
    if schedule == "ap":
        assert largest_forward == [min(J - 1, M - m) for m in range(1, M + 1)]

    # --- the record itself respects the dependencies ------------------------------------
    slot_of = {}
    per_device_slot = set()
    for op in record.operations:
        key = (op.kind, op.micro_batch, op.layer)
        assert key not in slot_of, f"{key} ran twice"
        slot_of[key] = op.slot
        assert (op.device, op.slot) not in per_device_slot, f"device {op.device} ran two operations in slot {op.slot}"
        per_device_slot.add((op.device, op.slot))
        assert 0 <= op.slot < record.slots
        assert op.device == (1 if schedule == "single" else op.layer)
    assert len(slot_of) == 2 * M * J, "every F and B of every micro-batch at every layer runs once"
    for j in range(J):
        for m in range(2, M + 1):
            assert slot_of[(FORWARD, j, m)] > slot_of[(FORWARD, j, m - 1)]
        assert slot_of[(BACKWARD, j, M)] > slot_of[(FORWARD, j, M)]
        for m in range(1, M):
            assert slot_of[(BACKWARD, j, m)] > slot_of[(BACKWARD, j, m + 1)]
    assert max(op.slot for op in record.operations) == record.slots - 1
    assert min(op.slot for op in record.operations) == 0

    # --- updates and versions ------------------------------------------------------------
    updates_of_layer = defaultdict(list)
    for event in record.updates:
        updates_of_layer[event.layer].append(event)
    for m in range(1, M + 1):
        events = updates_of_layer[m]
        assert [e.index for e in events] == list(range(J // B))
        assert [e.slot for e in events] == sorted(e.slot for e in events)
        for e in events:
            members = tuple(range(e.index * B, (e.index + 1) * B))
            assert e.micro_batches == members
            # An update applies after every B of its micro-batches at that layer.
            assert all(slot_of[(BACKWARD, j, m)] <= e.slot for j in members)
            if schedule == "ap":
                assert e.slot == slot_of[(BACKWARD, e.index, m)], "AP updates right after each B"
            else:
                # Synchronous: all stages update together, after the flush (B at stage 1 of the last member).
                assert e.slot == slot_of[(BACKWARD, members[-1], 1)]
    for op in record.operations:
        applied = sum(1 for e in updates_of_layer[op.layer] if e.slot < op.slot)
        assert op.version == applied, f"{op} read version {op.version}, {applied} updates were applied before it"

    # --- schedule-specific rules ---------------------------------------------------------
    busy = {(op.device, op.slot): op for op in record.operations}
    if schedule == "ap":
        check_ap_rule(record, slot_of, busy)
    if schedule == "wop":
        # No pipelining: at most one stage is busy in any slot.
        for slot in range(record.slots):
            assert sum((d, slot) in busy for d in range(1, M + 1)) <= 1
    if schedule in ("sp", "wop", "single"):
        # Mini-batch k+1 starts only after update k (no stale reads).
        for op in record.operations:
            assert op.version == op.micro_batch // B
    if schedule == "sp":
        per_mini_batch = closed.evaluate(closed.slots_per_mini_batch("sp"), M, B, J)
        for k in range(J // B):
            members = range(k * B, (k + 1) * B)
            first = min(slot_of[(FORWARD, j, 1)] for j in members)
            last = max(slot_of[(BACKWARD, j, 1)] for j in members)
            assert last - first + 1 == per_mini_batch


def check_ap_rule(record, slot_of, busy):
    """1F1B without stashing: in-flight limit M − m + 1, B before F, and no idle slot with a ready op."""
    M, J = record.layers, record.micro_batches
    for m in range(1, M + 1):
        for slot in range(record.slots):
            forwards_done = [j for j in range(J) if slot_of[(FORWARD, j, m)] < slot]
            backwards_done = [j for j in range(J) if slot_of[(BACKWARD, j, m)] < slot]
            in_flight_before = len(forwards_done) - len(backwards_done)
            in_flight_after = sum(slot_of[(FORWARD, j, m)] <= slot for j in range(J)) - sum(
                slot_of[(BACKWARD, j, m)] <= slot for j in range(J)
            )
            assert in_flight_after <= M - m + 1, f"stage {m} holds {in_flight_after} micro-batches after slot {slot}"
            next_forward, next_backward = len(forwards_done), len(backwards_done)
            # Operations run in micro-batch order at every stage.
            assert forwards_done == list(range(next_forward)) and backwards_done == list(range(next_backward))
            backward_ready = (
                next_backward < J
                and slot_of[(FORWARD, next_backward, m)] < slot
                and (m == M or slot_of[(BACKWARD, next_backward, m + 1)] < slot)
            )
            forward_ready = (
                next_forward < J
                and (m == 1 or slot_of[(FORWARD, next_forward, m - 1)] < slot)
                and in_flight_before < M - m + 1
            )
            op = busy.get((m, slot))
            if op is None:
                assert not backward_ready and not forward_ready, f"stage {m} idle in slot {slot} with a ready op"
            elif op.kind == FORWARD:
                assert forward_ready and not backward_ready, f"stage {m} ran F in slot {slot} while a B was ready"
            else:
                assert backward_ready


@given(configurations())
def test_measurements_equal_closed_forms(configuration):
    check_record(*configuration)


@pytest.mark.parametrize("schedule", SCHEDULE_NAMES)
@pytest.mark.parametrize("stages", range(1, 7))
def test_every_stage_count_small_grid(schedule, stages):
    """Deterministic coverage of M = 1..6 beside the property test."""
    for mini_batch, micro_batches in ((1, 1), (2, 6), (3, 3)) if schedule != "ap" else ((1, 1), (1, 5), (1, 9)):
        check_record(schedule, stages, mini_batch, micro_batches)


def test_issue_numbers_ap():
    record = check_record("ap", 4, 1, 12)
    assert record.slots == 30
    assert Fraction(record.busy_slots, record.devices * record.slots) == Fraction(4, 5)
    assert record.largest_forward_delay == [3, 2, 1, 0]
    assert record.largest_backward_delay == [0, 0, 0, 0]


def test_issue_numbers_sp():
    record = check_record("sp", 4, 4, 4)
    assert record.slots == 14
    assert Fraction(record.busy_slots, record.devices * record.slots) == Fraction(4, 7)
    several = check_record("sp", 4, 4, 12)
    assert several.slots == 3 * 14


def test_issue_numbers_wop():
    record = check_record("wop", 4, 4, 4)
    assert record.slots == 32
    assert Fraction(record.busy_slots, record.devices * record.slots) == Fraction(1, 4)


@pytest.mark.parametrize("tampering", ["version", "slot", "duplicate-slot"])
def test_checker_rejects_a_tampered_record(tampering):
    """Negative control: verify_record fails on an AP record with one operation altered."""
    record = build_schedule("ap", 3, 5)
    verify_record(record, "ap", 3, 1, 5)
    operations = list(record.operations)
    index = next(i for i, op in enumerate(operations) if op.kind == FORWARD and op.layer == 2 and op.micro_batch == 1)
    op = operations[index]
    if tampering == "version":
        operations[index] = dataclasses.replace(op, version=op.version + 1)
    elif tampering == "slot":
        # F(1) at stage 2 moved into the slot of F(1) at stage 1: a dependency is broken.
        earlier = next(o for o in operations if o.kind == FORWARD and o.layer == 1 and o.micro_batch == 1)
        operations[index] = dataclasses.replace(op, slot=earlier.slot)
    else:
        operations[index] = dataclasses.replace(op, slot=op.slot + 1)
    tampered = dataclasses.replace(record, operations=tuple(operations))
    with pytest.raises(AssertionError):
        verify_record(tampered, "ap", 3, 1, 5)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("ap", 0, 3), "M must be >= 1"),
        (("ap", 2, 0), "J must be >= 1"),
        (("sp", 2, 5, 2), "multiple"),
        (("pipedream", 2, 4), "unknown schedule"),
    ],
)
def test_bad_arguments(arguments, message):
    with pytest.raises(ValueError, match=message):
        build_schedule(*arguments)

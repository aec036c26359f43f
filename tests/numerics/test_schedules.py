"""The slot-accurate scheduler (numerics.schedules) against MODEL.md §3.

Every measured quantity comes from the scheduler's record; the closed forms come from
theory.schedules and are evaluated exactly (sympy rationals turned into Fractions), so
a density of 4/7 is compared as 4/7, not as a float. The rules each schedule must obey
(which version every operation reads, when updates apply, the 1F1B rule) are written out
here from MODEL §3's table, independently of the scheduler's rule objects.
"""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from fractions import Fraction
from functools import cache

import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from numerics.schedules import BACKWARD, FORWARD, SCHEDULE_NAMES, SCHEDULES, build_schedule, schedule_named
from proofs_check.cli import main
from theory import schedules as closed

SYNCHRONOUS = ("single", "wop", "sp", "1f1b")
PER_MICRO_BATCH = ("ap", "pipedream")
ONE_F_ONE_B = ("1f1b", "ap", "pipedream", "2bw")


def exact(value) -> Fraction:
    rational = sp.Rational(value)
    return Fraction(int(rational.p), int(rational.q))


@cache
def closed_value(quantity: str, schedule: str, stages: int, mini_batch: int, micro_batches: int, **indices: int) -> Fraction:
    expression = getattr(closed.closed_forms(schedule), quantity)
    return exact(closed.evaluate(expression, stages, mini_batch, micro_batches, **indices))


@st.composite
def configurations(draw):
    schedule = draw(st.sampled_from(SCHEDULE_NAMES))
    stages = draw(st.integers(1, 6))
    if schedule in PER_MICRO_BATCH:
        return schedule, stages, 1, draw(st.integers(1, 16))
    smallest = stages if schedule == "2bw" else 1
    mini_batch = draw(st.integers(smallest, smallest + 4))
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
    assert record.slots == closed_value("total_slots", schedule, M, B, J)
    measured_density = Fraction(record.busy_slots, record.devices * record.slots)
    assert measured_density == closed_value("density", schedule, M, B, J)
    assert record.density == pytest.approx(float(measured_density), rel=1e-15)
    assert record.devices == (1 if schedule == "single" else M)

    forward_delays, backward_delays = record.delays
    for j in range(J):
        for m in range(1, M + 1):
            k = j // B
            assert forward_delays[j, m - 1] == closed_value("forward_delay", schedule, M, B, J, k=k, m=m), (j, m)
            assert backward_delays[j, m - 1] == closed_value("backward_delay", schedule, M, B, J, k=k, m=m), (j, m)
    largest = {
        kind: [max(closed_value(kind, schedule, M, B, J, k=k, m=m) for k in range(J // B)) for m in range(1, M + 1)]
        for kind in ("forward_delay", "backward_delay")
    }
    assert record.largest_forward_delay == largest["forward_delay"]
    assert record.largest_backward_delay == largest["backward_delay"]
    assert closed.largest_delay_per_stage(closed.forward_delay(schedule), M, B, J) == largest["forward_delay"]
    assert record.peak_in_flight == [closed_value("peak_in_flight", schedule, M, B, J, m=m) for m in range(1, M + 1)]
    assert record.peak_versions == [closed_value("peak_versions", schedule, M, B, J, m=m) for m in range(1, M + 1)]

    # --- the record itself respects the dependencies ------------------------------------
    slot_of, version_of = {}, {}
    per_device_slot = set()
    for op in record.operations:
        key = (op.kind, op.micro_batch, op.layer)
        assert key not in slot_of, f"{key} ran twice"
        slot_of[key], version_of[key] = op.slot, op.version
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

    # --- updates: when they apply and with which micro-batches ---------------------------
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
            assert all(slot_of[(BACKWARD, j, m)] <= e.slot for j in members)
            if schedule in SYNCHRONOUS:
                # All stages update together, after the flush (B at stage 1 of the last member).
                assert e.slot == slot_of[(BACKWARD, members[-1], 1)]
            else:
                # ap, pipedream: right after each B; 2bw: right after the group's last B at stage m.
                assert e.slot == slot_of[(BACKWARD, members[-1], m)]

    # --- the version every operation read (MODEL §3's table) -----------------------------
    for op in record.operations:
        live = sum(1 for e in updates_of_layer[op.layer] if e.slot < op.slot)
        update = op.micro_batch // B
        if schedule == "2bw":
            assert op.version == max(update - 1, 0), f"{op}: group {update} reads version {max(update - 1, 0)}"
            assert live - 1 <= op.version <= live, f"{op}: version {op.version} is not one of the two buffers ({live - 1}, {live})"
        elif schedule == "pipedream" and op.kind == BACKWARD:
            assert op.version == version_of[(FORWARD, op.micro_batch, op.layer)], f"{op} does not read the stashed version"
        else:
            assert op.version == live, f"{op} read version {op.version}, {live} updates were applied before it"
        if schedule in SYNCHRONOUS:
            assert op.version == update, "a synchronous schedule never reads a stale version"

    # --- schedule-specific rules ---------------------------------------------------------
    busy = {(op.device, op.slot): op for op in record.operations}
    if schedule in ONE_F_ONE_B:
        check_one_f_one_b_rule(record, slot_of, busy, flush=schedule == "1f1b")
    if schedule == "wop":
        # No pipelining: at most one stage is busy in any slot.
        for slot in range(record.slots):
            assert sum((d, slot) in busy for d in range(1, M + 1)) <= 1
    if schedule in ("sp", "1f1b"):
        per_mini_batch = closed.evaluate(closed.slots_per_mini_batch(schedule), M, B, J)
        for k in range(J // B):
            members = range(k * B, (k + 1) * B)
            first = min(slot_of[(FORWARD, j, 1)] for j in members)
            last = max(slot_of[(BACKWARD, j, 1)] for j in members)
            assert last - first + 1 == per_mini_batch


def check_one_f_one_b_rule(record, slot_of, busy, flush):
    """The 1F1B rule: in-flight limit M − m + 1, B before F, and no idle slot with a ready op
    (with a flush, mini-batch k's F waits for the update of mini-batch k − 1)."""
    M, J, B = record.layers, record.micro_batches, record.mini_batch
    flush_slot = {}
    if flush:
        flush_slot = {k: slot_of[(BACKWARD, (k + 1) * B - 1, 1)] for k in range(J // B)}
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
                and (next_forward < B or not flush or flush_slot[next_forward // B - 1] < slot)
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


SMALL_GRID = {
    **{name: ((1, 1), (2, 6), (3, 3)) for name in SYNCHRONOUS},
    **{name: ((1, 1), (1, 5), (1, 9)) for name in PER_MICRO_BATCH},
}


@pytest.mark.parametrize("schedule", SCHEDULE_NAMES)
@pytest.mark.parametrize("stages", range(1, 7))
def test_every_stage_count_small_grid(schedule, stages):
    """Deterministic coverage of M = 1..6 beside the property test (2bw: B = M and M + 1, one to three groups)."""
    grid = SMALL_GRID.get(schedule, ((stages, stages), (stages, 3 * stages), (stages + 1, 2 * stages + 2)))
    for mini_batch, micro_batches in grid:
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
    assert record.peak_in_flight == [4, 4, 4, 4]
    several = check_record("sp", 4, 4, 12)
    assert several.slots == 3 * 14


def test_issue_numbers_wop():
    record = check_record("wop", 4, 4, 4)
    assert record.slots == 32
    assert Fraction(record.busy_slots, record.devices * record.slots) == Fraction(1, 4)


def schedule_json(capsys, *arguments):
    assert main(["schedule", *arguments, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


CONTRACT_KEYS = {
    "schedule", "stages", "micro_batches", "mini_batch", "slots", "density", "closed_form_density",
    "fwd_delay", "bwd_delay", "peak_in_flight", "peak_versions",
}


def test_done_when_pipedream(capsys):
    summary = schedule_json(capsys, "--schedule", "pipedream", "--stages", "4", "--micro-batches", "12")
    assert CONTRACT_KEYS <= summary.keys()
    assert summary["slots"] == 30 and summary["density"] == 0.8
    assert summary["fwd_delay"] == summary["bwd_delay"] == [3, 2, 1, 0]
    assert summary["peak_in_flight"] == summary["peak_versions"] == [4, 3, 2, 1]
    check_record("pipedream", 4, 1, 12)


def test_done_when_2bw(capsys):
    summary = schedule_json(capsys, "--schedule", "2bw", "--stages", "4", "--micro-batches", "16", "--mini-batch", "4")
    assert CONTRACT_KEYS <= summary.keys()
    assert summary["slots"] == 38
    assert summary["fwd_delay"] == summary["bwd_delay"] == [1, 1, 1, 1]
    assert summary["peak_versions"] == [2, 2, 2, 2]
    check_record("2bw", 4, 4, 16)


def test_done_when_1f1b_against_sp(capsys):
    one_f_one_b = schedule_json(capsys, "--schedule", "1f1b", "--stages", "4", "--micro-batches", "4", "--mini-batch", "4")
    gpipe = schedule_json(capsys, "--schedule", "sp", "--stages", "4", "--micro-batches", "4", "--mini-batch", "4")
    assert CONTRACT_KEYS <= one_f_one_b.keys()
    assert one_f_one_b["slots"] == gpipe["slots"] == 14
    assert Fraction(one_f_one_b["density"]).limit_denominator(100) == Fraction(4, 7)
    assert one_f_one_b["peak_in_flight"] == [4, 3, 2, 1]
    assert gpipe["peak_in_flight"] == [4, 4, 4, 4]
    assert one_f_one_b["peak_versions"] == gpipe["peak_versions"] == [1, 1, 1, 1]


@pytest.mark.parametrize("schedule", SCHEDULE_NAMES)
def test_summary_closed_forms_beside_measurements(capsys, schedule):
    summary = schedule_json(capsys, "--schedule", schedule, "--stages", "3", "--micro-batches", "12", "--mini-batch", "3")
    assert summary["slots"] == summary["closed_form_slots"]
    assert summary["density"] == pytest.approx(summary["closed_form_density"], rel=1e-12)
    for quantity in ("fwd_delay", "bwd_delay", "peak_in_flight", "peak_versions"):
        assert summary[quantity] == summary[f"closed_form_{quantity}"], quantity


def test_2bw_needs_mini_batch_of_at_least_the_stages(capsys):
    code = main(["schedule", "--schedule", "2bw", "--stages", "4", "--micro-batches", "12", "--mini-batch", "3"])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert captured.err.count("\n") == 1 and "--mini-batch" in captured.err and ">= the 4 stages" in captured.err
    with pytest.raises(ValueError, match="B >= the stages M=4"):
        build_schedule("2bw", 4, 12, 3)


def test_simulate_2bw_needs_mini_batch_of_at_least_the_stages(capsys, tmp_path):
    out = tmp_path / "out"
    arguments = ["simulate", "--schedule", "2bw", "--device", "digital", "--lr", "0.1", "--updates", "2", "--dims", "3,4,4,2"]
    code = main([*arguments, "--mini-batch", "2", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == "" and captured.err.count("\n") == 1
    assert "--mini-batch" in captured.err and ">= the 3 stages" in captured.err
    assert not out.exists()
    assert main([*arguments, "--mini-batch", "3", "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["schedule"] == "2bw" and summary["mini_batch"] == 3 and summary["bwd_delay_max"] == [1, 1, 1]


@pytest.mark.parametrize("schedule", ["1f1b", "pipedream", "2bw"])
def test_new_schedules_draw(capsys, tmp_path, schedule):
    figure = tmp_path / f"{schedule}.png"
    assert main(["schedule", "--schedule", schedule, "--stages", "3", "--micro-batches", "6", "--mini-batch", "3", "--figure", str(figure)]) == 0
    assert schedule in capsys.readouterr().out
    assert figure.read_bytes().startswith(b"\x89PNG")


def test_registry_is_the_one_list():
    """numerics' registry, theory's closed forms and the command-line choices name the same schedules, in MODEL's order."""
    assert SCHEDULE_NAMES == ("single", "wop", "sp", "1f1b", "ap", "pipedream", "2bw")
    assert tuple(closed.CLOSED_FORMS) == SCHEDULE_NAMES == tuple(SCHEDULES)
    from proofs_check.cli import build_parser

    parser = build_parser()
    subparsers = next(action for action in parser._actions if action.choices and "schedule" in action.choices)
    for command in ("schedule", "simulate"):
        option = next(a for a in subparsers.choices[command]._actions if "--schedule" in a.option_strings)
        assert tuple(option.choices) == SCHEDULE_NAMES, command


def test_speed_up_closed_forms():
    M, B = closed.M, closed.B
    assert closed.speed_up("1f1b") == closed.speed_up("sp") == sp.simplify(M * B / (B + M - 1))
    assert closed.speed_up("pipedream") == closed.speed_up("2bw") == closed.speed_up("ap") == M
    assert closed.speed_up("wop") == 1
    assert closed.asymptotic_density("2bw") == 1


# ----- negative controls: every check can fail ------------------------------------------------


def tampered(record, select, **change):
    operations = list(record.operations)
    index = next(i for i, op in enumerate(operations) if select(op))
    operations[index] = dataclasses.replace(operations[index], **change)
    return dataclasses.replace(record, operations=tuple(operations))


@pytest.mark.parametrize("tampering", ["version", "slot", "duplicate-slot"])
def test_checker_rejects_a_tampered_record(tampering):
    """Negative control: verify_record fails on an AP record with one operation altered."""
    record = build_schedule("ap", 3, 5)
    verify_record(record, "ap", 3, 1, 5)
    op = next(op for op in record.operations if op.kind == FORWARD and op.layer == 2 and op.micro_batch == 1)
    same = lambda other: other == op  # noqa: E731
    if tampering == "version":
        bad = tampered(record, same, version=op.version + 1)
    elif tampering == "slot":
        # F(1) at stage 2 moved into the slot of F(1) at stage 1: a dependency is broken.
        earlier = next(o for o in record.operations if o.kind == FORWARD and o.layer == 1 and o.micro_batch == 1)
        bad = tampered(record, same, slot=earlier.slot)
    else:
        bad = tampered(record, same, slot=op.slot + 1)
    with pytest.raises(AssertionError):
        verify_record(bad, "ap", 3, 1, 5)


def test_checker_rejects_pipedream_without_stashing():
    """B(1) at stage 1 reading the current weights instead of its stash: the delays, the
    version rule and the peak versions held all disagree with MODEL §3."""
    record = build_schedule("pipedream", 3, 6)
    verify_record(record, "pipedream", 3, 1, 6)
    op = next(op for op in record.operations if op.kind == BACKWARD and op.layer == 1 and op.micro_batch == 1)
    live = sum(1 for e in record.updates if e.layer == 1 and e.slot < op.slot)
    assert live != op.version
    bad = tampered(record, lambda other: other == op, version=live)
    with pytest.raises(AssertionError):
        verify_record(bad, "pipedream", 3, 1, 6)
    # The stashing is also what makes pipedream's measurements differ from ap's.
    with pytest.raises(AssertionError):
        verify_record(dataclasses.replace(record, definition=SCHEDULES["ap"]), "ap", 3, 1, 6)


def test_checker_rejects_2bw_reading_the_current_version():
    record = build_schedule("2bw", 3, 9, 3)
    verify_record(record, "2bw", 3, 3, 9)
    op = next(op for op in record.operations if op.kind == FORWARD and op.micro_batch == 3)
    bad = tampered(record, lambda other: other == op, version=op.version + 1)
    with pytest.raises(AssertionError):
        verify_record(bad, "2bw", 3, 3, 9)


def test_checker_rejects_a_false_closed_form(monkeypatch):
    """A closed form that MODEL does not state (2bw holding one version) is refuted by the record."""
    verify_record(build_schedule("2bw", 3, 9, 3), "2bw", 3, 3, 9)
    false = dataclasses.replace(closed.CLOSED_FORMS["2bw"], peak_versions=sp.Integer(1))
    monkeypatch.setitem(closed.CLOSED_FORMS, "2bw", false)
    closed_value.cache_clear()
    try:
        with pytest.raises(AssertionError):
            verify_record(build_schedule("2bw", 3, 9, 3), "2bw", 3, 3, 9)
    finally:
        closed_value.cache_clear()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("ap", 0, 3), "M must be >= 1"),
        (("ap", 2, 0), "J must be >= 1"),
        (("sp", 2, 5, 2), "multiple"),
        (("2bw", 3, 4, 2), "B >= the stages"),
        (("gpipe", 2, 4), "unknown schedule"),
    ],
)
def test_bad_arguments(arguments, message):
    with pytest.raises(ValueError, match=message):
        build_schedule(*arguments)


# ----- a run that drains after its first update repeats it ------------------------------------


def test_a_record_that_drains_after_one_update_is_that_update_repeated(monkeypatch):
    """Every schedule, M = 1…6, K = 1, 2, 3, 7 whole updates (and J not a multiple of B): the record
    built by repeating the first update once the pipeline drains equals the slot-by-slot record
    field for field; the repetition is taken for every flushing schedule (and never for 2BW,
    whose first group reads version 0 instead of −1)."""
    import itertools

    import numerics.schedules as schedules

    drained = schedules._drained_after_first_update
    for name in SCHEDULE_NAMES:
        definition = schedule_named(name)
        for layers, updates, mini_batch in itertools.product([1, 2, 3, 4, 6], [1, 2, 3, 7], [1, 2, 4, 6]):
            micro_batches = updates * definition.micro_batches_per_update(mini_batch)
            if definition.problem(layers, micro_batches, mini_batch) is not None:
                continue
            used = []
            monkeypatch.setattr(schedules, "_drained_after_first_update", lambda *arguments: used.append(drained(*arguments)) or used[-1])
            repeated = build_schedule(name, layers, micro_batches, mini_batch)
            monkeypatch.setattr(schedules, "_drained_after_first_update", lambda *arguments: False)
            assert repeated == build_schedule(name, layers, micro_batches, mini_batch), (name, layers, updates, mini_batch)
            if definition.flush and updates > 1:
                assert any(used), (name, layers, updates, mini_batch)
            if name == "2bw":
                assert not any(used)
        for micro_batches in (5, 9, 13):
            if definition.problem(3, micro_batches, 4) is None:
                monkeypatch.setattr(schedules, "_drained_after_first_update", drained)
                repeated = build_schedule(name, 3, micro_batches, 4)
                monkeypatch.setattr(schedules, "_drained_after_first_update", lambda *arguments: False)
                assert repeated == build_schedule(name, 3, micro_batches, 4), (name, micro_batches)

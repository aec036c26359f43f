"""The CONTRACT.md summary of a schedule record: measured slots, density and delays beside
MODEL.md §3's closed forms (used by `schedule --json` and by report.json)."""

from __future__ import annotations

from numerics.schedules import ScheduleRecord
from theory import schedules as closed_forms


def schedule_summary(record: ScheduleRecord) -> dict:
    """The CONTRACT.md `schedule --json` object, with the closed forms beside the measurements."""
    values = dict(stages=record.layers, mini_batch=record.mini_batch, micro_batches=record.micro_batches)
    return {
        "schedule": record.schedule,
        "stages": record.layers,
        "micro_batches": record.micro_batches,
        "mini_batch": record.mini_batch,
        "slots": record.slots,
        "slots_per_mini_batch": record.slots * record.mini_batch / record.micro_batches,
        "closed_form_slots": float(closed_forms.evaluate(closed_forms.total_slots(record.schedule), **values)),
        "density": record.density,
        "closed_form_density": float(closed_forms.evaluate(closed_forms.density(record.schedule), **values)),
        "fwd_delay": record.largest_forward_delay,
        "bwd_delay": record.largest_backward_delay,
    }

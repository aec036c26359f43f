"""The CONTRACT.md summary of a schedule record: measured slots, density, delays, peak
in-flight micro-batches and peak weight versions beside MODEL.md §3's closed forms (used by
`schedule --json` and by report.json)."""

from __future__ import annotations

from numerics.schedules import ScheduleRecord
from theory import schedules as closed_forms


def schedule_summary(record: ScheduleRecord) -> dict:
    """The CONTRACT.md `schedule --json` object, with the closed forms beside the measurements."""
    forms = closed_forms.closed_forms(record.definition)
    values = dict(stages=record.layers, mini_batch=record.mini_batch, micro_batches=record.micro_batches)
    return {
        "schedule": record.schedule,
        "stages": record.layers,
        "micro_batches": record.micro_batches,
        "mini_batch": record.mini_batch,
        "slots": record.slots,
        "slots_per_mini_batch": record.slots * record.mini_batch / record.micro_batches,
        "closed_form_slots": float(closed_forms.evaluate(forms.total_slots, **values)),
        "density": record.density,
        "closed_form_density": float(closed_forms.evaluate(forms.density, **values)),
        "fwd_delay": record.largest_forward_delay,
        "bwd_delay": record.largest_backward_delay,
        "closed_form_fwd_delay": closed_forms.largest_delay_per_stage(forms.forward_delay, **values),
        "closed_form_bwd_delay": closed_forms.largest_delay_per_stage(forms.backward_delay, **values),
        "peak_in_flight": record.peak_in_flight,
        "peak_versions": record.peak_versions,
        "closed_form_peak_in_flight": [int(v) for v in closed_forms.per_stage(forms.peak_in_flight, **values)],
        "closed_form_peak_versions": [int(v) for v in closed_forms.per_stage(forms.peak_versions, **values)],
    }

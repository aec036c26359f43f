"""The documented limits of the command line, and the estimates requests are held against.

Before any work a command estimates what the request needs (slot × stage cells of the
scheduler, memory of a simulation, size of a figure, size of a candidate expression) and
refuses what exceeds a limit: exit 2 with one line naming the flag, the limit and why
(`UsageError`). The limits are documented in docs/cli.md ("Limits"); each is chosen so
that a request within it finishes in minutes and fits in a few GiB on a laptop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from proofs_check.errors import UsageError


@dataclass(frozen=True)
class Limits:
    """Largest requests the command line accepts."""

    schedule_cells: int = 4_000_000
    """Slots × stages the slot-accurate scheduler may simulate (`schedule`, `simulate`):
    its work and memory grow with this count (about 10^5–10^6 cells a second and up to
    ~150 bytes per cell here)."""
    figure_operations: int = 5_000
    """Forward and backward operations (2·J·M) a schedule figure may draw: each is a
    patch and a label, about 3 ms each."""
    figure_pixels: int = 50_000_000
    """Pixels of a schedule figure (its width grows with the slots, its height with the
    stages; 4 bytes each while rendering)."""
    memory_bytes: int = 2 * 1024**3
    """Estimated memory of one `simulate` run (data, weights and their kept versions,
    activations in flight, row tables and the trace, over every replica)."""
    layers: int = 256
    """Layers M of a network given to `constants` (its Γ_sym has M² entries)."""
    expression_length: int = 1_000
    """Characters of a candidate right side (`bound --rhs`, `theorem --rhs`, `replay --rhs`)."""
    expression_nodes: int = 200
    """Operators, names and numbers in a candidate right side."""
    expression_depth: int = 30
    """Nesting depth of a candidate right side."""
    exponent: float = 100.0
    """Largest |exponent| of a power whose exponent is a number (`X**2` is fine; `9**9**9`
    would be evaluated exactly while parsing, so it is refused)."""
    budget: float = 100_000.0
    """Largest `--budget`, in units of 10,000 evaluations (several hours of search here)."""


LIMITS = Limits()
"""The limits in force."""


def _amount(value: float) -> str:
    return f"{value:.3g}" if value < 1e6 else f"{value:.2e}"


def _bytes(value: float) -> str:
    for unit, size in (("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if value >= size:
            return f"{value / size:.3g} {unit}"
    return f"{value:.0f} bytes"


def estimated_slots(schedule: str, stages: int, micro_batches: int, mini_batch: int) -> int:
    """Slots of `schedule` for J micro-batches on M stages: MODEL.md §3's closed form where
    theory.schedules has one, else the bound 2·J·M (every operation in its own slot)."""
    from theory import schedules as closed_forms

    bound = 2 * micro_batches * stages
    try:
        slots = closed_forms.total_slots(schedule).subs({closed_forms.M: stages, closed_forms.J: micro_batches, closed_forms.B: mini_batch})
    except (ValueError, KeyError, TypeError):
        return bound
    return int(slots) if slots.is_number and slots.is_finite else bound


def schedule_cells(schedule: str, stages: int, micro_batches: int, mini_batch: int) -> int:
    """Slot × stage cells the scheduler visits (each slot looks at every stage's layers)."""
    return estimated_slots(schedule, stages, micro_batches, mini_batch) * stages


def check_schedule(schedule: str, stages: int, micro_batches: int, mini_batch: int, flag: str) -> None:
    """Refuse a schedule whose simulation exceeds `LIMITS.schedule_cells` (naming `flag`)."""
    cells = schedule_cells(schedule, stages, micro_batches, mini_batch)
    if cells > LIMITS.schedule_cells:
        raise UsageError(
            f"{flag}: {schedule} with M={stages} stages and J={micro_batches} micro-batches needs {_amount(cells)} slot x stage cells, "
            f"above the limit of {_amount(LIMITS.schedule_cells)} (the scheduler's time and memory grow with them; see Limits in docs/cli.md)"
        )


def check_figure(schedule: str, stages: int, micro_batches: int, mini_batch: int, devices: int) -> None:
    """Refuse a schedule figure with too many operations or pixels (`--figure`)."""
    from proofs_check.figures import schedule_grid_inches
    from proofs_check.output import FIGURE_DPI

    operations = 2 * micro_batches * stages
    if operations > LIMITS.figure_operations:
        raise UsageError(
            f"--figure: the grid would draw {_amount(operations)} operations (2·J·M), above the limit of {_amount(LIMITS.figure_operations)} "
            f"(each is drawn separately, about 3 ms each); draw fewer --stages or --micro-batches"
        )
    width, height = schedule_grid_inches(estimated_slots(schedule, stages, micro_batches, mini_batch), devices)
    pixels = width * height * FIGURE_DPI**2
    if pixels > LIMITS.figure_pixels:
        raise UsageError(f"--figure: the grid would be {_amount(pixels)} pixels, above the limit of {_amount(LIMITS.figure_pixels)} (rendering memory); draw fewer --stages or --micro-batches")


def simulation_terms(
    dims: Sequence[int], replicas: int, samples: int, micro_batch_size: int, micro_batches: int, mini_batch: int, updates: int
) -> dict[str, float]:
    """Estimated bytes of one `simulate` run, by the flag that drives each term (float64 and
    intp entries of 8 bytes; every term over all replicas)."""
    layers = len(dims) - 1
    parameters = sum(dims[m] * dims[m - 1] for m in range(1, layers + 1))
    widths = sum(dims)
    in_flight = min(micro_batches, mini_batch + layers)
    return {
        "--samples": 8.0 * replicas * samples * (dims[0] + dims[-1]),
        "--dims": 8.0 * replicas * parameters * (layers + 4),
        "--micro-batch-size": 8.0 * replicas * micro_batch_size * (4.0 * widths * in_flight + micro_batches),
        "--updates": 8.0 * (replicas + 2 * layers) * updates,
    }


def check_simulation(
    dims: Sequence[int], replicas: int, samples: int, micro_batch_size: int, micro_batches: int, mini_batch: int, updates: int, schedule: str
) -> None:
    """Refuse a `simulate` run whose schedule or memory exceeds the limits, naming the flag
    whose term dominates (--replicas when one replica would fit)."""
    layers = len(dims) - 1
    check_schedule(schedule, layers, micro_batches, mini_batch, "--mini-batch" if mini_batch > updates else "--updates")
    terms = simulation_terms(dims, replicas, samples, micro_batch_size, micro_batches, mini_batch, updates)
    total = math.fsum(terms.values())
    if total <= LIMITS.memory_bytes:
        return
    if replicas > 1 and total / replicas <= LIMITS.memory_bytes:
        flag = "--replicas"
    else:
        flag = max(terms, key=terms.get)
    raise UsageError(
        f"{flag}: the run would need about {_bytes(total)} of memory, above the limit of {_bytes(LIMITS.memory_bytes)} (see Limits in docs/cli.md)"
    )


def check_layers(layers: int, flag: str) -> None:
    """Refuse networks deeper than `LIMITS.layers`."""
    if layers > LIMITS.layers:
        raise UsageError(f"{flag}: M = {layers} layers, above the limit of {LIMITS.layers} (the output holds M x M entries)")


def check_budget(budget: float, flag: str = "--budget") -> None:
    """Refuse a search budget above `LIMITS.budget` units."""
    if budget > LIMITS.budget:
        raise UsageError(f"{flag}: {budget:g} units of 10,000 evaluations is above the limit of {LIMITS.budget:g} (about 0.3 s per unit here)")

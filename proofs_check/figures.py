"""Figures (matplotlib, no pyplot state): schedule grids and ratio distributions."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from numerics.schedules import BACKWARD, ScheduleRecord

def schedule_grid_inches(slots: int, devices: int) -> tuple[float, float]:
    """Width and height (inches) of the stage × slot grid of `schedule_grid`."""
    return max(6.0, 0.28 * slots + 1.5), 0.45 * devices + 1.2


def schedule_grid(record: ScheduleRecord, axes=None) -> Figure:
    """The stage × slot grid: one colour per micro-batch, F solid, B hatched, idle white,
    a black triangle where an update is applied at the end of a slot (stage 1 at the bottom)."""
    if axes is None:
        figure = Figure(figsize=schedule_grid_inches(record.slots, record.devices))
        axes = figure.add_subplot()
    else:
        figure = axes.figure
    palette = [tuple(c) for c in np.vstack([_tab20(i) for i in range(20)])]
    for op in record.operations:
        colour = palette[op.micro_batch % len(palette)]
        row = op.device - 1
        axes.add_patch(
            Rectangle(
                (op.slot, row), 1, 1, facecolor=colour, edgecolor="black", linewidth=0.4,
                hatch="///" if op.kind == BACKWARD else None,
            )
        )
        label = f"{op.kind}{op.micro_batch}" if record.devices > 1 else f"{op.kind}{op.micro_batch}.{op.layer}"
        axes.text(op.slot + 0.5, row + 0.5, label, ha="center", va="center", fontsize=5)
    for event in record.updates:
        row = (event.layer if record.devices > 1 else 1) - 1
        axes.plot(event.slot + 1, row + 0.85, marker="v", color="black", markersize=3.5)
    axes.set_xlim(0, record.slots + 0.6)  # room for the update marks of the last slot
    axes.set_ylim(0, record.devices)
    axes.set_yticks(np.arange(record.devices) + 0.5, [f"stage {d}" for d in range(1, record.devices + 1)])
    axes.set_xlabel("slot")
    axes.set_title(
        f"{record.definition.title}: M={record.layers}, J={record.micro_batches}, B={record.mini_batch}, "
        f"{record.slots} slots, density {record.density:.3f}",
        fontsize=9,
    )
    axes.set_aspect("equal" if record.slots < 80 else "auto")
    return figure


def _tab20(index: int) -> np.ndarray:
    from matplotlib import colormaps

    return np.asarray(colormaps["tab20"](index))


def ratio_distributions(ratios: dict[str, np.ndarray], statuses: dict[str, str]) -> Figure:
    """Histogram of log10(lhs/rhs) per lemma, the bound (ratio 1) as a red line."""
    count = len(ratios)
    columns = 4
    rows = (count + columns - 1) // columns
    figure = Figure(figsize=(3.2 * columns, 2.5 * rows), layout="constrained")
    axes_grid = figure.subplots(rows, columns, squeeze=False)
    for axes, (lemma, values) in zip(axes_grid.ravel(), ratios.items()):
        positive = values[values > 0]
        if positive.size:
            logs = np.log10(positive)
            low = max(float(np.min(logs)), -12.0)
            axes.hist(np.clip(logs, low, None), bins=50, range=(low, max(0.5, float(np.max(logs)) + 0.1)), color="tab:blue")
        axes.axvline(0.0, color="tab:red", linewidth=1.2)
        zero_share = 1.0 - positive.size / values.size if values.size else 0.0
        axes.set_title(f"{lemma} ({statuses.get(lemma, '')})", fontsize=9)
        axes.set_xlabel("log10(lhs/rhs)" + (f"; {zero_share:.0%} at lhs = 0" if zero_share > 0.005 else ""), fontsize=7)
        axes.tick_params(labelsize=7)
        axes.set_yscale("log")
    for axes in axes_grid.ravel()[count:]:
        axes.set_visible(False)
    return figure

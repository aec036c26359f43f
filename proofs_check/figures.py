"""Figures for papers (matplotlib, no pyplot state): schedule grids and ratio distributions.

Sizes are set for a paper: a single-column figure is 3.3 in wide with 7–8 pt text, so it is
readable at that width without scaling; a schedule too long for one column, and a grid of
panels, takes a two-column width (6.9 in). Constrained layout fits every label inside that
size, and `proofs_check.output.write_figure` saves the figure at exactly that size as PNG or PDF.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure
from matplotlib.collections import PatchCollection
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import NullLocator

from numerics.schedules import BACKWARD, FORWARD, ScheduleRecord

SINGLE_COLUMN = 3.3
"""Width of a single-column figure on the page, inches."""
DOUBLE_COLUMN = 6.9
"""Width of a figure spanning two columns on the page, inches."""
FONT_SIZE = 7.5
"""Text size of labels and ticks, points (at the figure's own width)."""


def paper_style(size: float = FONT_SIZE):
    """A matplotlib rc context for figures drawn at their printed size: text of `size` points,
    legends and ticks a little smaller, thin lines."""
    from matplotlib import rc_context

    return rc_context(
        {
            "font.size": size, "axes.titlesize": size, "axes.labelsize": size, "legend.fontsize": size - 1,
            "legend.title_fontsize": size - 1, "xtick.labelsize": size - 0.5, "ytick.labelsize": size - 0.5,
            "lines.markersize": 4, "axes.linewidth": 0.6,
        }
    )


def _palette(count: int) -> list[tuple]:
    from matplotlib import colormaps

    name = "tab10" if count <= 10 else "tab20"
    colours = colormaps[name]
    return [tuple(colours(i % colours.N)) for i in range(max(count, 1))]


def schedule_grid_inches(slots: int, devices: int) -> tuple[float, float]:
    """Width and height (inches) of the stage × slot grid of `schedule_grid`: single-column
    width up to 24 slots, two-column beyond, a height that keeps the rows readable."""
    return (SINGLE_COLUMN if slots <= 24 else DOUBLE_COLUMN), 0.28 * devices + 1.75



def schedule_grid(record: ScheduleRecord, axes=None) -> Figure:
    """The device × slot grid of any schedule record: one colour per micro-batch (legend),
    forward operations solid, backward hatched, idle white, a black triangle where an update
    is applied at the end of a slot (device 1 at the bottom). Single-column width up to 24
    slots, two-column width beyond, with a height that keeps the rows readable."""
    with paper_style():
        return _schedule_grid(record, axes)


def main_job_schedule_grid(name: str) -> Figure:
    """The schedule figure of `run`: schedule `name` on M = 4 stages, 8 micro-batches, B = 4."""
    from numerics.schedules import build_schedule, schedule_named

    schedule = schedule_named(name)
    return schedule_grid(build_schedule(schedule, 4, 8, schedule.micro_batches_per_update(4)))


def _schedule_grid(record: ScheduleRecord, axes) -> Figure:
    width, _ = schedule_grid_inches(record.slots, record.devices)
    if axes is None:
        figure = Figure(figsize=schedule_grid_inches(record.slots, record.devices), layout="constrained")
        axes = figure.add_subplot()
    else:
        figure = axes.figure
    palette = _palette(record.micro_batches)
    cell_points = width * 72 * 0.85 / max(record.slots, 1)
    label_size = min(6.0, 0.42 * cell_points)
    for kind in (FORWARD, BACKWARD):  # one collection per kind: two artists, not one per cell
        cells = [op for op in record.operations if op.kind == kind]
        if cells:
            axes.add_collection(
                PatchCollection(
                    [Rectangle((op.slot, op.device - 1), 1, 1) for op in cells], facecolors=[palette[op.micro_batch % len(palette)] for op in cells],
                    edgecolors="black", linewidths=0.3, hatch="////" if kind == BACKWARD else None,
                )
            )
    if label_size >= 5.0:
        for op in record.operations:
            label = f"{op.kind}{op.micro_batch}" if record.devices > 1 else f"{op.kind}{op.micro_batch}.{op.layer}"
            axes.text(op.slot + 0.5, op.device - 0.5, label, ha="center", va="center", fontsize=label_size)
    if record.updates:
        marks = np.array([(event.slot + 1, (event.layer if record.devices > 1 else 1) - 1 + 0.85) for event in record.updates])
        axes.plot(marks[:, 0], marks[:, 1], marker="v", color="black", markersize=3, linestyle="none")
    axes.set_xlim(0, record.slots + 0.6)  # room for the update marks of the last slot
    axes.set_ylim(0, record.devices)
    axes.set_aspect("auto")
    axes.set_yticks(np.arange(record.devices) + 0.5, [f"{d}" for d in range(1, record.devices + 1)])
    axes.set_ylabel("device (stage)")
    axes.set_title(
        f"{record.definition.title}\nM={record.layers}, J={record.micro_batches}, B={record.mini_batch}; "
        f"{record.slots} slots, density {record.density:.3f}"
    )
    axes.set_xlabel("slot (clock cycle)\nsolid: forward, hatched: backward, ▼: update applied")
    if record.micro_batches <= 20:
        handles = [Patch(facecolor=palette[j], edgecolor="black", linewidth=0.3, label=f"{j}") for j in range(record.micro_batches)]
        figure.legend(
            handles=handles, loc="outside lower center", ncol=min(len(handles), 10), frameon=False, title="micro-batch",
            handlelength=1.0, handletextpad=0.4, columnspacing=0.8,
        )
    return figure


def ratio_bins(logs: np.ndarray, count: int = 40) -> np.ndarray:
    """Bin edges for log10(lhs/rhs) on a grid of equal steps that has 0 (ratio 1, the bound)
    as an edge, so that no bin straddles the bound; it covers every value and [−1, 0.5] at least."""
    low = min(-1.0, float(np.min(logs))) if logs.size else -1.0
    high = max(0.5, float(np.max(logs))) if logs.size else 0.5
    step = (high - low) / count
    first, last = math.floor(low / step), math.ceil(high / step)
    return step * np.arange(first, last + 1)


def right_closed_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts per bin (a, b] (the first bin also takes its left edge): a ratio of exactly 1
    (log 0) falls in the bin that ends at the bound, never in the one after it."""
    index = np.clip(np.searchsorted(edges, values, side="left") - 1, 0, len(edges) - 2)
    return np.bincount(index, minlength=len(edges) - 1)


FLOOR = -12.0
"""log10 ratios below this are drawn in the first bin (ratios of 10^-12 and smaller)."""


def ratio_distributions(ratios: dict[str, np.ndarray], statuses: dict[str, str]) -> Figure:
    """Histogram of log10(lhs/rhs) per lemma (two columns, single-column width): the bound
    lhs = rhs as a red line at exactly 1 on a bin edge, bins closed on the right so a ratio
    of 1 counts left of the line, entries with lhs = 0 stated in the panel."""
    with paper_style():
        count = len(ratios)
        columns = 2 if count > 1 else 1
        rows = max(1, (count + columns - 1) // columns)
        figure = Figure(figsize=(SINGLE_COLUMN if columns == 1 else DOUBLE_COLUMN, 1.55 * rows + 0.45), layout="constrained")
        axes_grid = figure.subplots(rows, columns, squeeze=False)
        for axes, (lemma, values) in zip(axes_grid.ravel(), ratios.items()):
            values = np.asarray(values, dtype=float)
            positive = values[values > 0]
            logs = np.maximum(np.log10(positive), FLOOR) if positive.size else np.zeros(0)
            edges = ratio_bins(logs)
            counts = right_closed_counts(logs, edges)
            axes.stairs(counts, edges, fill=True, color="tab:blue", label="checked entries")
            axes.axvline(0.0, color="tab:red", linewidth=1.0, label="bound: lhs = rhs")
            zero_share = 1.0 - positive.size / values.size if values.size else 0.0
            axes.set_title(f"{lemma} ({statuses.get(lemma, '')})")
            axes.set_xlabel(r"$\log_{10}(\mathrm{lhs}/\mathrm{rhs})$" + (f"  ({zero_share:.0%} with lhs = 0 not shown)" if zero_share > 0.005 else ""))
            axes.set_ylabel("entries")
            if counts.any():
                axes.set_yscale("log")
                if counts.max() >= 100 * counts[counts > 0].min():
                    # two decades or more carry labelled decade ticks: no minor ticks (most of a save's time)
                    axes.yaxis.set_minor_locator(NullLocator())
        for axes in axes_grid.ravel()[count:]:
            axes.set_visible(False)
        if count:
            handles, labels = axes_grid.ravel()[0].get_legend_handles_labels()
            figure.legend(handles, labels, loc="outside upper center", ncol=2, frameon=False)
        return figure

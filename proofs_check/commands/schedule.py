"""Run the slot-accurate scheduler alone; report slots, density and delays beside the closed forms.

Measured values come from the scheduler's record; closed forms from theory.schedules (MODEL.md §3).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from numerics.schedules import SCHEDULE_NAMES, build_schedule
from proofs_check.arguments import positive_int
from proofs_check.errors import UsageError
from proofs_check.output import FIGURE_FORMATS, Column, print_json, print_table, write_figure
from proofs_check.schedule_summary import schedule_summary


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--schedule", required=True, choices=SCHEDULE_NAMES)
    parser.add_argument("--stages", required=True, type=positive_int, help="M, the number of stages (layers)")
    parser.add_argument("--micro-batches", type=positive_int, help="J, micro-batches in total (default: one mini-batch)")
    parser.add_argument("--mini-batch", type=positive_int, default=4, help="B, micro-batches per update for single/wop/sp (default 4)")
    parser.add_argument("--figure", type=Path, help="draw the stage × slot grid to this .png or .pdf file")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(arguments: argparse.Namespace) -> int:
    mini_batch = 1 if arguments.schedule == "ap" else arguments.mini_batch
    micro_batches = arguments.micro_batches or mini_batch
    if micro_batches % mini_batch:
        raise UsageError(f"--micro-batches must be a multiple of --mini-batch ({mini_batch}), got {micro_batches}")
    if arguments.figure is not None and arguments.figure.suffix.lower().lstrip(".") not in FIGURE_FORMATS:
        raise UsageError(f"--figure must name a {' or '.join('.' + kind for kind in FIGURE_FORMATS)} file, got {arguments.figure}")
    record = build_schedule(arguments.schedule, arguments.stages, micro_batches, mini_batch)
    summary = schedule_summary(record)
    if arguments.figure is not None:
        from proofs_check.figures import schedule_grid

        try:
            write_figure(arguments.figure, schedule_grid(record))
        except OSError as error:
            raise UsageError(f"--figure: cannot write {arguments.figure} ({error.strerror or error})") from None
    if arguments.json:
        print_json(summary)
    else:
        print_table(
            ["quantity", Column("measured", "right", ".6g"), Column("closed form (MODEL §3)", "right", ".6g")],
            [
                ("slots", summary["slots"], summary["closed_form_slots"]),
                ("density", summary["density"], summary["closed_form_density"]),
                ("largest fwd delay", summary["fwd_delay"], None),
                ("largest bwd delay", summary["bwd_delay"], None),
            ],
            title=f"schedule {record.schedule}: M={record.layers}, J={record.micro_batches}, B={record.mini_batch}",
        )
    return 0

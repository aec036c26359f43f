"""Run the slot-accurate scheduler alone; report slots, density, delays, peak in-flight
micro-batches and peak weight versions beside the closed forms.

Measured values come from the scheduler's record; closed forms from theory.schedules (MODEL.md §3).
"""

from __future__ import annotations

import argparse

from numerics.schedules import build_schedule, schedule_named
from proofs_check.arguments import add_schedule_argument, check_schedule_shape, output_path, positive_int
from proofs_check.errors import UsageError
from proofs_check.limits import check_figure, check_schedule
from proofs_check.output import FIGURE_FORMATS, Column, print_json, print_table, write_figure
from proofs_check.schedule_summary import schedule_summary


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_schedule_argument(parser, required=True)
    parser.add_argument("--stages", required=True, type=positive_int, help="M, the number of stages (layers)")
    parser.add_argument("--micro-batches", type=positive_int, help="J, micro-batches in total (default: one mini-batch)")
    parser.add_argument(
        "--mini-batch", type=positive_int, default=4,
        help="B, micro-batches per update: a mini-batch (single, wop, sp, 1f1b) or a group (2bw, needs B >= M); ap and pipedream use 1 (default 4)",
    )
    parser.add_argument("--figure", type=output_path, help="draw the stage × slot grid to this .png or .pdf file")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(arguments: argparse.Namespace) -> int:
    definition = schedule_named(arguments.schedule)
    mini_batch = definition.micro_batches_per_update(arguments.mini_batch)
    micro_batches = arguments.micro_batches or mini_batch
    check_schedule_shape(definition.name, arguments.stages, micro_batches, arguments.mini_batch)
    if arguments.figure is not None and arguments.figure.suffix.lower().lstrip(".") not in FIGURE_FORMATS:
        raise UsageError(f"--figure must name a {' or '.join('.' + kind for kind in FIGURE_FORMATS)} file, got {arguments.figure}")
    flag = "--stages" if micro_batches <= arguments.stages else "--micro-batches" if arguments.micro_batches else "--mini-batch"
    check_schedule(arguments.schedule, arguments.stages, micro_batches, mini_batch, flag)
    if arguments.figure is not None:
        check_figure(arguments.schedule, arguments.stages, micro_batches, mini_batch, 1 if definition.single_device else arguments.stages)
    record = build_schedule(definition, arguments.stages, micro_batches, mini_batch)
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
                ("largest fwd delay", summary["fwd_delay"], summary["closed_form_fwd_delay"]),
                ("largest bwd delay", summary["bwd_delay"], summary["closed_form_bwd_delay"]),
                ("peak in-flight", summary["peak_in_flight"], summary["closed_form_peak_in_flight"]),
                ("peak weight versions", summary["peak_versions"], summary["closed_form_peak_versions"]),
            ],
            title=f"schedule {record.schedule} ({definition.title}): M={record.layers}, J={record.micro_batches}, B={record.mini_batch}",
        )
    return 0

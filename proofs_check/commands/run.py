"""The main job: every lemma and theorem check on the built-in small models and schedules.

Writes DIR/report.json, DIR/tables/*.tex, DIR/figures/*.png and *.pdf (and DIR/witnesses/*.npz for
any violation). Exit 0 when every check holds, 1 when a bound is violated or errs.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from proofs_check.arguments import add_plugin_argument, nonnegative_int, output_path
from proofs_check.atomic import atomic_directory, check_output_directory
from proofs_check.executor import add_scheduler_argument, command_executor
from proofs_check.figure_process import FigureDrawing
from proofs_check.output import Column, json_text, print_table, progress_bar
from proofs_check.provenance import command_line
from proofs_check.report import build_report, result_figures, schedule_figures, write_outputs
from proofs_check.witness import WitnessStatement
from proofs_check.tolerance import HOLDS
from proofs_check.verification import verify


OUTPUT_ENTRIES = ("report.json", "tables", "figures", "witnesses")
"""What `report.write_outputs` writes in DIR: a new run replaces these, other entries stay."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=output_path, default=Path("results"), help="output directory (default results)")
    parser.add_argument("--quick", action="store_true", help="a smaller run (under 45 s)")
    parser.add_argument("--seed", type=nonnegative_int, default=0, help="seed of every random choice (default 0)")
    parser.add_argument("--json", action="store_true", help="print report.json to stdout")
    add_plugin_argument(parser)
    add_scheduler_argument(parser)


def _progress(iterable, total, description):
    return progress_bar(description)(iterable, total)


def print_summary(report: dict, out: Path) -> None:
    print_table(
        ["lemma", "paper label", Column("samples", "right"), Column("vacuous", "right"), Column("max ratio", "right", ".6g"), Column("median", "right", ".4g"), "status"],
        [
            (row["id"], row["paper_label"] or ("(this project)" if row["builtin"] else "(user lemma)"), row["samples"], row["vacuous"], row["max_ratio"], row["median_ratio"], row["status"])
            for row in report["lemmas"]
        ],
    )
    print()
    print_table(
        ["theorem", Column("lhs", "right", ".4g"), Column("rhs", "right", ".4g"), Column("critical scale", "right", ".3g"), "status"],
        [(row["id"], row["lhs"], row["rhs"], row.get("critical_scale"), row["status"]) for row in report["theorems"]],
    )
    speedup = next((row["details"].get("speedup") for row in report["theorems"] if row["details"].get("speedup")), None)
    if speedup:
        print()
        print_table(
            [Column("M", "right"), "noise", Column("b", "right"), Column("K_ap(ε)", "right"), Column("K_sp(ε)", "right"), Column("AP speed-up", "right", ".3g"), Column("(B+M-1)/B", "right", ".3g"), Column("B+M-1", "right")],
            [(row["stages"], row["noise"], row["micro_batch_size"], row["K_ap"], row["K_sp"], row["speedup"], row["model_noise_dominated"], row["model_little_noise"]) for row in speedup["rows"]],
            title=f"AP against SP, clock slots to ε (measured, B = {speedup['rows'][0]['mini_batch']}; not a verdict):",
        )
    falsification = report["falsification"]
    print()
    print(f"falsification power: {falsification['refuted']}/{len(falsification['variants'])} false variants refuted (kill rate {falsification['kill_rate']:.0%})")
    for variant in falsification["variants"]:
        if not variant["refuted"]:
            print(f"  NOT refuted: {variant['lemma']}: {variant['name']}")
    not_tried = falsification.get("theorem_not_tried", 0)
    print(f"theorem falsification power: {falsification['theorem_refuted']}/{falsification['theorem_variants']} false theorem variants refuted" + (f", {not_tried} not tried (their regimes run in the full check only)" if not_tried else ""))
    for variant in falsification["theorem_variant_list"]:
        where = f"regime {variant.get('regime', 'headline')}, K={variant['K']}: lhs {variant['lhs']:.4g}, rhs {variant['rhs']:.4g}"
        if variant["refuted"]:
            print(f"  refuted: {variant['theorem']}: {variant['name']} ({where})")
        elif variant.get("not_tried"):
            print(f"  not tried: {variant['theorem']}: {variant['name']} (regime {', '.join(variant['not_tried'])})")
        else:
            print(f"  NOT refuted: {variant['theorem']}: {variant['name']} (largest lhs/rhs {variant['ratio']:.3g}; {where})")
    counts = report["ledger"]["counts"]
    print(f"proof-step ledger: {counts['proved']} proved by z3, {counts['identity']} identities, {counts['numerical']} checked numerically, {counts['unproved']} unproved")
    for row in report["lemmas"]:
        if row["witness"] is not None:
            w = row["witness"]
            print(f"WITNESS {row['id']}: {w['status']} in '{w['part']}' (ratio {w['ratio']:.6g}, {w['origin']}); saved to {out / w['path']}")
            for line in WitnessStatement(**w["statement"]).lines():
                print(f"  {line}")
    print(f"wrote {out / 'report.json'}, {out / 'tables'}/*.tex, {out / 'figures'}/*.png and *.pdf in {report['config']['elapsed_seconds']} s")


def run(arguments: argparse.Namespace) -> int:
    check_output_directory(arguments.out)
    with FigureDrawing() as figures:  # drawn beside the job when a second CPU is free
        for stem, builder, figure_arguments in schedule_figures():
            figures.submit(stem, builder, *figure_arguments)

        def draw_result_figures(checked) -> None:  # called by verify once the lemma checks are final
            for stem, builder, figure_arguments in result_figures(checked):
                figures.submit(stem, builder, *figure_arguments)

        with command_executor(arguments) as executor:
            start = time.perf_counter()
            result = verify(arguments.quick, arguments.seed, progress=_progress, executor=executor, lemmas_checked=draw_result_figures)
        report = build_report(result, time.perf_counter() - start, command_line(arguments))
        with atomic_directory(arguments.out, OUTPUT_ENTRIES) as staging:
            write_outputs(staging, result, report, figures.drawn())
    if arguments.json:
        print(json_text(report))
    else:
        print_summary(report, arguments.out)
    failed = [row["id"] for row in report["lemmas"] + report["theorems"] if row["status"] != HOLDS]
    failed += [f"ledger step {e['id']}" for e in report["ledger"]["steps"] if e["status"] == "unproved"]
    failed += [c["setting"] for c in report["consistency"] if not c["updates_replay_exactly"] or c["largest_gradient_gap"] > 1e-12]
    if failed and not arguments.json:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0

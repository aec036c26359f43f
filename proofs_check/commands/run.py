"""The main job: every lemma and theorem check on the built-in small models and schedules.

Writes DIR/report.json, DIR/tables/*.tex, DIR/figures/*.png (and DIR/witnesses/*.npz for
any violation). Exit 0 when every check holds, 1 when a bound is violated or errs.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

from proofs_check import latex
from proofs_check.arguments import nonnegative_int
from proofs_check.errors import UsageError
from proofs_check.instances import instance_bytes
from proofs_check.output import json_text, progress_bar, write_figure, write_json, write_text, write_bytes
from proofs_check.tolerance import HOLDS
from proofs_check.verification import VerificationResult, lemma_row, schedule_rows, verify
from theory.statements import LEMMAS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("results"), help="output directory (default results)")
    parser.add_argument("--quick", action="store_true", help="a smaller run (under 30 s)")
    parser.add_argument("--seed", type=nonnegative_int, default=0, help="seed of every random choice (default 0)")
    parser.add_argument("--json", action="store_true", help="print report.json to stdout")


def _progress(iterable, total, description):
    return progress_bar(description)(iterable, total)


def build_report(result: VerificationResult, elapsed: float) -> dict:
    """report.json (CONTRACT.md) with the details researchers need beside it."""
    lemmas = []
    for lemma_id, check in result.lemma_checks.items():
        row = lemma_row(check)
        if check.witness is not None:
            row["witness"] = {
                "path": f"witnesses/{lemma_id}.npz",
                "status": check.witness_status,
                "part": check.witness_part,
                "ratio": check.witness_ratio,
                "origin": check.witness.origin,
            }
        lemmas.append(row)
    theorems = [
        {"id": t.id, "status": t.status, "lhs": t.lhs, "rhs": t.rhs, "details": t.details} for t in result.theorems
    ]
    variants = [
        {
            "lemma": outcome.claim.lemma,
            "kind": outcome.claim.kind,
            "name": outcome.claim.name,
            "refuted": outcome.refuted,
            "refuted_by": outcome.refuted_by,
            "ratio": outcome.check.witness_ratio if outcome.refuted else outcome.check.max_ratio,
            "samples": outcome.check.samples,
        }
        for outcome in result.variants
    ]
    ledger = [verdict.as_dict() for verdict in result.ledger]
    checked = {row["id"]: row["status"] for row in lemmas} | {row["id"]: row["status"] for row in theorems}
    for entry in ledger:
        check = entry.get("check")
        if check:
            entry["check_status"] = checked.get(check)
    return {
        "version": 1,
        "config": {
            "quick": result.quick,
            "seed": result.seed,
            "runs": len(result.settings),
            "settings": [setting.label for setting in result.settings],
            "elapsed_seconds": round(elapsed, 2),
        },
        "lemmas": lemmas,
        "theorems": theorems,
        "schedules": schedule_rows(result.records),
        "falsification": {
            "kill_rate": result.kill_rate,
            "refuted": sum(v["refuted"] for v in variants),
            "variants": variants,
        },
        "ledger": {
            "counts": {status: sum(e["status"] == status for e in ledger) for status in ("proved", "numerical", "unproved")},
            "steps": ledger,
        },
        "constants": result.constants,
        "consistency": result.consistency,
    }


def write_outputs(out: Path, result: VerificationResult, report: dict) -> None:
    from proofs_check.figures import ratio_distributions, schedule_grid
    from numerics.schedules import build_schedule

    for lemma_id, check in result.lemma_checks.items():
        if check.witness is not None:
            write_bytes(out / "witnesses" / f"{lemma_id}.npz", instance_bytes(check.witness))
    write_text(out / "tables" / "lemmas.tex", latex.lemma_table(report["lemmas"]))
    write_text(out / "tables" / "constants.tex", latex.constants_table(report["constants"]))
    write_text(out / "tables" / "complexity.tex", latex.complexity_table())
    write_text(out / "tables" / "theorems.tex", latex.theorem_table(report["theorems"]))
    variant_rows = [dict(row, ascii_name=f"{row['kind']} ({row['lemma']})") for row in report["falsification"]["variants"]]
    write_text(out / "tables" / "falsification.tex", latex.variants_table(variant_rows))
    ratios = {lemma_id: check.all_ratios() for lemma_id, check in result.lemma_checks.items()}
    statuses = {lemma_id: check.status for lemma_id, check in result.lemma_checks.items()}
    write_figure(out / "figures" / "ratio_distributions.png", ratio_distributions(ratios, statuses))
    for schedule in ("wop", "sp", "ap"):
        mini_batch = 1 if schedule == "ap" else 4
        write_figure(out / "figures" / f"schedule_{schedule}.png", schedule_grid(build_schedule(schedule, 4, 8, mini_batch)))
    write_json(out / "report.json", report)


def print_summary(report: dict, out: Path) -> None:
    print(f"{'lemma':<22}{'paper label':<28}{'samples':>10}{'max ratio':>14}{'median':>12}  status")
    for row in report["lemmas"]:
        label = row["paper_label"] or "(this project)"
        max_ratio = "nan" if row["max_ratio"] is None else f"{row['max_ratio']:.6g}"
        print(f"{row['id']:<22}{label:<28}{row['samples']:>10}{max_ratio:>14}{row['median_ratio']:>12.4g}  {row['status']}")
    print()
    print(f"{'theorem':<24}{'lhs':>14}{'rhs':>14}  status")
    for row in report["theorems"]:
        lhs = "--" if row["lhs"] is None else f"{row['lhs']:.4g}"
        rhs = "--" if row["rhs"] is None else f"{row['rhs']:.4g}"
        print(f"{row['id']:<24}{lhs:>14}{rhs:>14}  {row['status']}")
    falsification = report["falsification"]
    print()
    print(f"falsification power: {falsification['refuted']}/{len(falsification['variants'])} false variants refuted (kill rate {falsification['kill_rate']:.0%})")
    for variant in falsification["variants"]:
        if not variant["refuted"]:
            print(f"  NOT refuted: {variant['lemma']}: {variant['name']}")
    counts = report["ledger"]["counts"]
    print(f"proof-step ledger: {counts['proved']} proved symbolically, {counts['numerical']} checked numerically, {counts['unproved']} unproved")
    for row in report["lemmas"]:
        if row["witness"] is not None:
            w = row["witness"]
            print(f"WITNESS {row['id']}: {w['status']} in '{w['part']}' (ratio {w['ratio']:.6g}, {w['origin']}); saved to {out / w['path']}")
    print(f"wrote {out / 'report.json'}, {out / 'tables'}/*.tex, {out / 'figures'}/*.png in {report['config']['elapsed_seconds']} s")


def run(arguments: argparse.Namespace) -> int:
    if arguments.out.exists() and not arguments.out.is_dir():
        raise UsageError(f"--out: {arguments.out} exists and is not a directory")
    start = time.perf_counter()
    result = verify(arguments.quick, arguments.seed, progress=_progress)
    report = build_report(result, time.perf_counter() - start)
    try:
        write_outputs(arguments.out, result, report)
    except OSError as error:
        raise UsageError(f"--out: cannot write to {arguments.out} ({error.strerror or error})") from None
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

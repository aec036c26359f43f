"""report.json and the files of the main job: built from a `VerificationResult`, written atomically."""

from __future__ import annotations

from pathlib import Path

from proofs_check import latex
from proofs_check.builtin import model_error_setting
from proofs_check.model_error import model_error
from proofs_check.output import write_bytes, write_figure_formats, write_json, write_text
from proofs_check.provenance import provenance
from proofs_check.verification import VerificationResult, lemma_row, schedule_rows


def build_report(result: VerificationResult, elapsed: float, command: str | None = None) -> dict:
    """report.json (CONTRACT.md) with the details researchers need beside it. `command` is the
    command line that produced it (default: the Python API call `proofs_check.verify`)."""
    from proofs_check.witness import examine

    command = command or f"proofs_check.verify(quick={result.quick}, seed={result.seed})"
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
                "statement": examine(check.witness, check.claim, check.witness_part).as_dict(),
            }
        lemmas.append(row)
    theorems = [
        {"id": t.id, "status": t.status, "lhs": t.lhs, "rhs": t.rhs, "critical_scale": t.critical_scale, "details": t.details} for t in result.theorems
    ]
    theorem_variants = [
        {"theorem": t.id, **variant} for t in result.theorems for variant in t.details.get("variants", [])
    ]
    variants = [
        {
            "lemma": outcome.claim.lemma.id,
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
        "provenance": provenance(result.seed, command),
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
            "lemma_variants": len(variants),
            "lemma_refuted": sum(v["refuted"] for v in variants),
            "theorem_variants": len(theorem_variants),
            "theorem_refuted": sum(v["refuted"] for v in theorem_variants),
            "theorem_not_tried": sum(bool(v.get("not_tried")) for v in theorem_variants),
            "kill_rate": result.kill_rate,
            "refuted": sum(v["refuted"] for v in variants),
            "variants": variants,
            "theorem_variant_list": theorem_variants,
        },
        "ledger": {
            "counts": {status: sum(e["status"] == status for e in ledger) for status in ("proved", "identity", "numerical", "unproved")},
            "steps": ledger,
        },
        "constants": result.constants,
        "consistency": result.consistency,
        "model_error": model_error(model_error_setting(result.quick, result.seed), result.seed),
    }


def write_outputs(out: Path, result: VerificationResult, report: dict) -> None:
    from proofs_check.figures import ratio_distributions, schedule_grid
    from proofs_check.witness import WitnessStatement, witness_bytes
    from numerics.schedules import build_schedule, schedule_named

    statements = {row["id"]: row["witness"]["statement"] for row in report["lemmas"] if row["witness"] is not None}
    for lemma_id, check in result.lemma_checks.items():
        if check.witness is not None:
            write_bytes(out / "witnesses" / f"{lemma_id}.npz", witness_bytes(check.witness, WitnessStatement(**statements[lemma_id])))
    write_text(out / "tables" / "lemmas.tex", latex.lemma_table(report["lemmas"]))
    write_text(out / "tables" / "constants.tex", latex.constants_table(report["constants"]))
    write_text(out / "tables" / "complexity.tex", latex.complexity_table())
    write_text(out / "tables" / "theorems.tex", latex.theorem_table(report["theorems"]))
    falsification = report["falsification"]
    write_text(out / "tables" / "falsification.tex", latex.variants_table(falsification["variants"], falsification["theorem_variant_list"]))
    ratios = {lemma_id: check.all_ratios() for lemma_id, check in result.lemma_checks.items()}
    statuses = {lemma_id: check.verdict for lemma_id, check in result.lemma_checks.items()}
    write_figure_formats(out / "figures" / "ratio_distributions", ratio_distributions(ratios, statuses))
    for schedule in map(schedule_named, ("wop", "sp", "ap")):
        mini_batch = schedule.micro_batches_per_update(4)
        write_figure_formats(out / "figures" / f"schedule_{schedule.name}", schedule_grid(build_schedule(schedule, 4, 8, mini_batch)))
    write_json(out / "report.json", report)



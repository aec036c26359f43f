"""report.json and the files of the main job: built from a `VerificationResult`, written atomically."""

from __future__ import annotations

from pathlib import Path

from proofs_check import latex
from proofs_check.builtin import model_error_setting
from proofs_check.model_error import model_error
from proofs_check.figure_process import draw
from proofs_check.output import write_bytes, write_figure_files, write_json, write_text
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


MAIN_JOB_SCHEDULES = ("wop", "sp", "ap")
"""The schedules `run` draws (figures/schedule_NAME.*), with `figures.main_job_schedule_grid`."""


FigureRecipe = tuple[str, str, tuple]
"""A figure to draw: (file stem, "module:function" of its builder, the builder's arguments)."""


def schedule_figures() -> list[FigureRecipe]:
    """The figures of `run` that do not depend on its results."""
    return [(f"schedule_{name}", "proofs_check.figures:main_job_schedule_grid", (name,)) for name in MAIN_JOB_SCHEDULES]


def result_figures(result: VerificationResult) -> list[FigureRecipe]:
    """The figures of `run` drawn from its lemma checks (final once `verify` reports them checked)."""
    ratios = {lemma_id: check.all_ratios() for lemma_id, check in result.lemma_checks.items()}
    statuses = {lemma_id: check.verdict for lemma_id, check in result.lemma_checks.items()}
    return [("ratio_distributions", "proofs_check.figures:ratio_distributions", (ratios, statuses))]


def write_outputs(out: Path, result: VerificationResult, report: dict, figures: dict[str, dict[str, bytes]] | None = None) -> None:
    """Write report.json, tables/*.tex, figures/*.png and *.pdf and any witnesses into `out`.
    `figures`: the figures already drawn (`FigureDrawing.drawn`, by stem); default: drawn here."""
    from proofs_check.witness import WitnessStatement, witness_bytes

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
    if figures is None:
        figures = {stem: draw(builder, arguments) for stem, builder, arguments in result_figures(result) + schedule_figures()}
    for stem, formats in figures.items():
        write_figure_files(out / "figures" / stem, formats)
    write_json(out / "report.json", report)

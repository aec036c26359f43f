"""The main job: `run --quick` exits 0, every lemma and theorem holds, the kill rate is 100%,
report.json follows CONTRACT.md, and the figures exist as PNG and PDF (the tables compile: test_paper_outputs.py)."""

from __future__ import annotations

import json

import pytest

import proofs_check
from proofs_check.cli import main
from proofs_check.output import json_text
from proofs_check.library import lemma_ids

THEOREM_IDS = ("sync-convergence", "async-convergence", "iteration-complexity", "computation-density")


@pytest.fixture(scope="module")
def quick_run(quick_run_outputs):
    return quick_run_outputs


def test_quick_run_holds_everywhere(quick_run):
    code, _, report = quick_run
    assert code == 0
    assert [row["id"] for row in report["lemmas"]] == list(lemma_ids())
    for row in report["lemmas"]:
        assert row["status"] == "holds" and row["witness"] is None, row
        assert row["samples"] > 1000 and 0 < row["max_ratio"] <= 1 + 1e-9
    assert [row["id"] for row in report["theorems"]] == list(THEOREM_IDS)
    assert all(row["status"] == "holds" for row in report["theorems"])
    assert report["falsification"]["kill_rate"] == 1.0
    assert report["ledger"]["counts"]["unproved"] == 0


def test_report_follows_the_contract(quick_run):
    _, _, report = quick_run
    assert report["version"] == 1 and isinstance(report["config"], dict)
    for row in report["lemmas"]:
        assert {"id", "status", "samples", "max_ratio", "median_ratio", "witness"} <= set(row)
    for row in report["theorems"]:
        assert {"id", "status", "lhs", "rhs", "critical_scale", "details"} <= set(row)
    falsification = report["falsification"]
    assert {"lemma_variants", "lemma_refuted", "theorem_variants", "theorem_refuted"} <= set(falsification)
    assert falsification["lemma_refuted"] == falsification["lemma_variants"] == len(falsification["variants"])
    assert falsification["theorem_variants"] == len(falsification["theorem_variant_list"]) == 11
    assert falsification["theorem_refuted"] == sum(row["refuted"] for row in falsification["theorem_variant_list"]) >= 4
    for row in report["theorems"][:2]:
        assert row["critical_scale"] >= 0.05
    for row in report["schedules"]:
        assert {"schedule", "stages", "micro_batches", "slots", "density", "closed_form_density", "fwd_delay", "bwd_delay"} <= set(row)
        assert row["density"] == pytest.approx(row["closed_form_density"], abs=1e-12)
    assert {row["schedule"] for row in report["schedules"]} == {"wop", "sp", "ap", "1f1b", "pipedream", "2bw"}
    assert all(entry["updates_replay_exactly"] and entry["largest_gradient_gap"] <= 1e-12 for entry in report["consistency"])
    numerical = [step for step in report["ledger"]["steps"] if step["status"] == "numerical"]
    assert numerical and all(step["check_status"] == "holds" for step in numerical)


def test_outputs_are_written(quick_run):
    _, out, _ = quick_run
    for name in ("lemmas", "constants", "complexity", "theorems", "falsification"):
        text = (out / "tables" / f"{name}.tex").read_text()
        if name == "falsification":  # lemma variants (split so that each table fits a page), then theorem variants
            assert text.count(r"\toprule") == text.count(r"\label{tab:falsification") >= 3
            assert r"\label{tab:falsification-theorems}" in text
        else:
            assert text.count(r"\toprule") == 1
    for name in ("ratio_distributions", "schedule_wop", "schedule_sp", "schedule_ap"):
        assert (out / "figures" / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (out / "figures" / f"{name}.pdf").read_bytes()[:5] == b"%PDF-"
    assert not list(out.rglob("*.tmp")), "no temporary file may remain"


def test_same_seed_same_report_from_the_python_api(quick_run, tmp_path):
    """`proofs_check.verify` with the same seed reproduces the command's report."""
    _, _, report = quick_run
    returned = proofs_check.verify(quick=True, seed=0, out=tmp_path)
    again = json.loads((tmp_path / "report.json").read_text())
    assert json.loads(json_text(returned)) == again
    for key in ("lemmas", "schedules", "falsification", "constants"):
        first, second = report[key], again[key]
        if key == "lemmas":
            first = [{k: v for k, v in row.items() if k != "adversarial_search"} for row in first]
            second = [{k: v for k, v in row.items() if k != "adversarial_search"} for row in second]
        assert first == second, key
    assert [t["lhs"] for t in report["theorems"]] == [t["lhs"] for t in again["theorems"]]


def test_run_rejects_a_file_as_out(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("x")
    assert main(["run", "--quick", "--out", str(target)]) == 2
    assert capsys.readouterr().err.count("\n") == 1

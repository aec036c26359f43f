"""The proof-step ledger: every encoded step of MODEL.md's proof sketches and how it was verified.

Each step is `proved` (z3 decided it from its hypotheses), an `identity` (sympy reduced an
algebraic rewriting to 0), `numerical` (an analytic step sampled by the named check of
`run`) or `unproved` (z3 refuted it, answered unknown or timed out; or sympy could not
reduce it). The mutants, deliberately false versions of several steps, are listed with
z3's refutation and its counterexample. Every z3 call has a timeout (theory.prover.
DEFAULT_TIMEOUT_MS, 10 s), so the command cannot hang. Exit 1 when any step is left unproved.
"""

from __future__ import annotations

import argparse
import time

from proofs_check.output import print_json, print_table
from theory.ledger import STATUSES, UNPROVED, counts, verify_ledger, verify_mutants
from theory.prover import DEFAULT_TIMEOUT_MS, SAT


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(arguments: argparse.Namespace) -> int:
    timeout_ms = DEFAULT_TIMEOUT_MS
    start = time.perf_counter()
    verdicts = verify_ledger(timeout_ms=timeout_ms)
    mutants = verify_mutants(timeout_ms=timeout_ms)
    elapsed = time.perf_counter() - start
    tally = counts(verdicts)
    refuted = sum(verdict.proof is not None and verdict.proof.outcome == SAT for verdict in mutants)
    if arguments.json:
        print_json(
            {
                "counts": tally,
                "steps": [verdict.as_dict() for verdict in verdicts],
                "mutants": {"refuted": refuted, "total": len(mutants), "steps": [verdict.as_dict() for verdict in mutants]},
                "timeout_seconds": timeout_ms / 1000,
                "elapsed_seconds": round(elapsed, 3),
            }
        )
    else:
        print_table(["section", "step", "justification", "status", "statement"], _rows(verdicts))
        print(", ".join(f"{tally[status]} {status}" for status in STATUSES) + f" of {len(verdicts)} steps")
        print()
        print_table(["mutant", "z3", "counterexample"], _mutant_rows(mutants), title="mutants (deliberately false steps z3 must refute)")
        print(f"{refuted} of {len(mutants)} mutants refuted; {elapsed:.1f} s")
    return 1 if tally[UNPROVED] else 0


def _rows(verdicts) -> list[tuple]:
    """One row per step (its section named on the section's first row), and a row with the
    reason under each unproved step."""
    rows, section = [], None
    for verdict in verdicts:
        step = verdict.step
        rows.append((step.section if step.section != section else "", step.id, step.justification, verdict.status, step.statement))
        section = step.section
        if verdict.status == UNPROVED:
            rows.append(("", "", "", "", f"↳ {verdict.detail}"))
    return rows


def _mutant_rows(verdicts) -> list[tuple]:
    rows = []
    for verdict in verdicts:
        proof = verdict.proof
        outcome = proof.outcome if proof is not None and proof.outcome else verdict.status
        example = ", ".join(f"{name} = {value}" for name, value in (proof.counterexample or {}).items()) if proof is not None else ""
        rows.append((verdict.step.id, outcome, example or verdict.detail))
    return rows

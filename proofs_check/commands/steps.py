"""The proof-step ledger: every encoded step of MODEL.md's proof sketches and how it was verified.

Symbolic steps are proved by sympy (theory.ledger, theory.prover); analytic steps name the
numerical check that cross-examines them. Exit 1 when any step is left unproved.
"""

from __future__ import annotations

import argparse
from collections import Counter

from proofs_check.output import print_json, print_table
from theory.ledger import STATUSES, UNPROVED, verify_ledger


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(arguments: argparse.Namespace) -> int:
    verdicts = verify_ledger()
    counts = Counter(verdict.status for verdict in verdicts)
    counts = {status: counts.get(status, 0) for status in STATUSES}
    if arguments.json:
        print_json({"steps": [verdict.as_dict() for verdict in verdicts], "counts": counts})
    else:
        print_table(["section", "step", "justification", "status", "statement"], _rows(verdicts))
        print(", ".join(f"{counts[status]} {status}" for status in STATUSES) + f" of {len(verdicts)} steps")
    return 1 if counts[UNPROVED] else 0


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

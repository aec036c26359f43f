"""The proof-step ledger: every encoded step of MODEL.md's proof sketches and how it was verified.

Symbolic steps are proved by sympy (theory.ledger, theory.prover); analytic steps name the
numerical check that cross-examines them. Exit 1 when any step is left unproved.
"""

from __future__ import annotations

import argparse
from collections import Counter

from proofs_check.output import print_json
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
        id_width = max(len(verdict.step.id) for verdict in verdicts)
        justification_width = max(len(verdict.step.justification) for verdict in verdicts)
        section = None
        for verdict in verdicts:
            if verdict.step.section != section:
                section = verdict.step.section
                print(section)
            print(f"  {verdict.step.id:<{id_width}}  {verdict.step.justification:<{justification_width}}  {verdict.status:<10}  {verdict.step.statement}")
            if verdict.status == UNPROVED:
                print(f"  {'':<{id_width}}  {'':<{justification_width}}  ↳ {verdict.detail}")
        print(", ".join(f"{counts[status]} {status}" for status in STATUSES) + f" of {len(verdicts)} steps")
    return 1 if counts[UNPROVED] else 0

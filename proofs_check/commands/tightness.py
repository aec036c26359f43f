"""Adversarial search for the largest lhs/rhs ratio of the project's own bound of a lemma.

Reports the largest ratio over every part of the lemma and over its headline quantity; a
ratio above 1 (confirmed in 50-digit arithmetic) is a violation: exit 1 with a witness.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from proofs_check.arguments import nonnegative_int, positive_finite_float
from proofs_check.claims import candidate_claim, own_claim
from proofs_check.commands.bound import result_object, save_witness
from proofs_check.engine import adversarial_check
from proofs_check.instances import LEMMA_IDS
from proofs_check.output import print_json
from proofs_check.tolerance import HOLDS
from proofs_check.witness import describe
from theory.statements import LEMMAS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lemma", required=True, choices=LEMMA_IDS + ("all",), help="a lemma id, or all")
    parser.add_argument("--budget", type=positive_finite_float, default=10.0, help="seconds of search per lemma (default 10)")
    parser.add_argument("--seed", type=nonnegative_int, default=0)
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(arguments: argparse.Namespace) -> int:
    lemma_ids = LEMMA_IDS if arguments.lemma == "all" else (arguments.lemma,)
    results, failed = [], False
    for lemma_id in lemma_ids:
        every_part = adversarial_check(own_claim(lemma_id), arguments.budget / 2, arguments.seed)
        headline = adversarial_check(candidate_claim(lemma_id, "bound"), arguments.budget / 2, arguments.seed)
        entry = {"lemma": lemma_id, "paper_label": LEMMAS[lemma_id].paper_label, "all_parts": None, "headline": None}
        for key, check in (("all_parts", every_part), ("headline", headline)):
            path = Path("witnesses") / f"{lemma_id}-tightness-{key}.npz"
            if check.witness is not None:
                save_witness(check, path)
                failed = True
            entry[key] = result_object(check, path)
        entry["largest_ratio"] = max(every_part.max_ratio, headline.max_ratio)
        results.append(entry)
        if not arguments.json:
            print(f"{LEMMAS[lemma_id]}")
            print(f"  every part : largest ratio {every_part.max_ratio:.12g} in '{every_part.worst_part}' ({every_part.search['evaluations']} evaluations, {every_part.search['structures']} structures)")
            print(f"  headline   : largest ratio {headline.max_ratio:.12g} for '{LEMMAS[lemma_id].headline}'")
            for check in (every_part, headline):
                if check.status != HOLDS:
                    print(f"  {check.witness_status.upper()}: ratio {check.witness_ratio:.6g} in '{check.witness_part}'")
                    for line in describe(check.witness):
                        print(f"    {line}")
    if arguments.json:
        print_json({"lemmas": results, "budget_seconds": arguments.budget, "seed": arguments.seed})
    return 1 if failed else 0

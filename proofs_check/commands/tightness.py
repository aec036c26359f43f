"""Adversarial search for the largest lhs/rhs ratio of a lemma's own bound.

Reports the largest ratio over every part of the lemma and over its headline quantity; a
ratio above 1 (confirmed in 50-digit arithmetic) is a violation: exit 1 with a witness.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from proofs_check.api import tightness
from proofs_check.arguments import add_plugin_argument, lemma_argument, nonnegative_int, positive_finite_float
from proofs_check.commands.bound import print_witness, save_witness
from proofs_check.executor import add_scheduler_argument, command_executor
from proofs_check.library import REGISTRY
from proofs_check.limits import check_budget
from proofs_check.output import Column, print_json, print_table
from proofs_check.tolerance import HOLDS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lemma", required=True, help="a registered lemma id, or all")
    parser.add_argument("--budget", type=positive_finite_float, default=10.0, help="search work per lemma in units of 10,000 evaluations, about 0.3 s each on a 2-core machine (default 10; an evaluation count, so results do not depend on the machine)")
    parser.add_argument("--seed", type=nonnegative_int, default=0)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    add_plugin_argument(parser)
    add_scheduler_argument(parser)


def run(arguments: argparse.Namespace) -> int:
    check_budget(arguments.budget)
    lemmas = tuple(REGISTRY) if arguments.lemma == "all" else (lemma_argument(arguments.lemma),)
    results, failed, rows = [], False, []
    with command_executor(arguments) as executor:
        outcomes = [tightness(lemma, budget=arguments.budget, seed=arguments.seed, executor=executor) for lemma in lemmas]
    for lemma, result in zip(lemmas, outcomes):
        entry = {"lemma": lemma.id, "paper_label": lemma.paper_label, "all_parts": None, "headline": None}
        for key, part in (("all_parts", result.every_part), ("headline", result.headline)):
            path = Path("witnesses") / f"{lemma.id}-tightness-{key}.npz"
            if part.witness is not None:
                save_witness(part, path)
                failed = True
            entry[key] = part.as_dict(path)
        entry["largest_ratio"] = result.max_ratio
        results.append(entry)
        every, headline = result.every_part, result.headline
        rows.append((lemma.id, "every part", every.max_ratio, every.check.worst_part, every.check.search["evaluations"], every.status))
        rows.append((lemma.id, "headline", headline.max_ratio, lemma.headline, headline.check.search["evaluations"], headline.status))
        if not arguments.json:
            for part in (every, headline):
                if part.status != HOLDS:
                    print(f"{lemma}")
                    print_witness(part, indent="  ")
    if arguments.json:
        print_json({"lemmas": results, "budget": arguments.budget, "seed": arguments.seed})
    else:
        print_table(
            ["lemma", "search", Column("largest ratio", "right", ".12g"), "where", Column("evaluations", "right"), "status"], rows
        )
    return 1 if failed else 0

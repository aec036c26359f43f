"""Check a candidate bound for a lemma's left side, on simulator traces and by adversarial search.

The left side is the lemma's quantity (MODEL.md); the candidate right side is a sympy
expression in the lemma's per-sample symbols. Exit 1 with a saved witness if it is violated.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from proofs_check.api import CheckResult, check_bound
from proofs_check.arguments import add_plugin_argument, lemma_argument, nonnegative_int, output_path, positive_finite_float
from proofs_check.candidates import BOUND_SYMBOLS, CandidateError, parse_candidate
from proofs_check.errors import UsageError
from proofs_check.limits import check_budget
from proofs_check.executor import add_scheduler_argument, command_executor
from proofs_check.output import print_json, progress_bar
from proofs_check.tolerance import HOLDS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lemma", required=True, help="a registered lemma id (the built-ins, and those of --plugin files)")
    parser.add_argument("--rhs", required=True, help=f"candidate right side in the symbols {', '.join(BOUND_SYMBOLS)}")
    parser.add_argument("--budget", type=positive_finite_float, default=10.0, help="search work in units of 10,000 evaluations, about 0.3 s each on a 2-core machine (default 10; an evaluation count, so results do not depend on the machine)")
    parser.add_argument("--seed", type=nonnegative_int, default=0)
    parser.add_argument("--witness", type=output_path, help="where to save a witness (default witnesses/<lemma>-bound.npz)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    add_plugin_argument(parser)
    add_scheduler_argument(parser)


def save_witness(result: CheckResult, path: Path) -> None:
    """Write the witness so that `replay` can re-check it."""
    try:
        result.witness.save(path)
    except OSError as error:
        raise UsageError(f"--witness: cannot write {path} ({error.strerror or error})") from None


def print_witness(result: CheckResult, indent: str = "  ") -> None:
    witness = result.witness
    print(f"{indent}{witness.status.upper()} in '{witness.part}' with lhs/rhs = {witness.ratio:.6g}; witness:")
    for line in witness.describe():
        print(f"{indent}  {line}")


def run(arguments: argparse.Namespace) -> int:
    check_budget(arguments.budget)
    lemma = lemma_argument(arguments.lemma)
    try:
        parse_candidate(arguments.rhs)
    except CandidateError as error:
        raise UsageError(f"--rhs: {error}") from None
    witness_path = arguments.witness or Path("witnesses") / f"{lemma.id}-bound.npz"
    with command_executor(arguments) as executor:
        result = check_bound(lemma, arguments.rhs, budget=arguments.budget, seed=arguments.seed, progress=progress_bar(f"bound {lemma.id}: traces"), executor=executor)
    if result.witness is not None:
        save_witness(result, witness_path)
    if arguments.json:
        print_json(result.as_dict(witness_path))
        return 0 if result.status == HOLDS else 1
    check = result.check
    print(f"{lemma}")
    print(f"candidate: {result.claim}")
    print(f"checked {result.samples} entries ({', '.join(f'{k}: {v}' for k, v in check.sources.items())}); largest ratio {result.max_ratio:.6g}")
    if result.witness is None:
        print(f"holds: no violation on the traces or in {check.search.get('evaluations', 0)} adversarial evaluations")
    else:
        print_witness(result, indent="")
        plugins = "".join(f" --plugin {path}" for path in arguments.plugin)
        print(f"saved to {witness_path}; re-check with: python -m proofs_check replay {witness_path} --rhs '{arguments.rhs}'{plugins}")
    return 0 if result.status == HOLDS else 1

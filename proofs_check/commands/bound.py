"""Check a candidate bound for a lemma's left side, on simulator traces and by adversarial search.

The left side is the lemma's quantity (MODEL.md); the candidate right side is a sympy
expression in the lemma's per-sample symbols. Exit 1 with a saved witness if it is violated.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from proofs_check.arguments import nonnegative_int, positive_finite_float
from proofs_check.builtin import builtin_settings
from proofs_check.candidates import BOUND_SYMBOLS, CandidateError
from proofs_check.claims import candidate_claim
from proofs_check.engine import ClaimCheck, adversarial_check, check_instances
from proofs_check.errors import UsageError
from proofs_check.instances import LEMMA_IDS, instance_bytes
from proofs_check.output import print_json, progress_bar, write_bytes
from proofs_check.tolerance import HOLDS
from proofs_check.traces import simulate, trace_instances
from proofs_check.witness import describe
from theory.statements import LEMMAS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lemma", required=True, choices=LEMMA_IDS)
    parser.add_argument("--rhs", required=True, help=f"candidate right side in the symbols {', '.join(BOUND_SYMBOLS)}")
    parser.add_argument("--budget", type=positive_finite_float, default=10.0, help="seconds of adversarial search (default 10)")
    parser.add_argument("--seed", type=nonnegative_int, default=0)
    parser.add_argument("--witness", type=Path, help="where to save a witness (default witnesses/<lemma>-bound.npz)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def trace_check(claim, seed: int, check: ClaimCheck, description: str) -> ClaimCheck:
    """The claim on the quick built-in traces, stopping at the first violation."""
    settings = builtin_settings(quick=True, seed=seed)
    for setting in progress_bar(description)(settings, len(settings)):
        instance = trace_instances(simulate(setting)).get(claim.lemma)
        if instance is not None:
            check_instances(claim, [(instance, "trace")], check)
            if check.status != HOLDS:
                break
    return check


def result_object(check: ClaimCheck, witness_path: Path | None) -> dict:
    """The JSON object of `bound` and `tightness`."""
    return {
        "lemma": check.claim.lemma,
        "claim": check.claim.name,
        "status": check.status,
        "samples": check.samples,
        "samples_by_source": check.sources,
        "max_ratio": check.max_ratio,
        "worst_part": check.worst_part,
        "adversarial_search": check.search,
        "witness": None
        if check.witness is None
        else {"path": str(witness_path), "status": check.witness_status, "part": check.witness_part, "ratio": check.witness_ratio, "origin": check.witness.origin},
    }


def save_witness(check: ClaimCheck, path: Path) -> None:
    """Write the witness so that `replay` can re-check it."""
    try:
        write_bytes(path, instance_bytes(check.witness))
    except OSError as error:
        raise UsageError(f"--witness: cannot write {path} ({error.strerror or error})") from None


def run(arguments: argparse.Namespace) -> int:
    try:
        claim = candidate_claim(arguments.lemma, arguments.rhs)
    except CandidateError as error:
        raise UsageError(f"--rhs: {error}") from None
    witness_path = arguments.witness or Path("witnesses") / f"{arguments.lemma}-bound.npz"
    check = trace_check(claim, arguments.seed, ClaimCheck(claim), f"bound {arguments.lemma}: traces")
    if check.status == HOLDS:
        adversarial_check(claim, arguments.budget, arguments.seed, check, stop_at_violation=True)
    if check.witness is not None:
        save_witness(check, witness_path)
    if arguments.json:
        print_json(result_object(check, witness_path))
    else:
        lemma = LEMMAS[arguments.lemma]
        print(f"{lemma}")
        print(f"candidate: {claim.name}")
        print(f"checked {check.samples} entries ({', '.join(f'{k}: {v}' for k, v in check.sources.items())}); largest ratio {check.max_ratio:.6g}")
        if check.witness is None:
            print(f"holds: no violation on the traces or in {check.search.get('evaluations', 0)} adversarial evaluations")
        else:
            print(f"{check.witness_status.upper()} in '{check.witness_part}' with lhs/rhs = {check.witness_ratio:.6g}; witness:")
            for line in describe(check.witness):
                print(f"  {line}")
            print(f"saved to {witness_path}; re-check with: python -m proofs_check replay {witness_path} --rhs '{arguments.rhs}'")
    return 0 if check.status == HOLDS else 1

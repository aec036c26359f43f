"""Re-check a saved witness: evaluate its lemma (or a candidate bound) at the saved instance."""

from __future__ import annotations

import argparse
from pathlib import Path

from proofs_check.candidates import BOUND_SYMBOLS, CandidateError
from proofs_check.claims import candidate_claim, own_claim
from proofs_check.errors import UsageError
from proofs_check.instances import LEMMA_IDS, load_instance
from proofs_check.output import print_json
from proofs_check.tolerance import HOLDS, overall_status
from proofs_check.witness import describe


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("witness", type=Path, help="a witness .npz written by run, bound or tightness")
    parser.add_argument("--rhs", help=f"re-check this candidate right side (symbols: {', '.join(BOUND_SYMBOLS)}) instead of the lemma's own bound")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(arguments: argparse.Namespace) -> int:
    try:
        instance = load_instance(arguments.witness)
    except FileNotFoundError:
        raise UsageError(f"witness: no such file {arguments.witness}") from None
    except (OSError, KeyError, ValueError, TypeError) as error:
        raise UsageError(f"witness: {arguments.witness} is not a witness file ({error})") from None
    if instance.lemma not in LEMMA_IDS:
        raise UsageError(f"witness: unknown lemma {instance.lemma!r} in {arguments.witness}; allowed: {', '.join(LEMMA_IDS)}")
    try:
        claim = candidate_claim(instance.lemma, arguments.rhs) if arguments.rhs else own_claim(instance.lemma)
    except CandidateError as error:
        raise UsageError(f"--rhs: {error}") from None
    verdicts = claim.judge(instance)
    status = overall_status(verdicts)
    parts = [
        {"part": v.name, "layer": v.layer, "max_ratio": float(v.ratio.max()) if v.ratio.size else None, "status": overall_status([v])}
        for v in verdicts
    ]
    if arguments.json:
        print_json({"lemma": instance.lemma, "claim": claim.name, "status": status, "parts": parts})
    else:
        for line in describe(instance):
            print(line)
        for part in parts:
            print(f"  {part['part']:<60} layer {part['layer']!s:<5} ratio {part['max_ratio']:.12g}  {part['status']}")
        print(f"{claim.name}: {status}")
    return 0 if status == HOLDS else 1

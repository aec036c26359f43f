"""Re-check a saved witness: evaluate its lemma (or a candidate bound) at the saved instance."""

from __future__ import annotations

import argparse
from pathlib import Path

from proofs_check.api import OutsideAssumptions, replay
from proofs_check.arguments import add_plugin_argument, lemma_argument
from proofs_check.candidates import BOUND_SYMBOLS, CandidateError, parse_candidate
from proofs_check.errors import UsageError
from proofs_check.output import Column, print_json, print_table
from proofs_check.tolerance import HOLDS
from proofs_check.claims import candidate_claim, own_claim
from proofs_check.library import get_lemma
from proofs_check.witness import NETWORK, describe, examine, load_witness


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("witness", type=Path, help="a witness .npz written by run, bound or tightness")
    parser.add_argument("--rhs", help=f"re-check this candidate right side (symbols: {', '.join(BOUND_SYMBOLS)}) instead of the lemma's own bound")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    add_plugin_argument(parser)


def run(arguments: argparse.Namespace) -> int:
    instance = load_witness(arguments.witness)
    lemma_argument(instance.lemma, flag=f"witness {arguments.witness}")
    if arguments.rhs:
        try:
            parse_candidate(arguments.rhs)
        except CandidateError as error:
            raise UsageError(f"--rhs: {error}") from None
    try:
        result = replay(instance, arguments.rhs)
    except OutsideAssumptions as error:
        raise UsageError(f"witness {arguments.witness}: {error}") from None
    if arguments.json:
        lemma = get_lemma(instance.lemma)
        claim = candidate_claim(lemma, arguments.rhs) if arguments.rhs else own_claim(lemma)
        print_json({"lemma": result.lemma, "claim": result.claim, "status": result.status, "parts": result.parts, "statement": examine(instance, claim).as_dict()})
    else:
        lemma = get_lemma(instance.lemma)
        claim = candidate_claim(lemma, arguments.rhs) if arguments.rhs else own_claim(lemma)
        for line in describe(instance, claim):
            print(line)
        print_table(
            ["part", Column("layer", "right"), Column("max ratio", "right", ".12g"), "status"],
            [(part["part"], NETWORK if part["layer"] is None else part["layer"], part["max_ratio"], part["status"]) for part in result.parts],
        )
        print(f"{result.claim}: {result.status}")
    return 0 if result.status == HOLDS else 1

"""MODEL.md's tolerance policy: verdicts on lhs ≤ rhs, with arbitrary-precision tie-breaking.

`lhs ≤ rhs·(1 + 1e-9) + 1e-12` holds. A ratio within 1e-6 of 1 is re-evaluated in
mpmath at 50 digits before the verdict. A NaN or infinite side is an error, never "holds".
"""

from __future__ import annotations

from dataclasses import dataclass
import numpy as np

from proofs_check import lemmas
from proofs_check.instances import Instance, batch_size, select
from proofs_check.lemmas import EXACT, ConstantsModel, Evaluation, Part
from proofs_check.precision import MPMATH

RELATIVE_TOLERANCE = 1e-9
ABSOLUTE_TOLERANCE = 1e-12
NEAR_TIE = 1e-6

HOLDS, VIOLATED, ERROR = "holds", "violated", "error"


def within_tolerance(lhs, rhs) -> np.ndarray:
    """lhs ≤ rhs·(1 + 1e-9) + 1e-12, elementwise (any arithmetic)."""
    return np.asarray(lhs <= rhs * (1 + RELATIVE_TOLERANCE) + ABSOLUTE_TOLERANCE, dtype=bool)


def ratios(lhs: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """lhs/rhs as float64; 0 where both are 0, inf where only rhs is 0, NaN where a side is not finite."""
    lhs, rhs = np.asarray(lhs, dtype=float), np.asarray(rhs, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        result = lhs / rhs
    result = np.where((rhs == 0) & (lhs == 0), 0.0, result)
    result = np.where((rhs == 0) & (lhs > 0), np.inf, result)
    return np.where(np.isfinite(lhs) & np.isfinite(rhs), result, np.nan)


@dataclass
class PartVerdict:
    """Verdicts of one part, entry by entry (float64 shapes of the part)."""

    name: str
    layer: int | None
    lhs: np.ndarray
    rhs: np.ndarray
    ratio: np.ndarray
    status: np.ndarray
    """Array of 'holds' / 'violated' / 'error' per entry."""
    re_evaluated: int
    """Entries decided in 50-digit arithmetic."""


def judge_part(part: Part) -> PartVerdict:
    """Float64 verdict per entry (near ties are left to `judge`)."""
    lhs, rhs = np.broadcast_arrays(np.asarray(part.lhs, dtype=float), np.asarray(part.rhs, dtype=float))
    ratio = ratios(lhs, rhs)
    finite = np.isfinite(lhs) & np.isfinite(rhs)
    status = np.where(within_tolerance(lhs, rhs), HOLDS, VIOLATED).astype(object)
    status[~finite] = ERROR
    return PartVerdict(part.name, part.layer, lhs, rhs, ratio, status, 0)


def near_ties(verdict: PartVerdict) -> np.ndarray:
    """Entries whose ratio is within 1e-6 of 1."""
    finite = np.isfinite(verdict.ratio)
    return finite & (np.abs(np.where(finite, verdict.ratio, 0.0) - 1.0) <= NEAR_TIE)


def judge(instance: Instance, evaluation: Evaluation, model: ConstantsModel = EXACT) -> list[PartVerdict]:
    """Verdicts for every part of `evaluation` (computed at `instance` in float64).

    Entries within 1e-6 of a tie are decided by re-evaluating the instance (only the
    batch rows that contain a near tie) in mpmath at 50 digits.
    """
    verdicts = [judge_part(part) for part in evaluation.parts]
    ties = [near_ties(verdict) for verdict in verdicts]
    if not any(tie.any() for tie in ties):
        return verdicts
    size = batch_size(instance)
    if size is None:
        precise = lemmas.evaluate(instance, MPMATH, model)
        rows = None
    else:
        rows = np.flatnonzero(np.any(np.stack([np.any(t.reshape(size, -1), axis=-1) for t in ties]), axis=0))
        precise = lemmas.evaluate(select(instance, rows), MPMATH, model)
    for verdict, tie, precise_part in zip(verdicts, ties, precise.parts):
        if not tie.any():
            continue
        precise_lhs, precise_rhs = np.broadcast_arrays(np.asarray(precise_part.lhs, dtype=object), np.asarray(precise_part.rhs, dtype=object))
        local_tie = tie if rows is None else tie[rows]
        decided = within_tolerance(precise_lhs[local_tie], precise_rhs[local_tie])
        precise_ratio = np.array([float(a / b) if b != 0 else float("inf") for a, b in zip(precise_lhs[local_tie], precise_rhs[local_tie])])
        if rows is None:
            verdict.status[tie] = np.where(decided, HOLDS, VIOLATED)
            verdict.ratio[tie] = precise_ratio
        else:
            target = np.zeros_like(tie)
            target[rows] = local_tie
            verdict.status[target] = np.where(decided, HOLDS, VIOLATED)
            verdict.ratio[target] = precise_ratio
        verdict.re_evaluated = int(tie.sum())
    return verdicts


def overall_status(verdicts: list[PartVerdict]) -> str:
    """'error' if any entry errs, else 'violated' if any is violated, else 'holds'."""
    statuses = set()
    for verdict in verdicts:
        statuses.update(np.unique(verdict.status).tolist())
    if ERROR in statuses:
        return ERROR
    if VIOLATED in statuses:
        return VIOLATED
    return HOLDS

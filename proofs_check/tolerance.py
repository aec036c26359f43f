"""MODEL.md's tolerance policy: verdicts on lhs ≤ rhs, with arbitrary-precision tie-breaking.

`lhs ≤ rhs·(1 + 1e-9) + 1e-12` holds. A ratio within 1e-6 of 1 is re-evaluated in
mpmath at 50 digits before the verdict (not for a vacuous entry that holds in float64: it is
no evidence, `near_ties`). A NaN or infinite side is an error, never "holds".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from proofs_check.instances import Instance, batch_size, select
from proofs_check.library import EXACT, REGISTRY, ConstantsModel, Lemma, Part
from proofs_check.precision import MPMATH

RELATIVE_TOLERANCE = 1e-9
ABSOLUTE_TOLERANCE = 1e-12
NEAR_TIE = 1e-6

HOLDS, VIOLATED, ERROR = "holds", "violated", "error"


def within_tolerance(lhs, rhs) -> np.ndarray:
    """lhs ≤ rhs·(1 + 1e-9) + 1e-12, elementwise (any arithmetic)."""
    return np.asarray(lhs <= rhs * (1 + RELATIVE_TOLERANCE) + ABSOLUTE_TOLERANCE, dtype=bool)


def ratios(lhs: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """lhs/(rhs + 1e-12) as float64; NaN where either side is not finite.

    The absolute tolerance sits in the denominator so that rounding noise on sides that
    vanish (lhs ≈ 1e-17 against rhs = 0) does not read as a large ratio; for rhs ≫ 1e-12
    this is lhs/rhs. A ratio above 1 + 1e-9 means the verdict is 'violated'.
    """
    lhs, rhs = np.asarray(lhs, dtype=float), np.asarray(rhs, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        result = lhs / (rhs + ABSOLUTE_TOLERANCE)
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
    vacuous: np.ndarray
    """Per entry: it could not have failed (both sides 0, or the part marks it)."""


def judge_part(part: Part) -> PartVerdict:
    """Float64 verdict per entry (near ties are left to `judge`)."""
    return judge_parts([part])[0][0]


def judge_parts(parts: list[Part]) -> tuple[list[PartVerdict], list[np.ndarray]]:
    """`judge_part` of every part and each one's near ties (`near_ties`), computed in one pass over
    all their entries laid end to end (each verdict's arrays are views of its own stretch)."""
    if not parts:
        return [], []
    sides = [np.broadcast_arrays(np.asarray(part.lhs, dtype=float), np.asarray(part.rhs, dtype=float)) for part in parts]
    shapes = [lhs.shape for lhs, _ in sides]
    lhs = np.concatenate([lhs.ravel() for lhs, _ in sides])
    rhs = np.concatenate([rhs.ravel() for _, rhs in sides])
    marked = np.concatenate([np.broadcast_to(np.asarray(part.vacuous, dtype=bool), shape).ravel() for part, shape in zip(parts, shapes)])
    ratio = ratios(lhs, rhs)
    holds = within_tolerance(lhs, rhs)
    status = np.where(holds, HOLDS, VIOLATED).astype(object)
    status[~(np.isfinite(lhs) & np.isfinite(rhs))] = ERROR
    vacuous = ((lhs == 0) & (rhs == 0)) | marked
    tie = near_ties(ratio, vacuous, holds)
    verdicts, ties = [], []
    start = 0
    for part, shape in zip(parts, shapes):
        cut = slice(start, start + math.prod(shape))
        verdicts.append(PartVerdict(part.name, part.layer, lhs[cut].reshape(shape), rhs[cut].reshape(shape), ratio[cut].reshape(shape), status[cut].reshape(shape), 0, vacuous[cut].reshape(shape)))
        ties.append(tie[cut].reshape(shape))
        start = cut.stop
    return verdicts, ties


def near_ties(ratio: np.ndarray, vacuous: np.ndarray, holds: np.ndarray) -> np.ndarray:
    """Entries whose ratio is within 1e-6 of 1, except vacuous entries that hold in float64.

    A vacuous entry (an identity or a definition: the digital step α||g||, L = ||Γ_sym||_2)
    is no evidence and is counted apart; when float64 already finds it holding, 50 digits
    could only agree, so it is not recomputed. A vacuous entry that float64 finds violated
    is still decided in 50 digits."""
    finite = np.isfinite(ratio)
    return finite & (np.abs(np.where(finite, ratio, 0.0) - 1.0) <= NEAR_TIE) & ~(vacuous & holds)


def judge(instance: Instance, parts: list[Part], recompute: Callable[[Instance], list[Part]]) -> list[PartVerdict]:
    """Verdicts for `parts` (computed at `instance` in float64).

    Entries within 1e-6 of a tie are decided by `recompute(sub_instance)`, which must
    return the same parts computed in mpmath at 50 digits; only the batch rows holding a
    near tie are recomputed.
    """
    verdicts, ties = judge_parts(parts)
    if not any(tie.any() for tie in ties):
        return verdicts
    size = batch_size(instance)
    if size is None:
        precise = recompute(instance)
        rows = None
    else:
        rows = np.flatnonzero(np.any(np.stack([np.any(t.reshape(size, -1), axis=-1) for t in ties]), axis=0))
        precise = recompute(select(instance, rows))
    for verdict, tie, precise_part in zip(verdicts, ties, precise):
        if not tie.any():
            continue
        precise_lhs, precise_rhs = np.broadcast_arrays(np.asarray(precise_part.lhs, dtype=object), np.asarray(precise_part.rhs, dtype=object))
        local_tie = tie if rows is None else tie[rows]
        decided = within_tolerance(precise_lhs[local_tie], precise_rhs[local_tie])
        precise_ratio = np.array([float(a / (b + ABSOLUTE_TOLERANCE)) for a, b in zip(precise_lhs[local_tie], precise_rhs[local_tie])])
        if rows is None:
            target = tie
        else:
            target = np.zeros_like(tie)
            target[rows] = local_tie
        verdict.status[target] = np.where(decided, HOLDS, VIOLATED)
        verdict.ratio[target] = precise_ratio
        verdict.re_evaluated = int(tie.sum())
    return verdicts


def judge_lemma(instance: Instance, model: ConstantsModel = EXACT, lemma: "Lemma | str | None" = None) -> list[PartVerdict]:
    """Verdicts for every part of a lemma (default: the instance's) at the instance (right sides from `model`)."""
    lemma = REGISTRY.get(instance.lemma if lemma is None else lemma)
    evaluation = lemma.evaluate(instance, model=model)
    return judge(instance, evaluation.parts, lambda sub: lemma.evaluate(sub, MPMATH, model).parts)


def worst_status(statuses) -> str:
    """'error' if any status is an error, else 'violated' if any is violated, else 'holds'."""
    statuses = set(statuses)
    if ERROR in statuses:
        return ERROR
    if VIOLATED in statuses:
        return VIOLATED
    return HOLDS


def overall_status(verdicts: list[PartVerdict]) -> str:
    """The worst status of every entry of every part."""
    return worst_status(status for verdict in verdicts for status in np.unique(verdict.status).tolist())

"""The cross-checking engine: claims checked on simulator traces and by adversarial search.

`ClaimCheck` accumulates the verdicts of one claim over many instances: how many
inequality entries were checked, the distribution of lhs/rhs, the status ('holds' only
if every entry holds; an error — NaN or inf — is never 'holds'), and a witness: the
first instance that violated the claim or errored, ready to be saved and replayed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from proofs_check.adversarial import SearchResult, evaluations_for, search
from proofs_check.claims import Claim, KnownEvaluation
from proofs_check.instances import Instance, batch_size, finite_rows, select
from proofs_check.tolerance import ERROR, HOLDS, RELATIVE_TOLERANCE, VIOLATED, PartVerdict

_RANK = {HOLDS: 0, VIOLATED: 1, ERROR: 2}


@dataclass
class ClaimCheck:
    """Accumulated verdicts of one claim."""

    claim: Claim
    samples: int = 0
    """Inequality entries checked that could have failed (every part, sample and instance)."""
    vacuous: int = 0
    """Entries that could not have failed (both sides 0, a definition or an identity): counted
    apart, left out of `samples` and of the ratios."""
    status: str = HOLDS
    max_ratio: float = -math.inf
    """Largest finite lhs/rhs seen."""
    worst_part: str = ""
    """The part that attained the largest ratio."""
    tightest: Instance | None = None
    """The instance that attained the largest ratio."""
    witness: Instance | None = None
    """First instance that violated the claim or produced NaN/inf."""
    witness_part: str = ""
    witness_ratio: float = math.nan
    re_evaluated: int = 0
    """Entries decided in 50-digit arithmetic (near ties)."""
    sources: dict[str, int] = field(default_factory=dict)
    """Entries checked per source ('trace', 'adversarial')."""
    ratio_samples: list[np.ndarray] = field(default_factory=list)
    """Finite ratios, per added instance (for distributions and the median)."""
    search: dict = field(default_factory=dict)
    """Adversarial search statistics."""
    outside_assumptions: int = 0
    """Instances (batch rows) skipped because they violate the lemma's assumptions."""
    witness_status: str = HOLDS
    """Status of the witness entry ('violated' or 'error')."""

    @property
    def verdict(self) -> str:
        """The reported status: `status`, except 'error' when nothing could have failed
        (every entry vacuous, or nothing checked): such a check is uninformative, never 'holds'."""
        return ERROR if self.samples == 0 and self.status == HOLDS else self.status

    @property
    def median_ratio(self) -> float:
        ratios = self.all_ratios()
        return float(np.median(ratios)) if ratios.size else math.nan

    def all_ratios(self) -> np.ndarray:
        return np.concatenate(self.ratio_samples) if self.ratio_samples else np.zeros(0)

    def merge(self, other: "ClaimCheck") -> "ClaimCheck":
        """Fold in a check of the same claim on later instances (another task's), exactly as if
        its instances had been added here after these: counts add, the largest ratio and the
        witness of the worst status are the first attained, the ratios keep their order."""
        self.samples += other.samples
        self.vacuous += other.vacuous
        self.re_evaluated += other.re_evaluated
        self.outside_assumptions += other.outside_assumptions
        for source, count in other.sources.items():
            self.sources[source] = self.sources.get(source, 0) + count
        if _RANK[other.status] > _RANK[self.status]:
            self.status = other.status
        if other.max_ratio > self.max_ratio:
            self.max_ratio, self.worst_part, self.tightest = other.max_ratio, other.worst_part, other.tightest
        if other.witness is not None and (self.witness is None or _RANK[other.witness_status] > _RANK[self.witness_status]):
            self.witness, self.witness_part, self.witness_ratio, self.witness_status = other.witness, other.witness_part, other.witness_ratio, other.witness_status
        self.ratio_samples.extend(other.ratio_samples)
        if other.search:
            self.search = other.search
        return self

    def add_error(self, instance: Instance, reason: str, source: str) -> None:
        """Record an instance that could not be evaluated (NaN or inf): status 'error', never 'holds'."""
        self.samples += 1
        self.sources[source] = self.sources.get(source, 0) + 1
        self.status = ERROR
        if self.witness is None or self.witness_status != ERROR:
            self.witness, self.witness_part, self.witness_ratio, self.witness_status = instance, reason, math.nan, ERROR

    def add(self, instance: Instance, verdicts: list[PartVerdict], source: str) -> None:
        """Fold the verdicts of one (possibly batched) instance into the check: the parts' entries
        are taken end to end, in part order (the largest ratio and each part's first entry that does
        not hold are found in one pass; the first attained counts)."""
        if not verdicts:
            return
        rows = batch_size(instance)
        sizes = [int(verdict.status.size) for verdict in verdicts]
        ends = np.cumsum(sizes)
        ratio = np.concatenate([verdict.ratio.ravel() for verdict in verdicts])
        evidence = ~np.concatenate([np.asarray(verdict.vacuous, dtype=bool).ravel() for verdict in verdicts])
        status = np.concatenate([verdict.status.ravel() for verdict in verdicts])
        informative = int(evidence.sum())
        self.samples += informative
        self.vacuous += int(ends[-1]) - informative
        self.sources[source] = self.sources.get(source, 0) + informative
        self.re_evaluated += sum(verdict.re_evaluated for verdict in verdicts)
        usable = np.isfinite(ratio) & evidence
        finite = ratio[usable]
        if finite.size:
            self.ratio_samples.append(finite)
            largest = float(finite.max())
            if largest > self.max_ratio:
                position = int(np.flatnonzero(usable)[int(np.argmax(finite))])
                part = int(np.searchsorted(ends, position, side="right"))
                self.max_ratio = largest
                self.worst_part = verdicts[part].name
                self.tightest = _row_instance(instance, rows, position - int(ends[part]) + sizes[part], sizes[part])
        bad = np.flatnonzero(status != HOLDS)
        if bad.size:
            parts = np.searchsorted(ends, bad, side="right")
            for part, position in zip(*np.unique(parts, return_index=True)):  # each part's first entry that does not hold
                position = int(bad[position])
                part = int(part)
                entry = status[position]
                if _RANK[entry] > _RANK[self.status]:
                    self.status = entry
                if self.witness is None or _RANK[entry] > _RANK[self.witness_status]:
                    flat = position - int(ends[part]) + sizes[part]
                    self.witness = _row_instance(instance, rows, flat, sizes[part])
                    self.witness_part = verdicts[part].name
                    self.witness_ratio = float(ratio[position])
                    self.witness_status = entry


def _row_instance(instance: Instance, rows: int | None, flat_index: int, count: int) -> Instance:
    if rows is None:
        return instance
    per_row = max(1, count // rows)
    return select(instance, flat_index // per_row)


def check_instances(
    claim: Claim, instances: Iterable[tuple[Instance, str]], check: ClaimCheck | None = None, known: Sequence[KnownEvaluation | None] | None = None
) -> ClaimCheck:
    """Judge the claim on every (instance, source) pair; `known[i]`, if given, is the lemma's own
    evaluation at instance i (`claims.KnownEvaluation`), read instead of evaluating it again when
    every row of the instance is judged.

    Rows holding NaN or inf are errors (with the row as witness), never 'holds'; rows
    outside the lemma's assumptions are skipped and counted.
    """
    check = check or ClaimCheck(claim)
    for index, (instance, source) in enumerate(instances):
        evaluation = known[index] if known is not None else None
        finite = finite_rows(instance)
        inside = claim.lemma.assumptions_hold(instance)
        if not finite.all():
            first = None if batch_size(instance) is None else int(np.flatnonzero(~finite)[0])
            check.add_error(instance if first is None else select(instance, first), "non-finite input (NaN or inf)", source)
        keep = finite & inside
        check.outside_assumptions += int((finite & ~inside).sum())
        if not keep.all():
            evaluation = None  # the known evaluation is of every row
            if batch_size(instance) is None:
                continue
            instance = select(instance, np.flatnonzero(keep))
            if batch_size(instance) == 0:
                continue
        with np.errstate(all="ignore"):
            check.add(instance, claim.judge(instance, evaluation), source)
    return check


def adversarial_check(claim: Claim, budget_seconds: float, seed: int, check: ClaimCheck | None = None, stop_at_violation: bool = False) -> ClaimCheck:
    """Search for the claim's largest ratio; the best instance (and any NaN instance) is judged.

    The budget in seconds becomes a number of evaluations at a nominal rate, so results
    depend only on the seed and the budget.
    """
    check = check or ClaimCheck(claim)
    result: SearchResult = search(
        claim.lemma, claim.score, evaluations_for(budget_seconds), seed, stop_above=1.0 + RELATIVE_TOLERANCE if stop_at_violation else None
    )
    found = [instance for instance in (result.best_instance, result.error_instance) if instance is not None]
    check_instances(claim, [(instance, "adversarial") for instance in found], check)
    check.search = {
        "budget_seconds": budget_seconds,
        "budget_evaluations": evaluations_for(budget_seconds),
        "elapsed_seconds": round(result.elapsed, 3),
        "evaluations": result.evaluations,
        "structures": result.structures,
        "best_ratio": result.best_ratio,
    }
    return check


def search_task(task: tuple[Claim, float, int]) -> ClaimCheck:
    """Task (`proofs_check.executor`): one claim's adversarial search, as a fresh check;
    the task is (claim, budget in units of 10,000 evaluations, seed)."""
    claim, budget, seed = task
    return adversarial_check(claim, budget, seed)


def refute(claim: Claim, trace_instances: Iterable[Instance], budget_seconds: float, seed: int, known: Sequence[KnownEvaluation | None] | None = None) -> ClaimCheck:
    """Try to refute a claim: first on the traces, then by adversarial search until a violation.
    `known[i]`: the lemma's own evaluation at trace instance i, if kept (`check_instances`)."""
    check = ClaimCheck(claim)
    for index, instance in enumerate(trace_instances):
        check_instances(claim, [(instance, "trace")], check, None if known is None else [known[index]])
        if check.status != HOLDS:
            return check
    return adversarial_check(claim, budget_seconds, seed, check, stop_at_violation=True)


def refute_task(task: tuple[Claim, tuple[Instance, ...], tuple[KnownEvaluation | None, ...] | None, float, int]) -> ClaimCheck:
    """Task (`proofs_check.executor`): `refute` of (claim, its trace instances, the lemma's
    evaluations there or None, budget, seed)."""
    claim, instances, known, budget, seed = task
    return refute(claim, instances, budget, seed, known)

"""The main job: every lemma and theorem check on the built-in set (`run`), as pure functions.

`verify` simulates the built-in runs, checks every lemma on their traces and by
adversarial search, runs the theorem checks, measures the engine's falsification power
on deliberately false variants, and verifies the proof-step ledger. It returns plain
data; the `run` command writes and prints it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np

from proofs_check.builtin import builtin_settings
from proofs_check.claims import Claim, KnownEvaluation, false_variant_claims, known_evaluation, own_claim
from proofs_check.schedule_summary import schedule_summary
from proofs_check.engine import ClaimCheck, check_instances, refute_task, search_task
from proofs_check.executor import IN_PROCESS, Executor
from proofs_check.instances import Instance, finite_rows
from proofs_check.library import REGISTRY
from proofs_check.tolerance import HOLDS
from proofs_check.traces import TraceSetting, recomputed_gradients_match, replayed_updates_match, replica_groups, simulate_group, trace_instances
from numerics.schedules import ScheduleRecord
from theory.constants import ACTIVATION_CONSTANTS, LOSS_CONSTANTS, constants_for

Progress = Callable[[Iterable, int, str], Iterable]


def _no_progress(iterable: Iterable, total: int, description: str) -> Iterable:
    return iterable


@dataclass(frozen=True)
class Budgets:
    """Seconds of adversarial search per lemma and per false variant."""

    lemma_search: float
    variant_search: float

    @staticmethod
    def for_mode(quick: bool) -> "Budgets":
        return Budgets(lemma_search=0.4, variant_search=8.0) if quick else Budgets(lemma_search=3.0, variant_search=20.0)


@dataclass
class VariantOutcome:
    """Whether the engine refuted a false variant, and how."""

    claim: Claim
    check: ClaimCheck

    @property
    def refuted(self) -> bool:
        return self.check.status != HOLDS

    @property
    def refuted_by(self) -> str | None:
        if not self.refuted:
            return None
        return "trace" if self.check.witness is not None and self.check.witness.origin.startswith("trace") else "adversarial search"


@dataclass
class VerificationResult:
    """Everything `run` reports."""

    quick: bool
    seed: int
    settings: list[TraceSetting]
    lemma_checks: dict[str, ClaimCheck]
    records: list[ScheduleRecord]
    consistency: list[dict]
    constants: list[dict]
    theorems: list = field(default_factory=list)
    variants: list[VariantOutcome] = field(default_factory=list)
    ledger: list = field(default_factory=list)

    @property
    def kill_rate(self) -> float:
        return sum(outcome.refuted for outcome in self.variants) / len(self.variants) if self.variants else math.nan


@dataclass
class TraceOutcome:
    """What one built-in trace contributes to the report (computed where its task ran)."""

    setting: TraceSetting
    record: ScheduleRecord
    consistency: dict
    instances: dict[str, Instance]
    """Each lemma's batched instance on the trace, by lemma id (kept for the false variants)."""
    evaluations: dict[str, KnownEvaluation | None]
    """Each lemma's own evaluation there (None where some row was not judged), read again by its
    false variants instead of evaluating the lemma anew."""
    checks: dict[str, ClaimCheck]
    """Each lemma's own bound judged on that instance alone (merged in order by `verify`)."""
    constants: dict | None
    """The measured constants of a digital run (None for the other devices)."""


def trace_group_task(task: tuple[tuple[TraceSetting, ...], tuple[Claim, ...]]) -> list[TraceOutcome]:
    """Task: simulate one replica group of built-in settings (`traces.replica_groups`) and
    judge every claim on each trace; one outcome per setting, in order."""
    group, claims = task
    outcomes = []
    for trace in simulate_group(list(group)):
        setting = trace.setting
        consistency = {"setting": setting.label, "updates_replay_exactly": replayed_updates_match(trace), "largest_gradient_gap": recomputed_gradients_match(trace)}
        instances = trace_instances(trace, [claim.lemma for claim in claims])
        evaluations = {claim.lemma.id: _known_evaluation(claim, instances[claim.lemma.id]) for claim in claims if claim.lemma.id in instances}
        checks = {
            lemma_id: check_instances(claim, [(instances[lemma_id], "trace")], known=[evaluations[lemma_id]])
            for claim in claims
            if (lemma_id := claim.lemma.id) in instances
        }
        constants = _measured_constants(trace) if setting.device.name == "digital" else None
        outcomes.append(TraceOutcome(setting, trace.result.record, consistency, instances, evaluations, checks, constants))
    return outcomes


def _known_evaluation(claim: Claim, instance: Instance) -> KnownEvaluation | None:
    """The lemma's own evaluation at a trace instance whose every row is judged (finite, inside
    the lemma's assumptions), or None."""
    if not np.all(finite_rows(instance) & claim.lemma.assumptions_hold(instance)):
        return None
    with np.errstate(all="ignore"):
        return known_evaluation(claim.lemma, instance)


def verify(
    quick: bool,
    seed: int,
    progress: Progress = _no_progress,
    budgets: Budgets | None = None,
    executor: Executor = IN_PROCESS,
    lemmas_checked: Callable[["VerificationResult"], None] | None = None,
) -> VerificationResult:
    """Run the main job and return its results. The independent pieces (the built-in trace
    groups, each lemma's search, each false variant, each theorem) run through `executor`;
    the result does not depend on where they ran. `lemmas_checked`, if given, is called with
    the result as soon as every lemma's check is final (before the theorems, the false
    variants and the ledger), so that what depends only on them can start."""
    budgets = budgets or Budgets.for_mode(quick)
    settings = builtin_settings(quick, seed)
    lemmas = tuple(REGISTRY)
    claims = tuple(own_claim(lemma) for lemma in lemmas)
    checks = {claim.lemma.id: ClaimCheck(claim) for claim in claims}
    kept: dict[str, list[Instance]] = {lemma.id: [] for lemma in lemmas}
    known: dict[str, list[KnownEvaluation | None]] = {lemma.id: [] for lemma in lemmas}
    outcomes: list[TraceOutcome | None] = [None] * len(settings)
    groups = replica_groups(settings)
    group_tasks = [(tuple(settings[i] for i in members), claims) for members in groups]
    for members, group_outcomes in zip(groups, executor.map(trace_group_task, group_tasks, lambda it, n: progress(it, n, "traces"))):
        for index, outcome in zip(members, group_outcomes):
            outcomes[index] = outcome
    records: list[ScheduleRecord] = []
    consistency: list[dict] = []
    constants: dict[tuple, dict] = {}
    for outcome in outcomes:
        setting = outcome.setting
        records.append(outcome.record)
        consistency.append(outcome.consistency)
        for lemma_id, check in outcome.checks.items():
            checks[lemma_id].merge(check)
            kept[lemma_id].append(outcome.instances[lemma_id])
            known[lemma_id].append(outcome.evaluations[lemma_id])
        key = (len(setting.dims) - 1, setting.activation, setting.loss)
        if key not in constants and outcome.constants is not None:
            constants[key] = outcome.constants
    searches = executor.map(search_task, [(claim, budgets.lemma_search, seed) for claim in claims], lambda it, n: progress(it, n, "adversarial search"))
    for claim, search in zip(claims, searches):
        checks[claim.lemma.id].merge(search)

    result = VerificationResult(quick, seed, settings, checks, records, consistency, list(constants.values()))
    if lemmas_checked is not None:
        lemmas_checked(result)
    result.theorems = _theorems(quick, seed, records, progress, executor)
    variants = false_variant_claims(lemmas)
    refutations = executor.map(
        refute_task, [(claim, tuple(kept[claim.lemma.id]), tuple(known[claim.lemma.id]), budgets.variant_search, seed) for claim in variants],
        lambda it, n: progress(it, n, "false variants"),
    )
    result.variants = [VariantOutcome(claim, check) for claim, check in zip(variants, refutations)]
    from theory.ledger import verify_ledger

    result.ledger = list(verify_ledger())
    return result


def _measured_constants(trace) -> dict:
    setting = trace.setting
    versions = trace.result.versions
    omega = [float(np.max(np.linalg.norm(layer, 2, axis=(-2, -1)))) for layer in versions]
    X = float(np.max(np.linalg.norm(trace.data.inputs, axis=-1)))
    Y = 1.0 if setting.loss == "cross-entropy" else float(np.max(np.linalg.norm(trace.data.targets, axis=-1)))
    L_phi, S_phi = (float(v) for v in ACTIVATION_CONSTANTS[setting.activation])
    signal, G_ell, L = constants_for(omega, X, Y, L_phi, S_phi, float(LOSS_CONSTANTS[setting.loss]), setting.loss)
    return {
        "M": len(omega),
        "dims": list(setting.dims),
        "activation": setting.activation,
        "loss": setting.loss,
        "omega": omega,
        "X": X,
        "Y": Y,
        "G_ell": float(G_ell),
        "A": signal.A.tolist(),
        "Delta": signal.Delta.tolist(),
        "G_layers": signal.G_layers.tolist(),
        "G": float(signal.G),
        "L": float(L),
        "source": setting.label,
    }


def theorem_task(task: tuple[str, bool, int, tuple[ScheduleRecord, ...]]):
    """Task: one exact theorem check of the main job (iteration complexity, computation density),
    by theorem id; a convergence theorem runs here too, in-process (`_theorems` runs those from
    the driver instead, their runs and regimes being tasks of their own)."""
    from proofs_check import theorems

    theorem, quick, seed, records = task
    if theorem in theorems.CONVERGENCE_IDS:
        return _convergence(theorem, quick, seed)
    if theorem == "iteration-complexity":
        return theorems.check_iteration_complexity()
    return theorems.check_computation_density(list(records))


def _convergence(theorem: str, quick: bool, seed: int, executor: Executor = IN_PROCESS, progress: Progress = _no_progress):
    """The main job's check of a convergence theorem (async with the speed-up measurement), its
    training runs, speed-up cells and regime checks run through `executor`."""
    from proofs_check import theorems

    return theorems.check_convergence(
        theorem, quick=quick, seed=seed, speedup=theorem == "async-convergence", executor=executor,
        progress=lambda iterable, total: progress(iterable, total, f"{theorem} runs"),
    )


MAIN_JOB_THEOREMS = ("sync-convergence", "async-convergence", "iteration-complexity", "computation-density")
"""The theorem checks of `run`, in report order."""


def _theorems(quick: bool, seed: int, records: list[ScheduleRecord], progress: Progress, executor: Executor = IN_PROCESS) -> list:
    """The theorem checks in report order: each convergence theorem from here, its independent
    pieces through `executor` (a task cannot submit tasks of its own); the exact ones as tasks."""
    from proofs_check.theorems import CONVERGENCE_IDS

    results = {theorem: _convergence(theorem, quick, seed, executor, progress) for theorem in MAIN_JOB_THEOREMS if theorem in CONVERGENCE_IDS}
    exact = [theorem for theorem in MAIN_JOB_THEOREMS if theorem not in CONVERGENCE_IDS]
    tasks = [(theorem, quick, seed, tuple(records) if theorem == "computation-density" else ()) for theorem in exact]
    results.update(zip(exact, executor.map(theorem_task, tasks, lambda it, n: progress(it, n, "theorems"))))
    return [results[theorem] for theorem in MAIN_JOB_THEOREMS]


def lemma_row(check: ClaimCheck) -> dict:
    """A lemma's entry of report.json (CONTRACT.md keys first)."""
    lemma = check.claim.lemma
    return {
        "id": lemma.id,
        "status": check.verdict,
        "samples": check.samples,
        "vacuous": check.vacuous,
        "outside_assumptions": check.outside_assumptions,
        "max_ratio": check.max_ratio if math.isfinite(check.max_ratio) else None,
        "median_ratio": check.median_ratio,
        "witness": None,
        "paper_label": lemma.paper_label,
        "statement": str(lemma),
        "worst_part": check.worst_part,
        "re_evaluated_in_50_digits": check.re_evaluated,
        "samples_by_source": check.sources,
        "adversarial_search": check.search,
        "builtin": lemma.builtin,
    }


def schedule_rows(records: list[ScheduleRecord]) -> list[dict]:
    """One report.json schedule entry per distinct (schedule, M, J, B)."""
    seen, rows = set(), []
    for record in records:
        key = (record.schedule, record.layers, record.micro_batches, record.mini_batch)
        if key in seen:
            continue
        seen.add(key)
        rows.append(schedule_summary(record))
    return rows

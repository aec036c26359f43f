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
from proofs_check.claims import Claim, false_variant_claims, own_claim
from proofs_check.schedule_summary import schedule_summary
from proofs_check.engine import ClaimCheck, adversarial_check, check_instances, refute
from proofs_check.instances import Instance
from proofs_check.library import REGISTRY
from proofs_check.tolerance import HOLDS
from proofs_check.traces import TraceSetting, recomputed_gradients_match, replayed_updates_match, simulate_all, trace_instances
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
        return Budgets(lemma_search=0.4, variant_search=6.0) if quick else Budgets(lemma_search=3.0, variant_search=20.0)


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


def verify(quick: bool, seed: int, progress: Progress = _no_progress, budgets: Budgets | None = None) -> VerificationResult:
    """Run the main job and return its results."""
    budgets = budgets or Budgets.for_mode(quick)
    settings = builtin_settings(quick, seed)
    lemmas = tuple(REGISTRY)
    checks = {lemma.id: ClaimCheck(own_claim(lemma)) for lemma in lemmas}
    kept: dict[str, list[Instance]] = {lemma.id: [] for lemma in lemmas}
    records: list[ScheduleRecord] = []
    consistency: list[dict] = []
    constants: dict[tuple, dict] = {}
    for trace in progress(simulate_all(settings), len(settings), "traces"):
        setting = trace.setting
        records.append(trace.result.record)
        replay = replayed_updates_match(trace)
        gradient_gap = recomputed_gradients_match(trace)
        consistency.append({"setting": setting.label, "updates_replay_exactly": replay, "largest_gradient_gap": gradient_gap})
        for lemma, instance in trace_instances(trace, lemmas).items():
            check_instances(checks[lemma].claim, [(instance, "trace")], checks[lemma])
            kept[lemma].append(instance)
        key = (len(setting.dims) - 1, setting.activation, setting.loss)
        if key not in constants and setting.device.name == "digital":
            constants[key] = _measured_constants(trace)
    for lemma in progress(lemmas, len(lemmas), "adversarial search"):
        adversarial_check(checks[lemma.id].claim, budgets.lemma_search, seed, checks[lemma.id])

    result = VerificationResult(quick, seed, settings, checks, records, consistency, list(constants.values()))
    result.theorems = _theorems(quick, seed, records, progress)
    variants = false_variant_claims(lemmas)
    result.variants = [
        VariantOutcome(claim, refute(claim, kept[claim.lemma.id], budgets.variant_search, seed))
        for claim in progress(variants, len(variants), "false variants")
    ]
    from theory.ledger import verify_ledger

    result.ledger = list(verify_ledger())
    return result


def _measured_constants(trace) -> dict:
    setting = trace.setting
    versions = trace.result.versions
    omega = [max(float(np.linalg.norm(w, 2)) for w in layer) for layer in versions]
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


def _theorems(quick: bool, seed: int, records: list[ScheduleRecord], progress: Progress) -> list:
    from proofs_check import theorems

    jobs = [
        lambda: theorems.check_convergence("sync-convergence", quick=quick, seed=seed),
        lambda: theorems.check_convergence("async-convergence", quick=quick, seed=seed, speedup=True),
        theorems.check_iteration_complexity,
        lambda: theorems.check_computation_density(records),
    ]
    return [job() for job in progress(jobs, len(jobs), "theorems")]


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

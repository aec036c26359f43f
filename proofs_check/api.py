"""The Python API: check a bound, measure a lemma's tightness, check a theorem, run the main job.

Every function takes a lemma as a registered id or a `Lemma` object (a user's lemma need
not be registered to be checked), and returns a result with `.status` ('holds',
'violated' or 'error'), `.max_ratio` and `.witness` (None, or a `Witness` that can be
saved and replayed). The commands `bound`, `tightness` and `run` are thin layers over it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from proofs_check.builtin import builtin_settings
from proofs_check.claims import Claim, candidate_claim, own_claim
from proofs_check.engine import ClaimCheck, adversarial_check, check_instances, search_task
from proofs_check.executor import IN_PROCESS, Executor
from proofs_check.instances import Instance, finite_rows, instance_bytes, load_instance
from proofs_check.library import Lemma, get_lemma
from proofs_check.tolerance import ERROR, HOLDS, overall_status, worst_status
from proofs_check.traces import TraceSetting, simulate, trace_instances
from proofs_check.errors import UsageError
from proofs_check.witness import describe, examine, load_witness, witness_bytes

Progress = Callable[[Iterable, int], Iterable]


def _no_progress(iterable: Iterable, total: int) -> Iterable:
    return iterable


@dataclass(frozen=True)
class Witness:
    """An instance at which a claim is violated or cannot be evaluated (NaN, inf, an exception)."""

    instance: Instance
    status: str
    """'violated' or 'error'."""
    part: str
    """The inequality that broke."""
    ratio: float
    """lhs/rhs of that inequality (NaN for an error)."""
    claim: Claim | None = None
    """The claim that broke (None: the lemma's own bound)."""

    def statement(self):
        """Where and how the claim broke: lhs, rhs, ratio, layer, constants, instance (`proofs_check.witness`)."""
        return examine(self.instance, self.claim, self.part)

    def save(self, path: str | Path) -> Path:
        """Write the witness as an .npz that `replay` (and `load_witness`) read back bit for bit,
        with its statement (key `statement`, JSON)."""
        from proofs_check.output import write_bytes

        path = Path(path)
        write_bytes(path, witness_bytes(self.instance, self.statement()))
        return path

    def describe(self) -> list[str]:
        """Human-readable lines: where the claim broke (lhs, rhs, constants, instance), then the instance's numbers."""
        return describe(self.instance, self.claim, self.part)


@dataclass(frozen=True)
class CheckResult:
    """The outcome of checking one claim (a lemma's bound, or a candidate right side)."""

    lemma: str
    claim: str
    status: str
    max_ratio: float
    """Largest lhs/rhs seen (−inf if nothing could be checked)."""
    samples: int
    """Inequality entries checked."""
    witness: Witness | None
    check: ClaimCheck
    """The engine's full record (ratios by source, the worst part, search statistics)."""

    def as_dict(self, witness_path: Path | None = None) -> dict:
        """The JSON object of `bound` and `tightness`."""
        check = self.check
        return {
            "lemma": self.lemma,
            "claim": self.claim,
            "status": self.status,
            "samples": self.samples,
            "vacuous": check.vacuous,
            "outside_assumptions": check.outside_assumptions,
            "samples_by_source": check.sources,
            "max_ratio": self.max_ratio,
            "worst_part": check.worst_part,
            "adversarial_search": check.search,
            "witness": None
            if self.witness is None
            else {"path": None if witness_path is None else str(witness_path), "status": self.witness.status, "part": self.witness.part, "ratio": self.witness.ratio, "origin": self.witness.instance.origin, "statement": self.witness.statement().as_dict()},
        }


def result_of(check: ClaimCheck) -> CheckResult:
    """A `CheckResult` from the engine's accumulated check."""
    witness = None
    if check.witness is not None:
        witness = Witness(check.witness, check.witness_status, check.witness_part, check.witness_ratio, check.claim)
    return CheckResult(check.claim.lemma.id, check.claim.name, check.verdict, check.max_ratio, check.samples, witness, check)


def _validated_seed(seed: int) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")


def _validated(budget: float, seed: int) -> None:
    if isinstance(budget, bool) or not isinstance(budget, (int, float)) or not math.isfinite(budget) or budget <= 0:
        raise ValueError(f"budget must be a finite number > 0 (units of 10,000 evaluations), got {budget!r}")
    _validated_seed(seed)


def trace_check_task(task: tuple[Claim, TraceSetting]) -> ClaimCheck:
    """Task: the claim judged on one built-in trace (a fresh check; `check_on_traces` merges them in order)."""
    claim, setting = task
    instance = trace_instances(simulate(setting), [claim.lemma]).get(claim.lemma.id)
    return ClaimCheck(claim) if instance is None else check_instances(claim, [(instance, "trace")])


def check_on_traces(claim: Claim, seed: int, check: ClaimCheck, progress: Progress = _no_progress, executor: Executor = IN_PROCESS) -> ClaimCheck:
    """The claim on the quick built-in traces, stopping at the first violation."""
    settings = builtin_settings(quick=True, seed=seed)
    for trace_check in executor.map(trace_check_task, [(claim, setting) for setting in settings], progress):
        check.merge(trace_check)
        if check.status != HOLDS:
            break
    return check


def check_bound(lemma: "str | Lemma", rhs: str, *, budget: float = 10, seed: int = 0, progress: Progress = _no_progress, executor: Executor = IN_PROCESS) -> CheckResult:
    """Check `lhs ≤ rhs` for the lemma's left side: on the built-in simulator traces, then by
    adversarial search (`budget` units of 10,000 evaluations). `rhs` is an expression in the
    lemma's symbols (`proofs_check.library.BOUND_SYMBOLS`; `bound` is the lemma's own right side).
    The traces run through `executor` (in-process by default; `proofs_check.executor`).

    >>> import proofs_check
    >>> proofs_check.check_bound("bounded-signal", "bound/omega_max", budget=1).status
    'violated'
    """
    _validated(budget, seed)
    claim = candidate_claim(get_lemma(lemma), rhs)
    check = check_on_traces(claim, seed, ClaimCheck(claim), progress, executor)
    if check.status == HOLDS:
        adversarial_check(claim, budget, seed, check, stop_at_violation=True)
    return result_of(check)


@dataclass(frozen=True)
class TightnessResult:
    """The largest lhs/rhs of a lemma's own bound: over every part, and for its headline quantity."""

    lemma: str
    status: str
    max_ratio: float
    witness: Witness | None
    every_part: CheckResult
    headline: CheckResult


def tightness(lemma: "str | Lemma", *, budget: float = 10, seed: int = 0, executor: Executor = IN_PROCESS) -> TightnessResult:
    """Adversarial search for the largest lhs/rhs of the lemma's own bound (half the budget over
    every part, half over the headline). A ratio above 1 (confirmed in 50 digits) is a violation.

    >>> import proofs_check
    >>> result = proofs_check.tightness("box-invariance", budget=0.5)
    >>> result.status, result.max_ratio <= 1 + 1e-9
    ('holds', True)
    """
    _validated(budget, seed)
    lemma = get_lemma(lemma)
    claims = (own_claim(lemma), candidate_claim(lemma, "bound"))
    every_part, headline = (result_of(check) for check in executor.map(search_task, [(claim, budget / 2, seed) for claim in claims]))
    status = worst_status((every_part.status, headline.status))
    witness = every_part.witness or headline.witness
    return TightnessResult(lemma.id, status, max(every_part.max_ratio, headline.max_ratio), witness, every_part, headline)


@dataclass(frozen=True)
class ReplayResult:
    """A saved witness re-checked: per part, the largest ratio and status."""

    lemma: str
    claim: str
    status: str
    parts: list[dict]
    instance: Instance


class OutsideAssumptions(ValueError):
    """A replayed instance outside its lemma's assumptions: no verdict on the lemma."""


def replay(witness: "str | Path | Instance", rhs: str | None = None, *, lemma: "str | Lemma | None" = None) -> ReplayResult:
    """Re-check a witness (a path to its .npz, or an instance) against its lemma's own bound,
    or against a candidate right side `rhs`. The lemma is the one the witness names (it must be
    registered), unless `lemma` is given."""
    if isinstance(witness, Instance):
        instance = witness
    else:
        try:
            instance = load_witness(Path(witness))
        except UsageError as error:
            raise ValueError(str(error)) from None
    lemma = get_lemma(instance.lemma if lemma is None else lemma)
    claim = candidate_claim(lemma, rhs) if rhs else own_claim(lemma)
    # The same gate as every checked instance (engine.check_instances): NaN or inf is
    # MODEL.md's `error`, never judged; outside the lemma's assumptions is not a witness.
    if not np.all(finite_rows(instance)):
        return ReplayResult(lemma.id, claim.name, ERROR, [{"part": "non-finite input (NaN or inf)", "layer": None, "max_ratio": None, "status": ERROR}], instance)
    if not np.all(lemma.assumptions_hold(instance)):
        raise OutsideAssumptions(f"the instance lies outside the assumptions of {lemma.id} ({'; '.join(lemma.hypotheses) or 'its hypotheses'}), so it cannot refute it")
    with np.errstate(all="ignore"):
        verdicts = claim.judge(instance)
    parts = [
        {"part": v.name, "layer": v.layer, "max_ratio": float(v.ratio.max()) if v.ratio.size else None, "status": overall_status([v])}
        for v in verdicts
    ]
    return ReplayResult(lemma.id, claim.name, overall_status(verdicts), parts, instance)


def check_theorem(
    id: str, rhs: str | None = None, *, budget: float = 10, seed: int = 0, quick: bool = False,
    schedule: str | None = None, device=None, tau: float | None = None, executor: Executor = IN_PROCESS,
):
    """Check a theorem of MODEL.md §5 (`sync-convergence`, `async-convergence`,
    `iteration-complexity`, `computation-density`) against simulation.

    For the convergence theorems `rhs` is a candidate right side: an expression in
    `proofs_check.theorems.THEOREM_SYMBOLS` (`bound` is the project's calibrated right side),
    evaluated at the calibrated constants at every K of the sweep; None checks the project's
    own bound. `budget` scales the number of seeds (10 = the default 8 quick / 32 full seeds,
    linearly, at least 4). A bad expression raises `CandidateError` (a ValueError) listing
    the symbols.

    `schedule` (a schedule the theorem covers: `theorems.covered_schedules(id)`) and `device`
    (a `numerics.devices` device the theorem covers: digital, ald or softbounds, e.g.
    `make_device("softbounds", exponent=2)`) replace the headline regime's; the device's τ is
    replaced by `tau` when given, else by the headline's τ = 20·||W_0||_inf, and β, q_max,
    G_max are `device.constants(W_max)`. With either, only the headline regime runs. Anything
    else raises ValueError. The training runs and the regimes' checks run through `executor`
    (in-process by default; `proofs_check.executor`), with the same result anywhere.

    Returns a `TheoremResult` (`.status`, `.lhs`, `.rhs`, `.critical_scale`, `.details`).
    """
    from proofs_check import theorems

    if id not in theorems.THEOREM_IDS:
        raise ValueError(f"unknown theorem {id!r}; allowed: {', '.join(theorems.THEOREM_IDS)}")
    _validated(budget, seed)
    if id in theorems.CONVERGENCE_IDS:
        if rhs is not None:
            theorems.parse_theorem_rhs(rhs)
        return theorems.check_convergence(id, quick=quick, seed=seed, rhs=rhs, budget=budget, schedule=schedule, device=device, tau=tau, executor=executor)
    if rhs is not None:
        raise ValueError(f"{id} takes no rhs: it compares exact exponents and densities")
    if schedule is not None or device is not None or tau is not None:
        raise ValueError(f"{id} takes no schedule, device or tau: it compares exact exponents and densities")
    if id == "iteration-complexity":
        return theorems.check_iteration_complexity()
    return theorems.check_computation_density()


def verify(*, quick: bool = False, seed: int = 0, out: str | Path | None = None, executor: Executor = IN_PROCESS) -> dict:
    """The main job (`run`): every registered lemma and every theorem on the built-in models;
    returns what report.json holds, and writes report.json, tables and figures when `out` is given.
    The independent pieces run through `executor` (in-process by default; `proofs_check.executor`)."""
    import time

    from proofs_check.report import build_report, write_outputs
    from proofs_check.verification import verify as run_verification

    _validated_seed(seed)
    start = time.perf_counter()
    result = run_verification(bool(quick), seed, executor=executor)
    report = build_report(result, time.perf_counter() - start)
    if out is not None:
        write_outputs(Path(out), result, report)
    return report

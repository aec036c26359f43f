"""Checks of the theorems of MODEL.md §5 and §3: convergence (sync, async), iteration
complexity and computation density. Pure functions: no printing, no files.

Convergence (`check_convergence`) is a statistical check over seeds, built so that it can
fail (issue 10). A small tanh network with squared loss is trained with ALD (or the device and
schedule a user chooses: `chosen_setup`, `theorem --schedule --device`) on a realisable
teacher–student task (inputs on the unit sphere, a tanh teacher of the same architecture,
so f* = 0 and Δ_0 = f(W_0) exactly) with i.i.d. sampling of b < N rows per micro-batch and no
injected noise: σ² is the sampling variance, computed exactly at every reference point of
every run (σ²(W) = tr Cov_i ∇f(W;ξ_i)/b) and maximised over them (A2 for every k). The seeds
only change the sampled rows; the mean over seeds of (1/K) Σ_{k<K} ||∇f(W^{(k)})||² estimates
the left side at every K of the sweep (prefixes of one run: α does not depend on K).

The step size is fixed before the runs, α = β_0/(6·safety·L_pilot·q_0²), L_pilot the Hessian
norm at W_0 (power iteration on finite-difference Hessian-vector products). After the runs
the right side is evaluated twice: *calibrated* (the headline; L_cal = max(power iteration at
reference points, the smallest L making every update's descent-lemma inequality hold), c_D,cal
= max_k ||b_k||/α) and *certified* (the lemma constants: L = ||Γ_sym||₂ at the measured ω, c_D
the gradient-delay lemma's worst case); β, q_max, G_max are the device's `constants(W_max)`.
The hypotheses (α ≤ β/(6 L_cal q_max²), L_cal ≤ L, c_D,cal ≤ c_D, A3, W_max < τ) are verified;
a failure, a NaN, or a left side that does not fall at least 10× over the sweep (uninformative)
is an error, never 'holds'. The fitted rate (lhs ∝ K^p, K(ε) ∝ ε^{1/p}) is judged against the
band [−2, −1] of the theory. `critical_scale` is lhs/rhs at the worst K.

On the same runs the numerical §5 steps of theory.ledger are checked update by update with
the sampling noise n_k = ∇f(W^{(k)};ξ_k) − ∇f(W^{(k)}) and the delay bias b_k = g̃_k −
∇f(W^{(k)};ξ_k) on the same rows: the descent lemma (certified L), the inner-product lower
bound, the second-moment bound, the gradient-delay hypothesis ||b_k|| ≤ α c_D, and
(statistically) E[||n_k||² | past] = σ²(W^{(k)})/B. Candidate right sides (`theorem --rhs`)
and the false variants `THEOREM_VARIANTS` are judged on the same runs by the same verdict.

The training runs (one per regime and schedule) and the cells of `measure_speedup` are tasks
of a `proofs_check.executor.Executor` (in-process, or on a Dask cluster): top-level, picklable,
their randomness a function of the seed and the task alone, so the result does not depend on
where they ran.
"""

from __future__ import annotations

import math
import dataclasses
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, Sequence

import mpmath
import numpy as np
import sympy as sp
from scipy import stats

from numerics import network
from numerics.activations import TANH
from numerics.data import IID, Dataset, initial_weights
from numerics.devices import AsymmetricLinearDevice, Device, SoftBoundsDevice, device_settings
from numerics.losses import SQUARED
from numerics.schedules import SCHEDULES, ScheduleRecord, build_schedule, schedule_named
from numerics.streams import generator, seed_sequence
from numerics.training import TrainingSettings, train
from proofs_check.executor import IN_PROCESS, Executor
from proofs_check.precision import FLOAT64, MPMATH, Arithmetic
from proofs_check.tolerance import ABSOLUTE_TOLERANCE, ERROR, HOLDS, NEAR_TIE, RELATIVE_TOLERANCE, VIOLATED, ratios, within_tolerance
from theory import complexity
from theory import convergence as C
from theory import schedules as closed_forms
from theory.constants import ACTIVATION_CONSTANTS, LOSS_CONSTANTS, constants_for, gamma_matrix

Array = np.ndarray
Progress = Callable[[Iterable, int], Iterable]

CONVERGENCE_IDS = ("sync-convergence", "async-convergence")
THEOREM_IDS = CONVERGENCE_IDS + ("iteration-complexity", "computation-density")

CONFIDENCE = 0.99
"""One-sided level of the lower confidence bound on the mean left side."""
NOISE_CONFIDENCE = 0.9999
"""Two-sided level of the interval the mean squared noise must contain σ²/B in."""
REFERENCE_EXPONENT = -0.5
"""The rate exponent of MODEL.md §5 in K (before the floor)."""
DENSITY_TOLERANCE = 1e-12

CLAIMED_EXPONENTS: dict[str, tuple[int, ...]] = {"ap": (-2, -1), "sp": (-2,), "wop": (-2,)}
"""The paper's claim: AP O(ε⁻² + ε⁻¹), SP and WOP O(ε⁻²)."""


@dataclass(frozen=True)
class TheoremResult:
    """One theorem entry of report.json (CONTRACT.md)."""

    id: str
    status: str
    """'holds' | 'violated' | 'error'."""
    lhs: float | None
    rhs: float | None
    details: dict
    critical_scale: float | None = None
    """lhs/rhs at the worst K (convergence theorems; the headline right side); None otherwise."""

    def as_dict(self) -> dict:
        return {"id": self.id, "status": self.status, "lhs": self.lhs, "rhs": self.rhs, "critical_scale": self.critical_scale, "details": self.details}


# ----------------------------------------------------------------------------- helpers


def _plain(value):
    """JSON-safe copy: numpy → Python numbers and lists; non-finite floats → 'nan', 'inf', '-inf'."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, np.ndarray):
        return [_plain(item) for item in value.tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating, mpmath.mpf)):
        number = float(value)
        return number if math.isfinite(number) else str(number)
    if isinstance(value, sp.Basic):
        return int(value) if value.is_Integer else float(value) if value.is_number else str(value)
    return value if value is None or isinstance(value, str) else str(value)


def _finite_or_none(value) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _slope(x: Sequence[float], y: Sequence[float]) -> float:
    """Least-squares slope of log y against log x (NaN if a value is not positive and finite)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) < 2 or not (np.all(np.isfinite(y)) and np.all(y > 0)):
        return float("nan")
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def mean_confidence(samples: Sequence[float], confidence: float = CONFIDENCE) -> dict:
    """Mean, standard error and Student-t bounds: one-sided lower and upper at `confidence`."""
    values = np.asarray(samples, dtype=float)
    count = values.size
    mean = float(np.mean(values))
    error = float(np.std(values, ddof=1) / math.sqrt(count))
    quantile = float(stats.t.ppf(confidence, count - 1))
    return {
        "mean": mean,
        "std_error": error,
        "samples": int(count),
        "level": confidence,
        "t": quantile,
        "lower": mean - quantile * error,
        "upper": mean + quantile * error,
    }


def convergence_verdict(samples: Sequence[float], rhs: float, *, rhs_scale: float = 1.0, confidence: float = CONFIDENCE) -> tuple[str, dict]:
    """The statistical verdict on E[lhs] ≤ rhs_scale·rhs from per-seed values of the left side.

    'violated' when the lower end of the one-sided `confidence` bound of the mean exceeds
    rhs_scale·rhs (MODEL.md's tolerance); 'error' when a sample or the right side is NaN
    or infinite (never 'holds'), with the inputs reported; else 'holds'.
    """
    values = np.asarray(samples, dtype=float).ravel()
    if values.size < 2:
        raise ValueError(f"a confidence interval needs at least 2 seeds, got {values.size}")
    bound = float(rhs) * float(rhs_scale)
    if not (np.all(np.isfinite(values)) and math.isfinite(bound)):
        return ERROR, {"reason": "a NaN or infinite value: per-seed lhs or rhs", "samples": _plain(values), "rhs": _plain(float(rhs)), "rhs_scale": _plain(float(rhs_scale))}
    interval = mean_confidence(values, confidence)
    holds = bool(within_tolerance(interval["lower"], bound))
    interval.update({"bound": bound, "ratio": float(ratios(interval["mean"], bound)), "ratio_lower": float(ratios(interval["lower"], bound))})
    return (HOLDS if holds else VIOLATED), interval


def _combine(statuses: Iterable[str]) -> str:
    statuses = set(statuses)
    return ERROR if ERROR in statuses else VIOLATED if VIOLATED in statuses else HOLDS


# ----------------------------------------------------------------------------- experiment design


@dataclass(frozen=True)
class ConvergenceSetup:
    """The built-in experiment of one convergence theorem (i.i.d. sampling from real data, no injected noise)."""

    theorem_id: str
    schedules: tuple[str, ...]
    """Schedules run; the first is the one the main lhs, the verdict's headline and the rate fit report."""
    dims: tuple[int, ...]
    samples: int
    """N rows of the teacher–student task."""
    micro_batch_size: int
    """b rows drawn i.i.d. (with replacement) per micro-batch (b < N as designed; `_designed_micro_batch`
    may raise it for a device whose floor would otherwise be too high)."""
    mini_batch: int
    """B micro-batches per update (1 for AP)."""
    seeds: int
    """Sampling replicas (the theorem's expectation)."""
    updates: tuple[int, ...]
    """The K of the sweep: prefixes of one run of max(updates) updates (α does not depend on K)."""
    tau_factor: float = 20.0
    """τ = tau_factor·||W_0||_inf: large against the weights, so the floor sits far below ||∇f(W_0)||²."""
    init_scale: float = 1.0
    saturation_margin: float = 1.5
    """A-priori W_max,0 = margin·||W_0||_inf (the step size is fixed before the run)."""
    pilot_safety: float = 2.0
    """α = β_0/(6·safety·L_pilot·q_0²), L_pilot the Hessian norm at W_0 (power iteration)."""
    reference_points: int = 9
    """Versions k (evenly spaced over the run, every replica) at which the Hessian norm is measured."""
    min_fall: float = 10.0
    """The left side must fall at least this factor over the sweep, else the check is uninformative (0: not required)."""
    max_floor_fraction: float | None = 0.1
    """The calibrated floor must be at most this fraction of ||∇f(W_0)||² (None: not required)."""
    max_beta: float | None = None
    """The measured β must be at most this (a saturation regime; None: not required)."""
    judge_rate: bool = True
    """Judge the fitted rate against the band of the theory (the headline; other regimes are built for one term)."""
    name: str = "headline"
    """The regime's name in the report ('headline' is the experiment of the critical scale and the judged rate)."""
    teacher: str = "gaussian"
    """The teacher's weights: 'gaussian' (N(0, 1/d_{m−1}) entries) or 'signs' (every entry ±init_scale/sqrt(d_0),
    random signs: all entries of every layer at one magnitude, so one τ saturates them alike); 'independent-signs':
    the same, each matrix redrawn until it has full rank (no two units alike or opposite); 'relay': the first and the
    last layer as 'independent-signs', every middle layer the identity, so the signal crosses any depth alike on every seed."""
    start: str = "random"
    """W_0: 'random' (N(0, init_scale²/d_{m−1}) entries from the init stream), 'teacher' (start_fraction × the teacher's
    weights) or 'teacher-top-mode' (the teacher moved by (1 − start_fraction)·||teacher|| along the leading eigenvector of
    ∇²f at the teacher, by power iteration: the whole initial gap Δ_0 sits in the stiffest mode)."""
    start_fraction: float = 1.0
    """W_0 = start_fraction × teacher when start = 'teacher' (below 1: every weight must grow toward the teacher); the
    distance (1 − start_fraction)·||teacher|| from the teacher when start = 'teacher-top-mode'."""
    label_noise: float = 0.0
    """Targets teacher(x) ± e in pairs (each input twice), every entry of e equal to label_noise (× units): the sampling
    noise stays at the optimum, and f* ≥ f_lower = ½ mean ||e||² (equality at the teacher). A fixed magnitude, not a
    draw: every residual at the optimum is ±e, so no row's gradient nearly vanishes and no seed draws a quieter task."""
    units: float = 1.0
    """A change of units: inputs ÷ units, the first and last layers' weights (teacher, student) and the targets × units.
    For M = 2 every term of the theorem scales by units², so a right side that is not invariant is exposed."""
    input_scale: float = 1.0
    """Inputs × input_scale and the first layer's weights (teacher, student) ÷ input_scale: the network computes the
    same function, but the curvature along the first layer (the most delayed under `ap`) is input_scale² larger, so it
    holds the largest Hessian eigenvalue and the step size α ≤ β/(6Lq_max²) acts on it at full strength."""
    dominant_term: str | None = None
    """A term name of theory.convergence.TERM_NAMES that must be at least DOMINANT_SHARE of the calibrated right
    side at the largest K, else the regime is uninformative (its purpose); None: not required."""
    term_exceeds_lhs: str | None = None
    """A term name that must exceed the mean left side at the largest K (dropping it then changes the right side
    by more than the whole left side, so a bound tight elsewhere would fail without it); None: not required."""
    purpose: str = "the headline: the left side falls over the sweep, the critical scale and the rate are judged"
    """One sentence for the report: which term of the bound this regime makes dominant, and why."""
    targets: tuple[str, ...] = ()
    """Ids of the THEOREM_VARIANTS this regime is built to refute (a run that skips it reports them as not tried)."""
    device: Device = AsymmetricLinearDevice()
    """The device kind and its settings (default ALD). Its τ is replaced by the regime's (`tau`, else
    tau_factor·||W_0||_inf); a device without a bound (digital) keeps τ = ∞."""
    tau: float | None = None
    """τ fixed by the user (`theorem --tau`); None: τ = tau_factor·||W_0||_inf, the regime's design."""

    @property
    def primary(self) -> str:
        return self.schedules[0]

    @property
    def variance_schedule(self) -> str:
        return "ap" if self.primary == "ap" else "sp"


SWEEP = (25, 50, 100, 200, 400, 800, 1600)


def convergence_setup(theorem_id: str, quick: bool) -> ConvergenceSetup:
    """The experiment of `theorem_id`: quick (8 seeds) or full (32 seeds), K = 25 … 1600 (prefixes of one run)."""
    if theorem_id not in CONVERGENCE_IDS:
        raise ValueError(f"unknown convergence theorem {theorem_id!r}; allowed: {', '.join(CONVERGENCE_IDS)}")
    seeds = 8 if quick else 32
    if theorem_id == "sync-convergence":
        return ConvergenceSetup(theorem_id, ("sp", "wop"), (4, 6, 3), 64, 8, 4, seeds, SWEEP)
    return ConvergenceSetup(theorem_id, ("ap",), (4, 6, 6, 3), 64, 8, 1, seeds, SWEEP)


QUICK_REGIMES = ("headline",)
"""The regimes `--quick` runs (the others are built for one term each; their sweeps reach 12,800 updates)."""
SATURATION_SWEEP = (200, 400, 800, 1600, 3200, 6400, 12800)
FLOOR_SWEEP = (100, 200, 400, 800, 1600, 3200, 6400)
DELAY_SWEEP = (25, 50, 100, 200, 400, 800, 1600)


def convergence_regimes(theorem_id: str, quick: bool) -> tuple[ConvergenceSetup, ...]:
    """The regimes of `theorem_id`, the headline first. The headline is where the left side falls and the
    rate is judged; each further regime makes one term of the bound dominant and nearly attained, so a
    false variant that weakens that term is refuted there (full run only; `--quick` runs the headline and
    reports the variants it did not try: `QUICK_REGIMES`). Each regime is a complete check: hypotheses verified, the
    project's bound must hold, NaN is an error, and it is informative only if its design shows
    (`_informative_conditions`).

    Every regime is built so that its verdict does not hang on a lucky draw: with seeds 0–5 each is
    informative and refutes the variants it targets.

    - saturation: a single linear layer 2 → 3 (so f is quadratic and its minimiser unique), W_0 = 0.9 × a
      ±c teacher at 0.95τ: every weight must grow toward its bound, where ALD moves it by
      α|g|(1 − |w|/τ) ≈ αβ|g|, so the descent term's 1/β is nearly attained (β ≤ 0.1). (A 4-6-3 tanh
      network reached the same loss on some seeds by shrinking weights instead: β stayed at 0.101.)
    - floor: W_0 = a ±c teacher at 0.8τ on a 1-1-1 network, inputs ±1 and paired label noise of fixed size
      (targets t ± e: f* known exactly, Δ_0 = 0; every row's residual at the optimum is ±e, so the task is the
      same for every seed up to symmetry), in units where the weights are ~10³ (`sp`) or ~10⁶ (`ap`): the
      asymmetric update drives the weights off the optimum until the gradient balances the pull E|g|·W/τ, so
      the left side rises toward the floor 4G_max²σ²/β², which dominates the right side; the floor ∝ 1/τ
      variant is not invariant under the change of units. (`sp` stays at 3·10³: its gradient-delay step
      compares b_k with 0 at MODEL.md's absolute tolerance 10⁻¹², and the rounding of outputs of size ~units
      would exceed it.)
    - delay (async): M = 18 layers of width 2 (forward delays up to 17) on a 'relay' teacher (±c first and last
      layers, identity in between: the same signal path on every seed), the largest curvature moved into the
      most delayed layer (inputs × 4, W_1 ÷ 4: `input_scale`), W_0 = the teacher moved by 1 % of its norm along
      the top Hessian mode (`teacher-top-mode`: all of Δ_0 in that mode, near an isolated minimum, so the
      curvature stays at the pilot's and α sits near β/(6Lq_max²)). Delayed descent on one mode,
      x_{k+1} = x_k − αλ x_{k−D}, overshoots and rings when αλ nears 2 sin(π/(2(2D+1))) (0.09 at D = 17):
      the run spends gradient norm without descending, so the left side exceeds the descent and noise terms
      and only the delay term (hundreds of times the left side) keeps the bound above it; `delay-dropped` is
      refuted (lhs/rhs 1.1–2.2 over seeds 0–5). With M = 6 the same variant stayed at lhs/rhs ≤ 0.24 in every
      design tried: the descent term 4Δ_0/(αβK) is about 4× what an undelayed run spends.
    """
    headline = convergence_setup(theorem_id, quick)
    primary = headline.primary
    saturation = ConvergenceSetup(
        theorem_id, (primary,), (2, 3), 64, 256 if primary == "sp" else 512, 4 if primary == "sp" else 1, 4, SATURATION_SWEEP,
        tau_factor=1 / (0.9 * 0.95), saturation_margin=0.96 / (0.95 * 0.9), pilot_safety=1.1,
        min_fall=3.0, max_floor_fraction=None, max_beta=0.1, judge_rate=False,
        name="saturation", teacher="signs", start="teacher", start_fraction=0.9, targets=("beta-dropped",),
        purpose="every weight grows from 0.9 of a ±c teacher at 0.95τ toward its bound: ALD moves it by α|g|(1 − |w|/τ) ≈ αβ|g|, so the descent term's 1/β is nearly attained",
    )
    floor = ConvergenceSetup(
        theorem_id, (primary,), (1, 1, 1), 4, 1, 2 if primary == "sp" else 1, 4, FLOOR_SWEEP,
        tau_factor=1.25, saturation_margin=1.02, pilot_safety=8.0,
        min_fall=0.0, max_floor_fraction=None, dominant_term="asymptotic_floor", judge_rate=False,
        name="floor", teacher="signs", start="teacher", label_noise=0.3, units=3e3 if primary == "sp" else 1e6, targets=("floor-over-tau", "floor-dropped"),
        purpose="W_0 is the optimum (Δ_0 = 0) of a task with paired label noise; the asymmetric update pulls every weight (at 0.8τ, of size 10³–10⁶ in the regime's units) off it, so the left side rises toward the floor, which dominates the right side",
    )
    regimes = [headline, saturation, floor]
    if primary == "ap":
        regimes.append(
            ConvergenceSetup(
                theorem_id, ("ap",), (4,) + (2,) * 17 + (3,), 64, 256, 1, 4, DELAY_SWEEP,
                tau_factor=100.0, init_scale=0.5, pilot_safety=1.1, min_fall=3.0, max_floor_fraction=None, term_exceeds_lhs="delay", judge_rate=False,
                name="delay", teacher="relay", start="teacher-top-mode", start_fraction=0.99, input_scale=4.0, targets=("delay-dropped",),
                purpose="M = 18 (forward delays up to 17) on a relay teacher, W_0 = the teacher moved along the top Hessian mode, which lives in the most delayed layer (inputs × 4, W_1 ÷ 4), at α near β/(6Lq_max²): the stale gradient overshoots, so the descent no longer pays for the gradient norms, and the delay term is what keeps the bound above the left side",
            )
        )
    return tuple(regimes)


# ----------------------------------------------------------------------------- the user's schedule and device


def covered_schedules(theorem_id: str) -> tuple[str, ...]:
    """The schedules a convergence theorem covers (MODEL.md §5), in the registry's order: the
    asynchronous ones (ap, pipedream, 2bw) for async-convergence, the synchronous ones (single,
    wop, sp, 1f1b) for sync-convergence."""
    if theorem_id not in CONVERGENCE_IDS:
        raise ValueError(f"unknown convergence theorem {theorem_id!r}; allowed: {', '.join(CONVERGENCE_IDS)}")
    asynchronous = theorem_id == "async-convergence"
    return tuple(name for name, schedule in SCHEDULES.items() if schedule.asynchronous == asynchronous)


def device_problem(device: Device) -> str | None:
    """Why the convergence theorems do not cover `device`, or None. They are stated for
    response-function devices, whose update is a function of (W, g, α); a device whose rule,
    once bound to a run, is not the device itself draws random updates (the pulsed device)."""
    if all(rule is device for rule in device.bind([(1, 1)], [0])):
        return None
    return (
        f"the theorem is stated for response-function devices (digital, ald, softbounds); {device.name} "
        "draws random updates: see the model_error section of run"
    )


def chosen_setup(setup: ConvergenceSetup, *, schedule: str | None = None, device: Device | None = None, tau: float | None = None) -> ConvergenceSetup:
    """The regime with the user's schedule, device and τ in place of its own (`theorem --schedule
    --device --tau`); the mini-batch B is raised to the schedule's smallest (2bw: B ≥ M).
    ValueError on a schedule the theorem does not cover, a device it does not cover, or a τ that
    is not a finite number > 0."""
    changes: dict = {}
    if schedule is not None:
        allowed = covered_schedules(setup.theorem_id)
        if schedule not in allowed:
            raise ValueError(f"{setup.theorem_id} covers the schedules {', '.join(allowed)}; got {schedule!r}")
        smallest = schedule_named(schedule).smallest_mini_batch(len(setup.dims) - 1)
        changes.update(schedules=(schedule,), mini_batch=max(setup.mini_batch, smallest))
    if device is not None:
        problem = device_problem(device)
        if problem is not None:
            raise ValueError(problem)
        changes["device"] = device
    if tau is not None:
        if isinstance(tau, bool) or not isinstance(tau, (int, float)) or not (math.isfinite(tau) and tau > 0):
            raise ValueError(f"tau must be a finite number > 0, got {tau!r}")
        changes["tau"] = float(tau)
    return dataclasses.replace(setup, **changes)


def _device_with_bound(device: Device, tau: float) -> Device:
    """`device` with conductance bound τ (a device without one, digital, is returned as is)."""
    return dataclasses.replace(device, tau=tau) if "tau" in device_settings(device.name) else device


def teacher_student_sphere(dims: Sequence[int], samples: int, seed: int) -> Dataset:
    """Inputs uniform on the unit sphere (X = 1), targets from a tanh teacher of the same architecture (realisable: f* = 0)."""
    inputs = generator(seed, "data").standard_normal((samples, dims[0]))
    inputs /= np.linalg.norm(inputs, axis=-1, keepdims=True)
    teacher_rng = generator(seed, "teacher")
    teacher = tuple(teacher_rng.standard_normal((dims[m + 1], dims[m])) / np.sqrt(dims[m]) for m in range(len(dims) - 1))
    return Dataset(inputs, network.forward(teacher, inputs, TANH).output)


def _teacher_weights(setup: ConvergenceSetup, seed: int) -> tuple[Array, ...]:
    """The teacher of a regime (setup.teacher), from the teacher stream."""
    dims = setup.dims
    rng = generator(seed, "teacher")
    if setup.teacher == "gaussian":
        weights = [rng.standard_normal((dims[m + 1], dims[m])) / np.sqrt(dims[m]) for m in range(len(dims) - 1)]
    elif setup.teacher in ("signs", "independent-signs"):
        weights = [_signs(rng, (dims[m + 1], dims[m]), setup.teacher == "independent-signs") * setup.init_scale / np.sqrt(dims[0]) for m in range(len(dims) - 1)]
    elif setup.teacher == "relay":
        last = len(dims) - 2
        weights = [
            _signs(rng, (dims[m + 1], dims[m]), True) * setup.init_scale / np.sqrt(dims[0]) if m in (0, last) else np.eye(dims[m + 1], dims[m])
            for m in range(len(dims) - 1)
        ]
    else:
        raise ValueError(f"unknown teacher {setup.teacher!r}; allowed: gaussian, signs, independent-signs, relay")
    return tuple(weights)


def _signs(rng: np.random.Generator, shape: tuple[int, int], independent: bool) -> Array:
    """A random ±1 matrix; `independent`: redrawn (same stream) until no two rows are equal up to sign, so no
    two hidden units of the teacher compute the same or opposite signal (a 2-2-1 teacher could otherwise
    output 0 identically, a degenerate optimum where the gradients cancel)."""
    while True:
        matrix = np.where(rng.random(shape) < 0.5, -1.0, 1.0)
        if not independent or shape[0] == 1 or np.linalg.matrix_rank(matrix) == min(shape):
            return matrix


def _in_units(weights: Sequence[Array], units: float, input_scale: float = 1.0) -> tuple[Array, ...]:
    """The first and the last layer × units (the network's function, with inputs ÷ units, is its output × units);
    then the first layer ÷ input_scale (with inputs × input_scale the function is unchanged)."""
    last = len(weights) - 1
    scaled = [w * units if m in (0, last) else w for m, w in enumerate(weights)]
    scaled[0] = scaled[0] / input_scale
    return tuple(scaled)


def convergence_problem(setup: ConvergenceSetup, seed: int) -> tuple[Dataset, tuple[Array, ...], float]:
    """(data, W_0, f_lower) of a regime: the teacher–student task on the sphere (radius 1/units), with
    paired label noise when setup.label_noise > 0, and f_lower ≤ f* (0, or ½ mean ||e||² with label noise)."""
    if setup.label_noise == 0.0 and setup.teacher == "gaussian" and setup.units == 1.0 and setup.input_scale == 1.0:
        data, teacher = teacher_student_sphere(setup.dims, setup.samples, seed), None
    else:
        distinct = setup.samples // 2 if setup.label_noise > 0 else setup.samples
        inputs = generator(seed, "data").standard_normal((distinct, setup.dims[0]))
        inputs *= setup.input_scale / (np.linalg.norm(inputs, axis=-1, keepdims=True) * setup.units)
        teacher = _in_units(_teacher_weights(setup, seed), setup.units, setup.input_scale)
        outputs = network.forward(teacher, inputs, TANH).output
        if setup.label_noise > 0:
            error = np.full(outputs.shape, setup.label_noise * setup.units)
            data = Dataset(np.concatenate([inputs, inputs]), np.concatenate([outputs + error, outputs - error]))
        else:
            data = Dataset(inputs, outputs)
    f_lower = float(np.mean(np.sum((data.targets[: setup.samples // 2] - data.targets[setup.samples // 2 :]) ** 2, axis=-1)) / 8) if setup.label_noise > 0 else 0.0
    if setup.start == "random":
        initial = _in_units(initial_weights(list(setup.dims), seed, scale=setup.init_scale), setup.units, setup.input_scale)
    elif setup.start == "teacher":
        teacher = teacher if teacher is not None else _in_units(_teacher_weights(setup, seed), setup.units, setup.input_scale)
        initial = tuple(setup.start_fraction * w for w in teacher)
    elif setup.start == "teacher-top-mode":
        teacher = teacher if teacher is not None else _in_units(_teacher_weights(setup, seed), setup.units, setup.input_scale)
        direction = _power_iteration(teacher, data.inputs, data.targets, seed=seed)[1]
        distance = (1 - setup.start_fraction) * math.sqrt(sum(float(np.sum(w * w)) for w in teacher))
        initial = tuple(w + distance * v for w, v in zip(teacher, direction))
    else:
        raise ValueError(f"unknown start {setup.start!r}; allowed: random, teacher, teacher-top-mode")
    return data, initial, f_lower


def noise_seeds(seed: int, count: int) -> tuple[int, ...]:
    """The sampling seeds of the replicas of a check run with `seed`."""
    return tuple(int(value) for value in seed_sequence(seed, "theorem-seeds").generate_state(count))


def _activation_constants() -> tuple[float, float, float]:
    L_phi, S_phi = (float(value) for value in ACTIVATION_CONSTANTS[TANH.name])
    return L_phi, S_phi, float(LOSS_CONSTANTS[SQUARED.name])


def smoothness(omega: Sequence[float], X: float, Y: float) -> tuple[float, Array, Array]:
    """(L, G_vec, Γ) of the lemmas at ω, X, Y for tanh and the squared loss."""
    L_phi, S_phi, L_ell = _activation_constants()
    omega = np.asarray(omega, dtype=float)
    signal, G_ell, L = constants_for(omega, X, Y, L_phi, S_phi, L_ell, SQUARED.name)
    Gamma = gamma_matrix(omega, X, L_phi, S_phi, L_ell, G_ell)
    return float(L), np.asarray(signal.G_layers, dtype=float), np.asarray(Gamma, dtype=float)


def chosen_step_size_value(schedule: str, *, L: float, beta: float, Delta_0: float, sigma2: float, B: int, K: int) -> float:
    """α = min(β/(6Lq_max²), sqrt(Δ_0/(L q_max² variance K))) at ALD's worst case q_max = 2
    (used by the rates experiment; the theorem checks run at the step-size bound itself)."""
    expression = C.chosen_step_size(complexity.variance(schedule), 0, 2)
    values = {"L": L, "beta": beta, "Delta_0": Delta_0, "K": K, "sigma": math.sqrt(sigma2), "B": float(B)}
    return float(C.evaluate(expression, values))


def _threshold_at_unit_noise(schedule: str, *, L: float, beta: float, Delta_0: float, B: int) -> float:
    """K* = 36Lq_max²Δ_0/(β²·variance) at q_max = 2 evaluated at σ = 1 (so that K* at σ is this/σ²)."""
    values = {"L": L, "beta": beta, "Delta_0": Delta_0, "sigma": 1.0, "B": float(B), "q_max": 2.0}
    return float(C.evaluate(complexity.regime_threshold(schedule), values))


def step_size(beta: float, L: float, q_max: float) -> float:
    """α = β/(6 L q_max²), the largest step size the theorems allow."""
    return float(beta / (6 * L * q_max**2))


# ----------------------------------------------------------------------------- curvature and variance


def _flat(arrays: Sequence[Array], lead: int) -> Array:
    """Concatenate per-layer arrays into one vector per leading index (first `lead` axes kept)."""
    return np.concatenate([a.reshape(a.shape[:lead] + (-1,)) for a in arrays], axis=-1)


def _squared_norm(vectors: Array) -> Array:
    return np.sum(vectors * vectors, axis=-1)


def _row_squared_norms(vectors: Array) -> Array:
    """Σ_j v_j² over a short last axis (a layer's width), added left to right: the order in which
    np.sum adds fewer than 8 numbers, so the same values as `_squared_norm` there, without numpy's
    slow reduction over a short contiguous axis (a loop over the columns instead)."""
    total = vectors[..., 0] * vectors[..., 0]
    for column in range(1, vectors.shape[-1]):
        total += vectors[..., column] * vectors[..., column]
    return total


SPECTRAL_BOUND_POWER = 8
"""p of the upper bound ||W||_2 ≤ ||W||_F·||G^p||_F^(1/2p), G the Gram matrix of W/||W||_F (`_largest_spectral_norm`)."""


def _largest_spectral_norm(matrices: Array) -> float:
    """max over the leading axes of ||W||_2 (the largest singular value): the same number as
    np.max(np.linalg.norm(matrices, 2, axis=(-2, -1))), with the SVD of few matrices.

    Every matrix gets a cheap upper bound, ||W||_2 = ||W||_F·sqrt(λ_max(G)) ≤ ||W||_F·||G^p||_F^(1/2p)
    (G the smaller Gram matrix of W/||W||_F, p = SPECTRAL_BOUND_POWER, a relative margin of 1e-9 for
    rounding); the SVD of the matrix with the largest bound gives a lower bound on the maximum, and
    only the matrices whose bound reaches it can hold the maximum: their SVDs decide it."""
    flat = np.asarray(matrices, dtype=float).reshape((-1,) + matrices.shape[-2:])
    if flat.shape[0] == 0 or not np.all(np.isfinite(flat)):
        return float(np.max(np.linalg.norm(flat, 2, axis=(-2, -1))))
    frobenius = np.sqrt(_squared_norm(flat.reshape(flat.shape[0], -1)))
    scaled = flat / np.where(frobenius > 0, frobenius, 1.0)[:, None, None]
    transposed = np.swapaxes(scaled, -1, -2)
    gram = scaled @ transposed if flat.shape[-2] <= flat.shape[-1] else transposed @ scaled
    power = 1
    while power < SPECTRAL_BOUND_POWER:
        gram = gram @ gram
        power *= 2
    bound = frobenius * np.sqrt(_squared_norm(gram.reshape(gram.shape[0], -1))) ** (1 / (2 * power)) * (1 + 1e-9)
    lower = float(np.linalg.norm(flat[int(np.argmax(bound))], 2))
    candidates = flat[bound >= lower]
    return max(lower, float(np.max(np.linalg.norm(candidates, 2, axis=(-2, -1))))) if candidates.shape[0] else lower


STEP_CHUNK = 400
"""Updates whose §5 step quantities are evaluated at once (memory: their flattened vectors, every replica)."""
POWER_ITERATIONS = 40
HVP_STEP = 1e-5


def hessian_norm(points: Sequence[Array], x: Array, y: Array, *, iterations: int = POWER_ITERATIONS, step: float = HVP_STEP, seed: int = 0) -> Array:
    """||∇²f(W)||_2 at every point (per-layer arrays with leading axes) by power iteration
    with Hessian-vector products, each a central finite difference of full-data gradients
    (step `step`). The start vector comes from the stream "theorem-seeds" of `seed`.
    Returns the leading-axes array of |Rayleigh quotient| at the last iterate."""
    return _power_iteration(points, x, y, iterations=iterations, step=step, seed=seed)[0]


def _power_iteration(points: Sequence[Array], x: Array, y: Array, *, iterations: int = POWER_ITERATIONS, step: float = HVP_STEP, seed: int = 0) -> tuple[Array, list[Array]]:
    """`hessian_norm`'s estimate and the last unit iterate (per layer, the leading direction of ∇²f)."""
    rng = np.random.Generator(np.random.PCG64(seed_sequence(seed, "theorem-seeds", 1)))
    lead = points[0].shape[:-2]
    vector = [rng.standard_normal(w.shape) for w in points]
    estimate = np.zeros(lead)
    for _ in range(iterations):
        norm = np.sqrt(sum(np.sum(v * v, axis=(-2, -1)) for v in vector))[..., None, None]
        vector = [v / norm for v in vector]
        plus = network.gradients([w + step * v for w, v in zip(points, vector)], x, y, TANH, SQUARED)
        minus = network.gradients([w - step * v for w, v in zip(points, vector)], x, y, TANH, SQUARED)
        product = [(p - m) / (2 * step) for p, m in zip(plus, minus)]
        estimate = np.abs(sum(np.sum(v * h, axis=(-2, -1)) for v, h in zip(vector, product)))
        vector, direction = product, vector
    return estimate, direction


def _per_row_pass(points: Sequence[Array], x: Array, y: Array) -> tuple[network.ForwardPass, tuple[Array, ...]]:
    """The forward values and deltas δ_m of every one of the N rows at every point (leading axes kept)."""
    forward_pass = network.forward(points, x, TANH)
    return forward_pass, network.backward(forward_pass, y, points, TANH, SQUARED)


def _variance_from_pass(forward_pass: network.ForwardPass, deltas: Sequence[Array], y: Array, micro_batch_size: int, lead: int) -> tuple[Array, tuple[Array, ...], Array]:
    """(σ²(W), ∇f(W), f(W)) from the per-row values of the N rows (`sampling_variance`)."""
    gradient = network.gradients_from_pass(forward_pass, deltas)
    per_sample = sum(_row_squared_norms(d) * _row_squared_norms(a) for d, a in zip(deltas, forward_pass.layer_inputs))
    grad_sq = _squared_norm(_flat(gradient, lead))
    covariance_trace = np.maximum(np.mean(per_sample, axis=-1) - grad_sq, 0.0)
    loss = np.mean(SQUARED.value(forward_pass.output, y), axis=-1)
    return covariance_trace / micro_batch_size, gradient, loss


def sampling_variance(points: Sequence[Array], x: Array, y: Array, micro_batch_size: int) -> tuple[Array, Array, Array]:
    """(σ²(W), ∇f(W), f(W)) at every point: σ²(W) = E||∇f(W;ξ) − ∇f(W)||² for a micro-batch of
    b i.i.d. rows = (trace of the per-sample gradient covariance over the N rows)/b, exactly:
    per-sample gradients are rank one, ||δ a^T||_F² = ||δ||²||a||²."""
    forward_pass, deltas = _per_row_pass(points, x, y)
    return _variance_from_pass(forward_pass, deltas, y, micro_batch_size, len(points[0].shape) - 2)


def _rows_gradient(points: Sequence[Array], x: Array, y: Array, rows: Array, layer_inputs: Sequence[Array], deltas: Sequence[Array]) -> tuple[Array, ...]:
    """∇f(W;ξ) at the points on their rows ξ [..., n] (indices into the N rows), from the layer inputs
    a_{m−1} and deltas δ_m of all N rows at the points (leading axes those of `rows`; a_0 = x without
    them): the mean of the rows' rank-one gradients δ_m a_{m−1}^T, without a pass of its own.

    1 < n ≤ N: the rows' values are gathered and averaged as `network.gradients` on the rows averages
    them: the same numbers (a block of rows is multiplied row by row alike, whichever rows it holds).
    n > N: each distinct row once, weighted by how often it was drawn, Σ_i c_i δ_i a_i^T / n (the same
    sum grouped by row, N rows instead of n: equally exact, the last bits may differ). n = 1: the row's
    own pass (numpy multiplies a single row with its matrix–vector kernel, whose last bits differ from
    a block's; the simulator did the same, so its numbers are kept)."""
    size, n = x.shape[-2], rows.shape[-1]
    if n == 1:
        return network.gradients(points, x[rows], y[rows], TANH, SQUARED)
    lead = rows.shape[:-1]
    entries = math.prod(lead)
    flat_rows = np.arange(0, entries * size, size).reshape(lead + (1,)) + rows  # into the per-row values, leading axes flattened
    if n <= size:

        def gathered(values: Array) -> Array:
            return np.take(values.reshape(entries * size, values.shape[-1]), flat_rows, axis=0)

        return tuple(network.weight_gradient(gathered(d), np.take(x, rows, axis=0) if m == 0 else gathered(a)) for m, (d, a) in enumerate(zip(deltas, layer_inputs)))
    counts = np.bincount(flat_rows.ravel(), minlength=entries * size).reshape(lead + (size, 1))
    return tuple(np.swapaxes(d * counts, -1, -2) @ a / n for d, a in zip(deltas, layer_inputs))


PASS_ROWS = 1 << 14
"""Rows (versions × replicas × N) of a run's full-data pass held at once: small enough for the
temporaries to stay in the cache."""


def _version_chunks(versions: int, replicas: int, size: int) -> Iterable[slice]:
    """Consecutive slices of `versions` versions whose full-data pass over N = `size` rows holds about PASS_ROWS rows."""
    chunk = max(1, PASS_ROWS // (replicas * size))
    return (slice(start, min(start + chunk, versions)) for start in range(0, versions, chunk))


def _run_full_data(run: "_Run", x: Array, y: Array, micro_batch_size: int) -> tuple[Array, list[Array], Array, list[Array]]:
    """(σ²(W^{(k)}) [K+1, R], ∇f(W^{(k)}) per layer [K+1, R, ...], f(W^{(k)}) [K+1, R], ∇f(W^{(k)};ξ_k) per
    layer [K, R, ...]) of a run: one forward and backward pass over the N rows per version, in chunks of
    versions, yields the variance, the full-data gradient and loss, and the update's sampled gradient
    (its rows at its reference point W^{(k)}, `_rows_gradient`)."""
    versions, K = run.versions, run.K
    replicas = versions[0].shape[1]
    variance, loss = np.empty((K + 1, replicas)), np.empty((K + 1, replicas))
    gradient = [np.empty_like(v) for v in versions]
    sampled = [np.empty((K,) + v.shape[1:]) for v in versions]
    for chunk in _version_chunks(K + 1, replicas, x.shape[-2]):
        start, stop = chunk.start, chunk.stop
        forward_pass, deltas = _per_row_pass([v[start:stop] for v in versions], x, y)
        variance[start:stop], chunk_gradient, loss[start:stop] = _variance_from_pass(forward_pass, deltas, y, micro_batch_size, 2)
        for full, part in zip(gradient, chunk_gradient):
            full[start:stop] = part
        updates = min(stop, K) - start
        if updates > 0:
            inputs = forward_pass.layer_inputs
            rows_gradient = _rows_gradient(
                [v[start : start + updates] for v in versions], x, y, run.rows[start : start + updates], [inputs[0]] + [a[:updates] for a in inputs[1:]], [d[:updates] for d in deltas]
            )
            for full, part in zip(sampled, rows_gradient):
                full[start : start + updates] = part
    return variance, gradient, loss, sampled


# ----------------------------------------------------------------------------- one run


@dataclass
class _Run:
    """One training run (all seeds as replicas) and the arrays its checks need."""

    schedule: str
    K: int
    alpha: float
    device: Device
    """The device the run trained on (with its τ)."""
    versions: list[Array]
    """Per layer [K+1, R, d_m, d_{m−1}]."""
    applied: list[Array]
    """Per layer [K, R, d_m, d_{m−1}]: g̃_k."""
    rows: Array
    """[K, R, B·b]: the rows ξ_k of each update's micro-batches (indices in the smallest integer type that holds N − 1)."""
    forward_members: Array
    """[B, K, M] versions read by F of each micro-batch of update k."""
    backward_members: Array
    """[B, K, M] versions read by B."""
    record: ScheduleRecord
    loss: Array = field(default=None)
    """f(W^{(k)}), [K+1, R]."""
    gradient: list[Array] = field(default=None)
    """∇f(W^{(k)}) per layer, [K+1, R, ...]."""
    variance: Array = field(default=None)
    """σ²(W^{(k)}) per micro-batch, [K+1, R]."""
    sampled: list[Array] = field(default=None)
    """∇f(W^{(k)}; ξ_k) per layer, [K, R, ...]: the update's rows at its reference point."""
    replay_difference: float = 0.0
    """max |W^{(k+1)} − U(W^{(k)}, g̃_k, α)| over the run, U the device's own rule (bind/update_into)."""
    power_iteration: float = 0.0
    """The largest ||∇²f||_2 by power iteration at the regime's reference points of this run."""
    descent_lemma_L: float = 0.0
    """The smallest L making every update's descent-lemma inequality of this run hold (0 if none is needed)."""


def _train(setup: ConvergenceSetup, schedule: str, K: int, alpha: float, device: Device, seed: int, initial: Sequence[Array], data: Dataset) -> _Run:
    """K updates of `schedule` on `device` at step size α, every sampling seed a replica (keeping every version)."""
    replicas = setup.seeds
    settings = TrainingSettings(
        schedule=schedule,
        device=device,
        learning_rate=alpha,
        updates=K,
        activation=TANH,
        loss=SQUARED,
        micro_batch_size=setup.micro_batch_size,
        mini_batch=setup.mini_batch,
        noise=0.0,
        seeds=noise_seeds(seed, replicas),
        keep_versions=True,
        sampling=IID,
        reference_losses=False,  # the checks evaluate f(W^{(k)}) on the full data instead (`_run_full_data`)
    )
    start = [np.broadcast_to(w, (replicas,) + w.shape).copy() for w in initial]
    result = train(start, data, settings)
    record = result.record
    per_update = settings.micro_batches_per_update
    forward_read, backward_read = record.versions_read
    layers = len(initial)
    forward_members = np.asarray(forward_read, dtype=np.int64).reshape(K, per_update, layers).transpose(1, 0, 2)
    backward_members = np.asarray(backward_read, dtype=np.int64).reshape(K, per_update, layers).transpose(1, 0, 2)
    rows = np.empty((K, replicas, per_update * setup.micro_batch_size), dtype=np.min_scalar_type(-data.size))  # the smallest integers holding a row index
    for k, update_rows in enumerate(result.update_rows):
        rows[k] = update_rows
    return _Run(
        schedule=schedule,
        K=K,
        alpha=alpha,
        device=device,
        versions=result.versions,
        applied=result.applied_gradients,
        rows=rows,
        forward_members=forward_members,
        backward_members=backward_members,
        record=record,
    )


def _quantities(
    current: Sequence[Array],
    following: Sequence[Array],
    applied: Sequence[Array],
    x: Array,
    y: Array,
    sample_x: Array | None,
    sample_y: Array | None,
    arithmetic: Arithmetic,
    lead: int,
    losses: tuple[Array, Array] | None = None,
    current_gradient: Sequence[Array] | None = None,
    sampled: Sequence[Array] | None = None,
) -> dict[str, Array]:
    """The vectors of the §5 steps for updates W^{(k)} → W^{(k+1)} (leading axes `lead`), in `arithmetic`.

    grad ∇f(W^{(k)}) (full data), f_k, f_next, step W^{(k+1)} − W^{(k)}, weight W^{(k)},
    applied g̃_k (recorded), sampled ∇f(W^{(k)}; ξ_k) (the update's rows `sample_x`, `sample_y`
    at the reference point), noise n = ∇f(W;ξ) − ∇f(W), bias b = g̃ − ∇f(W;ξ). `losses`,
    `current_gradient` and `sampled` given (a run's, `_run_full_data`) are used instead of computed
    (then `sample_x`, `sample_y` may be None).
    """
    activation, loss = arithmetic.activation(TANH), arithmetic.loss(SQUARED)
    if current_gradient is None:
        current_gradient = network.gradients(current, x, y, activation, loss)
    if losses is None:
        losses = (network.mean_loss(current, x, y, activation, loss), network.mean_loss(following, x, y, activation, loss))
    current_loss, following_loss = losses
    if sampled is None:
        sampled = network.gradients(current, sample_x, sample_y, activation, loss)
    grad = _flat(current_gradient, lead)
    applied_flat = _flat(applied, lead)
    sampled_flat = _flat(sampled, lead)
    return {
        "grad": grad,
        "f_k": current_loss,
        "f_next": following_loss,
        "step": _flat([b - a for a, b in zip(current, following)], lead),
        "weight": _flat(current, lead),
        "applied": applied_flat,
        "sampled": sampled_flat,
        "noise": sampled_flat - grad,
        "bias": applied_flat - sampled_flat,
    }


STEP_STATEMENTS = {
    "convergence/descent-lemma": "f(W^{(k+1)}) − f(W^{(k)}) − ⟨∇f(W^{(k)}), W^{(k+1)} − W^{(k)}⟩ ≤ (L/2)||W^{(k+1)} − W^{(k)}||² (L the certified smoothness constant)",
    "convergence/inner-product": "||∇f||² + ⟨∇f, n⟩ − ⟨∇f, g̃ + |g̃| ⊙ W/τ⟩ ≤ ||∇f||·||b|| + (W_max/τ)||∇f||(||∇f|| + ||n|| + ||b||)",
    "convergence/second-moment": "||g̃||² ≤ 3(||∇f||² + ||n||² + ||b||²)",
    "gradient-delay": "||b_k|| = ||g̃_k − ∇f(W^{(k)};ξ_k)|| ≤ α c_D (certified c_D; 0 for SP and WOP)",
}
RESPONSE_INNER_PRODUCT_STATEMENT = (
    "β||∇f||² + Σ_i F_i ∇f_i n_i − ⟨∇f, p⟩ ≤ q_max||∇f||·||b|| + G_max||∇f||·||n||, p = g̃ ⊙ F(W) + |g̃| ⊙ G(W), "
    "F = (q₊ + q₋)/2, G = (q₋ − q₊)/2 (MODEL.md §5 step (2), for any response-function device)"
)
"""The inner-product step for a device other than ALD (ALD keeps the form of STEP_STATEMENTS: F ≡ 1, G = W/τ)."""
DETERMINISTIC_STEPS = tuple(STEP_STATEMENTS)
NOISE_STEP = {"sync-convergence": "sync/independence", "async-convergence": "noise-variance"}
NOISE_STATEMENT = "E[||n_k||² | past] = σ²(W^{(k)})/B: the mean over updates and seeds of ||n_k||² − σ²(W^{(k)})/B is 0 (two-sided interval)"


def _step_statement(name: str, device: Device) -> str:
    """The statement of a deterministic step as checked on `device`."""
    if name == "convergence/inner-product" and not isinstance(device, AsymmetricLinearDevice):
        return RESPONSE_INNER_PRODUCT_STATEMENT
    return STEP_STATEMENTS[name]


def _response_functions(device: Device) -> SoftBoundsDevice:
    """q₊ and q₋ of a response-function device, as the softbounds device that has them: softbounds
    itself, ALD (p = 1, γ₊ = γ₋ = 1), digital (τ = ∞: q₊ = q₋ = 1)."""
    shape = {name: getattr(device, name) for name in ("exponent", "gamma_up", "gamma_down") if hasattr(device, name)}
    return SoftBoundsDevice(tau=device.tau, **shape)


def _inner_product_sides(q: Mapping[str, Array], norms: tuple[Array, Array, Array, Array], constants: Mapping[str, object], device: Device) -> tuple[Array, Array]:
    """lhs ≤ rhs of the inner-product step (`norms`: ||∇f||², ||∇f||, ||n||, ||b||). ALD: the ledger's form (F ≡ 1, G = W/τ, so 1 in place of
    q_max); any other response-function device: MODEL.md §5 step (2) with its own F and G."""
    grad, noise, applied, weight = q["grad"], q["noise"], q["applied"], q["weight"]
    grad_sq, grad_norm, noise_norm, bias_norm = norms
    if isinstance(device, AsymmetricLinearDevice):
        tau, W_max = constants["tau"], constants["W_max"]
        update = applied + np.abs(applied) * weight / tau
        return (
            grad_sq + np.sum(grad * noise, axis=-1) - np.sum(grad * update, axis=-1),
            grad_norm * bias_norm + W_max / tau * grad_norm * (grad_norm + noise_norm + bias_norm),
        )
    response = _response_functions(device)
    up, down = response.response_up(weight), response.response_down(weight)
    mean_gain, drift = (up + down) / 2, (down - up) / 2
    direction = applied * mean_gain + np.abs(applied) * drift
    return (
        constants["beta"] * grad_sq + np.sum(mean_gain * grad * noise, axis=-1) - np.sum(grad * direction, axis=-1),
        constants["q_max"] * grad_norm * bias_norm + constants["G_max"] * grad_norm * noise_norm,
    )


def _step_sides(q: Mapping[str, Array], arithmetic: Arithmetic, constants: Mapping[str, object], device: Device) -> dict[str, tuple[Array, Array]]:
    """lhs ≤ rhs of each deterministic step on `device`, entrywise over the leading axes."""
    sqrt = arithmetic.sqrt
    grad, noise, bias, applied = q["grad"], q["noise"], q["bias"], q["applied"]
    grad_sq, noise_sq, bias_sq = (np.sum(v * v, axis=-1) for v in (grad, noise, bias))
    grad_norm, noise_norm, bias_norm = sqrt(grad_sq), sqrt(noise_sq), sqrt(bias_sq)
    L, delay = constants["L"], constants["alpha_c_D"]
    step = q["step"]
    return {
        "convergence/descent-lemma": (q["f_next"] - q["f_k"] - np.sum(grad * step, axis=-1), L / 2 * np.sum(step * step, axis=-1)),
        "convergence/inner-product": _inner_product_sides(q, (grad_sq, grad_norm, noise_norm, bias_norm), constants, device),
        "convergence/second-moment": (np.sum(applied * applied, axis=-1), 3 * (grad_sq + noise_sq + bias_sq)),
        "gradient-delay": (bias_norm, delay + 0 * bias_norm),
    }


@dataclass
class _StepTally:
    """Running verdict of one step over every run."""

    samples: int = 0
    max_ratio: float = -math.inf
    violations: int = 0
    errors: int = 0
    near_ties: int = 0
    worst: dict = field(default_factory=dict)

    @property
    def status(self) -> str:
        return ERROR if self.errors or self.samples == 0 else VIOLATED if self.violations else HOLDS

    def as_dict(self, statement: str) -> dict:
        return {
            "status": self.status,
            "samples": self.samples,
            "max_ratio": self.max_ratio if self.samples else None,
            "violations": self.violations,
            "errors": self.errors,
            "near_ties_re_evaluated": self.near_ties,
            "statement": statement,
            "worst": self.worst,
        }


def _judge_steps(run: _Run, q: Mapping[str, Array], constants: dict, tallies: dict[str, _StepTally], recompute: Callable[[Array], dict], offset: int = 0) -> None:
    """Add the entries of one run (its updates offset, offset + 1, … when `q` holds a chunk) to the tallies;
    near ties (ratio within 1e-6 of 1) are decided on the sides recomputed in 50-digit mpmath (MODEL.md's
    tolerance policy)."""
    judged = {}
    for name, (lhs, rhs) in _step_sides(q, FLOAT64, constants, run.device).items():
        lhs, rhs = np.broadcast_arrays(np.asarray(lhs, dtype=float), np.asarray(rhs, dtype=float))
        ratio = ratios(lhs, rhs)
        finite = np.isfinite(lhs) & np.isfinite(rhs)
        holds = within_tolerance(lhs, rhs) & finite
        ties = finite & (np.abs(np.where(finite, ratio, 0.0) - 1.0) <= NEAR_TIE)
        judged[name] = (lhs, rhs, ratio, finite, holds, ties)
    union = np.any(np.stack([ties for *_, ties in judged.values()]), axis=0)
    if union.any():
        entries = np.argwhere(union)
        precise = recompute(entries)
        for name, (lhs, rhs, ratio, finite, holds, ties) in judged.items():
            if not ties.any():
                continue
            selected = ties[tuple(entries.T)]
            precise_lhs, precise_rhs = (side[selected] for side in precise[name])
            tie_entries = tuple(entries[selected].T)
            holds[tie_entries] = within_tolerance(precise_lhs, precise_rhs)
            ratio[tie_entries] = [float(a / (b + ABSOLUTE_TOLERANCE)) for a, b in zip(precise_lhs, precise_rhs)]
            tallies[name].near_ties += int(ties.sum())
    for name, (lhs, rhs, ratio, finite, holds, ties) in judged.items():
        tally = tallies[name]
        tally.samples += int(lhs.size)
        tally.errors += int((~finite).sum())
        tally.violations += int((finite & ~holds).sum())
        if finite.any():
            index = np.unravel_index(int(np.argmax(np.where(finite, ratio, -np.inf))), ratio.shape)
            if float(ratio[index]) > tally.max_ratio:
                tally.max_ratio = float(ratio[index])
                tally.worst = {"schedule": run.schedule, "K": run.K, "update": offset + int(index[0]), "replica": int(index[1]), "lhs": float(lhs[index]), "rhs": float(rhs[index])}
        if not finite.all():
            index = tuple(int(i) for i in np.argwhere(~finite)[0])
            tally.worst = {"schedule": run.schedule, "K": run.K, "update": offset + index[0], "replica": index[1], "lhs": _plain(float(lhs[index])), "rhs": _plain(float(rhs[index])), "reason": "NaN or infinite side"}


def _recompute_entries(run: _Run, x: Array, y: Array, constants: Mapping[str, float], offset: int = 0) -> Callable[[Array], dict]:
    """A function: entries [(k − offset, r), ...] → the step sides at those entries in 50-digit mpmath."""

    def recompute(entries: Array) -> dict:
        k, r = entries[:, 0] + offset, entries[:, 1]
        with MPMATH.context():
            convert = MPMATH.convert
            current = [convert(layer[k, r]) for layer in run.versions]
            following = [convert(layer[k + 1, r]) for layer in run.versions]
            applied = [convert(layer[k, r]) for layer in run.applied]
            rows = run.rows[k, r]
            q = _quantities(current, following, applied, convert(x), convert(y), convert(x[rows]), convert(y[rows]), MPMATH, 1)
            precise = {name: mpmath.mpf(float(value)) for name, value in constants.items()}
            sides = _step_sides(q, MPMATH, precise, run.device)
        return {name: (np.asarray(lhs, dtype=object).ravel(), np.broadcast_to(np.asarray(rhs, dtype=object), np.shape(lhs)).ravel()) for name, (lhs, rhs) in sides.items()}

    return recompute


# ----------------------------------------------------------------------------- candidate right sides and false variants

THEOREM_SYMBOLS = ("K", "alpha", "beta", "L", "sigma", "Delta_0", "c_D", "q_max", "G_max", "B", "M", "tau", "W_max", "bound")
"""Symbols of a candidate right side (`theorem --rhs`), evaluated at the calibrated constants;
`sigma` is σ per micro-batch (the synchronous theorem divides σ² by B), `bound` the project's
calibrated right side at each K."""

_FLOOR = "4*G_max**2*sigma**2/(B*beta**2)"
_DELAY = "alpha**2*c_D**2*q_max**2*(4/beta**2 + 6*L*alpha/beta)"


@dataclass(frozen=True)
class TheoremVariant:
    """A deliberately false right side of a convergence theorem, as an expression in THEOREM_SYMBOLS."""

    id: str
    """Short name (a regime's `targets` refer to it)."""
    name: str
    expression: str
    theorems: tuple[str, ...] = CONVERGENCE_IDS


THEOREM_VARIANTS: tuple[TheoremVariant, ...] = (
    TheoremVariant("k-rate", "K^-1 rate: the whole bound x (K_0/K), K_0 = 25 the smallest K of the sweep", "bound*25/K"),
    TheoremVariant(
        "beta-dropped",
        "1/beta dropped (beta = 1 in every term)",
        "4*Delta_0/(alpha*K) + 6*L*alpha*q_max**2*sigma**2/B + 4*G_max**2*sigma**2/B + alpha**2*c_D**2*q_max**2*(4 + 6*L*alpha)",
    ),
    TheoremVariant("floor-over-tau", "floor proportional to 1/tau instead of 1/tau^2 (G_max^2 -> G_max/tau)", f"bound - {_FLOOR} + 4*G_max*sigma**2/(tau*B*beta**2)"),
    TheoremVariant("constants-over-10", "all constants / 10", "bound/10"),
    TheoremVariant("delay-dropped", "delay term dropped", f"bound - {_DELAY}", ("async-convergence",)),
    TheoremVariant("floor-dropped", "floor dropped", f"bound - {_FLOOR}"),
)
"""The theorem falsification set: each is checked exactly as a user's `theorem --rhs`."""


def parse_theorem_rhs(text: str):
    """A candidate right side in THEOREM_SYMBOLS (proofs_check.candidates' safe parser); CandidateError if not."""
    from proofs_check.candidates import parse_candidate

    return parse_candidate(text, symbols=THEOREM_SYMBOLS)


def _severity(row: dict) -> tuple:
    """Order of closeness to (or depth of) a violation: a right side ≤ 0 first, then lower/rhs."""
    return (row["rhs"] <= 0, row["ratio_lower"] if row["ratio_lower"] is not None else -math.inf)


def _candidate_rows(candidate, values: Mapping[str, Array], per_seed: Array, sweep: Sequence[int], rhs_scale: float = 1.0) -> tuple[str, list[dict], dict]:
    """The statistical verdict of lhs ≤ candidate at every K of the sweep: (status, per-K rows, worst row)."""
    rhs = np.asarray(candidate.evaluate({name: np.asarray(value, dtype=float) for name, value in values.items()}, np.zeros(len(sweep))), dtype=float)
    rows = []
    for index, K in enumerate(sweep):
        status, interval = convergence_verdict(per_seed[index], float(rhs[index]), rhs_scale=rhs_scale)
        rows.append({"K": int(K), "lhs": float(np.mean(per_seed[index])), "rhs": float(rhs[index]) * rhs_scale, "status": status, **{key: interval.get(key) for key in ("lower", "upper", "ratio", "ratio_lower", "reason")}})
    finite = [row for row in rows if row["status"] != ERROR and row["rhs"] is not None and math.isfinite(row["rhs"])]
    worst = max(finite, key=_severity) if finite else rows[0]
    return _combine(row["status"] for row in rows), rows, worst


# ----------------------------------------------------------------------------- convergence


class _CheckError(Exception):
    """A reason the check cannot give a verdict (non-finite values, a failed hypothesis)."""

    def __init__(self, reason: str, **inputs) -> None:
        super().__init__(reason)
        self.reason = reason
        self.inputs = inputs


def _require_finite(name: str, arrays: Iterable[Array], **inputs) -> None:
    for array in arrays:
        if not np.all(np.isfinite(array)):
            raise _CheckError(f"NaN or infinite {name}", **inputs)


def seeds_for_budget(quick: bool, budget: float | None) -> int:
    """Seeds of a convergence check: 8 (quick) or 32 (full) at the default budget 10, scaled
    linearly with the budget (at least 4)."""
    base = 8 if quick else 32
    if budget is None:
        return base
    return max(4, int(round(base * float(budget) / 10)))


def check_convergence(
    theorem_id: str,
    *,
    quick: bool,
    seed: int,
    rhs: "str | None" = None,
    rhs_scale: float = 1.0,
    budget: float | None = None,
    progress: Progress | None = None,
    setup: ConvergenceSetup | None = None,
    speedup: bool = False,
    schedule: str | None = None,
    device: Device | None = None,
    tau: float | None = None,
    executor: Executor = IN_PROCESS,
) -> TheoremResult:
    """Statistical check of MODEL.md §5's `theorem_id` ('sync-convergence' or 'async-convergence').

    lhs: the mean over seeds of (1/K) Σ_{k<K} ||∇f(W^{(k)})||² for every K of the sweep
    (prefixes of one run per schedule at the fixed step size α = β_0/(6·safety·L_pilot·q_0²));
    rhs: the theorem's right side at the calibrated constants (headline) and at the certified
    ones (beside it), or the candidate `rhs` (an expression in THEOREM_SYMBOLS) times
    `rhs_scale`. 'violated' if the one-sided `CONFIDENCE` lower bound of the mean exceeds the
    right side at some K, a numerical step is violated, or the fitted rate leaves the band of
    the theory; 'error' on NaN/inf, a failed hypothesis or an uninformative experiment.
    With `speedup`, details["speedup"] holds `measure_speedup` (AP's slots to ε against SP's).

    `schedule` (one of `covered_schedules(theorem_id)`), `device` (a response-function device:
    digital, ald or softbounds with its settings) and `tau` (a fixed conductance bound) replace
    the headline regime's (`chosen_setup`); β, q_max and G_max are then the device's
    `constants`. The other regimes are designed for ALD on the theorem's own schedules, so with
    any of the three they are not run (listed under `regimes_not_run`). With `setup`, that one
    regime is checked (the choices applied to it). ValueError on a schedule, device or τ the
    theorem does not cover.

    The independent work runs through `executor` (in-process by default): every training run (one
    per regime and schedule, with its full-data gradients, variances, curvature and replay) and
    every cell of the speed-up measurement. Each task's inputs are small and picklable and its
    randomness comes from the seed and the task's identity (named streams), so the result is bit
    for bit the same wherever the tasks ran. Each regime's check from its runs (constants, steps,
    verdicts) then runs here: the runs come back as results, and sending them out again as a
    task's inputs would route tens of MB through the scheduler. `progress` wraps the tasks.
    """
    choices = {"schedule": schedule, "device": device, "tau": tau}
    choosing = any(value is not None for value in choices.values())
    skipped: tuple[ConvergenceSetup, ...] = ()
    if setup is not None:
        regimes: tuple[ConvergenceSetup, ...] = (chosen_setup(setup, **choices) if choosing else setup,)
    else:
        designed = convergence_regimes(theorem_id, quick)
        if choosing:
            regimes, skipped = (chosen_setup(designed[0], **choices),), designed[1:]
        else:
            regimes = tuple(regime for regime in designed if not quick or regime.name in QUICK_REGIMES)
            skipped = tuple(regime for regime in designed if regime not in regimes)
    if budget is not None:
        regimes = tuple(dataclasses.replace(regime, seeds=_scaled_seeds(regime.seeds, quick, budget, index == 0)) for index, regime in enumerate(regimes))
    if rhs is not None:
        parse_theorem_rhs(rhs)
    theorem = C.theorem(theorem_id)
    common: dict = {
        "theorem": theorem_id,
        "paper_label": theorem.paper_label,
        "statement": theorem.text(),
        "seed": int(seed),
        "quick": bool(quick),
        "confidence": CONFIDENCE,
        "rhs_scale": float(rhs_scale),
        "candidate": rhs,
    }
    if choosing:
        common["chosen"] = _chosen_details(regimes[0], choices)

    # before the runs (here): each regime's task, W_0, τ and α; then the runs and the speed-up cells as tasks
    prepared = [_prepare(regime, seed) for regime in regimes]
    regimes = tuple(ready.setup if isinstance(ready, _Prepared) else regime for regime, ready in zip(regimes, prepared))  # b as designed
    training = [_TrainingTask(ready, schedule_name, seed) for ready in prepared if isinstance(ready, _Prepared) for schedule_name in ready.setup.schedules]
    cells = _speedup_cells(quick=quick, seed=seed) if speedup else []
    outputs = list(executor.map(perform_task, [*training, *cells], progress))
    runs_of: dict[int, list] = {index: [] for index in range(len(regimes))}
    for task, output in zip(training, outputs):
        runs_of[next(index for index, ready in enumerate(prepared) if ready is task.prepared)].append(output)
    speedup_rows = _speedup_table(cells, outputs[len(training) :]) if speedup else None

    # each regime's check from its runs, here: the runs came back as results (a task's inputs would
    # travel through the scheduler), and the per-run work (variances, curvature) was done in their tasks
    results = []
    for index, (regime, ready) in enumerate(zip(regimes, prepared)):
        details = {**common, "regime": regime.name, "seeds": regime.seeds}
        if index == 0 and speedup_rows is not None:
            details["speedup"] = speedup_rows
        if isinstance(ready, _Failure):
            results.append(_error_result(theorem_id, {**details, **ready.info}, ready))
        else:
            results.append(_regime_result(ready, runs_of[index], theorem_id, seed, rhs, float(rhs_scale), {**details, **ready.info}))
        runs_of[index] = []  # release the runs
    if setup is not None:
        return results[0]
    if choosing:
        skipped_reason = "not run: designed for ALD on the theorem's own schedules, and --schedule, --device or --tau replace the headline's"
        combined = _combine_regimes(list(zip(regimes, results)), skipped)
        combined.details["regimes_not_run"] = [dict(row, reason=skipped_reason) for row in combined.details["regimes_not_run"]]
        return combined
    return _combine_regimes(list(zip(regimes, results)), skipped)


def _chosen_details(setup: ConvergenceSetup, choices: Mapping[str, object]) -> dict:
    """What the user chose in place of the headline's design (reported under details['chosen'])."""
    device = setup.device
    settings = {key: value for key, value in dataclasses.asdict(device).items() if key != "tau"}
    return {
        "schedule": choices["schedule"],
        "device": device.name if choices["device"] is not None else None,
        "device_settings": settings if choices["device"] is not None else None,
        "tau": choices["tau"],
        "schedules": list(setup.schedules),
        "mini_batch": setup.mini_batch,
        "tau_rule": "the given τ" if setup.tau is not None else f"τ = {setup.tau_factor:g}·||W_0||_inf (the headline's design)" if "tau" in device_settings(device.name) else "τ = ∞ (no bound)",
        "constants_rule": "β, q_max, G_max = Device.constants(W_max) of the chosen device (numerics.devices)",
    }


def perform_task(task) -> object:
    """Run one task of a convergence check (`_TrainingTask`, `_SpeedupCell`): a
    top-level function for `Executor.map`."""
    return task.perform()


@dataclass(frozen=True)
class _Failure:
    """Why a regime gives no verdict (an 'error' result): the reason, the inputs to report and the details known before."""

    reason: str
    inputs: dict | None = None
    """JSON-safe inputs of the failed computation (None: not reported)."""
    info: dict = field(default_factory=dict)
    """The regime's details computed before it failed."""


def _error_result(theorem_id: str, details: dict, failure: _Failure) -> TheoremResult:
    details = dict(details, reason=failure.reason)
    if failure.inputs is not None:
        details["inputs"] = failure.inputs
    return TheoremResult(theorem_id, ERROR, None, None, _plain(details))


@dataclass(frozen=True)
class _Prepared:
    """What a regime fixes before its runs: the task, W_0, the device with its τ and the step size α."""

    setup: ConvergenceSetup
    device: Device
    """The regime's device with its τ (the given one, or tau_factor·||W_0||_inf; ∞ for digital)."""
    data: Dataset
    initial: tuple[Array, ...]
    """W_0, per layer."""
    f_lower: float
    """A lower bound on f* (0, or ½ mean ||e||² with paired label noise)."""
    f_initial: float
    """f(W_0)."""
    X: float
    Y: float
    alpha: float
    """The step size, fixed before the runs."""
    info: dict
    """The regime's details known before its runs (what report.json lists first)."""


def _prepare(setup: ConvergenceSetup, seed: int) -> "_Prepared | _Failure":
    """The regime's task, W_0, τ, device and α = β_0/(6·safety·L_pilot·q_0²), or why it cannot run."""
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            return _prepared(setup, seed)
    except (ArithmeticError, ValueError, np.linalg.LinAlgError) as failure:
        return _Failure(f"{type(failure).__name__}: {failure}")


def _prepared(setup: ConvergenceSetup, seed: int) -> "_Prepared | _Failure":
    data, initial, f_lower = convergence_problem(setup, seed)
    x, y = data.inputs, data.targets
    X = float(np.max(np.linalg.norm(x, axis=-1)))
    Y = float(np.max(np.linalg.norm(y, axis=-1)))
    initial_saturation = _max_abs(initial)
    device = _device_with_bound(setup.device, setup.tau if setup.tau is not None else setup.tau_factor * initial_saturation)
    tau = device.tau
    W_max_0 = setup.saturation_margin * initial_saturation
    device_0 = device.constants(W_max_0)
    Delta_0 = float(network.mean_loss(initial, x, y, TANH, SQUARED))  # f(W_0); Δ_0 = f(W_0) − f_lower ≥ f(W_0) − f*
    L_pilot = float(hessian_norm(initial, x, y, seed=seed))
    alpha = step_size(device_0.beta, setup.pilot_safety * L_pilot, device_0.q_max)
    designed = _designed_micro_batch(setup, device_0, initial, x, y)
    if designed is not None:
        setup = dataclasses.replace(setup, micro_batch_size=designed["micro_batch_size"])
    info = {
        "schedules": list(setup.schedules),
        "primary_schedule": setup.primary,
        "dims": list(setup.dims),
        "samples": setup.samples,
        "micro_batch_size": setup.micro_batch_size,
        "mini_batch": setup.mini_batch,
        "sampling": IID.name,
        "injected_noise": 0.0,
        "activation": TANH.name,
        "loss": SQUARED.name,
        "device": device.name,
        "tau": tau,
        "X": X,
        "Y": Y,
        "Delta_0": max(Delta_0 - f_lower, 0.0),
        "Delta_0_rule": "f(W_0) − f_lower, f_lower ≤ f* (0, or ½ mean ||e||² with paired label noise); f(W_0) ≥ f_lower exactly, so a negative difference is rounding and counts as 0",
        "f_W0": Delta_0,
        "f_lower": f_lower,
        "alpha": alpha,
        "a_priori": {"L_pilot": L_pilot, "pilot_safety": setup.pilot_safety, "W_max_0": W_max_0, "beta_0": device_0.beta, "q_max_0": device_0.q_max, "rule": "α = β_0/(6·safety·L_pilot·q_0²), L_pilot = ||∇²f(W_0)||_2 by power iteration, fixed before the runs"},
        "K_values": list(sorted(setup.updates)),
        "noise_rule": "no injected noise: n_k = ∇f(W^(k);ξ_k) − ∇f(W^(k)) is the sampling noise of b i.i.d. rows and b_k = g̃_k − ∇f(W^(k);ξ_k) the delay bias on the same rows",
    }
    if designed is not None:
        info["micro_batch_design"] = designed
    if not (math.isfinite(alpha) and alpha > 0):
        return _Failure("the step size is not a positive finite number", _plain({"alpha": alpha, "L_pilot": L_pilot}), info)
    return _Prepared(setup, device, data, tuple(initial), f_lower, Delta_0, X, Y, alpha, info)


FLOOR_DESIGN_SHARE = 0.25
"""The a-priori floor may use this share of the regime's `max_floor_fraction` (the rest is margin:
σ² is measured at every reference point and W_max along the run, both after the design)."""
LARGEST_MICRO_BATCH_GROWTH = 16
"""The micro-batch size b is doubled at most up to this factor times the regime's own."""


def _designed_micro_batch(setup: ConvergenceSetup, device_0, initial: Sequence[Array], x: Array, y: Array) -> dict | None:
    """None when the regime's micro-batch size b already puts the a-priori floor low enough; else
    the doubled b that does (up to LARGEST_MICRO_BATCH_GROWTH·b), and why.

    The a-priori floor is the theorem's floor term at the device's constants on the a-priori box
    (β_0, G_max,0) and σ²(W_0) of b rows; it must be at most FLOOR_DESIGN_SHARE × the regime's
    `max_floor_fraction` × ||∇f(W_0)||² (regimes without that requirement keep their b). A device
    with asymmetric response functions (softbounds with γ₊ ≠ γ₋: |G| > 0 even at w = 0) has a
    floor ALD's design never meets; sampling more rows per micro-batch lowers σ² ∝ 1/b until the
    floor sits well below ||∇f(W_0)||² again, so the check stays informative."""
    if setup.max_floor_fraction is None:
        return None
    expression = _term_expressions(C.theorem(setup.theorem_id), setup)["asymptotic_floor"]
    initial_grad_sq = float(_squared_norm(_flat(network.gradients(initial, x, y, TANH, SQUARED), 0)))
    target = FLOOR_DESIGN_SHARE * setup.max_floor_fraction * initial_grad_sq
    size = setup.micro_batch_size

    def floor(b: int) -> float:
        variance = float(sampling_variance(initial, x, y, b)[0])
        return float(C.evaluate(expression, {"beta": device_0.beta, "G_max": device_0.G_max, "sigma": math.sqrt(variance), "B": float(setup.mini_batch)}))

    if floor(size) <= target:
        return None
    while floor(size) > target and size < LARGEST_MICRO_BATCH_GROWTH * setup.micro_batch_size:
        size *= 2
    return {
        "micro_batch_size": size,
        "regime_micro_batch_size": setup.micro_batch_size,
        "a_priori_floor": floor(size),
        "target": target,
        "rule": f"b doubled from {setup.micro_batch_size} until the floor term at β_0, G_max,0 and σ²(W_0) of b rows is at most {FLOOR_DESIGN_SHARE:g}·{setup.max_floor_fraction:g}·||∇f(W_0)||² (at most {LARGEST_MICRO_BATCH_GROWTH}× the regime's b)",
    }


@dataclass(frozen=True)
class _TrainingTask:
    """Task: one schedule's run of a prepared regime, every sampling seed a replica."""

    prepared: _Prepared
    schedule: str
    seed: int

    def perform(self) -> "_Run | _Failure":
        """The run (its weights and applied gradients finite, replayed through the device's own rule), or why not."""
        ready, schedule = self.prepared, self.schedule
        K_max, alpha = max(ready.setup.updates), ready.alpha
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
                run = _train(ready.setup, schedule, K_max, alpha, ready.device, self.seed, ready.initial, ready.data)
                _require_finite("weights or applied gradients", [*run.versions, *run.applied], schedule=schedule, K=K_max, alpha=alpha)
                x, y = ready.data.inputs, ready.data.targets
                run.variance, run.gradient, run.loss, run.sampled = _run_full_data(run, x, y, ready.setup.micro_batch_size)
                _require_finite("full-data gradients, losses or variances", [run.loss, run.variance, *run.gradient], schedule=schedule, alpha=alpha)
                run.replay_difference = _replay_difference(run, noise_seeds(self.seed, ready.setup.seeds))
                run.power_iteration = float(np.max(hessian_norm([v[_reference_points(ready.setup)] for v in run.versions], x, y, seed=self.seed)))
                run.descent_lemma_L = _descent_lemma_L(run)
                return run
        except _CheckError as failure:
            return _Failure(failure.reason, _plain(failure.inputs))
        except (ArithmeticError, ValueError, np.linalg.LinAlgError) as failure:
            return _Failure(f"{type(failure).__name__}: {failure}")


def _reference_points(setup: ConvergenceSetup) -> Array:
    """The versions k at which the Hessian norm is measured: `reference_points` evenly spaced over the run."""
    return np.unique(np.linspace(0, max(setup.updates), setup.reference_points).astype(int))


def _descent_lemma_L(run: _Run) -> float:
    """max over updates of 2(f(W^{(k+1)}) − f(W^{(k)}) − ⟨∇f(W^{(k)}), step⟩)/||step||² (0 where the step is 0),
    in chunks of STEP_CHUNK updates (NaN if any is NaN)."""
    largest = []
    for start in range(0, run.K, STEP_CHUNK):
        k = slice(start, min(start + STEP_CHUNK, run.K))
        grad = _flat([g[k] for g in run.gradient], 2)
        step = _flat([v[1:][k] - v[:-1][k] for v in run.versions], 2)
        excess = run.loss[1:][k] - run.loss[:-1][k] - np.sum(grad * step, axis=-1)
        step_sq = _squared_norm(step)
        with np.errstate(divide="ignore", invalid="ignore"):
            largest.append(np.max(np.where(step_sq > 0, 2 * excess / step_sq, 0.0)))
    return float(np.max(largest))


def _replay_difference(run: _Run, seeds: Sequence[int]) -> float:
    """max |W^{(k+1)} − U(W^{(k)}, g̃_k, α)| over every update, U the device's rule bound to the run (`Device.bind`, `update_into`)."""
    rules = run.device.bind([layer.shape[1:] for layer in run.versions], seeds)
    difference = 0.0
    for rule, layer, gradients in zip(rules, run.versions, run.applied):
        replayed = np.empty(layer[1:].shape)
        rule.update_into(layer[:-1], gradients, run.alpha, replayed, np.empty_like(replayed))
        difference = max(difference, float(np.max(np.abs(replayed - layer[1:]))))
    return difference


def _regime_result(prepared: _Prepared, runs: Sequence, theorem_id: str, seed: int, rhs: str | None, rhs_scale: float, details: dict) -> TheoremResult:
    """One regime's check from its runs (in schedule order, a `_Failure` where a run failed): the measured
    constants, the steps, the verdicts; a failure to give a verdict (NaN, a failed hypothesis) is an 'error'
    result, never raised."""
    details = dict(details)
    theorem = C.theorem(theorem_id)
    candidate = None if rhs is None else parse_theorem_rhs(rhs)
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            return _check_convergence(prepared, list(runs), theorem, seed, candidate, rhs_scale, details)
    except _CheckError as failure:
        return _error_result(theorem.id, details, _Failure(failure.reason, _plain(failure.inputs)))
    except (ArithmeticError, ValueError, np.linalg.LinAlgError) as failure:
        return _error_result(theorem.id, details, _Failure(f"{type(failure).__name__}: {failure}"))


def _scaled_seeds(seeds: int, quick: bool, budget: float, headline: bool) -> int:
    """The headline's seeds by `seeds_for_budget`; another regime's scaled like it (linearly, at least 2)."""
    if headline:
        return seeds_for_budget(quick, budget)
    return max(2, int(round(seeds * float(budget) / 10)))


def _regime_summary(setup: ConvergenceSetup, result: TheoremResult) -> dict:
    """The report row of one regime: its design, verdict, critical scales, what makes it informative, and its variant rows."""
    details = result.details
    summary = {
        "name": setup.name,
        "purpose": setup.purpose,
        "status": result.status,
        "schedule": setup.primary,
        "dims": list(setup.dims),
        "seeds": setup.seeds,
        "micro_batch_size": setup.micro_batch_size,
        "mini_batch": setup.mini_batch,
        "K_values": sorted(setup.updates),
        "lhs": result.lhs,
        "rhs": result.rhs,
        "critical_scale": details.get("critical_scale"),
    }
    for key in ("reason", "alpha", "beta", "q_max", "G_max", "W_max", "tau", "sigma2", "Delta_0", "f_lower", "L", "c_D", "informative", "terms", "hypotheses", "offending"):
        if key in details:
            summary[key] = details[key]
    if "per_K" in details:
        summary["per_K"] = [{key: row[key] for key in ("K", "lhs", "rhs", "rhs_calibrated", "ratio_calibrated", "terms_calibrated", "status")} for row in details["per_K"]]
    if "variants" in details:
        summary["variants"] = details["variants"]
    return summary


def _combine_regimes(results: Sequence[tuple[ConvergenceSetup, TheoremResult]], skipped: Sequence[ConvergenceSetup] = ()) -> TheoremResult:
    """One result from the regimes: the headline's numbers, the worst status over every regime (each must
    hold on its own), the offending (K, lhs, rhs) of the deepest violation, and each false variant refuted
    when any regime that gives a verdict violates it."""
    headline = results[0][1]
    details = dict(headline.details)
    details["regimes"] = [_regime_summary(setup, result) for setup, result in results]
    details["regimes_not_run"] = [{"name": regime.name, "purpose": regime.purpose, "targets": list(regime.targets)} for regime in skipped]
    status = _combine(result.status for _, result in results)
    lhs, rhs = headline.lhs, headline.rhs
    if headline.details.get("candidate") is None:
        details["variants"] = _merge_variants(results, skipped)
    if status != HOLDS:
        details["reason"] = "; ".join(f"regime {setup.name}: {result.details.get('reason', result.status)}" for setup, result in results if result.status != HOLDS)
        offending = [dict(result.details["offending"], regime=setup.name) for setup, result in results if result.status == VIOLATED and "offending" in result.details]
        if offending:
            worst = max(offending, key=lambda row: (row["rhs"] <= 0, row["lower"] / row["rhs"] if row["rhs"] > 0 else math.inf))
            details["offending"] = worst
            lhs, rhs = worst["lhs"], worst["rhs"]
    return TheoremResult(headline.id, status, lhs, rhs, _plain(details), headline.critical_scale)


def _merge_variants(results: Sequence[tuple[ConvergenceSetup, TheoremResult]], skipped: Sequence[ConvergenceSetup] = ()) -> list[dict]:
    """Each false variant over the regimes: refuted if violated in a regime whose own check holds; the
    refuting (or, if none, the closest) regime's K, lhs, rhs; every regime's row under 'per_regime';
    `not_tried`: the skipped regimes built to refute it (a variant not refuted and not tried is not a finding)."""
    merged = []
    for variant in (v for v in THEOREM_VARIANTS if results[0][1].id in v.theorems):
        rows = []
        for setup, result in results:
            row = next((r for r in result.details.get("variants", []) if r["id"] == variant.id), None)
            if row is None or result.status != HOLDS:
                rows.append({"regime": setup.name, "status": ERROR, "refuted": False, "reason": f"no verdict: the regime's own check is {result.status}"})
                continue
            rows.append({"regime": setup.name, **{key: row[key] for key in ("status", "refuted", "K", "lhs", "rhs", "ratio", "ratio_lower")}})
        judged = [row for row in rows if "ratio_lower" in row and row["ratio_lower"] is not None]
        refuting = [row for row in judged if row["refuted"]]
        best = max(refuting or judged, key=lambda row: row["ratio_lower"]) if judged else rows[0]
        status = VIOLATED if refuting else ERROR if not judged else _combine(row["status"] for row in judged)
        not_tried = [regime.name for regime in skipped if variant.id in regime.targets]
        merged.append(
            {
                "id": variant.id,
                "name": variant.name,
                "expression": variant.expression,
                "status": status,
                "refuted": bool(refuting),
                "regime": best["regime"],
                **{key: best.get(key) for key in ("K", "lhs", "rhs", "ratio", "ratio_lower")},
                "per_regime": rows,
                "not_tried": [] if refuting else not_tried,
            }
        )
    return merged


def _max_abs(arrays: Iterable[Array]) -> float:
    return max(float(np.max(np.abs(a))) for a in arrays)


def _check_convergence(prepared: _Prepared, runs: list, theorem: C.Theorem, seed: int, candidate, rhs_scale: float, details: dict) -> TheoremResult:
    setup, device = prepared.setup, prepared.device
    dims = setup.dims
    layers = len(dims) - 1
    data, initial, f_lower, Delta_0 = prepared.data, prepared.initial, prepared.f_lower, prepared.f_initial
    x, y, X, Y = data.inputs, data.targets, prepared.X, prepared.Y
    tau, alpha = device.tau, prepared.alpha
    B = setup.mini_batch
    K_max = max(setup.updates)
    sweep = tuple(sorted(setup.updates))
    failure = next((run for run in runs if isinstance(run, _Failure)), None)  # in schedule order: the first is reported
    if failure is not None:
        return _error_result(theorem.id, details, failure)
    replay = max(run.replay_difference for run in runs)

    # measured constants over every version of every run
    W_max = max(_max_abs(run.versions) for run in runs)
    device_constants = device.constants(W_max)
    beta, q_max, G_max = (float(v) for v in device_constants)
    omega = np.array([max(_largest_spectral_norm(run.versions[m]) for run in runs) for m in range(layers)])
    L_cert, G_bound, Gamma = smoothness(omega, X, Y)
    sigma2 = max(float(np.max(run.variance)) for run in runs)
    applied_norms = np.array([max(float(np.max(np.linalg.norm(run.applied[m], axis=(-2, -1)))) for run in runs) for m in range(layers)])
    forward_delay = np.zeros(layers, dtype=int)
    backward_delay = np.zeros(layers, dtype=int)
    for run in runs:
        k = np.arange(K_max)[None, :, None]
        forward_delay = np.maximum(forward_delay, np.max(k - run.forward_members, axis=(0, 1)))
        backward_delay = np.maximum(backward_delay, np.max(k - run.backward_members, axis=(0, 1)))
    c_D_cert = q_max * float(np.linalg.norm(Gamma @ np.concatenate([forward_delay * G_bound, backward_delay * G_bound])))
    synchronous = theorem.id == "sync-convergence"

    # calibrated smoothness: power iteration at reference points, validated by the descent lemma on every update
    points = _reference_points(setup)
    power = max(run.power_iteration for run in runs)
    descent_L = 0.0
    for run in runs:
        descent_L = max(descent_L, run.descent_lemma_L)
    L_cal = max(power, descent_L)
    _require_finite("measured constants", [np.array([L_cert, L_cal, beta, c_D_cert, W_max, sigma2]), omega], alpha=alpha)

    tallies = {name: _StepTally() for name in DETERMINISTIC_STEPS}
    constants = {"L": L_cert, "tau": tau, "W_max": W_max, "alpha_c_D": 0.0 if synchronous else alpha * c_D_cert, "beta": beta, "q_max": q_max, "G_max": G_max}
    noise_differences: list[Array] = []  # per run: ||n_k||² − σ²(W^{(k)})/B, [K, R]
    noise_expected: list[Array] = []
    bias_max = 0.0
    grad_sq_chunks: list[Array] = []
    per_seed_by_schedule: dict[str, Array] = {}
    for run in runs:
        run_differences: list[Array] = []
        current = [layer[:-1] for layer in run.versions]
        following = [layer[1:] for layer in run.versions]
        for start in range(0, run.K, STEP_CHUNK):  # chunks of updates: the flattened vectors of a long run do not fit at once
            k = slice(start, min(start + STEP_CHUNK, run.K))
            q = _quantities([v[k] for v in current], [v[k] for v in following], [a[k] for a in run.applied], x, y, None, None, FLOAT64, 2, (run.loss[:-1][k], run.loss[1:][k]), [g[:-1][k] for g in run.gradient], [s[k] for s in run.sampled])
            _require_finite("step quantities", q.values(), schedule=run.schedule, alpha=alpha)
            _judge_steps(run, q, constants, tallies, _recompute_entries(run, x, y, constants, start), start)
            run_differences.append(_squared_norm(q["noise"]) - run.variance[:-1][k] / B)
            noise_expected.append((run.variance[:-1][k] / B).ravel())
            bias_max = max(bias_max, float(np.max(np.sqrt(_squared_norm(q["bias"])))))
            grad_sq_chunks.append(_squared_norm(q["grad"]))
        noise_differences.append(np.concatenate(run_differences))
        cumulative = np.cumsum(np.concatenate(grad_sq_chunks), axis=0)  # ||∇f(W^{(k)})||², k < K_max
        grad_sq_chunks.clear()
        per_seed_by_schedule[run.schedule] = np.stack([cumulative[K - 1] / K for K in sweep])  # [len(sweep), R]
        run.versions = run.applied = None  # release memory
    c_D_cal = bias_max / alpha
    c_D_used = 0.0 if synchronous else c_D_cal

    steps = {name: tallies[name].as_dict(_step_statement(name, device)) for name in DETERMINISTIC_STEPS}
    steps[NOISE_STEP[theorem.id]] = _noise_step(paired_noise_samples(noise_differences), float(np.mean(np.concatenate(noise_expected))))

    base = {"alpha": alpha, "beta": beta, "q_max": q_max, "G_max": G_max, "sigma": math.sqrt(sigma2), "Delta_0": max(Delta_0 - f_lower, 0.0), "W_max": W_max, "tau": tau, "B": float(B), "M": float(layers)}
    K_array = np.asarray(sweep, dtype=float)
    calibrated = {**base, "L": L_cal, "c_D": c_D_used, "K": K_array}
    certified = {**base, "L": L_cert, "c_D": 0.0 if synchronous else c_D_cert, "K": K_array}
    terms_cal = {name: np.asarray(value, dtype=float) * np.ones(len(sweep)) for name, value in _evaluate_terms(theorem, setup, calibrated).items()}
    terms_cert = {name: np.asarray(value, dtype=float) * np.ones(len(sweep)) for name, value in _evaluate_terms(theorem, setup, certified).items()}
    rhs_cal = sum(terms_cal.values())
    rhs_cert = sum(terms_cert.values())
    primary = per_seed_by_schedule[setup.primary]
    lhs_mean = np.mean(primary, axis=1)

    from proofs_check.candidates import Candidate

    own = Candidate("bound", sp.Symbol("bound"))
    symbol_values = {**calibrated, "bound": rhs_cal}
    judged = candidate or own
    statuses, per_K_by_schedule, worst_rows = [], {}, {}
    for schedule, per_seed in per_seed_by_schedule.items():
        status, rows, worst = _candidate_rows(judged, symbol_values, per_seed, sweep, rhs_scale)
        statuses.append(status)
        per_K_by_schedule[schedule] = rows
        worst_rows[schedule] = worst
    cert_status, cert_rows, cert_worst = _candidate_rows(own, {**certified, "bound": rhs_cert}, primary, sweep)
    judged_rhs = np.array([row["rhs"] for row in per_K_by_schedule[setup.primary]])

    per_K = []
    for index, K in enumerate(sweep):
        row = per_K_by_schedule[setup.primary][index]
        per_K.append(
            {
                "K": int(K),
                "lhs": float(lhs_mean[index]),
                "ci": {"lower": row["lower"], "upper": row["upper"], "level": CONFIDENCE, "samples": int(primary.shape[1])},
                "rhs": float(judged_rhs[index]),
                "rhs_calibrated": float(rhs_cal[index]),
                "rhs_certified": float(rhs_cert[index]),
                "ratio_calibrated": float(lhs_mean[index] / rhs_cal[index]),
                "ratio_certified": float(lhs_mean[index] / rhs_cert[index]),
                "terms_calibrated": {name: float(value[index]) for name, value in terms_cal.items()},
                "terms_certified": {name: float(value[index]) for name, value in terms_cert.items()},
                "status": _combine(rows[index]["status"] for rows in per_K_by_schedule.values()),
                "means": {schedule: {"mean": float(np.mean(per_seed[index]))} for schedule, per_seed in per_seed_by_schedule.items()},
            }
        )
    worst_index = int(np.argmax(lhs_mean / judged_rhs)) if np.all(np.isfinite(judged_rhs)) else len(sweep) - 1
    critical = {"calibrated": float(np.max(lhs_mean / rhs_cal)), "certified": float(np.max(lhs_mean / rhs_cert))}
    critical_scale = float(np.max(lhs_mean / judged_rhs)) if np.all(np.isfinite(judged_rhs)) else None

    fall = float(np.max(lhs_mean) / lhs_mean[-1]) if lhs_mean[-1] > 0 else math.inf
    fall_first_last = float(lhs_mean[0] / lhs_mean[-1]) if lhs_mean[-1] > 0 else math.inf
    floor_cal = float(terms_cal["asymptotic_floor"][0])
    initial_grad_sq = float(_squared_norm(_flat(network.gradients(initial, x, y, TANH, SQUARED), 0)))
    rate = _rate(sweep, primary, floor_cal) if setup.judge_rate else {"status": "not judged", "reason": f"regime {setup.name}: built for one term of the bound, the rate is judged on the headline"}
    informative = {"fall": fall, "fall_first_to_last": fall_first_last, "required": setup.min_fall, "floor": floor_cal, "initial_gradient_sq": initial_grad_sq}
    informative["conditions"] = _informative_conditions(setup, fall_first_last, floor_cal, initial_grad_sq, beta, {name: float(value[-1]) for name, value in terms_cal.items()}, (sweep[0], sweep[-1]), float(lhs_mean[-1]))
    hypotheses = {
        "W_max < tau": W_max < tau,
        "alpha <= beta/(6 L_cal q_max^2) (calibrated)": alpha <= step_size(beta, L_cal, q_max) * (1 + 1e-12),
        "L_cal <= L certified (lemma)": L_cal <= L_cert,
        "(A3) applied gradients ||g~_m||_F <= G_m (bounded-signal)": bool(np.all(applied_norms <= G_bound * (1 + 1e-9) + 1e-12)),
    }
    if synchronous:
        hypotheses["no delay (every operation of update k reads W^(k))"] = bool(forward_delay.max() == 0 and backward_delay.max() == 0)
    else:
        # the lemma's own sides ||b_k|| <= alpha c_D at MODEL.md's tolerance: a run without delay has b_k = 0 up to rounding
        hypotheses["c_D,cal <= c_D certified (gradient-delay lemma)"] = bool(within_tolerance(alpha * c_D_cal, alpha * c_D_cert))
    schedule_difference = 0.0
    if len(per_seed_by_schedule) > 1:
        values_list = list(per_seed_by_schedule.values())
        schedule_difference = max(float(np.max(np.abs(v - values_list[0]))) for v in values_list[1:])

    details.update(
        {
            "K": int(sweep[worst_index]),
            "worst_K": int(sweep[worst_index]),
            "L": L_cal,
            "L_calibrated": {"value": L_cal, "power_iteration": power, "descent_lemma": descent_L, "reference_points": [int(p) for p in points], "power_iterations": POWER_ITERATIONS, "hvp_step": HVP_STEP},
            "L_certified": L_cert,
            "beta": beta,
            "q_max": q_max,
            "G_max": G_max,
            "W_max": W_max,
            "omega": omega,
            "sigma2": sigma2,
            "sigma2_per_update": sigma2 / B,
            "sigma2_rule": "max over every reference point of every run of σ²(W) = tr Cov_i ∇f(W;ξ_i)/b (exact, N rows)",
            "c_D": c_D_used,
            "c_D_calibrated": c_D_cal,
            "c_D_certified": 0.0 if synchronous else c_D_cert,
            "c_D_certified_worst_case": c_D_cert,
            "G_vec": G_bound,
            "applied_gradient_norm_max": applied_norms,
            "delays": {"forward": forward_delay, "backward": backward_delay},
            "terms": {name: float(value[worst_index]) for name, value in terms_cal.items()},
            "terms_certified": {name: float(value[worst_index]) for name, value in terms_cert.items()},
            "hypotheses": hypotheses,
            "critical_scale": critical,
            "certified": {"status": cert_status, "critical_scale": critical["certified"], "worst": cert_worst, "hypothesis_alpha": alpha <= step_size(beta, L_cert, q_max), "note": "the run's α exceeds β/(6 L_cert q_max²) when L_cert ≫ L_cal, so the certified right side is reported beside the calibrated one, not as the headline"},
            "ci": {key: per_K[worst_index]["ci"][key] for key in ("lower", "upper", "level", "samples")} | {"mean": per_K[worst_index]["lhs"]},
            "means": {schedule: per_K_by_schedule[schedule][worst_index] for schedule in per_K_by_schedule},
            "per_K": per_K,
            "rate": rate,
            "informative": informative,
            "steps": steps,
            "trace_replay_max_difference": replay,
        }
    )
    if len(per_seed_by_schedule) > 1:
        details["schedule_lhs_max_difference"] = schedule_difference
    if candidate is None:
        details["variants"] = [_variant_row(variant, symbol_values, per_seed_by_schedule, sweep) for variant in THEOREM_VARIANTS if theorem.id in variant.theorems]

    failed = [name for name, ok in hypotheses.items() if not ok]
    if replay > ABSOLUTE_TOLERANCE:
        failed.append(f"the recorded versions do not replay the device rule (max difference {replay:.3g})")
    step_status = _combine(step["status"] for step in steps.values())
    verdict = _combine(statuses)
    lhs = float(lhs_mean[worst_index])
    rhs_value = float(judged_rhs[worst_index])
    result_status: str
    if failed:
        details["reason"] = "hypothesis not met after the run: " + "; ".join(failed)
        result_status = ERROR
    elif verdict == ERROR or step_status == ERROR or not math.isfinite(fall):
        details["reason"] = "a NaN or infinite value in a side"
        result_status = ERROR
    elif not all(condition["met"] for condition in informative["conditions"]):
        details["reason"] = "uninformative: " + "; ".join(condition["text"] for condition in informative["conditions"] if not condition["met"])
        result_status = ERROR
    else:
        checks = [verdict, step_status] + ([rate["status"]] if candidate is None and setup.judge_rate else [])
        result_status = _combine(checks)
        if result_status == VIOLATED:
            reasons = []
            for schedule, rows in per_K_by_schedule.items():
                violated_rows = [row for row in rows if row["status"] == VIOLATED]
                reasons += [f"{schedule} K={row['K']}: lower {CONFIDENCE:.0%} confidence bound of the mean {row['lower']:.4g} exceeds the right side {row['rhs']:.4g} (lhs {row['lhs']:.4g})" for row in violated_rows[:2]]
                if len(violated_rows) > 2:
                    reasons.append(f"{schedule}: and {len(violated_rows) - 2} more K")
            reasons += [f"step {name} violated" for name, step in steps.items() if step["status"] == VIOLATED]
            if candidate is None and rate["status"] == VIOLATED:
                reasons.append(rate["reason"])
            details["reason"] = "; ".join(reasons)
            offending = [row for rows in per_K_by_schedule.values() for row in rows if row["status"] == VIOLATED]
            if offending:
                worst = max(offending, key=_severity)
                details["offending"] = {"K": worst["K"], "lhs": worst["lhs"], "rhs": worst["rhs"], "lower": worst["lower"]}
                lhs, rhs_value = worst["lhs"], worst["rhs"]
    return TheoremResult(theorem.id, result_status, _finite_or_none(lhs), _finite_or_none(rhs_value), _plain(details), _finite_or_none(critical_scale))


def _averages_micro_batches(setup: ConvergenceSetup) -> bool:
    """An asynchronous schedule whose updates average B > 1 micro-batches (2bw): its variance per update is σ²/B."""
    schedule = schedule_named(setup.primary)
    return schedule.asynchronous and schedule.micro_batches_per_update(setup.mini_batch) > 1


def _term_expressions(theorem: C.Theorem, setup: ConvergenceSetup) -> dict[str, sp.Expr]:
    """The theorem's terms for the regime's schedule: for 2bw the asynchronous terms with σ²/B per
    update (theory.complexity.terms, MODEL.md §5), the async theorem's σ² being one micro-batch's."""
    return complexity.terms(setup.primary) if _averages_micro_batches(setup) else theorem.term_dict


def _evaluate_terms(theorem: C.Theorem, setup: ConvergenceSetup, values: Mapping[str, object]) -> dict[str, object]:
    """The theorem's terms (`_term_expressions`) at `values`."""
    if _averages_micro_batches(setup):
        return {name: C.evaluate(expression, values) for name, expression in _term_expressions(theorem, setup).items()}
    return theorem.evaluate_terms(values)


DOMINANT_SHARE = 0.5
"""A regime's dominant term must be at least this share of the calibrated right side at its largest K."""


def _informative_conditions(setup: ConvergenceSetup, fall: float, floor: float, initial_grad_sq: float, beta: float, last_terms: Mapping[str, float], K_range: tuple[int, int], last_lhs: float) -> list[dict]:
    """What makes a regime able to discriminate, each condition with its measured value and whether it is met
    (NaN is never met): the fall of the left side, the floor against ||∇f(W_0)||², β, the dominant term, and a
    term against the left side."""
    conditions = []
    if setup.min_fall > 0:
        conditions.append({"name": "fall", "value": fall, "required": setup.min_fall, "met": bool(fall >= setup.min_fall), "text": f"the left side falls {fall:.3g}x from K={K_range[0]} to K={K_range[1]} (at least {setup.min_fall:g}x needed)"})
    if setup.max_floor_fraction is not None:
        fraction = floor / initial_grad_sq if initial_grad_sq > 0 else math.inf
        conditions.append({"name": "floor", "value": fraction, "required": setup.max_floor_fraction, "met": bool(fraction <= setup.max_floor_fraction), "text": f"the floor {floor:.3g} is {fraction:.3g} of ||∇f(W_0)||² = {initial_grad_sq:.3g} (at most {setup.max_floor_fraction:g} allowed)"})
    if setup.max_beta is not None:
        conditions.append({"name": "beta", "value": beta, "required": setup.max_beta, "met": bool(beta <= setup.max_beta), "text": f"β = {beta:.3g} (at most {setup.max_beta:g}: the 1/β factors must matter)"})
    if setup.dominant_term is not None:
        total = sum(last_terms.values())
        share = last_terms[setup.dominant_term] / total if total > 0 else math.nan
        conditions.append({"name": "dominant_term", "term": setup.dominant_term, "value": share, "required": DOMINANT_SHARE, "met": bool(share >= DOMINANT_SHARE), "text": f"the {setup.dominant_term} term is {share:.3g} of the calibrated right side at K={K_range[1]} (at least {DOMINANT_SHARE:g} needed)"})
    if setup.term_exceeds_lhs is not None:
        excess = last_terms[setup.term_exceeds_lhs] / last_lhs if last_lhs > 0 else math.nan
        conditions.append({"name": "term_exceeds_lhs", "term": setup.term_exceeds_lhs, "value": excess, "required": 1.0, "met": bool(excess > 1.0), "text": f"the {setup.term_exceeds_lhs} term is {excess:.3g}× the left side at K={K_range[1]} (more than 1× needed)"})
    return conditions


def _variant_row(variant: TheoremVariant, values: Mapping[str, Array], per_seed_by_schedule: Mapping[str, Array], sweep: Sequence[int]) -> dict:
    """A false variant checked like a candidate `--rhs` on the same runs."""
    candidate = parse_theorem_rhs(variant.expression)
    statuses, worst_rows = [], []
    for per_seed in per_seed_by_schedule.values():
        status, rows, worst = _candidate_rows(candidate, values, per_seed, sweep)
        statuses.append(status)
        worst_rows.append(worst)
    status = _combine(statuses)
    worst = max(worst_rows, key=_severity)
    return {"id": variant.id, "name": variant.name, "expression": variant.expression, "status": status, "refuted": status == VIOLATED, "K": worst["K"], "lhs": worst["lhs"], "rhs": worst["rhs"], "ratio": worst["ratio"], "ratio_lower": worst["ratio_lower"]}


def paired_noise_samples(differences: Sequence[Array]) -> Array:
    """The samples of the noise step from the runs of one regime, each [K, R] (update k, seed r):
    one per (k, r), the mean over the runs. The runs share their sampling seeds, so update k of
    seed r reads the same rows ξ_k in every run and their noises are not independent (WOP and
    SP even make the same run, so pooling them would count every sample twice and narrow the
    interval by √2); their mean still has conditional mean 0 under the statement, and the
    (k, r) means are martingale differences over k, independent over r."""
    shapes = {difference.shape for difference in differences}
    if len(shapes) != 1:
        raise ValueError(f"the runs of one regime have different numbers of updates or seeds: {sorted(shapes)}")
    return np.mean(np.stack(differences), axis=0).ravel()


def _noise_step(samples: Array, expected: float) -> dict:
    """Statistical: the mean over updates and seeds of ||n_k||² − σ²(W^{(k)})/B is 0 (two-sided interval), up to
    MODEL.md's tolerance on the mean of σ²(W^{(k)})/B (`expected`): the interval must reach within
    1e-9·expected + 1e-12 of 0. (A task whose every ||n_k||² equals σ²/B, as when b = 1 and the rows give two
    opposite gradients, has a zero-width interval that only the rounding moves off 0.)"""
    if not (np.all(np.isfinite(samples)) and math.isfinite(expected)):
        return {"status": ERROR, "samples": int(samples.size), "max_ratio": None, "statement": NOISE_STATEMENT}
    interval = mean_confidence(samples, 1 - (1 - NOISE_CONFIDENCE) / 2)
    tolerance = RELATIVE_TOLERANCE * abs(expected) + ABSOLUTE_TOLERANCE
    inside = interval["lower"] <= tolerance and -tolerance <= interval["upper"]
    return {
        "status": HOLDS if inside else VIOLATED,
        "samples": int(samples.size),
        "max_ratio": None,
        "expected": 0.0,
        "mean": interval["mean"],
        "ci": {"level": NOISE_CONFIDENCE, "lower": interval["lower"], "upper": interval["upper"]},
        "tolerance": tolerance,
        "statement": NOISE_STATEMENT,
    }


RATE_BAND = (-2.0, -1.0)
"""The slope of log K(ε) against log ε the theory allows: K = O(σ²ε⁻² + ε⁻¹) (the ε⁻² noise
part and the ε⁻¹ descent part); a cumulative mean cannot fall faster than K⁻¹ (slope −1)."""


def _exponent(K: Array, lhs: Array) -> float:
    return float(np.polyfit(np.log(K), np.log(lhs), 1)[0])


def _rate(sweep: Sequence[int], per_seed: Array, floor: float) -> dict:
    """The fitted exponent p of the mean lhs ∝ K^p over the K whose lhs sits above twice the floor,
    its jackknife standard error over seeds, and the slope of K(ε) = 1/p judged against RATE_BAND:
    'violated' only when the one-sided 99% interval of p lies outside [−1, −1/2]."""
    K = np.asarray(sweep, dtype=float)
    mean = np.mean(per_seed, axis=1)
    used = mean > 2 * floor
    result = {"K": [int(k) for k in sweep], "lhs_mean": mean, "floor": floor, "band_K_of_epsilon": list(RATE_BAND), "method": "least-squares slope p of log mean lhs against log K (K with lhs > 2·floor), K(ε) ∝ ε^(1/p); jackknife over seeds for the standard error"}
    if used.sum() < 3 or not np.all(mean[used] > 0):
        return result | {"status": ERROR, "reason": "rate: fewer than 3 K above the floor"}
    p = _exponent(K[used], mean[used])
    seeds = per_seed.shape[1]
    leave_one_out = np.array([_exponent(K[used], np.mean(np.delete(per_seed[used], r, axis=1), axis=1)) for r in range(seeds)])
    error = float(math.sqrt((seeds - 1) / seeds * np.sum((leave_one_out - leave_one_out.mean()) ** 2)))
    t = float(stats.t.ppf(CONFIDENCE, seeds - 1))
    low_p, high_p = 1.0 / RATE_BAND[1], 1.0 / RATE_BAND[0]
    violated = p - t * error > high_p or p + t * error < low_p
    slope = 1.0 / p if p != 0 else -math.inf
    result.update(
        {
            "fitted_exponent": p,
            "std_error": error,
            "exponent_band": [low_p, high_p],
            "K_of_epsilon_slope": slope,
            "status": VIOLATED if violated else HOLDS,
            "reference_exponent": REFERENCE_EXPONENT,
        }
    )
    if violated:
        result["reason"] = f"rate: K(ε) ∝ ε^{slope:.3g} (lhs ∝ K^{p:.3g} ± {error:.2g}) lies outside the band [{RATE_BAND[0]:g}, {RATE_BAND[1]:g}] the theory allows"
    return result


# ----------------------------------------------------------------------------- complexity


def _rational(value) -> sp.Rational:
    return sp.nsimplify(value) if not isinstance(value, sp.Basic) else value


def check_iteration_complexity(claim: Mapping[str, Iterable] | None = None) -> TheoremResult:
    """Leading ε exponents of K(ε) (theory.complexity) for AP, SP, WOP against the paper's claim.

    `claim` maps a schedule to its claimed exponents (default `CLAIMED_EXPONENTS`: AP
    {−2, −1}, SP and WOP {−2}); 'holds' iff every schedule's set of exponents matches.
    """
    claim = CLAIMED_EXPONENTS if claim is None else claim
    rows, statuses = [], []
    for schedule in complexity.PAPER_SCHEDULES:
        result = complexity.iteration_complexity(schedule)
        derived = sorted({sp.Rational(exponent) for exponent in result.leading_exponents})
        claimed = sorted({_rational(exponent) for exponent in claim.get(schedule, ())}) if schedule in claim else None
        match = claimed is not None and derived == claimed
        statuses.append(HOLDS if match else VIOLATED)
        rows.append(
            {
                "schedule": schedule,
                "theorem": complexity.theorem_for(schedule).id,
                "derived": [_plain(e) for e in derived],
                "claimed": None if claimed is None else [_plain(e) for e in claimed],
                "match": match,
                "iteration_complexity": sp.sstr(result.iterations),
                "o_form_leading_exponents": [_plain(e) for e in result.o_form_leading_exponents],
                "clock_cycles": sp.sstr(complexity.clock_cycles(schedule)),
            }
        )
    status = _combine(statuses)
    details = {"schedules": rows, "claim": {key: [_plain(_rational(e)) for e in value] for key, value in claim.items()}}
    if status == VIOLATED:
        details["reason"] = "derived exponents differ from the claim for " + ", ".join(row["schedule"] for row in rows if not row["match"])
    return TheoremResult("iteration-complexity", status, None, None, _plain(details))


# ----------------------------------------------------------------------------- density


def default_records() -> list[ScheduleRecord]:
    """Every schedule for M = 2, 3, 4 (J = 8 micro-batches, B = 2, or 4 where 2bw needs B >= M;
    ap and pipedream update per micro-batch)."""
    records = []
    for stages in (2, 3, 4):
        for schedule in SCHEDULES.values():
            mini_batch = next(size for size in (2, 4, 8) if size >= schedule.smallest_mini_batch(stages))
            records.append(build_schedule(schedule, stages, 8, mini_batch))
    return records


def _density_row(record: ScheduleRecord) -> dict:
    exact = closed_forms.evaluate(closed_forms.density(record.schedule), stages=record.layers, mini_batch=record.mini_batch, micro_batches=record.micro_batches)
    slots = closed_forms.evaluate(closed_forms.total_slots(record.schedule), stages=record.layers, mini_batch=record.mini_batch, micro_batches=record.micro_batches)
    measured = float(record.density)
    difference = abs(measured - float(exact)) if math.isfinite(measured) else float("nan")
    status = ERROR if not math.isfinite(difference) else HOLDS if difference <= DENSITY_TOLERANCE else VIOLATED
    return {
        "schedule": record.schedule,
        "stages": record.layers,
        "micro_batches": record.micro_batches,
        "mini_batch": record.mini_batch,
        "slots": record.slots,
        "closed_form_slots": _plain(slots),
        "density": measured,
        "closed_form_density": str(exact),
        "closed_form_density_value": float(exact),
        "difference": difference,
        "status": status,
    }


def check_computation_density(records: Iterable[ScheduleRecord] | None = None, *, ap_stages: int = 4, ap_micro_batches: Sequence[int] = (10, 100, 1000)) -> TheoremResult:
    """Measured densities (numerics.schedules records) against theory.schedules.density, exactly within 1e-12.

    `records` defaults to `default_records()`. AP's density → 1 is shown on records for
    M = `ap_stages` and J = `ap_micro_batches`: each equals J/(J+M−1) and they increase.
    'violated' on any mismatch.
    """
    records = default_records() if records is None else list(records)
    rows = [_density_row(record) for record in records]
    ap_rows = [_density_row(build_schedule("ap", ap_stages, J)) for J in ap_micro_batches]
    densities = [row["density"] for row in ap_rows]
    increasing = all(b > a for a, b in zip(densities, densities[1:]))
    limit = closed_forms.asymptotic_density("ap")
    statuses = [row["status"] for row in rows + ap_rows] + [HOLDS if increasing else VIOLATED]
    status = _combine(statuses)
    differences = [row["difference"] for row in rows + ap_rows]
    details = {
        "records": rows,
        "ap_limit": {"stages": ap_stages, "records": ap_rows, "increasing": increasing, "limit": _plain(limit), "gap_to_limit": [float(limit) - d for d in densities]},
        "tolerance": DENSITY_TOLERANCE,
    }
    if status == VIOLATED:
        bad = [f"{row['schedule']} M={row['stages']} J={row['micro_batches']} B={row['mini_batch']}" for row in rows + ap_rows if row["status"] == VIOLATED]
        details["reason"] = ("density differs from the closed form for " + ", ".join(bad)) if bad else "AP densities do not increase with J"
    lhs = max(differences) if all(math.isfinite(d) for d in differences) else None
    return TheoremResult("computation-density", status, lhs, DENSITY_TOLERANCE, _plain(details))


# ----------------------------------------------------------------------------- AP against SP: slots to ε (a measurement)

SPEEDUP_MICRO_BATCH_SIZES = {"low-noise": 32, "high-noise": 1}
"""Micro-batch size b per noise level (N = 64 rows): the sampling noise σ² ∝ 1/b."""


def measure_speedup(*, quick: bool, seed: int, stages: Sequence[int] | None = None, mini_batch: int = 4, updates: int | None = None, seeds: int | None = None, executor: Executor = IN_PROCESS) -> dict:
    """AP's clock slots to reach ε against SP's, for M stages and two noise levels (a reported
    measurement, not a verdict), beside MODEL.md §5's (B+M−1)/B (noise-dominated) and B+M−1
    (little noise).

    For each M (dims 4, 6, …, 6, 3) and micro-batch size b, AP (one micro-batch per update) and
    SP (B micro-batches per update) run from the same W_0 at the same α (the theorem check's
    rule), i.i.d. sampling, no injected noise. K(ε) is the smallest K whose mean over seeds of
    (1/K) Σ_{k<K} ||∇f(W^{(k)})||² is ≤ ε, with ε = 2 × the larger of the two left sides at the
    last K (so both reach it); slots(ε) = K(ε) × the schedule record's slots per update.
    Every (M, noise level, schedule) cell is a task of `executor`.
    """
    cells = _speedup_cells(quick=quick, seed=seed, stages=stages, mini_batch=mini_batch, updates=updates, seeds=seeds)
    return _speedup_table(cells, list(executor.map(perform_task, cells)))


def _speedup_cells(*, quick: bool, seed: int, stages: Sequence[int] | None = None, mini_batch: int = 4, updates: int | None = None, seeds: int | None = None) -> list["_SpeedupCell"]:
    """The cells of `measure_speedup`: for every M and noise level, AP then SP."""
    stages = tuple(stages or ((2, 4) if quick else (2, 3, 4, 5, 6)))
    updates = updates or (800 if quick else 1600)
    seeds = seeds or (4 if quick else 8)
    return [_SpeedupCell(M, level, schedule, B, updates, seeds, seed) for M in stages for level in SPEEDUP_MICRO_BATCH_SIZES for schedule, B in (("ap", 1), ("sp", mini_batch))]


@dataclass(frozen=True)
class _SpeedupCell:
    """Task: one (M, noise level, schedule) cell of `measure_speedup`."""

    stages: int
    level: str
    """A key of SPEEDUP_MICRO_BATCH_SIZES."""
    schedule: str
    mini_batch: int
    """B micro-batches per update (1 for AP)."""
    updates: int
    seeds: int
    seed: int

    def perform(self) -> tuple[float, Array, float]:
        """(α, the mean over seeds of (1/K) Σ_{k<K} ||∇f(W^{(k)})||² for K = 1 … updates, the record's slots per update)."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            dims = (4,) + (6,) * (self.stages - 1) + (3,)
            base = ConvergenceSetup("async-convergence", ("ap",), dims, 64, 1, 1, self.seeds, (self.updates,))
            data = teacher_student_sphere(dims, base.samples, self.seed)
            x, y = data.inputs, data.targets
            initial = initial_weights(list(dims), self.seed, scale=base.init_scale)
            saturation = _max_abs(initial)
            device = AsymmetricLinearDevice(tau=base.tau_factor * saturation)
            device_0 = device.constants(base.saturation_margin * saturation)
            alpha = step_size(device_0.beta, base.pilot_safety * float(hessian_norm(initial, x, y, seed=self.seed)), device_0.q_max)
            setup = dataclasses.replace(base, schedules=(self.schedule,), micro_batch_size=SPEEDUP_MICRO_BATCH_SIZES[self.level], mini_batch=self.mini_batch)
            run = _train(setup, self.schedule, self.updates, alpha, device, self.seed, initial, data)
            grad_sq = np.concatenate([_squared_norm(_flat(network.gradients([v[k] for v in run.versions], x, y, TANH, SQUARED), 2)) for k in _version_chunks(self.updates, self.seeds, base.samples)])
            lhs = np.cumsum(np.mean(grad_sq, axis=1)) / np.arange(1, self.updates + 1)
            return alpha, lhs, run.record.slots / self.updates


def _speedup_table(cells: Sequence[_SpeedupCell], outputs: Sequence[tuple[float, Array, float]]) -> dict:
    """`measure_speedup`'s report from its cells (AP then SP for every M and noise level) and their outputs."""
    rows = []
    for index in range(0, len(cells), 2):
        pair = cells[index : index + 2]
        ap, synchronous = pair
        alpha = outputs[index][0]
        lhs = {cell.schedule: output[1] for cell, output in zip(pair, outputs[index : index + 2])}
        per_update = {cell.schedule: output[2] for cell, output in zip(pair, outputs[index : index + 2])}
        epsilon = 2 * max(float(values[-1]) for values in lhs.values())
        reached = {schedule: int(np.argmax(values <= epsilon)) + 1 for schedule, values in lhs.items()}
        slots = {schedule: reached[schedule] * per_update[schedule] for schedule in lhs}
        M, B = ap.stages, synchronous.mini_batch
        rows.append(
            {
                "stages": M,
                "noise": ap.level,
                "micro_batch_size": SPEEDUP_MICRO_BATCH_SIZES[ap.level],
                "mini_batch": B,
                "alpha": alpha,
                "epsilon": epsilon,
                "K_ap": reached["ap"],
                "K_sp": reached["sp"],
                "slots_per_update_ap": per_update["ap"],
                "slots_per_update_sp": per_update["sp"],
                "slots_ap": slots["ap"],
                "slots_sp": slots["sp"],
                "speedup": slots["sp"] / slots["ap"],
                "model_noise_dominated": (B + M - 1) / B,
                "model_little_noise": B + M - 1,
            }
        )
    return {
        "rows": rows,
        "seeds": cells[0].seeds if cells else None,
        "updates": cells[0].updates if cells else None,
        "method": "slots(ε) = K(ε)·(record slots per update); K(ε) the smallest K with mean-over-seeds (1/K)Σ_{k<K}||∇f(W^(k))||² ≤ ε; ε = 2·max(lhs_AP(K), lhs_SP(K)) at the last K",
        "verdict": "none (a reported measurement)",
    }

"""Checks of the theorems of MODEL.md §5 and §3: convergence (sync, async), iteration
complexity and computation density. Pure functions: no printing, no files.

Convergence (`check_convergence`) is a statistical check over seeds. A small tanh network
with squared loss is trained with ALD (finite τ) on a fixed teacher–student task whose
micro-batches are the whole dataset, so every micro-batch gradient is the full-data
gradient plus the injected N(0, σ_noise²) noise: the stochastic gradients are unbiased
with variance exactly σ² = σ_noise²·P per micro-batch (P parameters), σ²/B per update for
SP and WOP. Data and initial weights are fixed; the seeds only change the noise, so the
mean over seeds of (1/K) Σ_{k<K} ||∇f(W^{(k)})||² estimates the theorem's left side.

The step size is chosen a priori so that the hypothesis α ≤ β/(24L) holds by
construction: L_0 is the smoothness constant of the lemma at ω_0 = margin·||W_m^{(0)}||_2,
β_0 = 1 − margin·||W_0||_inf/τ, and α = min(β_0/(24L_0), sqrt(Δ_0/(L_0·σ²_update·K)))
(theory.convergence.chosen_step_size). After the runs the constants are measured (ω the
largest spectral norm of every version of every run, W_max the largest |w|, β = 1 − W_max/τ)
and L ≤ L_0, β ≥ β_0 are verified; if not, the result is an error, never 'holds'. The noise
level is chosen so that the sqrt branch of α is active for every K of the sweep (the
regime threshold K* of theory.convergence equals `REGIME_THRESHOLD`).

On the same runs the numerical §5 steps of theory.ledger are checked update by update
with the realised noise n_k = g̃_k − ĝ_k and bias b_k = ĝ_k − ∇f(W^{(k)}) (ĝ_k the noise-free
gradient the pipeline applied, recomputed from the recorded versions): the descent lemma,
the inner-product lower bound, the second-moment bound, the gradient-delay hypothesis
||b_k|| ≤ α c_D, and (statistically) the variance of the averaged noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, Sequence

import mpmath
import numpy as np
import sympy as sp
from scipy import stats

from numerics import network
from numerics.activations import TANH
from numerics.data import Dataset, initial_weights
from numerics.devices import AsymmetricLinearDevice
from numerics.losses import SQUARED
from numerics.schedules import ScheduleRecord, build_schedule
from numerics.streams import generator, seed_sequence
from numerics.training import TrainingSettings, train
from proofs_check.precision import FLOAT64, MPMATH, Arithmetic
from proofs_check.tolerance import ABSOLUTE_TOLERANCE, ERROR, HOLDS, NEAR_TIE, VIOLATED, ratios, within_tolerance
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

    def as_dict(self) -> dict:
        return {"id": self.id, "status": self.status, "lhs": self.lhs, "rhs": self.rhs, "details": self.details}


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
    """The built-in experiment of one convergence theorem."""

    theorem_id: str
    schedules: tuple[str, ...]
    """Schedules run; the first is the one the main lhs, the verdict's headline and the rate fit report."""
    dims: tuple[int, ...]
    samples: int
    mini_batch: int
    """B micro-batches per update (1 for AP)."""
    seeds: int
    """Noise replicas (the theorem's expectation)."""
    updates: tuple[int, ...]
    """The K of the rate sweep; the main check is at the largest."""
    tau_factor: float = 8.0
    """τ = tau_factor·||W_0||_inf."""
    init_scale: float = 0.5
    omega_margin: float = 1.5
    """A-priori ω_0 = margin·||W_m^{(0)}||_2."""
    saturation_margin: float = 1.5
    """A-priori W_max,0 = margin·||W_0||_inf."""
    regime_threshold: float = 100.0
    """K* of the chosen step size at the a-priori constants: σ is set so that K* equals it."""

    @property
    def primary(self) -> str:
        return self.schedules[0]

    @property
    def variance_schedule(self) -> str:
        return "ap" if self.primary == "ap" else "sp"


def convergence_setup(theorem_id: str, quick: bool) -> ConvergenceSetup:
    """The experiment of `theorem_id`: quick (8 seeds, K = 100, 200, 400) or full (16 seeds, K = 200 … 1600)."""
    if theorem_id not in CONVERGENCE_IDS:
        raise ValueError(f"unknown convergence theorem {theorem_id!r}; allowed: {', '.join(CONVERGENCE_IDS)}")
    updates = (100, 200, 400) if quick else (200, 400, 800, 1600)
    seeds = 8 if quick else 16
    if theorem_id == "sync-convergence":
        return ConvergenceSetup(theorem_id, ("sp", "wop"), (4, 6, 3), 16, 4, seeds, updates)
    return ConvergenceSetup(theorem_id, ("ap",), (4, 6, 6, 3), 16, 1, seeds, updates)


def teacher_student_sphere(dims: Sequence[int], samples: int, seed: int) -> Dataset:
    """Inputs uniform on the unit sphere (X = 1), targets from a tanh teacher of the same architecture."""
    inputs = generator(seed, "data").standard_normal((samples, dims[0]))
    inputs /= np.linalg.norm(inputs, axis=-1, keepdims=True)
    teacher_rng = generator(seed, "teacher")
    teacher = tuple(teacher_rng.standard_normal((dims[m + 1], dims[m])) / np.sqrt(dims[m]) for m in range(len(dims) - 1))
    return Dataset(inputs, network.forward(teacher, inputs, TANH).output)


def noise_seeds(seed: int, count: int) -> tuple[int, ...]:
    """The noise seeds of the replicas of a check run with `seed`."""
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
    (= min(β/(24L), sqrt(Δ_0/(4L·variance·K)))), variance σ² (AP) or σ²/B (SP, WOP); the
    delay branch is left out (c_D = 0 a priori: c_D is measured after the runs)."""
    expression = C.chosen_step_size(complexity.variance(schedule), 0, 2)
    values = {"L": L, "beta": beta, "Delta_0": Delta_0, "K": K, "sigma": math.sqrt(sigma2), "B": float(B)}
    return float(C.evaluate(expression, values))


def _threshold_at_unit_noise(schedule: str, *, L: float, beta: float, Delta_0: float, B: int) -> float:
    """K* = 36Lq_max²Δ_0/(β²·variance) at q_max = 2 evaluated at σ = 1 (so that K* at σ is this/σ²)."""
    values = {"L": L, "beta": beta, "Delta_0": Delta_0, "sigma": 1.0, "B": float(B), "q_max": 2.0}
    return float(C.evaluate(complexity.regime_threshold(schedule), values))


# ----------------------------------------------------------------------------- one run


def _stack(layers: Sequence[Sequence[Array]]) -> list[Array]:
    return [np.stack(layer) for layer in layers]


def _flat(arrays: Sequence[Array], lead: int) -> Array:
    """Concatenate per-layer arrays into one vector per leading index (first `lead` axes kept)."""
    return np.concatenate([a.reshape(a.shape[:lead] + (-1,)) for a in arrays], axis=-1)


def _squared_norm(vectors: Array) -> Array:
    return np.sum(vectors * vectors, axis=-1)


@dataclass
class _Run:
    """One training run (all seeds as replicas) and the arrays its checks need."""

    schedule: str
    K: int
    alpha: float
    versions: list[Array]
    """Per layer [K+1, R, d_m, d_{m−1}]."""
    applied: list[Array]
    """Per layer [K, R, d_m, d_{m−1}]: g̃_k."""
    forward_members: Array
    """[B, K, M] versions read by F of each micro-batch of update k."""
    backward_members: Array
    """[B, K, M] versions read by B."""
    record: ScheduleRecord
    loss: Array = field(default=None)
    """f(W^{(k)}), [K+1, R]."""
    gradient: list[Array] = field(default=None)
    """∇f(W^{(k)}) per layer, [K+1, R, ...]."""


def _train(setup: ConvergenceSetup, schedule: str, K: int, alpha: float, tau: float, sigma_noise: float, seed: int, initial: Sequence[Array], data: Dataset) -> _Run:
    replicas = setup.seeds
    settings = TrainingSettings(
        schedule=schedule,
        device=AsymmetricLinearDevice(tau=tau),
        learning_rate=alpha,
        updates=K,
        activation=TANH,
        loss=SQUARED,
        micro_batch_size=setup.samples,
        mini_batch=setup.mini_batch,
        noise=sigma_noise,
        seeds=noise_seeds(seed, replicas),
        keep_versions=True,
    )
    start = [np.broadcast_to(w, (replicas,) + w.shape).copy() for w in initial]
    result = train(start, data, settings)
    record = result.record
    per_update = settings.micro_batches_per_update
    forward_read, backward_read = record.versions_read
    layers = len(initial)
    forward_members = np.asarray(forward_read, dtype=np.int64).reshape(K, per_update, layers).transpose(1, 0, 2)
    backward_members = np.asarray(backward_read, dtype=np.int64).reshape(K, per_update, layers).transpose(1, 0, 2)
    return _Run(
        schedule=schedule,
        K=K,
        alpha=alpha,
        versions=_stack(result.versions),
        applied=_stack(result.applied_gradients),
        forward_members=forward_members,
        backward_members=backward_members,
        record=record,
    )


def _quantities(
    current: Sequence[Array],
    following: Sequence[Array],
    forward_members: Sequence[Sequence[Array]],
    backward_members: Sequence[Sequence[Array]],
    applied: Sequence[Array],
    x: Array,
    y: Array,
    arithmetic: Arithmetic,
    lead: int,
    losses: tuple[Array, Array] | None = None,
    current_gradient: Sequence[Array] | None = None,
) -> dict[str, Array]:
    """The vectors of the §5 steps for updates W^{(k)} → W^{(k+1)} (leading axes `lead`), in `arithmetic`.

    grad ∇f(W^{(k)}) (full data), f_k, f_next, step W^{(k+1)} − W^{(k)}, weight W^{(k)},
    applied g̃_k, clean ĝ_k (mixed pass with the versions read, averaged over the
    update's micro-batches in the simulator's order), noise n = g̃ − ĝ, bias b = ĝ − ∇f.
    """
    activation, loss = arithmetic.activation(TANH), arithmetic.loss(SQUARED)
    if current_gradient is None:
        current_gradient = network.gradients(current, x, y, activation, loss)
    if losses is None:
        losses = (network.mean_loss(current, x, y, activation, loss), network.mean_loss(following, x, y, activation, loss))
    current_loss, following_loss = losses
    members = [network.gradients(fw, x, y, activation, loss, backward_weights=bw) for fw, bw in zip(forward_members, backward_members)]
    if len(members) == 1:
        clean = members[0]
    else:
        clean = [sum((member[m] for member in members[1:]), members[0][m]) / len(members) for m in range(len(current))]
    grad = _flat(current_gradient, lead)
    applied_flat = _flat(applied, lead)
    clean_flat = _flat(clean, lead)
    return {
        "grad": grad,
        "f_k": current_loss,
        "f_next": following_loss,
        "step": _flat([b - a for a, b in zip(current, following)], lead),
        "weight": _flat(current, lead),
        "applied": applied_flat,
        "clean": clean_flat,
        "noise": applied_flat - clean_flat,
        "bias": clean_flat - grad,
    }


STEP_STATEMENTS = {
    "convergence/descent-lemma": "f(W^{(k+1)}) − f(W^{(k)}) − ⟨∇f(W^{(k)}), W^{(k+1)} − W^{(k)}⟩ ≤ (L/2)||W^{(k+1)} − W^{(k)}||²",
    "convergence/inner-product": "||∇f||² + ⟨∇f, n⟩ − ⟨∇f, g̃ + |g̃| ⊙ W/τ⟩ ≤ ||∇f||·||b|| + (W_max/τ)||∇f||(||∇f|| + ||n|| + ||b||)",
    "convergence/second-moment": "||g̃||² ≤ 3(||∇f||² + ||n||² + ||b||²)",
    "gradient-delay": "||b_k|| = ||ĝ_k − ∇f(W^{(k)})|| ≤ α c_D (hypothesis; c_D = 0 for SP and WOP)",
}
DETERMINISTIC_STEPS = tuple(STEP_STATEMENTS)
NOISE_STEP = {"sync-convergence": "sync/independence", "async-convergence": "noise-variance"}
NOISE_STATEMENT = "E||n_k||² = σ²/B: the mean of ||averaged injected noise||² over updates and seeds (two-sided interval)"


def _step_sides(q: Mapping[str, Array], arithmetic: Arithmetic, constants: Mapping[str, object]) -> dict[str, tuple[Array, Array]]:
    """lhs ≤ rhs of each deterministic step, entrywise over the leading axes."""
    sqrt = arithmetic.sqrt
    grad, noise, bias, applied = q["grad"], q["noise"], q["bias"], q["applied"]
    grad_sq, noise_sq, bias_sq = (np.sum(v * v, axis=-1) for v in (grad, noise, bias))
    grad_norm, noise_norm, bias_norm = sqrt(grad_sq), sqrt(noise_sq), sqrt(bias_sq)
    L, tau, W_max, delay = constants["L"], constants["tau"], constants["W_max"], constants["alpha_c_D"]
    step = q["step"]
    update = applied + np.abs(applied) * q["weight"] / tau
    return {
        "convergence/descent-lemma": (q["f_next"] - q["f_k"] - np.sum(grad * step, axis=-1), L / 2 * np.sum(step * step, axis=-1)),
        "convergence/inner-product": (
            grad_sq + np.sum(grad * noise, axis=-1) - np.sum(grad * update, axis=-1),
            grad_norm * bias_norm + W_max / tau * grad_norm * (grad_norm + noise_norm + bias_norm),
        ),
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


def _judge_steps(run: _Run, q: Mapping[str, Array], constants: dict, tallies: dict[str, _StepTally], recompute: Callable[[Array], dict]) -> None:
    """Add the entries of one run to the tallies; near ties (ratio within 1e-6 of 1) are
    decided on the sides recomputed in 50-digit mpmath (MODEL.md's tolerance policy)."""
    judged = {}
    for name, (lhs, rhs) in _step_sides(q, FLOAT64, constants).items():
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
                tally.worst = {"schedule": run.schedule, "K": run.K, "update": int(index[0]), "replica": int(index[1]), "lhs": float(lhs[index]), "rhs": float(rhs[index])}
        if not finite.all():
            index = tuple(int(i) for i in np.argwhere(~finite)[0])
            tally.worst = {"schedule": run.schedule, "K": run.K, "update": index[0], "replica": index[1], "lhs": _plain(float(lhs[index])), "rhs": _plain(float(rhs[index])), "reason": "NaN or infinite side"}


def _recompute_entries(run: _Run, x: Array, y: Array, constants: Mapping[str, float]) -> Callable[[Array], dict]:
    """A function: entries [(k, r), ...] → the step sides at those entries in 50-digit mpmath."""

    def recompute(entries: Array) -> dict:
        k, r = entries[:, 0], entries[:, 1]
        with MPMATH.context():
            convert = MPMATH.convert
            current = [convert(layer[k, r]) for layer in run.versions]
            following = [convert(layer[k + 1, r]) for layer in run.versions]
            forward = [[convert(layer[run.forward_members[b][k, m], r]) for m, layer in enumerate(run.versions)] for b in range(len(run.forward_members))]
            backward = [[convert(layer[run.backward_members[b][k, m], r]) for m, layer in enumerate(run.versions)] for b in range(len(run.backward_members))]
            applied = [convert(layer[k, r]) for layer in run.applied]
            q = _quantities(current, following, forward, backward, applied, convert(x), convert(y), MPMATH, 1)
            precise = {name: mpmath.mpf(float(value)) for name, value in constants.items()}
            sides = _step_sides(q, MPMATH, precise)
        return {name: (np.asarray(lhs, dtype=object).ravel(), np.broadcast_to(np.asarray(rhs, dtype=object), np.shape(lhs)).ravel()) for name, (lhs, rhs) in sides.items()}

    return recompute


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


def check_convergence(theorem_id: str, *, quick: bool, seed: int, rhs_scale: float = 1.0, progress: Progress | None = None) -> TheoremResult:
    """Statistical check of MODEL.md §5's `theorem_id` ('sync-convergence' or 'async-convergence').

    lhs: the mean over seeds of (1/K) Σ_{k<K} ||∇f(W^{(k)})||² at the largest K; rhs: the
    theorem's right side with the measured constants. 'violated' if the one-sided
    `CONFIDENCE` lower bound of the mean exceeds rhs_scale·rhs at some K of the sweep or
    for some schedule, or if a numerical step is violated; 'error' on NaN/inf or a failed
    hypothesis. `progress(iterable, total)` may wrap the loop over runs.
    """
    setup = convergence_setup(theorem_id, quick)
    theorem = C.theorem(theorem_id)
    details: dict = {
        "theorem": theorem_id,
        "paper_label": theorem.paper_label,
        "statement": theorem.text(),
        "seed": int(seed),
        "seeds": setup.seeds,
        "quick": bool(quick),
        "confidence": CONFIDENCE,
        "rhs_scale": float(rhs_scale),
    }
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            return _check_convergence(setup, theorem, seed, float(rhs_scale), progress, details)
    except _CheckError as failure:
        details["reason"] = failure.reason
        details["inputs"] = _plain(failure.inputs)
        return TheoremResult(theorem_id, ERROR, None, None, _plain(details))
    except (ArithmeticError, ValueError, np.linalg.LinAlgError) as failure:
        details["reason"] = f"{type(failure).__name__}: {failure}"
        return TheoremResult(theorem_id, ERROR, None, None, _plain(details))


def _check_convergence(setup: ConvergenceSetup, theorem: C.Theorem, seed: int, rhs_scale: float, progress: Progress | None, details: dict) -> TheoremResult:
    dims = setup.dims
    data = teacher_student_sphere(dims, setup.samples, seed)
    x, y = data.inputs, data.targets
    if not np.array_equal(data.rows(0, setup.samples), np.arange(setup.samples)):
        raise _CheckError("a micro-batch is not the whole dataset in order")
    initial = initial_weights(list(dims), seed, scale=setup.init_scale)
    X = float(np.max(np.linalg.norm(x, axis=-1)))
    Y = float(np.max(np.linalg.norm(y, axis=-1)))
    initial_saturation = float(max(np.max(np.abs(w)) for w in initial))
    tau = setup.tau_factor * initial_saturation
    omega_0 = [setup.omega_margin * float(np.linalg.norm(w, 2)) for w in initial]
    W_max_0 = setup.saturation_margin * initial_saturation
    beta_0 = 1 - W_max_0 / tau
    L_0, _, _ = smoothness(omega_0, X, Y)
    Delta_0 = float(network.mean_loss(initial, x, y, TANH, SQUARED))
    f_lower = 0.0
    parameters = int(sum(w.size for w in initial))
    B = setup.mini_batch
    unit_threshold = _threshold_at_unit_noise(setup.variance_schedule, L=L_0, beta=beta_0, Delta_0=Delta_0, B=B)
    sigma2 = unit_threshold / setup.regime_threshold
    sigma_noise = math.sqrt(sigma2 / parameters)
    sigma2_update = sigma2 / B
    details.update(
        {
            "schedules": list(setup.schedules),
            "primary_schedule": setup.primary,
            "dims": list(dims),
            "samples": setup.samples,
            "micro_batch_size": setup.samples,
            "mini_batch": B,
            "activation": TANH.name,
            "loss": SQUARED.name,
            "device": "ald",
            "tau": tau,
            "X": X,
            "Y": Y,
            "parameters": parameters,
            "sigma_noise": sigma_noise,
            "sigma2": sigma2,
            "sigma2_per_update": sigma2_update,
            "Delta_0": Delta_0 - f_lower,
            "f_W0": Delta_0,
            "f_lower": f_lower,
            "a_priori": {"omega_0": omega_0, "L_0": L_0, "W_max_0": W_max_0, "beta_0": beta_0, "omega_margin": setup.omega_margin, "saturation_margin": setup.saturation_margin},
            "regime": {"threshold_K": setup.regime_threshold, "branch": "sqrt-branch" if min(setup.updates) >= setup.regime_threshold else "mixed"},
            "K_values": list(setup.updates),
            "G_vec_rule": "G_vec_m = max(bounded-signal G_m, largest measured ||g̃_m||_F): with injected noise the applied gradient exceeds G_m, and the increments that make the delay gaps are α(1 + W_max/τ)||g̃_m||_F",
            "noise_rule": "micro-batches are the whole dataset, so n_k = g̃_k − ĝ_k is exactly the injected noise (averaged over the update's micro-batches) and b_k = ĝ_k − ∇f(W^(k)) the delay bias",
        }
    )

    runs = [(K, schedule) for K in setup.updates for schedule in setup.schedules]
    iterator: Iterable = runs if progress is None else progress(runs, len(runs))
    pending: dict[int, list[_Run]] = {}
    tallies = {name: _StepTally() for name in DETERMINISTIC_STEPS}
    noise_samples: list[Array] = []
    per_K: list[dict] = []
    replay_difference = 0.0
    schedule_difference = 0.0
    for K, schedule in iterator:
        alpha = _alpha(setup, L_0, beta_0, Delta_0, sigma2, K)
        if not (math.isfinite(alpha) and alpha > 0):
            raise _CheckError("the step size is not a positive finite number", alpha=alpha, K=K)
        run = _train(setup, schedule, K, alpha, tau, sigma_noise, seed, initial, data)
        _require_finite("weights or applied gradients", [*run.versions, *run.applied], schedule=schedule, K=K, alpha=alpha)
        pending.setdefault(K, []).append(run)
        if len(pending[K]) < len(setup.schedules):
            continue
        group = pending.pop(K)
        row, replay, spread = _check_K(setup, theorem, group, x, y, tau, sigma2, B, Delta_0, L_0, beta_0, rhs_scale, tallies, noise_samples)
        replay_difference, schedule_difference = max(replay_difference, replay), max(schedule_difference, spread)
        per_K.append(row)

    steps = {name: tallies[name].as_dict(STEP_STATEMENTS[name]) for name in DETERMINISTIC_STEPS}
    steps[NOISE_STEP[setup.theorem_id]] = _noise_step(np.concatenate(noise_samples), sigma2_update)
    details["steps"] = steps
    details["trace_replay_max_difference"] = replay_difference
    if len(setup.schedules) > 1:
        details["schedule_lhs_max_difference"] = schedule_difference

    main = per_K[-1]
    details.update({key: main[key] for key in ("K", "alpha", "L", "beta", "W_max", "omega", "c_D", "G_vec", "delays", "terms", "hypotheses")})
    details["ci"] = main["ci"]
    details["means"] = main["means"]
    details["ratio"] = main["ratio"]
    details["rhs_unscaled"] = main["rhs"]
    details["per_K"] = per_K
    details["rate"] = _rate(per_K)

    failed = [f"K={row['K']}: {name}" for row in per_K for name, ok in row["hypotheses"].items() if not ok]
    step_status = _combine(step["status"] for step in steps.values())
    verdicts = [row["status"] for row in per_K]
    if replay_difference > ABSOLUTE_TOLERANCE:
        failed.append(f"the recorded versions do not replay the device rule (max difference {replay_difference:.3g})")
    lhs, rhs = main["means"][setup.primary]["mean"], main["rhs"]
    if failed:
        details["reason"] = "hypothesis not met after the run: " + "; ".join(failed)
        status = ERROR
    elif ERROR in verdicts or step_status == ERROR:
        details["reason"] = "a NaN or infinite value in a side"
        status = ERROR
    else:
        status = _combine(verdicts + [step_status])
        if status == VIOLATED:
            reasons = [f"K={row['K']}: lower {CONFIDENCE:.0%} confidence bound of the mean exceeds rhs_scale·rhs" for row in per_K if row["status"] == VIOLATED]
            reasons += [f"step {name} violated" for name, step in steps.items() if step["status"] == VIOLATED]
            details["reason"] = "; ".join(reasons)
    return TheoremResult(setup.theorem_id, status, _finite_or_none(lhs), _finite_or_none(rhs * rhs_scale), _plain(details))


def _alpha(setup: ConvergenceSetup, L_0: float, beta_0: float, Delta_0: float, sigma2: float, K: int) -> float:
    return chosen_step_size_value(setup.variance_schedule, L=L_0, beta=beta_0, Delta_0=Delta_0, sigma2=sigma2, B=setup.mini_batch, K=K)


def _check_K(setup, theorem, group: list[_Run], x, y, tau, sigma2, B, Delta_0, L_0, beta_0, rhs_scale, tallies, noise_samples) -> tuple[dict, float, float]:
    """Measured constants, the verdict and the step checks for the runs of one K."""
    K, alpha = group[0].K, group[0].alpha
    layers = len(setup.dims) - 1
    replay = 0.0
    device = AsymmetricLinearDevice(tau=tau)
    for run in group:
        run.gradient = network.gradients(run.versions, x, y, TANH, SQUARED)
        run.loss = network.mean_loss(run.versions, x, y, TANH, SQUARED)
        _require_finite("full-data gradients or losses", [run.loss, *run.gradient], schedule=run.schedule, K=K, alpha=alpha)
        for layer, gradients in zip(run.versions, run.applied):
            replayed = device.update(layer[:-1], gradients, alpha)
            replay = max(replay, float(np.max(np.abs(replayed - layer[1:]))))

    omega = np.array([max(float(np.max(np.linalg.norm(run.versions[m], 2, axis=(-2, -1)))) for run in group) for m in range(layers)])
    W_max = max(float(np.max(np.abs(layer))) for run in group for layer in run.versions)
    applied_norms = np.array([max(float(np.max(np.linalg.norm(run.applied[m], axis=(-2, -1)))) for run in group) for m in range(layers)])
    forward_delay = np.zeros(layers, dtype=int)
    backward_delay = np.zeros(layers, dtype=int)
    for run in group:
        k = np.arange(K)[None, :, None]
        forward_delay = np.maximum(forward_delay, np.max(k - run.forward_members, axis=(0, 1)))
        backward_delay = np.maximum(backward_delay, np.max(k - run.backward_members, axis=(0, 1)))
    L, G_bound, Gamma = smoothness(omega, float(np.max(np.linalg.norm(x, axis=-1))), float(np.max(np.linalg.norm(y, axis=-1))))
    beta = 1 - W_max / tau
    G_vec = np.maximum(G_bound, applied_norms)
    c_D = (1 + W_max / tau) * float(np.linalg.norm(Gamma @ np.concatenate([forward_delay * G_vec, backward_delay * G_vec])))
    if theorem.id == "sync-convergence":
        c_D_theorem = 0.0
    else:
        c_D_theorem = c_D
    _require_finite("measured constants", [np.array([L, beta, c_D, W_max]), omega], K=K, alpha=alpha)
    values = {"alpha": alpha, "beta": beta, "L": L, "sigma": math.sqrt(sigma2), "Delta_0": Delta_0, "K": K, "c_D": c_D_theorem, "W_max": W_max, "tau": tau, "B": float(B)}
    terms = {name: float(value) for name, value in theorem.evaluate_terms(values).items()}
    rhs = float(sum(terms.values()))
    hypotheses = {
        "L <= L_0": L <= L_0,
        "beta >= beta_0": beta >= beta_0,
        "W_max < tau": W_max < tau,
        "alpha <= beta/(24L)": alpha <= beta / (24 * L) * (1 + 1e-12),
    }
    if theorem.id == "sync-convergence":
        hypotheses["no delay (every operation of update k reads W^(k))"] = bool(forward_delay.max() == 0 and backward_delay.max() == 0)

    constants = {"L": L, "tau": tau, "W_max": W_max, "alpha_c_D": alpha * c_D_theorem}
    means, statuses, cis, lhs_by_schedule = {}, [], {}, {}
    for run in group:
        grad = _flat(run.gradient, 2)
        per_seed = np.mean(_squared_norm(grad[:K]), axis=0)
        lhs_by_schedule[run.schedule] = per_seed
        status, interval = convergence_verdict(per_seed, rhs, rhs_scale=rhs_scale)
        statuses.append(status)
        means[run.schedule] = {**interval, "status": status}
        current = [layer[:-1] for layer in run.versions]
        following = [layer[1:] for layer in run.versions]
        forward = [[_gather(layer, run.forward_members[b][:, m]) for m, layer in enumerate(run.versions)] for b in range(len(run.forward_members))]
        backward = [[_gather(layer, run.backward_members[b][:, m]) for m, layer in enumerate(run.versions)] for b in range(len(run.backward_members))]
        q = _quantities(current, following, forward, backward, run.applied, x, y, FLOAT64, 2, (run.loss[:-1], run.loss[1:]), [g[:-1] for g in run.gradient])
        _require_finite("step quantities", q.values(), schedule=run.schedule, K=K, alpha=alpha)
        _judge_steps(run, q, constants, tallies, _recompute_entries(run, x, y, constants))
        noise_samples.append(_squared_norm(q["noise"]).ravel())
        run.versions = run.applied = None  # release memory
    spread = 0.0
    if len(lhs_by_schedule) > 1:
        values_list = list(lhs_by_schedule.values())
        spread = max(float(np.max(np.abs(v - values_list[0]))) for v in values_list[1:])
    primary = means[setup.primary]
    row = {
        "K": K,
        "alpha": alpha,
        "L": L,
        "beta": beta,
        "W_max": W_max,
        "omega": omega,
        "c_D": c_D_theorem,
        "c_D_measured_delays": c_D,
        "G_vec": G_vec,
        "G_bounded_signal": G_bound,
        "applied_gradient_norm_max": applied_norms,
        "delays": {"forward": forward_delay, "backward": backward_delay},
        "terms": terms,
        "rhs": rhs,
        "vanishing": rhs - terms["asymptotic_floor"],
        "means": means,
        "ci": {key: primary[key] for key in ("mean", "std_error", "level", "lower", "upper", "samples")},
        "ratio": primary["mean"] / rhs if rhs else float("inf"),
        "hypotheses": hypotheses,
        "status": _combine(statuses),
    }
    return row, replay, spread


def _gather(layer: Array, indices: Array) -> Array:
    """layer[indices[k], r] for every k, r: the version each update read, per replica. [K, R, ...]."""
    return layer[indices]


def _noise_step(samples: Array, expected: float) -> dict:
    """Statistical: the mean of ||n_k||² over updates and seeds against σ²/B (two-sided interval)."""
    if not (np.all(np.isfinite(samples)) and math.isfinite(expected)):
        return {"status": ERROR, "samples": int(samples.size), "max_ratio": None, "statement": NOISE_STATEMENT}
    interval = mean_confidence(samples, 1 - (1 - NOISE_CONFIDENCE) / 2)
    inside = interval["lower"] <= expected <= interval["upper"]
    return {
        "status": HOLDS if inside else VIOLATED,
        "samples": int(samples.size),
        "max_ratio": interval["mean"] / expected,
        "expected": expected,
        "mean": interval["mean"],
        "ci": {"level": NOISE_CONFIDENCE, "lower": interval["lower"], "upper": interval["upper"]},
        "statement": NOISE_STATEMENT,
    }


def _rate(per_K: Sequence[dict]) -> dict:
    K = [row["K"] for row in per_K]
    lhs = [row["ci"]["mean"] for row in per_K]
    rhs = [row["rhs"] for row in per_K]
    vanishing = [row["vanishing"] for row in per_K]
    return {
        "K": K,
        "alpha": [row["alpha"] for row in per_K],
        "lhs_mean": lhs,
        "rhs": rhs,
        "vanishing_part": vanishing,
        "fitted_exponent": _slope(K, lhs),
        "reference_exponent": REFERENCE_EXPONENT,
        "rhs_exponent": _slope(K, rhs),
        "vanishing_part_exponent": _slope(K, vanishing),
        "method": "least-squares slope of log mean (1/K)Σ||∇f(W^(k))||² against log K (numpy.polyfit), α the chosen step size at each K",
    }


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
    """Every schedule for M = 2, 3, 4 (J = 8 micro-batches, B = 2 for the synchronous ones)."""
    records = []
    for stages in (2, 3, 4):
        for schedule in closed_forms.SCHEDULES:
            records.append(build_schedule(schedule, stages, 8, 1 if schedule == "ap" else 2))
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

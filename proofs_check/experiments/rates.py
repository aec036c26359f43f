"""Convergence rates and the asymptotic floor of MODEL.md §5, measured beside the theorems.

Part 1, the rate in K. The convergence check's task (proofs_check.theorems): a tanh network
4-6-6-3 (M = 3) with squared loss on 16 teacher–student samples with inputs on the unit
sphere, every micro-batch the whole data set, so the stochastic gradient is the full-data
gradient plus injected N(0, σ_n²) noise per entry: unbiased with variance exactly
σ² = σ_n²·P per micro-batch (P parameters) and σ²/B per SP update. ALD with
τ = 8·||W_0||_inf. The a-priori constants are the check's (ω_0 = 1.5·||W_m^{(0)}||_2 → L_0;
β_0 = 1 − 1.5·||W_0||_inf/τ; Δ_0 = f(W_0), f* ≥ 0), σ is set so that the step-size rule
α = min(β/(24L), sqrt(Δ_0/(L·variance·K))) switches to its sqrt branch at K* = 100 for AP
(the same σ per micro-batch for SP, whose K* is then 100·B), and every K of the sweep is a
separate run with its own α (proofs_check.theorems.chosen_step_size_value). Left side:
(1/K) Σ_{k<K} ||∇f(W^{(k)})||², the full-data gradient at every reference point, per seed
(seeds change only the noise). Right side: theory.convergence's theorem with the constants
measured on the run as the check measures them (ω the largest ||W_m^{(k)}||_2 of every
version, W_max the largest |w|, β = 1 − W_max/τ, L and Γ from the lemma, c_D from the
measured delays and the largest applied gradient norms; 0 for SP), and the hypotheses
(L ≤ L_0, β ≥ β_0, W_max < τ, α ≤ β/(24L)) verified after the run.

Part 2, the floor. The floor term 4σ²W_max²/(β²τ²) does not depend on the pipeline (and
on M = 3 the ALD's pull toward 0 meets the degenerate directions of a bias-free tanh network,
whose W = 0 is a critical point, within the step-size rule only after far longer runs),
so it is measured on a single crossbar, M = 1 (4 → 3, squared loss, a strongly convex
least-squares problem whose minimiser is the teacher W*, L = X² = 1), AP (plain SGD for
M = 1). α = β_0/(24L) with β_0 = 1 − 1.5·m/τ_min, m = max(||W_0||_inf, ||W*||_inf), fixed for
every τ and σ. τ ∈ {2, 4, 8, 16, 32}·||W*||_inf and τ = ∞ (digital SGD) run as replicas with
common noise (replica seed s has the same noise at every τ); one run per σ_n. The measured
plateau is the mean of ||∇f(W^{(k)})||² over the second half of a long run, per seed; the
excess over the digital run with the same noise isolates the device's bias from SGD's own
fluctuation (which the theorem's noise term 24Lασ²/β covers). Both are compared with the
formula (with the measured W_max) and with the whole right side as K → ∞ at fixed α
(noise term + floor); slopes in log τ and log σ are fitted and compared with −2 and +2.

Noise is injected by the device wrapper `NoisyDevice` (one generator per run, drawn once per
update for the S seeds and shared by every τ), which is the same in distribution as
`TrainingSettings.noise` (N(0, σ_n²) per micro-batch entry; for an SP update the mean of B
of them, N(0, σ_n²/B)) and much faster for many replicas.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Iterable

import numpy as np
from matplotlib.figure import Figure

from numerics import network
from numerics.activations import TANH
from numerics.data import Dataset, initial_weights
from numerics.devices import AsymmetricLinearDevice, Device
from numerics.losses import SQUARED
from numerics.schedules import schedule_named
from numerics.streams import generator
from numerics.training import TrainingSettings, schedule_record
from proofs_check import latex
from proofs_check import theorems as T
from proofs_check.executor import IN_PROCESS, Executor
from proofs_check.experiments.observe import observed_train
from proofs_check.experiments.summary import log_slope, plain_list, spread
from theory import convergence as C

Array = np.ndarray
Progress = Callable[[Iterable, int], Iterable]

SCHEDULES = ("sp", "ap")


@dataclass(frozen=True)
class RatesConfig:
    """Everything that defines the experiment (the JSON summary records it)."""

    quick: bool
    seed: int
    seeds: int
    updates: tuple[int, ...]
    floor_updates: int
    floor_seeds: int
    dims: tuple[int, ...] = (4, 6, 6, 3)
    samples: int = 16
    mini_batch: int = 4
    tau_factor: float = 8.0
    init_scale: float = 0.5
    omega_margin: float = 1.5
    saturation_margin: float = 1.5
    regime_threshold: float = 100.0
    floor_dims: tuple[int, ...] = (4, 3)
    floor_tau_factors: tuple[float, ...] = (2.0, 4.0, 8.0, 16.0, 32.0)
    floor_noise: tuple[float, ...] = (0.0625, 0.125, 0.25, 0.5)

    def as_dict(self) -> dict:
        values = dataclasses.asdict(self)
        return {key: list(value) if isinstance(value, tuple) else value for key, value in values.items()}


def rates_config(quick: bool, seed: int = 0) -> RatesConfig:
    """Full: K = 100…25,600 (×4), 16 seeds, floor runs of 30,000 updates with 16 seeds;
    quick: K = 100, 400, 1,600, 8 seeds, floor runs of 6,000 updates with 8 seeds."""
    if quick:
        return RatesConfig(quick=True, seed=seed, seeds=8, updates=(100, 400, 1600), floor_updates=6000, floor_seeds=8)
    return RatesConfig(quick=False, seed=seed, seeds=16, updates=(100, 400, 1600, 6400, 25600), floor_updates=30000, floor_seeds=16)


# ----------------------------------------------------------------------------- devices


class NoisyDevice:
    """W⁺ = inner.update(W, g + n, α) with n ~ N(0, σ_u²) per entry, σ_u = σ_n/sqrt(B) for an
    update that averages B micro-batches; records the largest ||g + n||_F per layer.

    The noise has shape [S, d_m, d_{m−1}] and is tiled over `groups` replica groups (the
    replica axis is group-major), so replica s of every group sees the same noise."""

    name = "noisy"

    def __init__(self, inner: Device, sigma: float, groups: int, seeds: int, rng: np.random.Generator, layers: int, events) -> None:
        self.inner = inner
        self.sigma = float(sigma)
        self.groups = groups
        self.seeds = seeds
        self.rng = rng
        self.events = list(events)
        self.calls = 0
        self.largest_applied = np.zeros(layers)

    @property
    def tau(self):
        return self.inner.tau

    def bind(self, shapes, seeds) -> tuple:
        """The Device protocol's binding: this wrapper is every layer's rule (its noise follows the calls)."""
        return (self,) * len(shapes)

    def update(self, weight: Array, gradient: Array, learning_rate) -> Array:
        layer = self.events[self.calls]
        self.calls += 1
        noise = self.rng.standard_normal((self.seeds,) + weight.shape[-2:]) * self.sigma
        applied = gradient + np.tile(noise, (self.groups, 1, 1))
        norm = float(np.max(np.linalg.norm(applied.reshape(applied.shape[0], -1), axis=-1)))
        self.largest_applied[layer] = max(self.largest_applied[layer], norm)
        return self.inner.update(weight, applied, learning_rate)

    def update_into(self, weight: Array, gradient: Array, learning_rate, out: Array, scratch: Array, spare_gradient: bool = False) -> None:
        """out = update(W, g, α): one noise draw per call, as `update`."""
        np.copyto(out, self.update(weight, gradient, learning_rate))


def _gradient_square(weights, x: Array, y: Array) -> Array:
    """||∇f(W)||² over the whole data, one value per replica."""
    gradients = network.gradients(weights, x, y, TANH, SQUARED)
    return sum(np.sum(g * g, axis=(-2, -1)) for g in gradients)


class _SpectralNorms:
    """Running max over every version of ||W_m||_2 (largest over replicas), batched."""

    def __init__(self, layers: int, batch: int = 512) -> None:
        self.largest = np.zeros(layers)
        self.buffers: list[list[Array]] = [[] for _ in range(layers)]
        self.batch = batch

    def add(self, layer: int, weight: Array) -> None:
        buffer = self.buffers[layer]
        buffer.append(weight)
        if len(buffer) >= self.batch:
            self.flush(layer)

    def flush(self, layer: int | None = None) -> None:
        for index in range(len(self.buffers)) if layer is None else (layer,):
            if self.buffers[index]:
                norms = np.linalg.norm(np.concatenate(self.buffers[index]), 2, axis=(-2, -1))
                self.largest[index] = max(self.largest[index], float(np.max(norms)))
                self.buffers[index] = []


# ----------------------------------------------------------------------------- part 1


@dataclass(frozen=True)
class _Task:
    dims: tuple[int, ...]
    data: Dataset
    initial: tuple[Array, ...]
    X: float
    Y: float
    tau: float
    L_0: float
    beta_0: float
    Delta_0: float
    parameters: int
    sigma2: float
    """σ² per micro-batch."""
    sigma_noise: float


def rate_task(config: RatesConfig) -> _Task:
    """The convergence check's task and a-priori constants (proofs_check.theorems)."""
    dims = config.dims
    data = T.teacher_student_sphere(dims, config.samples, config.seed)
    initial = initial_weights(list(dims), config.seed, scale=config.init_scale)
    X = float(np.max(np.linalg.norm(data.inputs, axis=-1)))
    Y = float(np.max(np.linalg.norm(data.targets, axis=-1)))
    saturation = float(max(np.max(np.abs(w)) for w in initial))
    tau = config.tau_factor * saturation
    omega_0 = [config.omega_margin * float(np.linalg.norm(w, 2)) for w in initial]
    beta_0 = 1 - config.saturation_margin * saturation / tau
    L_0, _, _ = T.smoothness(omega_0, X, Y)
    Delta_0 = float(network.mean_loss(initial, data.inputs, data.targets, TANH, SQUARED))
    parameters = int(sum(w.size for w in initial))
    unit = T._threshold_at_unit_noise("ap", L=L_0, beta=beta_0, Delta_0=Delta_0, B=1)
    sigma2 = unit / config.regime_threshold
    return _Task(tuple(dims), data, tuple(initial), X, Y, tau, float(L_0), beta_0, Delta_0, parameters, sigma2, math.sqrt(sigma2 / parameters))


def _rate_run(config: RatesConfig, task: _Task, schedule: str, K: int, run_index: int) -> dict:
    S = config.seeds
    B = schedule_named(schedule).micro_batches_per_update(config.mini_batch)
    alpha = T.chosen_step_size_value(schedule, L=task.L_0, beta=task.beta_0, Delta_0=task.Delta_0, sigma2=task.sigma2, B=config.mini_batch, K=K)
    layers = len(task.dims) - 1
    record = schedule_record(schedule, layers, K * B, B)
    rng = generator(config.seed, "rates-noise", run_index)
    noisy = NoisyDevice(AsymmetricLinearDevice(tau=task.tau), task.sigma_noise / math.sqrt(B), 1, S, rng, layers, [e.layer - 1 for e in record.updates])
    settings = TrainingSettings(
        schedule=schedule,
        device=noisy,
        learning_rate=alpha,
        updates=K,
        activation=TANH,
        loss=SQUARED,
        micro_batch_size=config.samples,
        mini_batch=config.mini_batch,
        seeds=tuple(range(S)),
    )
    x, y = task.data.inputs, task.data.targets
    squares = np.zeros((K, S))
    spectral = _SpectralNorms(layers)
    for m, w in enumerate(task.initial):
        spectral.add(m, w[None])

    def on_point(k: int, weights) -> None:
        squares[k] = _gradient_square(weights, x, y)

    def on_update(layer: int, index: int, new: Array, gradient: Array) -> None:
        spectral.add(layer, new)

    start = [np.broadcast_to(w, (S,) + w.shape).copy() for w in task.initial]
    result = observed_train(start, task.data, settings, range(K), on_point, on_update)
    spectral.flush()
    if not np.all(np.isfinite(squares)):
        raise ArithmeticError(f"{schedule} K={K}: a NaN or infinite gradient norm")

    omega = spectral.largest
    W_max = float(np.max(result.max_abs_weight))
    forward_delay, backward_delay = (np.max(d, axis=0) for d in result.record.delays)
    L, G_bound, Gamma = T.smoothness(omega, task.X, task.Y)
    beta = 1 - W_max / task.tau
    G_vec = np.maximum(G_bound, noisy.largest_applied)
    c_D_measured = (1 + W_max / task.tau) * float(np.linalg.norm(Gamma @ np.concatenate([forward_delay * G_vec, backward_delay * G_vec])))
    asynchronous = schedule_named(schedule).asynchronous
    c_D = c_D_measured if asynchronous else 0.0
    theorem = C.async_convergence() if asynchronous else C.sync_convergence()
    values = {"alpha": alpha, "beta": beta, "L": L, "sigma": math.sqrt(task.sigma2), "Delta_0": task.Delta_0, "K": K, "c_D": c_D, "W_max": W_max, "tau": task.tau, "B": float(config.mini_batch)}
    terms = {name: float(value) for name, value in theorem.evaluate_terms(values).items()}
    rhs = float(sum(terms.values()))
    per_seed = np.mean(squares, axis=0)
    lhs = spread(per_seed)
    return {
        "schedule": schedule,
        "K": K,
        "alpha": alpha,
        "regime": "sqrt-branch" if math.sqrt(task.Delta_0 * B / (task.L_0 * task.sigma2 * K)) <= task.beta_0 / (24 * task.L_0) else "step-size-branch",
        "micro_batches": K * B,
        "lhs_per_seed": plain_list(per_seed),
        "lhs": lhs,
        "lhs_initial": float(squares[0, 0]),
        "rhs": rhs,
        "terms": terms,
        "vanishing_part": rhs - terms["asymptotic_floor"],
        "rhs_over_lhs": rhs / lhs["mean"] if lhs["mean"] else None,
        "constants": {
            "L": float(L),
            "omega": plain_list(omega),
            "W_max": W_max,
            "beta": beta,
            "c_D": c_D,
            "c_D_measured_delays": c_D_measured,
            "G_vec": plain_list(G_vec),
            "forward_delay": [int(d) for d in forward_delay],
            "backward_delay": [int(d) for d in backward_delay],
        },
        "hypotheses": {
            "L <= L_0": bool(L <= task.L_0),
            "beta >= beta_0": bool(beta >= task.beta_0),
            "W_max < tau": bool(W_max < task.tau),
            "alpha <= beta/(24L)": bool(alpha <= beta / (24 * L) * (1 + 1e-12)),
        },
    }


# ----------------------------------------------------------------------------- part 2


def floor_task(config: RatesConfig) -> dict:
    """M = 1 least squares: data, initial weights, the teacher W*, τ grid and the fixed α."""
    dims = config.floor_dims
    data = T.teacher_student_sphere(dims, config.samples, config.seed)
    rng = generator(config.seed, "teacher")
    teacher = [rng.standard_normal((dims[m + 1], dims[m])) / np.sqrt(dims[m]) for m in range(len(dims) - 1)]
    initial = initial_weights(list(dims), config.seed, scale=config.init_scale)
    X = float(np.max(np.linalg.norm(data.inputs, axis=-1)))
    Y = float(np.max(np.linalg.norm(data.targets, axis=-1)))
    scale = float(max(np.max(np.abs(w)) for w in teacher))
    taus = np.array(config.floor_tau_factors, dtype=float) * scale
    m = max(scale, float(max(np.max(np.abs(w)) for w in initial)))
    beta_0 = 1 - config.saturation_margin * m / float(np.min(taus))
    omega_0 = [config.omega_margin * max(float(np.linalg.norm(w, 2)), float(np.linalg.norm(t, 2))) for w, t in zip(initial, teacher)]
    L_0, _, _ = T.smoothness(omega_0, X, Y)
    alpha = beta_0 / (24 * L_0)
    return {"dims": dims, "data": data, "initial": initial, "teacher": teacher, "X": X, "Y": Y, "teacher_scale": scale, "taus": taus, "beta_0": beta_0, "L_0": float(L_0), "alpha": alpha, "parameters": int(sum(w.size for w in initial))}


def _floor_run(config: RatesConfig, task: dict, sigma_noise: float, run_index: int) -> dict:
    S = config.floor_seeds
    taus = np.concatenate([task["taus"], [np.inf]])
    groups = len(taus)
    K = config.floor_updates
    layers = len(task["dims"]) - 1
    record = schedule_record("ap", layers, K, 1)
    rng = generator(config.seed, "rates-noise", 1000 + run_index)
    noisy = NoisyDevice(AsymmetricLinearDevice(tau=np.repeat(taus, S).reshape(-1, 1, 1)), sigma_noise, groups, S, rng, layers, [e.layer - 1 for e in record.updates])
    settings = TrainingSettings(
        schedule="ap", device=noisy, learning_rate=task["alpha"], updates=K, activation=TANH, loss=SQUARED,
        micro_batch_size=config.samples, mini_batch=1, seeds=tuple(range(groups * S)),
    )
    x, y = task["data"].inputs, task["data"].targets
    window = range(K // 2, K)
    squares = np.zeros((len(window), groups * S))

    def on_point(k: int, weights) -> None:
        squares[k - window.start] = _gradient_square(weights, x, y)

    start = [np.broadcast_to(w, (groups * S,) + w.shape).copy() for w in task["initial"]]
    result = observed_train(start, task["data"], settings, window, on_point)
    if not np.all(np.isfinite(squares)):
        raise ArithmeticError(f"floor run sigma_n={sigma_noise}: a NaN or infinite gradient norm")
    squares = squares.reshape(len(window), groups, S)
    plateau = np.mean(squares, axis=0)  # [groups, S]
    half = len(window) // 2
    drift = np.mean(squares[:half], axis=(0, 2)) / np.mean(squares[half:], axis=(0, 2))
    max_abs = np.asarray(result.max_abs_weight).reshape(groups, S)
    sigma2 = sigma_noise**2 * task["parameters"]
    rows = []
    digital = plateau[-1]
    for index, tau in enumerate(taus[:-1]):
        W_max = float(np.max(max_abs[index]))
        beta = 1 - W_max / tau
        floor = float(C.evaluate(C.asymptotic_floor(), {"sigma": math.sqrt(sigma2), "W_max": W_max, "tau": tau}))
        noise_term = float(C.evaluate(24 * C.L * C.alpha * C.sigma**2 / C.beta, {"L": task["L_0"], "alpha": task["alpha"], "sigma": math.sqrt(sigma2), "beta": beta}))
        excess = plateau[index] - digital
        rows.append(
            {
                "tau": float(tau),
                "tau_factor": float(tau / task["teacher_scale"]),
                "sigma_noise": sigma_noise,
                "sigma": math.sqrt(sigma2),
                "W_max": W_max,
                "beta": beta,
                "plateau": spread(plateau[index]),
                "excess": spread(excess),
                "excess_per_seed": plain_list(excess),
                "formula": floor,
                "formula_over_excess": floor / float(np.mean(excess)) if np.mean(excess) > 0 else None,
                "rhs_limit": noise_term + floor,
                "rhs_limit_over_plateau": (noise_term + floor) / float(np.mean(plateau[index])),
                "alpha_condition": bool(task["alpha"] <= beta / (24 * task["L_0"]) * (1 + 1e-12)),
                "drift": float(drift[index]),
            }
        )
    return {
        "sigma_noise": sigma_noise,
        "sigma": math.sqrt(sigma2),
        "digital_plateau": spread(digital),
        "digital_drift": float(drift[-1]),
        "rows": rows,
    }


# ----------------------------------------------------------------------------- the experiment


@lru_cache(maxsize=1)
def _tasks(config: RatesConfig) -> tuple[_Task, dict]:
    """(rate_task, floor_task) of the configuration, computed once per process (only read)."""
    return rate_task(config), floor_task(config)


def rates_cell_task(task: tuple[RatesConfig, int, str, str | None, float]) -> dict:
    """Task (`proofs_check.executor`): one run of the experiment, (config, run index, 'rate'
    or 'floor', schedule, K or σ_n); its noise stream is keyed by the run index."""
    config, index, kind, schedule, value = task
    rate, floor = _tasks(config)
    if kind == "rate":
        return _rate_run(config, rate, schedule, int(value), index)
    return _floor_run(config, floor, float(value), index)


def run_rates(config: RatesConfig, progress: Progress | None = None, executor: Executor = IN_PROCESS) -> dict:
    """Both parts; returns the summary (plain JSON data: every number the figure and tables show).
    The runs go through `executor` (in-process by default); the summary does not depend on where they ran."""
    if config.seeds < 2 or config.floor_seeds < 1:
        raise ValueError("the rate part needs at least 2 seeds and the floor part at least 1")
    task, floor = _tasks(config)
    jobs = [("rate", schedule, K) for schedule in SCHEDULES for K in config.updates] + [("floor", None, sigma) for sigma in config.floor_noise]
    rate_rows, floor_runs = [], []
    cells = executor.map(rates_cell_task, [(config, index, *job) for index, job in enumerate(jobs)], progress)
    for (kind, _, _), row in zip(jobs, cells):
        (rate_rows if kind == "rate" else floor_runs).append(row)
    _tasks.cache_clear()

    slopes = {}
    for schedule in SCHEDULES:
        rows = [row for row in rate_rows if row["schedule"] == schedule]
        K = [row["K"] for row in rows]
        slopes[schedule] = {
            "lhs": log_slope(K, [row["lhs"]["mean"] for row in rows]),
            "rhs": log_slope(K, [row["rhs"] for row in rows]),
            "vanishing_part": log_slope(K, [row["vanishing_part"] for row in rows]),
            "reference": T.REFERENCE_EXPONENT,
        }
    floor_rows = [row for run in floor_runs for row in run["rows"]]
    tau_slopes = []
    for run in floor_runs:
        rows = run["rows"]
        tau_slopes.append(
            {
                "sigma_noise": run["sigma_noise"],
                "excess": log_slope([r["tau"] for r in rows], [r["excess"]["mean"] for r in rows]),
                "plateau": log_slope([r["tau"] for r in rows], [r["plateau"]["mean"] for r in rows]),
                "formula": log_slope([r["tau"] for r in rows], [r["formula"] for r in rows]),
                "nominal": -2.0,
            }
        )
    sigma_slopes = []
    for factor in config.floor_tau_factors:
        rows = [r for r in floor_rows if math.isclose(r["tau_factor"], factor)]
        sigma_slopes.append(
            {
                "tau_factor": factor,
                "excess": log_slope([r["sigma"] for r in rows], [r["excess"]["mean"] for r in rows]),
                "plateau": log_slope([r["sigma"] for r in rows], [r["plateau"]["mean"] for r in rows]),
                "formula": log_slope([r["sigma"] for r in rows], [r["formula"] for r in rows]),
                "nominal": 2.0,
            }
        )
    holds = all(row["lhs"]["mean"] <= row["rhs"] for row in rate_rows) and all(row["plateau"]["mean"] <= row["rhs_limit"] for row in floor_rows)
    hypotheses = all(all(row["hypotheses"].values()) for row in rate_rows) and all(row["alpha_condition"] for row in floor_rows)
    return {
        "experiment": "rates",
        "config": config.as_dict(),
        "rate_task": {
            "dims": list(task.dims),
            "samples": config.samples,
            "X": task.X,
            "Y": task.Y,
            "tau": task.tau,
            "L_0": task.L_0,
            "beta_0": task.beta_0,
            "Delta_0": task.Delta_0,
            "f_lower": 0.0,
            "parameters": task.parameters,
            "sigma2_per_micro_batch": task.sigma2,
            "sigma_noise": task.sigma_noise,
            "mini_batch_sp": config.mini_batch,
            "seeds": "noise only: data and initial weights fixed by --seed",
        },
        "rate": rate_rows,
        "rate_slopes": slopes,
        "floor_task": {
            "dims": list(floor["dims"]),
            "X": floor["X"],
            "Y": floor["Y"],
            "L_0": floor["L_0"],
            "beta_0": floor["beta_0"],
            "alpha": floor["alpha"],
            "teacher_scale": floor["teacher_scale"],
            "taus": plain_list(floor["taus"]),
            "parameters": floor["parameters"],
            "updates": config.floor_updates,
            "window": [config.floor_updates // 2, config.floor_updates],
            "drift": "mean over the window's first half / second half (1 = stationary)",
        },
        "floor": floor_runs,
        "floor_slopes": {"tau": tau_slopes, "sigma": sigma_slopes},
        "checks": {"measured_below_bound_everywhere": bool(holds), "hypotheses_hold_everywhere": bool(hypotheses)},
    }


# ----------------------------------------------------------------------------- figure

_COLOURS = {"sp": "tab:blue", "ap": "tab:red"}


def rates_figure(summary: dict) -> Figure:
    """(a) the average squared gradient norm vs K (SP, AP; mean ± std over seeds) with the
    theorem's right side, its vanishing part and its floor; (b) the floor vs τ and (c) vs σ:
    measured excess over digital SGD (filled, mean ± std), raw plateau (hollow), formula (lines).
    Drawn at two-column width (proofs_check.figures.DOUBLE_COLUMN) with paper-sized text."""
    from proofs_check.figures import DOUBLE_COLUMN, paper_style

    with paper_style(6.5):
        return _rates_figure(summary, DOUBLE_COLUMN)


def _rates_figure(summary: dict, width: float) -> Figure:
    figure = Figure(figsize=(width, 0.5 * width), layout="constrained")
    rate_axes, tau_axes, sigma_axes = figure.subplots(1, 3)
    for schedule in SCHEDULES:
        rows = [row for row in summary["rate"] if row["schedule"] == schedule]
        K = np.array([row["K"] for row in rows], dtype=float)
        mean = np.array([row["lhs"]["mean"] for row in rows])
        std = np.array([row["lhs"]["std"] for row in rows])
        colour = _COLOURS[schedule]
        slope = summary["rate_slopes"][schedule]
        rate_axes.errorbar(K, mean, yerr=std, color=colour, marker="o", capsize=3, label=f"{schedule.upper()} measured (slope {slope['lhs']:.2f})")
        rate_axes.plot(K, [row["rhs"] for row in rows], color=colour, linewidth=1.8, label=f"{schedule.upper()} theorem rhs (slope {slope['rhs']:.2f})")
        rate_axes.plot(K, [row["vanishing_part"] for row in rows], color=colour, linestyle="--", linewidth=1.0, label=f"{schedule.upper()} vanishing part (slope {slope['vanishing_part']:.2f})")
        rate_axes.plot(K, [row["terms"]["asymptotic_floor"] for row in rows], color=colour, linestyle=":", linewidth=1.0, label=f"{schedule.upper()} floor term")
    rate_axes.set_xscale("log")
    rate_axes.set_yscale("log")
    rate_axes.set_xlabel("updates K")
    rate_axes.set_ylabel(r"$\frac{1}{K}\sum_{k<K}\|\nabla f(W^{(k)})\|^2$")
    task = summary["rate_task"]
    rate_axes.set_title(f"rate: M={len(task['dims']) - 1} tanh net, ALD τ={task['tau']:.2f},\nα chosen per K")
    rate_axes.grid(alpha=0.3, which="both")
    rate_axes.legend(fontsize=4.5, loc="upper right", labelspacing=0.25, handlelength=1.8)

    colours = [f"C{i}" for i in range(10)]
    floor_rows = [row for run in summary["floor"] for row in run["rows"]]
    for index, run in enumerate(summary["floor"]):
        rows = run["rows"]
        tau = np.array([r["tau"] for r in rows])
        colour = colours[index % len(colours)]
        tau_axes.errorbar(tau, [r["excess"]["mean"] for r in rows], yerr=[r["excess"]["std"] for r in rows], color=colour, marker="o", linestyle="none", capsize=3, label=f"σ={run['sigma']:.3g} excess")
        tau_axes.plot(tau, [r["plateau"]["mean"] for r in rows], color=colour, marker="o", markerfacecolor="none", linestyle="none")
        tau_axes.plot(tau, [r["formula"] for r in rows], color=colour, linewidth=1.0)
    _log_ticks(tau_axes, [r["tau"] for r in summary["floor"][0]["rows"]])
    tau_axes.set_yscale("log")
    tau_axes.set_xlabel("τ")
    tau_axes.set_ylabel(r"plateau of $\|\nabla f(W^{(k)})\|^2$")
    tau_axes.set_title("floor vs τ (M = 1)\nfilled: excess over digital\nhollow: plateau\nline: 4σ²W_max²/(β²τ²)")
    tau_axes.grid(alpha=0.3, which="both")
    tau_axes.legend(fontsize=5, labelspacing=0.25)

    factors = summary["config"]["floor_tau_factors"]
    for index, factor in enumerate(factors):
        rows = [r for r in floor_rows if math.isclose(r["tau_factor"], factor)]
        sigma = np.array([r["sigma"] for r in rows])
        colour = colours[(index + 4) % len(colours)]
        sigma_axes.errorbar(sigma, [r["excess"]["mean"] for r in rows], yerr=[r["excess"]["std"] for r in rows], color=colour, marker="s", linestyle="none", capsize=3, label=f"τ={rows[0]['tau']:.3g} excess")
        sigma_axes.plot(sigma, [r["plateau"]["mean"] for r in rows], color=colour, marker="s", markerfacecolor="none", linestyle="none")
        sigma_axes.plot(sigma, [r["formula"] for r in rows], color=colour, linewidth=1.0)
    _log_ticks(sigma_axes, [run["sigma"] for run in summary["floor"]])
    sigma_axes.set_yscale("log")
    sigma_axes.set_xlabel("σ (gradient noise, σ² = σ_n²·P)")
    sigma_axes.set_ylabel(r"plateau of $\|\nabla f(W^{(k)})\|^2$")
    sigma_axes.set_title("floor vs σ (M = 1)\nfilled: excess over digital\nhollow: plateau\nline: 4σ²W_max²/(β²τ²)")
    sigma_axes.grid(alpha=0.3, which="both")
    sigma_axes.legend(fontsize=5, labelspacing=0.25)
    return figure


def _log_ticks(axes, values) -> None:
    """Log x axis with ticks at the measured values only."""
    from matplotlib.ticker import NullLocator

    axes.set_xscale("log")
    axes.xaxis.set_minor_locator(NullLocator())
    axes.set_xticks(list(values), [f"{v:.3g}" for v in values])


# ----------------------------------------------------------------------------- tables


def _pm(summary: dict, digits: int = 3) -> str:
    if summary["mean"] is None:
        return "--"
    return latex.over(f"${_sci(summary['mean'], digits)}$", f"$\\pm {_sci(summary['std'], 2)}$")


def _sci(value: float, digits: int = 3) -> str:
    text = f"{value:.{digits}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return f"{mantissa} \\times 10^{{{int(exponent)}}}"
    return text


def rate_table(summary: dict) -> str:
    """Two tables (split to fit a page): per schedule and K, α, measured mean ± std, the theorem's
    right side, rhs/measured and the hypotheses; then the right side's four terms."""
    body, terms_body = [], []
    for schedule in SCHEDULES:
        body.append(schedule.upper())
        terms_body.append(schedule.upper())
        for row in (row for row in summary["rate"] if row["schedule"] == schedule):
            terms = row["terms"]
            body.append(
                [
                    latex.number(int(row["K"])),
                    f"${_sci(row['alpha'])}$",
                    _pm(row["lhs"]),
                    f"${_sci(row['rhs'])}$",
                    latex.ratio(row["rhs_over_lhs"], 3),
                    "yes" if all(row["hypotheses"].values()) else "no",
                ]
            )
            terms_body.append([latex.number(int(row["K"]))] + [f"${_sci(terms[name])}$" for name in ("descent", "noise", "asymptotic_floor", "delay")])
    task = summary["rate_task"]
    caption = (
        r"Rate in $K$: measured $\frac{1}{K}\sum_{k<K}\|\nabla f(W^{(k)})\|^2$ (mean, and below it the sample std, over "
        f"{summary['config']['seeds']} noise seeds) against the right side (rhs) of MODEL.md \\S5 with the measured constants; "
        f"tanh {'-'.join(map(str, task['dims']))}, ALD $\\tau={task['tau']:.3g}$, $\\sigma^2={task['sigma2_per_micro_batch']:.3g}$ per micro-batch, SP with $B={task['mini_batch_sp']}$. "
        r"Hypotheses (hyp.): $L\le L_0$, $\beta\ge\beta_0$, $W_{\max}<\tau$, $\alpha\le\beta/(24L)$ after the run."
    )
    header = ["$K$", r"$\alpha$", "measured", "rhs", latex.head("rhs/", "measured"), "hyp."]
    first = latex.table(header, body, caption, "tab:rates", "rrrrrl", size="small")
    terms_caption = r"The four terms of the right side of Table~\ref{tab:rates} (MODEL.md \S5) at each $K$."
    second = latex.table(["$K$", "descent", "noise", "floor", "delay"], terms_body, terms_caption, "tab:rates-terms", "rrrrr", size="small")
    return first + "\n" + second


FLOOR_RUNS_PER_TABLE = 2
"""σ values per floor table: more would not fit one page, so the floor table is split."""


def floor_table(summary: dict) -> str:
    """Per σ and τ: W_max, plateau, excess over digital, the formula, their ratio, the K → ∞
    right side; split into tables of FLOOR_RUNS_PER_TABLE values of σ, each fitting a page."""
    task = summary["floor_task"]
    header = [r"$\tau$", r"$W_{\max}$", "plateau", "excess", "formula", latex.head("formula/", "excess"), latex.head("rhs", r"$K\to\infty$"), "drift"]
    runs = summary["floor"]
    tables = []
    for part, first in enumerate(range(0, len(runs), FLOOR_RUNS_PER_TABLE)):
        body = []
        for run in runs[first:first + FLOOR_RUNS_PER_TABLE]:
            body.append(f"$\\sigma={_sci(run['sigma'])}$ ($\\sigma_n={run['sigma_noise']:g}$)")
            for row in run["rows"]:
                body.append(
                    [
                        f"${_sci(row['tau'])}$",
                        f"${row['W_max']:.3f}$",
                        _pm(row["plateau"]),
                        _pm(row["excess"]),
                        f"${_sci(row['formula'])}$",
                        "--" if row["formula_over_excess"] is None else f"${_sci(row['formula_over_excess'])}$",
                        f"${_sci(row['rhs_limit'])}$",
                        f"${row['drift']:.3f}$",
                    ]
                )
        if part == 0:
            caption = (
                f"Asymptotic floor on $M=1$ (ALD, $\\alpha={task['alpha']:.3g}$, {task['updates']} updates, plateau = mean of "
                r"$\|\nabla f(W^{(k)})\|^2$ over the second half; mean, and below it the sample std, over "
                f"{summary['config']['floor_seeds']} seeds). Excess: plateau minus digital SGD's with the same noise. "
                r"Formula: $4\sigma^2W_{\max}^2/(\beta^2\tau^2)$; rhs $K\to\infty$: $24L\alpha\sigma^2/\beta$ + formula. "
                "Drift: window's first half over its second half."
            )
        else:
            caption = r"Asymptotic floor (continued from Table~\ref{tab:floor}): larger $\sigma$."
        label = "tab:floor" if part == 0 else f"tab:floor-{part + 1}"
        tables.append(latex.table(header, body, caption, label, "rrrrrrrr", size="small", column_separation="4pt"))
    return "\n".join(tables)


def slope_table(summary: dict) -> str:
    """Fitted log-log slopes: the rate in K, and the floor in τ and σ, measured beside the formula's."""
    body = ["rate: $\\frac{1}{K}\\sum_{k<K}\\|\\nabla f(W^{(k)})\\|^2$ vs $K$"]
    for schedule in SCHEDULES:
        slope = summary["rate_slopes"][schedule]
        body.append([schedule.upper(), _slope(slope["lhs"]), _slope(slope["rhs"]), _slope(slope["vanishing_part"]), "$-1/2$ (vanishing part)"])
    body.append(r"floor: excess vs $\tau$")
    for row in summary["floor_slopes"]["tau"]:
        body.append([f"$\\sigma_n={row['sigma_noise']:g}$", _slope(row["excess"]), _slope(row["formula"]), "--", "$-2$"])
    body.append(r"floor: excess vs $\sigma$")
    for row in summary["floor_slopes"]["sigma"]:
        body.append([f"$\\tau={row['tau_factor']:g}\\,\\|W^*\\|_\\infty$", _slope(row["excess"]), _slope(row["formula"]), "--", "$+2$"])
    header = ["fit", "measured", latex.head("rhs or", "formula"), latex.head("vanishing", "part"), "nominal"]
    return latex.table(header, body, "Least-squares slopes in log-log coordinates (numpy.polyfit) of the measured values, of the theorem's right side (rate) or the floor formula, and of the right side's vanishing part.", "tab:rates-slopes", "lrrrl", size="small")


def _slope(value: float | None) -> str:
    return "--" if value is None else f"${value:.2f}$"

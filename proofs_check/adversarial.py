"""Adversarial search for the largest lhs/rhs ratio of a lemma, within MODEL.md's assumptions.

A *structure* fixes the discrete choices (M, widths, activation, loss, delays, α, τ);
its *search space* maps a parameter vector θ ∈ [−1, 1]^n to an instance (weights,
inputs, targets, perturbations, gradients; for the delay lemmas the initial weights of a
stale-gradient history). For each structure drawn, scipy's differential evolution (a
global method, vectorised so that one call evaluates a whole population as one batched
instance) is followed by multi-start local refinement (Powell) from the best points.
Every random choice flows from the seed and the budget is a number of evaluations, so the
same seed and budget give bit-identical results on any machine. Commands take a budget in
seconds and convert it at the nominal rate `EVALUATIONS_PER_SECOND` (measured on a 2-core
machine); the elapsed time is reported beside it.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy import optimize

from numerics.activations import ACTIVATIONS
from numerics.devices import make_device
from numerics.losses import LOSSES
from numerics.streams import generator
from proofs_check import lemmas
from proofs_check.histories import stale_history
from proofs_check.instances import Instance, select

Array = np.ndarray
Scorer = Callable[[Instance], Array]
"""Batched instance ↦ score per row (the largest ratio found in that row)."""

MICRO_BATCH_LEMMAS = ("analog-increment", "gradient-delay")
OUTSIDE = -1.0
"""Score of a point outside the domain (ratios are ≥ 0; a finite value keeps the optimisers' arithmetic finite)."""
LARGEST_WEIGHT = 1e3
"""Search domain: no weight version beyond this magnitude."""
DELAY_LEMMAS = ("signal-delay", "gradient-delay")


@dataclass(frozen=True)
class Structure:
    """The discrete part of an adversarial instance."""

    lemma: str
    dims: tuple[int, ...]
    activation: str
    loss: str
    samples: int
    alpha: float
    tau: float
    labels: tuple[int, ...] = ()
    """Class labels (cross-entropy)."""
    window: int = 0
    """History length for the delay lemmas."""
    delays: tuple[int, ...] = ()
    """Forward delays d^f_m (delay lemmas)."""
    weight_scale: float = 1.0
    """Weights range over [−scale, scale] (box-invariance: [−τ, τ])."""
    perturbation_scale: float = 0.3
    """Perturbations of W^f, W^b, W' range over [−scale, scale]."""

    @property
    def layers(self) -> int:
        return len(self.dims) - 1


def random_structure(lemma: str, rng: np.random.Generator) -> Structure:
    """A structure within the assumptions: M 1–3, widths 1–3, any activation and loss."""
    small = [0.45, 0.33, 0.22]  # equality cases live on small networks: favour them
    layers = int(rng.choice([1, 2, 3], p=small))
    dims = tuple(int(d) for d in rng.choice([1, 2, 3], p=small, size=layers + 1))
    activation = str(rng.choice(sorted(ACTIVATIONS)))
    loss = str(rng.choice(sorted(LOSSES)))
    samples = int(rng.integers(1, 3)) if lemma in MICRO_BATCH_LEMMAS else 1
    labels = tuple(int(label) for label in rng.integers(0, dims[-1], size=samples)) if LOSSES[loss].integer_targets else ()
    taus = [0.5, 2.0, 8.0] if lemma == "box-invariance" else [math.inf, 0.5, 2.0, 8.0]
    window, delays = 0, ()
    if lemma in DELAY_LEMMAS:
        window = int(rng.integers(1, 4))
        if rng.random() < 0.5:
            delays = tuple(min(window, layers - m) for m in range(1, layers + 1))
        else:
            delays = tuple(int(d) for d in rng.integers(0, window + 1, size=layers))
    return Structure(
        lemma=lemma,
        dims=dims,
        activation=activation,
        loss=loss,
        samples=samples,
        alpha=float(np.exp(rng.uniform(np.log(1e-3), np.log(0.5)))),
        tau=float(rng.choice(taus)),
        labels=labels,
        window=window,
        delays=delays,
        weight_scale=float(rng.choice([0.5, 1.5, 3.0])),
        perturbation_scale=float(rng.choice([0.01, 0.3, 1.0])),
    )


class SearchSpace:
    """θ ∈ [−1, 1]^n ↦ batched instance of a structure."""

    def __init__(self, structure: Structure) -> None:
        self.structure = structure
        dims, samples = structure.dims, structure.samples
        self.shapes: list[tuple[str, tuple[int, ...]]] = [(f"W{m + 1}", (dims[m + 1], dims[m])) for m in range(structure.layers)]
        self.shapes.append(("x", (samples, dims[0])))
        if not LOSSES[structure.loss].integer_targets:
            self.shapes.append(("y", (samples, dims[-1])))
        lemma = structure.lemma
        perturbed = []
        if lemma == "signal-stability":
            perturbed = ["f", "b"]
        elif lemma in ("objective-smoothness", "analog-increment"):
            perturbed = ["f"]
        elif lemma == "box-invariance":
            perturbed = ["g"]
        for tag in perturbed:
            self.shapes += [(f"{tag}{m + 1}", (dims[m + 1], dims[m])) for m in range(structure.layers)]
        self.size = sum(int(np.prod(shape)) for _, shape in self.shapes)

    def within_domain(self, instance: Instance) -> Array:
        """Rows inside the lemma's assumptions and the search domain (a delay history may not
        leave [−LARGEST_WEIGHT, LARGEST_WEIGHT], where float64 would overflow)."""
        inside = lemmas.assumptions_hold(instance) & lemmas.finite_rows(instance)
        if instance.history is not None:
            for versions in instance.history:
                inside &= np.all(np.abs(np.nan_to_num(versions, nan=np.inf)) <= LARGEST_WEIGHT, axis=(1, 2, 3))
        return inside

    def unpack(self, theta: Array) -> dict[str, Array]:
        """θ [S, n] ↦ named arrays [S, ...]."""
        parts, offset = {}, 0
        for name, shape in self.shapes:
            count = int(np.prod(shape))
            parts[name] = theta[:, offset : offset + count].reshape((theta.shape[0],) + shape)
            offset += count
        return parts

    def instance(self, theta: Array) -> Instance:
        """The batched instance of the rows of θ [S, n]."""
        s = self.structure
        theta = np.clip(np.atleast_2d(theta), -1.0, 1.0)
        parts = self.unpack(theta)
        rows = theta.shape[0]
        layers = s.layers
        finite_tau = math.isfinite(s.tau)
        scale = s.tau if s.lemma == "box-invariance" else s.weight_scale
        weights = tuple(parts[f"W{m + 1}"] * scale for m in range(layers))
        if finite_tau:
            weights = tuple(np.clip(w, -s.tau, s.tau) for w in weights)
        inputs = parts["x"] * 3.0
        if LOSSES[s.loss].integer_targets:
            targets = np.broadcast_to(np.array(s.labels, dtype=np.int64), (rows, s.samples)).copy()
        else:
            targets = parts["y"] * 3.0
        common = dict(activation=s.activation, loss=s.loss, inputs=inputs, targets=targets, alpha=s.alpha, tau=s.tau, origin="adversarial search")
        common["extra"] = {"structure": repr(s)}
        if s.lemma == "signal-stability":
            forward = tuple(w + parts[f"f{m + 1}"] * s.perturbation_scale for m, w in enumerate(weights))
            backward = tuple(w + parts[f"b{m + 1}"] * s.perturbation_scale for m, w in enumerate(weights))
            return Instance(s.lemma, weights=weights, forward_weights=forward, backward_weights=backward, **common)
        if s.lemma in ("objective-smoothness", "analog-increment"):
            other = tuple(w + parts[f"f{m + 1}"] * s.perturbation_scale for m, w in enumerate(weights))
            return Instance(s.lemma, weights=weights, forward_weights=other, **common)
        if s.lemma == "box-invariance":
            gradient = tuple(parts[f"g{m + 1}"] * (s.tau / s.alpha) for m in range(layers))
            return Instance(s.lemma, weights=weights, gradient=gradient, **common)
        if s.lemma in DELAY_LEMMAS:
            device = make_device("ald", s.tau) if finite_tau else make_device("digital")
            history = stale_history(
                weights, inputs, targets, ACTIVATIONS[s.activation], LOSSES[s.loss], device, s.alpha, s.window, s.delays
            )
            delays = np.broadcast_to(np.array(s.delays, dtype=np.int64), (rows, layers)).copy()
            return Instance(
                s.lemma,
                weights=tuple(h[:, -1] for h in history),
                history=history,
                forward_delays=delays,
                backward_delays=np.zeros_like(delays),
                **common,
            )
        return Instance(s.lemma, weights=weights, **common)


def largest_ratio_score(model: lemmas.ConstantsModel = lemmas.EXACT) -> Scorer:
    """Score = the largest lhs/rhs over every part of the lemma (its own bound, or a variant's)."""

    def score(instance: Instance) -> Array:
        evaluation = lemmas.evaluate(instance, model=model)
        rows = instance.inputs.shape[0]
        best = np.full(rows, -np.inf)
        for part in evaluation.parts:
            ratio = _row_ratios(part.lhs, part.rhs, rows)
            best = np.where(np.isnan(ratio) | np.isnan(best), np.nan, np.maximum(best, ratio))
        return best

    return score


def _row_ratios(lhs: Array, rhs: Array, rows: int) -> Array:
    from proofs_check.tolerance import ratios

    lhs, rhs = np.broadcast_arrays(np.asarray(lhs, dtype=float), np.asarray(rhs, dtype=float))
    ratio = ratios(lhs, rhs).reshape(rows, -1)
    worst = np.max(np.where(np.isnan(ratio), -np.inf, ratio), axis=1)
    return np.where(np.isnan(ratio).any(axis=1), np.nan, worst)


@dataclass
class SearchResult:
    """Outcome of an adversarial search."""

    lemma: str
    best_ratio: float
    """Largest score found (float64)."""
    best_instance: Instance | None
    """The single instance that attained it."""
    evaluations: int
    structures: int
    elapsed: float
    error_instance: Instance | None = None
    """An instance on which the evaluation produced NaN or inf (an error, never 'holds')."""
    history: list[float] = field(default_factory=list)
    """Best score after each structure."""


class _Budget(Exception):
    pass


EXPLORATION_SHARE = 0.3
"""Fraction of the budget spent drawing one random batch on each of many structures."""
EVALUATIONS_PER_SECOND = 10_000
"""Nominal evaluation rate that turns a budget in seconds into a number of evaluations."""


def evaluations_for(seconds: float) -> int:
    """The evaluation budget of `seconds` at the nominal rate."""
    return max(EXPLORATION_BATCH, int(round(seconds * EVALUATIONS_PER_SECOND)))
EXPLORATION_BATCH = 64


def _refine(space: SearchSpace, evaluate_rows, rng: np.random.Generator) -> None:
    """Differential evolution (vectorised) then Powell from its best point and from a random start."""
    population = max(8, min(40, 4 * space.size))
    result = optimize.differential_evolution(
        lambda thetas: -evaluate_rows(space, thetas.T),
        bounds=[(-1.0, 1.0)] * space.size,
        popsize=max(1, population // space.size),
        maxiter=30,
        tol=0.0,
        seed=rng,
        polish=False,
        vectorized=True,
        updating="deferred",
        init="sobol" if space.size > 1 else "latinhypercube",
    )
    for start_point in (result.x, rng.uniform(-1, 1, size=space.size)):
        optimize.minimize(
            lambda theta: -float(evaluate_rows(space, theta[None, :])[0]),
            start_point,
            method="Powell",
            bounds=[(-1.0, 1.0)] * space.size,
            options={"maxfev": 20 * space.size, "xtol": 1e-6, "ftol": 1e-10},
        )


def search(
    lemma: str,
    scorer: Scorer,
    evaluations: int,
    seed: int,
    stop_above: float | None = None,
) -> SearchResult:
    """Maximise `scorer` over instances of `lemma` with about `evaluations` evaluations.

    Stops early once a score exceeds `stop_above` (a violation found).
    """
    rng = generator(seed, "adversarial")
    start = time.perf_counter()
    state = {"best": -np.inf, "instance": None, "evaluations": 0, "error": None}
    history: list[float] = []
    structures = 0

    def evaluate_rows(space: SearchSpace, theta: Array) -> Array:
        with np.errstate(all="ignore"):
            instance = space.instance(theta)
            scores = scorer(instance)
        scores = np.where(space.within_domain(instance), scores, OUTSIDE)
        state["evaluations"] += len(scores)
        bad = ~np.isfinite(scores) & ~(np.isneginf(scores))
        if bad.any() and state["error"] is None:
            state["error"] = select(instance, int(np.flatnonzero(bad)[0]))
        finite = np.where(np.isfinite(scores), scores, OUTSIDE)
        index = int(np.argmax(finite))
        if finite[index] > state["best"]:
            state["best"] = float(finite[index])
            state["instance"] = select(instance, index)
        if stop_above is not None and state["best"] > stop_above:
            raise _Budget
        if state["evaluations"] >= evaluations:
            raise _Budget
        return finite

    # Exploration: one random batch on each of many structures; exploitation: differential
    # evolution and local refinement on the most promising structures, best first.
    explored: list[tuple[float, int, SearchSpace]] = []
    try:
        while state["evaluations"] < EXPLORATION_SHARE * evaluations:
            space = SearchSpace(random_structure(lemma, rng))
            structures += 1
            scores = evaluate_rows(space, rng.uniform(-1.0, 1.0, size=(EXPLORATION_BATCH, space.size)))
            explored.append((float(np.max(scores)), structures, space))
            history.append(state["best"])
        explored.sort(key=lambda item: (-item[0], item[1]))
        for _, _, space in explored:
            _refine(space, evaluate_rows, rng)
            history.append(state["best"])
        while True:
            space = SearchSpace(random_structure(lemma, rng))
            structures += 1
            _refine(space, evaluate_rows, rng)
            history.append(state["best"])
    except _Budget:
        history.append(state["best"])
    return SearchResult(
        lemma=lemma,
        best_ratio=state["best"],
        best_instance=state["instance"],
        evaluations=state["evaluations"],
        structures=structures,
        elapsed=time.perf_counter() - start,
        error_instance=state["error"],
        history=history,
    )

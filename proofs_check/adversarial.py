"""Adversarial search for the largest lhs/rhs ratio of a lemma, within MODEL.md's assumptions.

A *structure* fixes the discrete choices (M, widths, activation, loss, delays, α, τ);
its *search space* maps a parameter vector θ ∈ [−1, 1]^n to an instance (weights,
inputs, targets, perturbations, gradients; for the delay lemmas the initial weights of a
stale-gradient history). For each structure drawn, scipy's differential evolution (a
global method, vectorised so that one call evaluates a whole population as one batched
instance) is followed by L-BFGS-B from its best point (each forward-difference gradient one
batch of n + 1 points) and a local differential evolution around where that ended.
Every random choice flows from the seed and the budget is a number of evaluations, so the
same seed and budget give bit-identical results on any machine. Commands take a budget in
seconds and convert it at the nominal rate `EVALUATIONS_PER_SECOND` (the unit of `--budget`: 10,000
evaluations; the batched search runs about 34,000 a second on a 2-core machine); the elapsed
time is reported beside it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy import optimize

from proofs_check.instances import Instance, finite_rows, select
from proofs_check.interruption import raise_if_requested
from proofs_check.library import Lemma, Structure
from proofs_check.tolerance import ratios
from numerics.streams import generator

Array = np.ndarray
Scorer = Callable[[Instance], Array]
"""Batched instance ↦ score per row (the largest ratio found in that row)."""

OUTSIDE = -1.0
"""Score of a point outside the domain (ratios are ≥ 0; a finite value keeps the optimisers' arithmetic finite)."""
LARGEST_WEIGHT = 1e3
"""Search domain: no weight version beyond this magnitude."""


class SearchSpace:
    """θ ∈ [−1, 1]^n ↦ batched instance of a lemma's structure (the lemma shapes both)."""

    def __init__(self, lemma: Lemma, structure: Structure) -> None:
        self.lemma = lemma
        self.structure = structure
        self.shapes = lemma.search_parameters(structure)
        self.size = sum(int(np.prod(shape)) for _, shape in self.shapes)

    def within_domain(self, instance: Instance) -> Array:
        """Rows inside the lemma's assumptions and the search domain (a delay history may not
        leave [−LARGEST_WEIGHT, LARGEST_WEIGHT], where float64 would overflow)."""
        inside = self.lemma.assumptions_hold(instance) & finite_rows(instance)
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
        theta = np.clip(np.atleast_2d(theta), -1.0, 1.0)
        return self.lemma.search_instance(self.structure, self.unpack(theta))


def row_ratios(parts, rows: int) -> Array:
    """Per batch row, the largest lhs/rhs over every entry of the parts (proofs_check.library.Part)
    that could fail (−inf if none; NaN if any entry of any part is not finite). The parts'
    entries are laid side by side per row and judged in one pass."""
    lhs_rows, rhs_rows, excluded_rows = [], [], []
    for part in parts:
        lhs, rhs = np.broadcast_arrays(np.asarray(part.lhs, dtype=float), np.asarray(part.rhs, dtype=float))
        excluded = ((lhs == 0) & (rhs == 0)) | np.broadcast_to(np.asarray(part.vacuous, dtype=bool), lhs.shape)
        lhs_rows.append(lhs.reshape(rows, -1))
        rhs_rows.append(rhs.reshape(rows, -1))
        excluded_rows.append(excluded.reshape(rows, -1))
    if not lhs_rows:
        return np.full(rows, -np.inf)
    ratio = ratios(np.concatenate(lhs_rows, axis=1), np.concatenate(rhs_rows, axis=1))
    excluded = np.concatenate(excluded_rows, axis=1)
    worst = np.max(np.where(np.isnan(ratio) | excluded, -np.inf, ratio), axis=1, initial=-np.inf)
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


def _differential_evolution(space: SearchSpace, evaluate_rows, rng: np.random.Generator, bounds, generations: int, population: int, **options):
    """scipy's differential evolution, vectorised: each generation is one batched evaluation."""
    return optimize.differential_evolution(
        lambda thetas: -evaluate_rows(space, thetas.T),
        bounds=bounds,
        popsize=max(1, population // space.size),
        maxiter=generations,
        tol=0.0,
        seed=rng,
        polish=False,
        vectorized=True,
        updating="deferred",
        **options,
    )


FINITE_DIFFERENCE_STEP = float(np.sqrt(np.finfo(float).eps))
"""Step of the forward differences that give L-BFGS-B its gradient (θ lies in [−1, 1])."""
LOCAL_EVALUATIONS = 20
"""Evaluations per parameter of each local stage (L-BFGS-B, then local differential evolution)."""
LOCAL_RADIUS = 0.5
"""Half-width of the box of the local differential evolution around the L-BFGS-B end point."""


def _gradient_descent(space: SearchSpace, evaluate_rows, start: Array, evaluations: int):
    """scipy's L-BFGS-B from `start` within [−1, 1]^n; each value comes with its forward-difference
    gradient, all n + 1 points evaluated as one batch (a step that would leave the box goes backwards)."""

    def value_and_gradient(theta: Array) -> tuple[float, Array]:
        theta = np.clip(theta, -1.0, 1.0)
        steps = np.where(theta + FINITE_DIFFERENCE_STEP <= 1.0, FINITE_DIFFERENCE_STEP, -FINITE_DIFFERENCE_STEP)
        values = -evaluate_rows(space, np.vstack([theta, theta + np.diag(steps)]))
        return float(values[0]), (values[1:] - values[0]) / steps

    return optimize.minimize(
        value_and_gradient,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=[(-1.0, 1.0)] * space.size,
        options={"maxfun": max(1, evaluations // (space.size + 1)), "maxiter": evaluations},
    )


def _refine(space: SearchSpace, evaluate_rows, rng: np.random.Generator) -> None:
    """Batched refinement of one structure: differential evolution over [−1, 1]^n, L-BFGS-B from
    its best point, then differential evolution in a box of half-width `LOCAL_RADIUS` around
    where L-BFGS-B ended (points beyond [−1, 1] are clipped onto its faces by `SearchSpace`,
    so a face or a corner is reached with positive probability). Every stage evaluates whole
    batches: the population of a generation, or a point with its n difference points."""
    population = max(8, min(40, 4 * space.size))
    result = _differential_evolution(
        space, evaluate_rows, rng, [(-1.0, 1.0)] * space.size, 30, population,
        init="sobol" if space.size > 1 else "latinhypercube",
    )
    local = _gradient_descent(space, evaluate_rows, result.x, LOCAL_EVALUATIONS * space.size)
    centre = np.clip(local.x, -1.0, 1.0)
    members = max(1, population // space.size) * space.size
    _differential_evolution(
        space, evaluate_rows, rng, list(zip(centre - LOCAL_RADIUS, centre + LOCAL_RADIUS)),
        max(1, LOCAL_EVALUATIONS * space.size // members - 1), population, init="latinhypercube", x0=centre,
    )


def refinement_order(explored: list[tuple[float, int, "SearchSpace"]]) -> list["SearchSpace"]:
    """The explored structures to refine, best first within each number of layers M, taking
    the M's in turn: the larger networks, whose scores rarely beat the small ones' early,
    still get their share of the budget."""
    by_layers: dict[int, list[tuple[float, int, SearchSpace]]] = {}
    for item in sorted(explored, key=lambda item: (-item[0], item[1])):
        by_layers.setdefault(item[2].structure.layers, []).append(item)
    queues = [by_layers[layers] for layers in sorted(by_layers)]
    return [queue[rank][2] for rank in range(max(map(len, queues), default=0)) for queue in queues if rank < len(queue)]


def search(
    lemma: Lemma,
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
        raise_if_requested()  # a stop signal whose exception a finaliser swallowed
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
            space = SearchSpace(lemma, lemma.draw_structure(rng))
            structures += 1
            scores = evaluate_rows(space, rng.uniform(-1.0, 1.0, size=(EXPLORATION_BATCH, space.size)))
            explored.append((float(np.max(scores)), structures, space))
            history.append(state["best"])
        for space in refinement_order(explored):
            _refine(space, evaluate_rows, rng)
            history.append(state["best"])
        while True:
            space = SearchSpace(lemma, lemma.draw_structure(rng))
            structures += 1
            _refine(space, evaluate_rows, rng)
            history.append(state["best"])
    except _Budget:
        history.append(state["best"])
    return SearchResult(
        lemma=lemma.id,
        best_ratio=state["best"],
        best_instance=state["instance"],
        evaluations=state["evaluations"],
        structures=structures,
        elapsed=time.perf_counter() - start,
        error_instance=state["error"],
        history=history,
    )

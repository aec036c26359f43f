"""What a lemma is: one object holding its statement, its evaluator, its instances and its
adversarial search space, its assumption checks and its false variants.

A concrete lemma subclasses `Lemma` and fills in

- `statement` (theory.statements.Statement: sympy right sides, LaTeX, paper label,
  hypotheses) and `evaluate_at(context)`, the numerical evaluator: the left and right
  sides of every part at an instance (`Evaluation`);
- `from_trace(view)`, the instance of the lemma on a simulator trace (all updates at once);
- `search_instance(...)` and the class attributes that shape its adversarial search
  space (`micro_batch`, `finite_tau_only`, `delay_window`, `perturbations`);
- `assumptions_hold(instance)`, per batch row;
- `false_variants`, deliberately false versions the engine must refute.

The engine, the commands, the tables and the kill-rate loop iterate over the registry
(`proofs_check.library.registry`) and call these methods; nothing else knows a lemma's id.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Sequence

import numpy as np

from numerics.activations import ACTIVATIONS
from numerics.losses import LOSSES
from proofs_check.candidates import BOUND_SYMBOLS
from proofs_check.instances import Instance
from proofs_check.library.context import EXACT, ConstantsModel, Context
from proofs_check.precision import FLOAT64, Arithmetic

if TYPE_CHECKING:  # pragma: no cover
    from proofs_check.traces import TraceView
    from theory.statements import Statement

Array = np.ndarray



@dataclass
class Part:
    """One inequality family lhs ≤ rhs, arrays of shape [batch..., entries]."""

    name: str
    """The inequality, in MODEL.md's notation."""
    lhs: Array
    rhs: Array
    layer: int | None = None
    """Layer m the part is about (None for whole-network quantities)."""
    vacuous: bool | Array = False
    """Entries that cannot fail (a definition, an identity, or outside the part's hypotheses),
    a bool or a mask broadcastable against lhs: counted apart, never as evidence. Entries
    with both sides exactly 0 are vacuous too (the tolerance policy adds them)."""


@dataclass
class Evaluation:
    """All parts of one lemma at one (batched) instance, and the lemma's symbol values."""

    lemma: str
    parts: list[Part]
    headline: Part
    """The lemma's quantity (CONTRACT.md `bound`) and the lemma's own right side."""
    symbols: dict[str, Array] = field(default_factory=dict)
    """Values of CONTRACT.md's `bound` symbols, broadcastable against `headline.lhs`."""
    values: dict[str, Array] = field(default_factory=dict)
    """Values of the statement's symbols (omega_1, u_f_2, ...): the sympy right sides
    evaluated at these equal the parts' right sides (the formula path)."""


@dataclass(frozen=True)
class FalseVariant:
    """A deliberately false version of a lemma: a wrong headline right side (`rhs`, an
    expression in the bound symbols) or a wrong recursion (`model`), optionally asserted
    only on the parts whose names contain one of `only`."""

    kind: str
    """What is wrong: 'missing factor', 'dropped term', 'S_φ omitted', ..."""
    name: str
    """The false inequality, in MODEL.md's notation."""
    rhs: str | None = None
    model: ConstantsModel | None = None
    only: tuple[str, ...] = ()


@dataclass(frozen=True)
class Structure:
    """The discrete part of an adversarial instance (M, widths, activation, loss, α, τ, delays)."""

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
    """History length (delay lemmas)."""
    delays: tuple[int, ...] = ()
    """Forward delays d^f_m (delay lemmas)."""
    backward_delays: tuple[int, ...] = ()
    """Backward delays d^b_m (delay lemmas; empty: 0, the backward MVMs read the current version)."""
    weight_scale: float = 1.0
    """Weights range over [−scale, scale]."""
    perturbation_scale: float = 0.3
    """Perturbations of W^f, W^b, W' range over [−scale, scale]."""

    @property
    def layers(self) -> int:
        return len(self.dims) - 1


MAX_LAYERS, MAX_WIDTH, MAX_WINDOW = 6, 4, 5
"""The adversarial search's range: M ≤ 6 stages, widths ≤ 4, delay windows ≤ 5."""


def decreasing(count: int) -> np.ndarray:
    """Probabilities ∝ 1/sqrt(k) of the values 1..count: small structures (where equality
    cases live) come first, and the largest still get a fair share (M ≥ 4 of 6: 37%)."""
    weights = 1 / np.sqrt(np.arange(1, count + 1))
    return weights / weights.sum()

TAUS = (math.inf, 0.5, 2.0, 8.0)
"""Device bounds the search draws (∞: digital SGD)."""


class Lemma:
    """A lemma of the toolkit: subclass it (see the module docstring), or use `UserLemma`."""

    id: str = ""
    """The lemma id (CONTRACT.md ids for the built-ins)."""
    statement: "Statement | None" = None
    """The symbolic statement (None for lemmas defined only numerically)."""
    symbols: tuple[str, ...] = BOUND_SYMBOLS
    """Symbols a candidate right side may use."""
    false_variants: tuple[FalseVariant, ...] = ()
    builtin: bool = False
    """One of the toolkit's own lemmas (MODEL.md §4)."""

    # The shape of the adversarial search space.
    micro_batch: bool = False
    """Draw micro-batches of 1–2 samples (else one sample)."""
    finite_tau_only: bool = False
    """Draw only finite τ (the lemma is about the analog device)."""
    delay_window: bool = False
    """Draw a delay window and delays (instances carry a history of versions)."""
    backward_delay_window: bool = False
    """Draw backward delays d^b too (with a delay window): 0 as in `ap`, d^f as in
    `pipedream`, or any in 0..window, each a third of the time."""
    perturbations: tuple[str, ...] = ()
    """Extra weight-shaped parameters: 'f' (W^f or W'), 'b' (W^b), 'g' (a gradient)."""

    # -------------------------------------------------------------- description

    @property
    def title(self) -> str:
        return self.statement.title if self.statement is not None else self.id

    @property
    def paper_label(self) -> str | None:
        return self.statement.paper_label if self.statement is not None else None

    @property
    def hypotheses(self) -> tuple[str, ...]:
        return self.statement.hypotheses if self.statement is not None else ()

    @property
    def headline(self) -> str:
        """The inequality of the lemma's quantity (its left side is what `bound` bounds)."""
        return self.statement.headline if self.statement is not None else self.id

    @property
    def quantity(self) -> str:
        """The left side of the headline, in MODEL.md's notation."""
        return self.headline.split("≤")[0].strip()

    def __str__(self) -> str:
        label = self.paper_label or ("this project (MODEL.md §4)" if self.builtin else "user lemma")
        return f"{self.id} [{label}]: {self.title}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id!r}>"

    # -------------------------------------------------------------- evaluation

    def evaluate(self, instance: Instance, arithmetic: Arithmetic = FLOAT64, model: ConstantsModel = EXACT) -> Evaluation:
        """Every part of the lemma at the instance, in the given arithmetic, with right
        sides from the given constants model (MODEL.md's, or a false variant's)."""
        return self.evaluate_in(Context(instance, arithmetic, model))

    def evaluate_in(self, context: Context) -> Evaluation:
        """Every part of the lemma in a context (`Context.sibling` shares its model-independent work)."""
        with context.ar.context():
            return self.evaluate_at(context)

    def evaluate_at(self, context: Context) -> Evaluation:
        raise NotImplementedError

    def assumptions_hold(self, instance: Instance) -> Array:
        """Per batch row (or 0-d): do the instance's finite numbers satisfy the lemma's
        hypotheses? Rows with non-finite numbers count as inside: they are errors to report,
        never instances to skip."""
        return np.ones(instance.inputs.shape[:-2], dtype=bool)

    # -------------------------------------------------------------- instances

    def from_trace(self, view: "TraceView") -> Instance | None:
        """The lemma's batched instance on a trace (batch axis: the updates), or None."""
        return None

    def draw_structure(self, rng, max_layers: int = MAX_LAYERS, max_width: int = MAX_WIDTH, max_window: int = MAX_WINDOW) -> Structure:
        """A random structure within the assumptions: M 1–max_layers, widths 1–max_width,
        delay windows 1–max_window, any activation and loss. `rng` is a numpy Generator, or
        anything with its `choice`, `integers`, `random` and `uniform` (proofs_check.strategies
        draws through hypothesis)."""
        layers = int(rng.choice(list(range(1, max_layers + 1)), p=decreasing(max_layers)))
        dims = tuple(int(d) for d in rng.choice(list(range(1, max_width + 1)), p=decreasing(max_width), size=layers + 1))
        activation = str(rng.choice(sorted(ACTIVATIONS)))
        loss = str(rng.choice(sorted(LOSSES)))
        samples = int(rng.integers(1, 3)) if self.micro_batch else 1
        labels = tuple(int(label) for label in rng.integers(0, dims[-1], size=samples)) if LOSSES[loss].integer_targets else ()
        taus = TAUS[1:] if self.finite_tau_only else TAUS
        window, delays = 0, ()
        if self.delay_window:
            window = int(rng.integers(1, max_window + 1))
            if rng.random() < 0.5:
                delays = tuple(min(window, layers - m) for m in range(1, layers + 1))
            else:
                delays = tuple(int(d) for d in rng.integers(0, window + 1, size=layers))
        alpha = float(np.exp(rng.uniform(np.log(1e-3), np.log(0.5))))
        tau = float(rng.choice(taus))
        weight_scale = float(rng.choice([0.5, 1.5, 3.0]))
        perturbation_scale = float(rng.choice([0.01, 0.3, 1.0]))
        backward_delays = ()
        if self.delay_window and self.backward_delay_window:
            rule = rng.random()
            if rule < 1 / 3:
                backward_delays = (0,) * layers
            elif rule < 2 / 3:
                backward_delays = delays
            else:
                backward_delays = tuple(int(d) for d in rng.integers(0, window + 1, size=layers))
        return Structure(
            lemma=self.id,
            dims=dims,
            activation=activation,
            loss=loss,
            samples=samples,
            alpha=alpha,
            tau=tau,
            labels=labels,
            window=window,
            delays=delays,
            backward_delays=backward_delays,
            weight_scale=weight_scale,
            perturbation_scale=perturbation_scale,
        )

    def search_parameters(self, structure: Structure) -> list[tuple[str, tuple[int, ...]]]:
        """Named shapes of the search parameters θ ∈ [−1, 1]^n of a structure."""
        dims, samples = structure.dims, structure.samples
        shapes = [(f"W{m + 1}", (dims[m + 1], dims[m])) for m in range(structure.layers)]
        shapes.append(("x", (samples, dims[0])))
        if not LOSSES[structure.loss].integer_targets:
            shapes.append(("y", (samples, dims[-1])))
        for tag in self.perturbations:
            shapes += [(f"{tag}{m + 1}", (dims[m + 1], dims[m])) for m in range(structure.layers)]
        return shapes

    def weight_range(self, structure: Structure) -> float:
        """Weights of a search instance range over [−range, range]."""
        return structure.weight_scale

    def search_instance(self, structure: Structure, parts: dict[str, Array]) -> Instance:
        """The batched instance of named parameters [S, ...] (see `search_parameters`)."""
        s = structure
        rows = parts["x"].shape[0]
        weights = tuple(parts[f"W{m + 1}"] * self.weight_range(s) for m in range(s.layers))
        if math.isfinite(s.tau):
            weights = tuple(np.clip(w, -s.tau, s.tau) for w in weights)
        inputs = parts["x"] * 3.0
        if LOSSES[s.loss].integer_targets:
            targets = np.broadcast_to(np.array(s.labels, dtype=np.int64), (rows, s.samples)).copy()
        else:
            targets = parts["y"] * 3.0
        common = dict(
            activation=s.activation, loss=s.loss, inputs=inputs, targets=targets, alpha=s.alpha, tau=s.tau,
            origin="adversarial search", extra={"structure": repr(s)},
        )
        return self.build_search_instance(s, weights, parts, common)

    def build_search_instance(self, structure: Structure, weights: tuple[Array, ...], parts: dict[str, Array], common: dict) -> Instance:
        """The lemma's instance from the drawn weights, the other parameters and the common fields."""
        return Instance(self.id, weights=weights, **common)

    def perturbed(self, structure: Structure, weights: Sequence[Array], parts: dict[str, Array], tag: str) -> tuple[Array, ...]:
        """W + perturbation `tag` scaled by the structure's perturbation scale."""
        return tuple(w + parts[f"{tag}{m + 1}"] * structure.perturbation_scale for m, w in enumerate(weights))


def rows_within_box(instance: Instance, arrays: Sequence[Array], strict: bool) -> Array:
    """Per batch row: every entry of every array within the device box (|w| ≤ τ, or < τ if strict)."""
    batch = instance.inputs.shape[:-2]
    ok = np.ones(batch, dtype=bool)
    tau = np.asarray(instance.tau, dtype=float)
    if np.all(np.isinf(tau)):
        return ok
    for array in arrays:
        extra = np.ndim(array) - len(batch)
        bound = tau.reshape(tau.shape + (1,) * extra) if tau.ndim else tau
        outside = np.abs(array) >= bound if strict else np.abs(array) > bound
        ok &= ~np.any(outside, axis=tuple(range(len(batch), np.ndim(array))))
    return ok

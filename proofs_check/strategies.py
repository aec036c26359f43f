"""Hypothesis strategies for the toolkit's objects, for your own property tests.

- `networks()`: a network within MODEL.md's assumptions (M, widths, activation, loss,
  weights, inputs, targets, and the bounds measured on it), as a `Network`;
- `instances(lemma)`: instances of any registered lemma (user lemmas included: they are
  drawn from their family), from the lemma's own search space, inside its assumptions.

Conventions follow hypothesis' own library strategies: plural names, `min_*`/`max_*`
arguments validated eagerly (a bad argument raises `hypothesis.errors.InvalidArgument`
when the strategy is built), and every array drawn from integer seeds that hypothesis
chooses and shrinks (through `numpy.random.SeedSequence`), never from global random state.
`Network` and `Instance` are registered with `st.from_type` (through hypothesis' entry
point, proofs_check._hypothesis_hook, so `st.from_type(proofs_check.Instance)` works in any test).
"""

from __future__ import annotations


import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from numerics.activations import ACTIVATIONS
from numerics.losses import LOSSES
from proofs_check.adversarial import SearchSpace
from proofs_check.instances import Instance, Network, select
from proofs_check.library import Lemma, get_lemma

__all__ = ["Network", "instances", "networks"]

Array = np.ndarray


def _check_int(name: str, value, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InvalidArgument(f"{name}={value!r} must be an integer >= {minimum}")


def _check_choice(name: str, values, allowed) -> tuple[str, ...]:
    if values is None:
        return tuple(sorted(allowed))
    values = tuple(values)
    unknown = [v for v in values if v not in allowed]
    if not values or unknown:
        raise InvalidArgument(f"{name}={values!r}: allowed values are {', '.join(sorted(allowed))}")
    return values


def _gaussian(draw, shape, scale: float) -> Array:
    """Entries N(0, scale²) from a generator whose seed hypothesis draws (and shrinks toward 0)."""
    seed = draw(st.integers(0, 2**32 - 1))
    return np.random.default_rng(np.random.SeedSequence(seed)).standard_normal(shape) * scale


def networks(
    *,
    min_layers: int = 1,
    max_layers: int = 5,
    min_width: int = 1,
    max_width: int = 8,
    max_samples: int = 4,
    activations=None,
    losses=None,
) -> st.SearchStrategy[Network]:
    """Networks within the assumptions: M in [min_layers, max_layers], widths in
    [min_width, max_width], 1..max_samples samples, any of the given activations and losses
    (default: all). Weights are scaled by 1/sqrt(fan-in) times a drawn scale (0.1 to 2)."""
    _check_int("min_layers", min_layers, 1)
    _check_int("max_layers", max_layers, min_layers)
    _check_int("min_width", min_width, 1)
    _check_int("max_width", max_width, min_width)
    _check_int("max_samples", max_samples, 1)
    activations = _check_choice("activations", activations, ACTIVATIONS)
    losses = _check_choice("losses", losses, LOSSES)

    @st.composite
    def draw_network(draw) -> Network:
        layers = draw(st.integers(min_layers, max_layers))
        dims = draw(st.lists(st.integers(min_width, max_width), min_size=layers + 1, max_size=layers + 1))
        activation = draw(st.sampled_from(activations))
        loss = draw(st.sampled_from(losses))
        samples = draw(st.integers(1, max_samples))
        weight_scale = draw(st.sampled_from([0.1, 0.5, 1.0, 2.0]))
        weights = tuple(_gaussian(draw, (dims[m + 1], dims[m]), weight_scale / np.sqrt(dims[m])) for m in range(layers))
        inputs = _gaussian(draw, (samples, dims[0]), draw(st.sampled_from([0.1, 1.0, 3.0])))
        if LOSSES[loss].integer_targets:
            targets = np.array(draw(st.lists(st.integers(0, dims[-1] - 1), min_size=samples, max_size=samples)), dtype=np.int64)
        else:
            targets = _gaussian(draw, (samples, dims[-1]), draw(st.sampled_from([0.1, 1.0, 3.0, 10.0])))
        return Network(activation, loss, weights, inputs, targets)

    return draw_network()


GROUP_SCALES = (1.0, 0.0, 0.1, 0.01)
"""Factors on each parameter group of a drawn θ: the search space's corners hypothesis explores."""


class _Choices:
    """The part of numpy's Generator that `Lemma.draw_structure` uses, drawn through hypothesis
    (so hypothesis explores and shrinks the structure; probabilities are ignored)."""

    def __init__(self, draw) -> None:
        self._draw = draw

    def _one(self, options):
        return self._draw(st.sampled_from(list(options)))

    def choice(self, options, p=None, size=None):
        if size is None:
            return self._one(options)
        return np.array([self._one(options) for _ in range(size)])

    def integers(self, low, high, size=None):
        if size is None:
            return self._draw(st.integers(int(low), int(high) - 1))
        return np.array([self._draw(st.integers(int(low), int(high) - 1)) for _ in range(size)], dtype=np.int64)

    def random(self):
        return self._draw(st.floats(0.0, 1.0, exclude_max=True))

    def uniform(self, low, high):
        return self._draw(st.floats(float(low), float(high)))


def instances(lemma: "str | Lemma", *, max_layers: int = 5, max_width: int = 8) -> st.SearchStrategy[Instance]:
    """Instances of a registered lemma (or a lemma object; user lemmas draw from their family)
    inside its assumptions: the structure (M ≤ max_layers, widths ≤ max_width, activation,
    loss, α, τ, delays) as the lemma's search space defines it, and its parameters
    θ ∈ [−1, 1]^n from a seed hypothesis draws. Histories that diverge are rejected."""
    _check_int("max_layers", max_layers, 1)
    _check_int("max_width", max_width, 1)
    try:
        lemma = get_lemma(lemma)
    except ValueError as error:
        raise InvalidArgument(str(error)) from None

    @st.composite
    def draw_instance(draw) -> Instance:
        space = SearchSpace(lemma, lemma.draw_structure(_Choices(draw), max_layers=max_layers, max_width=max_width))
        seed = draw(st.integers(0, 2**32 - 1))
        rng = np.random.default_rng(np.random.SeedSequence(seed))
        # each parameter group keeps its full range, shrinks, or vanishes (W^f = W, say)
        theta = np.concatenate(
            [rng.uniform(-1.0, 1.0, size=int(np.prod(shape))) * draw(st.sampled_from(GROUP_SCALES)) for _, shape in space.shapes]
        )
        with np.errstate(all="ignore"):
            batched = space.instance(theta[None, :])
        assume(bool(np.all(space.within_domain(batched))))
        return select(batched, 0)

    return draw_instance()

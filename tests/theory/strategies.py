"""Hypothesis strategies: random networks and lemma instances within MODEL.md's assumptions
(M 1–5, widths 1–8, weights, inputs, perturbations, delays)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from numerics.activations import ACTIVATIONS
from numerics.devices import make_device
from numerics.losses import LOSSES
from proofs_check.histories import stale_history
from proofs_check.instances import Instance


def _gaussian(draw, shape, scale: float) -> np.ndarray:
    """Entries N(0, scale²) from a numpy generator seeded by hypothesis (dense, realistic arrays)."""
    seed = draw(st.integers(0, 2**32 - 1))
    return np.random.default_rng(seed).standard_normal(shape) * scale


@st.composite
def networks(draw, max_layers: int = 5, max_width: int = 8, max_samples: int = 4):
    """(activation, loss, weights, inputs, targets) of a random network.

    Hypothesis draws the structure (M, widths, activation, loss, scales) and the seeds of
    the entries, so it shrinks toward small networks and simple scales.
    """
    layers = draw(st.integers(1, max_layers))
    dims = draw(st.lists(st.integers(1, max_width), min_size=layers + 1, max_size=layers + 1))
    activation = draw(st.sampled_from(sorted(ACTIVATIONS)))
    loss = draw(st.sampled_from(sorted(LOSSES)))
    samples = draw(st.integers(1, max_samples))
    weight_scale = draw(st.sampled_from([0.1, 0.5, 1.0, 2.0]))
    weights = tuple(_gaussian(draw, (dims[m + 1], dims[m]), weight_scale / np.sqrt(dims[m])) for m in range(layers))
    inputs = _gaussian(draw, (samples, dims[0]), draw(st.sampled_from([0.1, 1.0, 3.0])))
    if LOSSES[loss].integer_targets:
        targets = draw(hnp.arrays(np.int64, (samples,), elements=st.integers(0, dims[-1] - 1)))
    else:
        targets = _gaussian(draw, (samples, dims[-1]), draw(st.sampled_from([0.1, 1.0, 3.0, 10.0])))
    return activation, loss, weights, inputs, targets


def _perturb(draw, weights, size: float):
    """W + a random perturbation of size `size` on a random subset of the layers."""
    chosen = draw(st.lists(st.booleans(), min_size=len(weights), max_size=len(weights)))
    return tuple(w + _gaussian(draw, w.shape, size) if pick else w for w, pick in zip(weights, chosen))


@st.composite
def instances(draw, lemma: str, max_layers: int = 5):
    """A random instance of `lemma`."""
    activation, loss, weights, inputs, targets = draw(networks(max_layers=max_layers))
    alpha = draw(st.floats(1e-3, 0.5))
    tau = draw(st.sampled_from([math.inf, 0.5, 2.0, 10.0]))
    base = dict(activation=activation, loss=loss, weights=weights, inputs=inputs, targets=targets, alpha=alpha, tau=tau)
    size = draw(st.sampled_from([1e-4, 1e-2, 0.3, 1.0]))
    if lemma in ("signal-stability",):
        forward = _perturb(draw, weights, size)
        backward = _perturb(draw, weights, size) if draw(st.booleans()) else weights
        return Instance(lemma, forward_weights=forward, backward_weights=backward, **base)
    if lemma == "objective-smoothness":
        return Instance(lemma, forward_weights=_perturb(draw, weights, size), **base)
    if lemma == "analog-increment":
        if math.isfinite(tau):
            clipped = tuple(np.clip(w, -tau, tau) for w in weights)
            base["weights"] = clipped
        forward = _perturb(draw, base["weights"], size)
        return Instance(lemma, forward_weights=forward, **base)
    if lemma == "box-invariance":
        tau = draw(st.sampled_from([0.5, 2.0, 10.0]))
        clipped = tuple(np.clip(w, -tau, tau) for w in weights)
        gradient = tuple(np.clip(_gaussian(draw, w.shape, 1.0), -1.0, 1.0) * (tau / alpha) for w in weights)
        return Instance(lemma, **(base | dict(weights=clipped, tau=tau)), gradient=gradient)
    if lemma in ("signal-delay", "gradient-delay"):
        layers = len(weights)
        window = draw(st.integers(0, 4))
        delays = draw(st.lists(st.integers(0, window), min_size=layers, max_size=layers))
        device = make_device("digital") if math.isinf(tau) else make_device("ald", tau)
        if math.isfinite(tau):
            weights = tuple(np.clip(w, -tau, tau) for w in weights)
        history = stale_history(
            weights, inputs, targets, ACTIVATIONS[activation], LOSSES[loss], device, alpha, window, delays
        )
        # a diverged history is outside the assumptions (bounded weights): draw another
        assume(all(np.all(np.isfinite(h)) and np.max(np.abs(h)) < 1e3 for h in history))
        base["weights"] = tuple(h[-1] for h in history)
        backward = np.zeros(layers, dtype=np.int64)
        return Instance(lemma, history=history, forward_delays=np.asarray(delays), backward_delays=backward, **base)
    return Instance(lemma, **base)

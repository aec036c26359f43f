"""Losses ℓ(z_M, y) of MODEL.md §1 with their output gradients and the constants L_ℓ, G_ℓ.

Shapes: outputs z [..., b, d_M]; targets y [..., b, d_M] (squared) or integer labels
[..., b] (cross-entropy). Values and gradients are per sample.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.special import log_softmax, softmax

Array = np.ndarray


@dataclass(frozen=True)
class Loss:
    """A per-sample loss ℓ(z, y) on the network's output z = z_M."""

    name: str
    """Name used on the command line."""
    value: Callable[[Array, Array], Array]
    """ℓ(z, y) per sample, shape [..., b]."""
    gradient: Callable[[Array, Array], Array]
    """∇_z ℓ(z, y) per sample, shape [..., b, d_M]."""
    smoothness: float
    """L_ℓ, the Lipschitz constant of ∇_z ℓ."""
    gradient_bound: Callable[[float, float], float]
    """G_ℓ as a function of (Z_M, Y): a bound on ||∇_z ℓ|| over reachable outputs."""
    integer_targets: bool
    """True when y holds class labels instead of vectors."""


def _squared_value(z: Array, y: Array) -> Array:
    return 0.5 * np.sum((z - y) ** 2, axis=-1)


def _squared_gradient(z: Array, y: Array) -> Array:
    return z - y


def _one_hot(labels: Array, classes: int) -> Array:
    return (labels[..., None] == np.arange(classes)).astype(float)


def _cross_entropy_value(z: Array, labels: Array) -> Array:
    log_probabilities = log_softmax(z, axis=-1)
    return -np.take_along_axis(log_probabilities, labels[..., None].astype(np.intp), axis=-1)[..., 0]


def _cross_entropy_gradient(z: Array, labels: Array) -> Array:
    return softmax(z, axis=-1) - _one_hot(labels, z.shape[-1])


SQUARED = Loss(
    name="squared",
    value=_squared_value,
    gradient=_squared_gradient,
    smoothness=1.0,
    gradient_bound=lambda output_bound, target_bound: output_bound + target_bound,
    integer_targets=False,
)

CROSS_ENTROPY = Loss(
    name="cross-entropy",
    value=_cross_entropy_value,
    gradient=_cross_entropy_gradient,
    smoothness=0.5,
    gradient_bound=lambda output_bound, target_bound: math.sqrt(2.0),
    integer_targets=True,
)

LOSSES: dict[str, Loss] = {loss.name: loss for loss in (SQUARED, CROSS_ENTROPY)}


def loss_by_name(name: str) -> Loss:
    """The loss called `name`; KeyError lists the known names."""
    try:
        return LOSSES[name]
    except KeyError:
        raise KeyError(f"unknown loss {name!r}; allowed: {', '.join(LOSSES)}") from None

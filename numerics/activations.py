"""Activations φ of MODEL.md §1 with their derivatives and the constants L_φ, S_φ."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

Array = np.ndarray


@dataclass(frozen=True)
class Activation:
    """An elementwise activation φ with φ(0) = 0."""

    name: str
    """Name used on the command line."""
    function: Callable[[Array], Array]
    """φ(z)."""
    derivative: Callable[[Array], Array]
    """φ'(z)."""
    second_derivative: Callable[[Array], Array]
    """φ''(z) (where it exists; softsign uses the one-sided value at 0)."""
    lipschitz: float
    """L_φ = sup |φ'|."""
    curvature: float
    """S_φ = sup |φ''|, the Lipschitz constant of φ'."""


def _tanh_derivative(z: Array) -> Array:
    return 1.0 - np.tanh(z) ** 2


def _tanh_second_derivative(z: Array) -> Array:
    t = np.tanh(z)
    return -2.0 * t * (1.0 - t**2)


def _softsign(z: Array) -> Array:
    return z / (1.0 + np.abs(z))


def _softsign_derivative(z: Array) -> Array:
    return 1.0 / (1.0 + np.abs(z)) ** 2


def _softsign_second_derivative(z: Array) -> Array:
    return -2.0 * np.sign(z) / (1.0 + np.abs(z)) ** 3


TANH = Activation(
    name="tanh",
    function=np.tanh,
    derivative=_tanh_derivative,
    second_derivative=_tanh_second_derivative,
    lipschitz=1.0,
    curvature=4.0 / (3.0 * math.sqrt(3.0)),
)

IDENTITY = Activation(
    name="identity",
    function=lambda z: np.array(z, dtype=float, copy=True),
    derivative=np.ones_like,
    second_derivative=np.zeros_like,
    lipschitz=1.0,
    curvature=0.0,
)

SOFTSIGN = Activation(
    name="softsign",
    function=_softsign,
    derivative=_softsign_derivative,
    second_derivative=_softsign_second_derivative,
    lipschitz=1.0,
    curvature=2.0,
)

ACTIVATIONS: dict[str, Activation] = {a.name: a for a in (TANH, IDENTITY, SOFTSIGN)}


def activation_by_name(name: str) -> Activation:
    """The activation called `name`; KeyError lists the known names."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise KeyError(f"unknown activation {name!r}; allowed: {', '.join(ACTIVATIONS)}") from None

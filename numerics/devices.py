"""Weight-update rules of the analog devices of MODEL.md §2, as settings objects.

Every device maps (W, g, α) to W⁺ elementwise; arrays broadcast, so a leading replica
axis (or a per-replica α or τ of shape [R, 1, 1]) needs nothing special.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

Array = np.ndarray


@dataclass(frozen=True)
class DigitalDevice:
    """Digital SGD: W⁺ = W − α g. The reference every analog device must reduce to."""

    name = "digital"

    @property
    def tau(self) -> float:
        """A digital weight is unbounded: τ = ∞."""
        return math.inf

    def update(self, weight: Array, gradient: Array, learning_rate: float | Array) -> Array:
        """W⁺ = W − α g."""
        return weight - learning_rate * gradient


@dataclass(frozen=True)
class AsymmetricLinearDevice:
    """Asymmetric linear device (ALD, soft bounds): W⁺ = W − α g − (α/τ)|g| ⊙ W.

    Up and down steps shrink linearly as a conductance approaches ±τ, which pulls every
    weight toward the symmetric point 0. With τ = ∞ the update is exactly digital SGD.
    """

    tau: float | Array = 1.0
    """Conductance bound τ > 0: conductances live in [−τ, τ]. A float, or an array that
    broadcasts against the weights (one τ per replica)."""

    name = "ald"

    def __post_init__(self) -> None:
        tau = np.asarray(self.tau, dtype=float)
        if not np.all(tau > 0) or np.any(np.isnan(tau)):
            raise ValueError(f"tau must be > 0, got {self.tau!r}")

    def update(self, weight: Array, gradient: Array, learning_rate: float | Array) -> Array:
        """W⁺ = W − α g − (α/τ)|g| ⊙ W."""
        return weight - learning_rate * gradient - (learning_rate / self.tau) * np.abs(gradient) * weight


Device = DigitalDevice | AsymmetricLinearDevice

DEVICE_NAMES = ("digital", "ald")


def make_device(name: str, tau: float | Array | None = None) -> Device:
    """The device called `name` ('digital' or 'ald'); ALD needs τ."""
    if name == "digital":
        return DigitalDevice()
    if name == "ald":
        if tau is None:
            raise ValueError("the ald device needs tau")
        return AsymmetricLinearDevice(tau=tau)
    raise KeyError(f"unknown device {name!r}; allowed: {', '.join(DEVICE_NAMES)}")

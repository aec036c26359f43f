"""Weight-update rules of the analog devices of MODEL.md §2, as objects the simulator calls.

Every device maps (W, g, α) to W⁺ elementwise; arrays broadcast, so a leading replica
axis (or a per-replica α or τ of shape [R, 1, 1]) needs nothing special. A device owns
its rule twice: `update` returns W⁺ as a new array, `update_into` writes the same bits
into a buffer without temporaries (the training loop's form).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np

Array = np.ndarray


class Device(Protocol):
    """An update rule W⁺ = U(W, g, α) of MODEL.md §2, applied elementwise."""

    @property
    def name(self) -> str:
        """The device's name ('digital', 'ald', ...)."""

    @property
    def tau(self) -> float | Array:
        """Conductance bound τ: conductances live in [−τ, τ] (τ = ∞: unbounded)."""

    def update(self, weight: Array, gradient: Array, learning_rate: float | Array) -> Array:
        """W⁺ as a new array."""

    def update_into(
        self, weight: Array, gradient: Array, learning_rate: float | Array, out: Array, scratch: Array, spare_gradient: bool = False
    ) -> None:
        """out = update(weight, gradient, learning_rate), bit for bit.

        `out` may be `weight` itself (an update in place); `scratch` is a buffer of the
        weight's shape the device may overwrite; with `spare_gradient` the gradient's buffer
        may be overwritten too.
        """


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

    def update_into(
        self, weight: Array, gradient: Array, learning_rate: float | Array, out: Array, scratch: Array, spare_gradient: bool = False
    ) -> None:
        """out = W − αg (αg formed in the gradient's buffer when it is spare)."""
        step = gradient if spare_gradient else np.empty_like(gradient)
        np.multiply(learning_rate, gradient, out=step)
        np.subtract(weight, step, out=out)


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

    def update_into(
        self, weight: Array, gradient: Array, learning_rate: float | Array, out: Array, scratch: Array, spare_gradient: bool = False
    ) -> None:
        """out = (W − αg) − ((α/τ)|g|) ⊙ W in the order of `update`; the term that reads the
        old W is formed in `scratch` first, so `out` may be `weight`."""
        step = gradient if spare_gradient else np.empty_like(gradient)
        np.absolute(gradient, out=scratch)
        np.multiply(learning_rate / self.tau, scratch, out=scratch)
        np.multiply(scratch, weight, out=scratch)
        np.multiply(learning_rate, gradient, out=step)
        np.subtract(weight, step, out=out)
        np.subtract(out, scratch, out=out)


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


def initial_bound(device: Device) -> float | None:
    """Where a seeded run on `device` starts: entries clipped to ±τ/2, inside the
    conductance box with room to move; None (no clipping) when τ = ∞."""
    return device.tau / 2 if math.isfinite(device.tau) else None


def device_label(device: Device) -> str:
    """The device's name, with its τ when finite: 'digital', 'ald(τ=4)'."""
    return f"{device.name}(τ={device.tau:g})" if math.isfinite(device.tau) else device.name


def device_for_bound(tau: float | Array) -> Device:
    """The device an instance's τ names: ALD with bound τ, or digital SGD where τ = ∞ everywhere."""
    if np.all(np.isinf(np.asarray(tau, dtype=float))):
        return DigitalDevice()
    return AsymmetricLinearDevice(tau=tau)

"""Weight-update rules of the analog devices of MODEL.md §2, as objects the simulator calls.

Every device maps (W, g, α) to W⁺ elementwise; arrays broadcast, so a leading replica
axis (or a per-replica α or τ of shape [R, 1, 1]) needs nothing special. A device owns
its rule: `update_into` writes W⁺ into a buffer (the training loop's form, and the one
place the rule is written), `update` returns it as a new array, bit for bit the same.

Before training, the loop calls `device.bind(shapes, seeds)` for every device: it returns
one update rule per layer. A deterministic device returns itself for every layer; the
`pulsed` device returns per-layer rules that hold the layer's device-to-device draws and
its pulse generators (MODEL.md §2: drawn once, from the run's seed). The loop never asks
which device it runs.

Every device kind is a frozen settings dataclass (a docstring per field, validated at
construction) registered once in `DEVICE_KINDS`; `make_device(name, **settings)` builds
any of them. `device.constants(W_max)` gives β, q_max, G_max of MODEL.md §2 on the box
|w| ≤ W_max < τ, from `theory.convergence` (the one home of those formulas).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Hashable, Protocol, Sequence

import numpy as np

from numerics.streams import generator
from theory.convergence import DeviceConstants, ald_device_constants, digital_device_constants, softbounds_device_constants

Array = np.ndarray


class LayerRule(Protocol):
    """One layer's update rule W⁺ = U(W, g, α), what `Device.bind` returns per layer."""

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


class Device(LayerRule, Protocol):
    """An update rule of MODEL.md §2 with its settings, its constants and its binding to a run."""

    @property
    def name(self) -> str:
        """The device's name ('digital', 'ald', 'softbounds', 'pulsed')."""

    @property
    def tau(self) -> float | Array:
        """Conductance bound τ: conductances live in [−τ, τ] (τ = ∞: unbounded)."""

    def bind(self, shapes: Sequence[tuple[int, ...]], seeds: Sequence[int]) -> tuple[LayerRule, ...]:
        """One rule per layer of weight shape `shapes[m]` (leading axes are replicas, replica r
        runs with `seeds[r]`); a deterministic device returns itself for every layer."""

    def constants(self, W_max: float) -> DeviceConstants:
        """β, q_max, G_max of MODEL.md §2 on the box |w| ≤ W_max < τ."""

    def replica_family(self) -> Hashable:
        """Devices with equal families run as replicas of one batched run (`batch_replicas`)."""

    def batch_replicas(self, devices: Sequence["Device"]) -> "Device":
        """The one device that runs `devices` (all of this family, in replica order) as the
        replicas of one batched run, each replica exactly as it would run alone."""


class _OwnFamily:
    """Mix-in: a device batches only with itself (the replicas differ in seed alone)."""

    def replica_family(self) -> Hashable:
        return self

    def batch_replicas(self, devices: Sequence["Device"]) -> "Device":
        if any(device != self for device in devices):
            raise ValueError(f"{self.name} runs as replicas only with itself, got {[device_label(d) for d in devices]}")
        return self


class _AsymmetricLinearFamily:
    """Mix-in of digital SGD and ALD: one batched ALD run with one τ per replica ([R, 1, 1]);
    digital SGD is ALD with τ = ∞, whose update W − αg − 0·W equals W − αg bit for bit."""

    def replica_family(self) -> Hashable:
        return AsymmetricLinearDevice

    def batch_replicas(self, devices: Sequence["Device"]) -> "Device":
        if any(device.replica_family() is not AsymmetricLinearDevice for device in devices):
            raise ValueError(f"only digital and ald devices batch as ALD replicas, got {[device_label(d) for d in devices]}")
        return AsymmetricLinearDevice(tau=np.array([device.tau for device in devices], dtype=float).reshape(-1, 1, 1))


class _Deterministic:
    """Mix-in of the devices whose update is a function of (W, g, α) alone."""

    def bind(self, shapes: Sequence[tuple[int, ...]], seeds: Sequence[int]) -> tuple[LayerRule, ...]:
        """Nothing to draw: the device itself is every layer's rule."""
        return (self,) * len(shapes)

    def update(self, weight: Array, gradient: Array, learning_rate: float | Array) -> Array:
        """W⁺ as a new array: `update_into` on fresh buffers (the same bits)."""
        shape = np.broadcast_shapes(np.shape(weight), np.shape(gradient), np.shape(learning_rate))
        out = np.empty(shape)
        self.update_into(np.broadcast_to(weight, shape), np.broadcast_to(gradient, shape), learning_rate, out, np.empty(shape))
        return out


def _validate_bound(tau: float | Array) -> None:
    value = np.asarray(tau, dtype=float)
    if not np.all(value > 0) or np.any(np.isnan(value)):
        raise ValueError(f"tau must be > 0, got {tau!r}")


def _validate_positive_finite(name: str, value: float) -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")


def _validate_nonnegative_finite(name: str, value: float) -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


@dataclass(frozen=True)
class DigitalDevice(_AsymmetricLinearFamily, _Deterministic):
    """Digital SGD: W⁺ = W − α g. The reference every analog device must reduce to."""

    name = "digital"

    @property
    def tau(self) -> float:
        """A digital weight is unbounded: τ = ∞."""
        return math.inf

    def constants(self, W_max: float) -> DeviceConstants:
        """β = q_max = 1, G_max = 0 for every W_max (every entry moves by exactly −αg)."""
        return digital_device_constants()

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


def _ald_step_into(weight: Array, gradient: Array, learning_rate: float | Array, tau: float | Array, out: Array, scratch: Array, spare_gradient: bool) -> Array:
    """out = (W − αg) − ((α/τ)|g|) ⊙ W, MODEL.md §2's ALD step in a fixed order of operations
    (the term that reads the old W is formed in `scratch` first, so `out` may be `weight`);
    returns the array holding αg (the gradient's own buffer when `spare_gradient`)."""
    step = gradient if spare_gradient else np.empty_like(gradient)
    np.absolute(gradient, out=scratch)
    np.multiply(learning_rate / tau, scratch, out=scratch)
    np.multiply(scratch, weight, out=scratch)
    np.multiply(learning_rate, gradient, out=step)
    np.subtract(weight, step, out=out)
    np.subtract(out, scratch, out=out)
    return step


@dataclass(frozen=True)
class AsymmetricLinearDevice(_AsymmetricLinearFamily, _Deterministic):
    """Asymmetric linear device (ALD, soft bounds): W⁺ = W − α g − (α/τ)|g| ⊙ W.

    Up and down steps shrink linearly as a conductance approaches ±τ, which pulls every
    weight toward the symmetric point 0. With τ = ∞ the update is exactly digital SGD.
    """

    tau: float | Array = 1.0
    """Conductance bound τ > 0: conductances live in [−τ, τ]. A float, or an array that
    broadcasts against the weights (one τ per replica)."""

    name = "ald"

    def __post_init__(self) -> None:
        _validate_bound(self.tau)

    def constants(self, W_max: float) -> DeviceConstants:
        """β = 1 − W_max/τ, q_max = 1 + W_max/τ, G_max = W_max/τ (a float τ)."""
        return ald_device_constants(W_max, self.tau)

    def update(self, weight: Array, gradient: Array, learning_rate: float | Array) -> Array:
        """W⁺ = W − α g − (α/τ)|g| ⊙ W."""
        return weight - learning_rate * gradient - (learning_rate / self.tau) * np.abs(gradient) * weight

    def update_into(
        self, weight: Array, gradient: Array, learning_rate: float | Array, out: Array, scratch: Array, spare_gradient: bool = False
    ) -> None:
        """out = (W − αg) − ((α/τ)|g|) ⊙ W in the order of `update`; the term that reads the
        old W is formed in `scratch` first, so `out` may be `weight`."""
        _ald_step_into(weight, gradient, learning_rate, self.tau, out, scratch, spare_gradient)


@dataclass(frozen=True)
class SoftBoundsDevice(_OwnFamily, _Deterministic):
    """Response-function device (`softbounds`, MODEL.md §2).

    A conductance moves up by Δ·q₊(w) for a desired increment Δ = −αg > 0 and down by
    |Δ|·q₋(w) for Δ < 0, with q₊(w) = γ₊(1 − w/τ)^p and q₋(w) = γ₋(1 + w/τ)^p (a negative
    base counts as 0). In one line, W⁺ = clip(W − α g ⊙ F(W) − α|g| ⊙ G(W), −τ, τ) with
    F = (q₊ + q₋)/2, G = (q₋ − q₊)/2.

    The rule is evaluated as the ALD update plus a residual, in ALD's order of operations:
    W⁺ = clip((W − αg) − ((α/τ)|g|) ⊙ W − (αg) ⊙ r, −τ, τ) with r = q₋(w) − (1 + w/τ) where
    g > 0 and r = q₊(w) − (1 − w/τ) elsewhere (per entry g F + |g| G is g q₋ for g > 0 and
    g q₊ for g ≤ 0). With p = 1, γ₊ = γ₋ = 1 and |w| ≤ τ the residual is exactly 0, so the
    update is ALD's bit for bit wherever ALD stays in [−τ, τ] (always, up to rounding, under
    MODEL's box invariance α|g| ≤ τ).
    """

    tau: float | Array = 1.0
    """Conductance bound τ > 0: conductances live in [−τ, τ] (a float, or an array that
    broadcasts against the weights)."""
    exponent: float = 1.0
    """Exponent p > 0 of the response functions (p = 1: linear soft bounds)."""
    gamma_up: float = 1.0
    """Up gain γ₊ > 0: q₊(w) = γ₊(1 − w/τ)^p scales every increase."""
    gamma_down: float = 1.0
    """Down gain γ₋ > 0: q₋(w) = γ₋(1 + w/τ)^p scales every decrease."""

    name = "softbounds"

    def __post_init__(self) -> None:
        _validate_bound(self.tau)
        _validate_positive_finite("exponent", self.exponent)
        _validate_positive_finite("gamma_up", self.gamma_up)
        _validate_positive_finite("gamma_down", self.gamma_down)

    def response_up(self, weight: Array) -> Array:
        """q₊(w) = γ₊ max(1 − w/τ, 0)^p."""
        return self.gamma_up * np.maximum(1 - weight / self.tau, 0.0) ** self.exponent

    def response_down(self, weight: Array) -> Array:
        """q₋(w) = γ₋ max(1 + w/τ, 0)^p."""
        return self.gamma_down * np.maximum(1 + weight / self.tau, 0.0) ** self.exponent

    @property
    def symmetric_point(self) -> float:
        """w* = τ(1 − r)/(1 + r), r = (γ₋/γ₊)^{1/p}: where q₊ = q₋ (0 when γ₊ = γ₋)."""
        r = (self.gamma_down / self.gamma_up) ** (1 / self.exponent)
        return self.tau * (1 - r) / (1 + r)

    def constants(self, W_max: float) -> DeviceConstants:
        """β = min(γ₊, γ₋)(1 − W_max/τ)^p, q_max = max(γ₊, γ₋)(1 + W_max/τ)^p, G_max = max |G| at ±W_max."""
        return softbounds_device_constants(W_max, self.tau, self.gamma_up, self.gamma_down, self.exponent)

    def update_into(
        self, weight: Array, gradient: Array, learning_rate: float | Array, out: Array, scratch: Array, spare_gradient: bool = False
    ) -> None:
        """out = clip((W − αg) − ((α/τ)|g|) ⊙ W − (αg) ⊙ r, −τ, τ); every term that reads the
        old W is formed before `out` is written, so `out` may be `weight`."""
        ratio = weight / self.tau
        up_base = np.subtract(1.0, ratio)
        down_base = np.add(1.0, ratio, out=ratio)
        falling = gradient > 0  # Δ = −αg < 0: the conductance moves down through q₋
        residual = np.where(
            falling,
            self.gamma_down * np.maximum(down_base, 0.0) ** self.exponent,
            self.gamma_up * np.maximum(up_base, 0.0) ** self.exponent,
        )
        residual -= np.where(falling, down_base, up_base)
        step = _ald_step_into(weight, gradient, learning_rate, self.tau, out, scratch, spare_gradient)
        np.multiply(step, residual, out=residual)
        np.subtract(out, residual, out=out)
        np.clip(out, -self.tau, self.tau, out=out)


# ----------------------------------------------------------------------------- the pulsed device


@dataclass(frozen=True)
class PulsedDevice(_OwnFamily):
    """Pulsed device (`pulsed`, MODEL.md §2): what a crossbar physically does.

    Per element the desired increment Δ = −αg becomes n pulses of nominal size dw_min,
    n = ⌊|Δ|/dw_min⌋ plus one more with probability equal to the fractional part (so
    E[n]·dw_min = |Δ|), capped at `max_pulses` when given. The pulses are applied one after
    another; each moves w by sign(Δ)·dw_min·q_±(w)·(1 + c2c·ξ), ξ ~ N(0, 1) fresh per pulse,
    then clips to [−τ, τ]; q_± are the response functions of the `softbounds` device with
    the same τ, p, γ₊, γ₋.

    Device-to-device variation: `bind` draws, once per element and layer, dw_min·(1 + d2d·ξ),
    γ₊·(1 + d2d·ξ′) and γ₋·(1 + d2d·ξ″), with independent ξ, ξ′, ξ″ from a normal truncated to
    |d2d·ξ| < 1 (a draw outside is redrawn from the same stream): every factor lies in
    (0, 2), so it stays > 0, and its mean is exactly 1 (the truncation is symmetric).

    The update is random even given g, so the device only runs once bound (`bind`: one
    `PulsedLayer` per layer, with the generators of the named streams "pulses" and
    "device-variation" of each replica's seed, key the layer index). Its constants β, q_max,
    G_max are those of its mean model, `softbounds` with the nominal τ, p, γ₊, γ₋: with
    c2c = d2d = 0 the expected update equals the softbounds update up to a second-order
    term ½ q q′ (Δ² − |Δ|·dw_min + f(1 − f)·dw_min²) (f the fractional part of |Δ|/dw_min,
    q = q_± at w), which is O(α²|g|²/τ).
    """

    tau: float = 1.0
    """Conductance bound τ > 0: conductances live in [−τ, τ]."""
    exponent: float = 1.0
    """Exponent p > 0 of the response functions q₊ = γ₊(1 − w/τ)^p, q₋ = γ₋(1 + w/τ)^p."""
    gamma_up: float = 1.0
    """Nominal up gain γ₊ > 0 (each element's own gain when d2d > 0)."""
    gamma_down: float = 1.0
    """Nominal down gain γ₋ > 0 (each element's own gain when d2d > 0)."""
    dw_min: float = 0.001
    """Nominal pulse size dw_min > 0: a pulse moves w by dw_min·q_±(w) (before c2c noise)."""
    c2c: float = 0.0
    """Cycle-to-cycle noise c2c ≥ 0: each pulse is scaled by (1 + c2c·ξ), ξ ~ N(0, 1) fresh per pulse."""
    d2d: float = 0.0
    """Device-to-device variation d2d ≥ 0: relative spread of each element's dw_min and gains,
    drawn once when the device is bound to a run."""
    max_pulses: int | None = None
    """Largest number of pulses per element and update (None: no cap); an integer ≥ 1."""

    name = "pulsed"

    def __post_init__(self) -> None:
        _validate_bound(self.tau)
        if np.ndim(self.tau) != 0:
            raise ValueError(f"tau of the pulsed device must be a number, got an array of shape {np.shape(self.tau)}")
        _validate_positive_finite("exponent", self.exponent)
        _validate_positive_finite("gamma_up", self.gamma_up)
        _validate_positive_finite("gamma_down", self.gamma_down)
        _validate_positive_finite("dw_min", self.dw_min)
        _validate_nonnegative_finite("c2c", self.c2c)
        _validate_nonnegative_finite("d2d", self.d2d)
        if self.max_pulses is not None and not (isinstance(self.max_pulses, (int, np.integer)) and self.max_pulses >= 1):
            raise ValueError(f"max_pulses must be an integer >= 1 or None, got {self.max_pulses!r}")

    @property
    def mean_model(self) -> SoftBoundsDevice:
        """The softbounds device with the nominal τ, p, γ₊, γ₋: the pulsed update's mean to first order."""
        return SoftBoundsDevice(tau=self.tau, exponent=self.exponent, gamma_up=self.gamma_up, gamma_down=self.gamma_down)

    def constants(self, W_max: float) -> DeviceConstants:
        """The constants of the mean model (`mean_model`): the theorems of MODEL.md §5 do not
        cover a random update; the toolkit measures the pulsed device against this prediction."""
        return self.mean_model.constants(W_max)

    def second_order_mean(self, weight: Array, desired: Array) -> Array:
        """E[W⁺] − W to second order for c2c = d2d = 0 and no cap or clip:
        Δ q + ½ q q′ (Δ² − |Δ| dw_min + f(1 − f) dw_min²), q = q₊ for Δ > 0 and q₋ for Δ < 0.

        Derivation: n pulses from w give w_n = w + n·sign(Δ)·dw_min·q + ½ n(n − 1) dw_min² q q′
        + O(n³ dw_min³); with n = ⌊x⌋ + Bernoulli(f), x = |Δ|/dw_min, E[n] = x and
        E[n(n − 1)] = x² − x + f(1 − f). As dw_min → 0 it becomes the flow of dw/ds = q(w)
        for a time |Δ|: Δ q + ½ q q′ Δ² + O(Δ³).
        """
        model = self.mean_model
        weight, desired = np.asarray(weight, dtype=float), np.asarray(desired, dtype=float)
        rising = desired > 0
        p, tau = self.exponent, self.tau
        q = np.where(rising, model.response_up(weight), model.response_down(weight))
        up_slope = -self.gamma_up * p / tau * np.maximum(1 - weight / tau, 0.0) ** (p - 1)
        down_slope = self.gamma_down * p / tau * np.maximum(1 + weight / tau, 0.0) ** (p - 1)
        slope = np.where(rising, up_slope, down_slope)
        pulses = np.abs(desired) / self.dw_min
        fraction = pulses - np.floor(pulses)
        second = np.abs(desired) ** 2 - np.abs(desired) * self.dw_min + fraction * (1 - fraction) * self.dw_min**2
        return desired * q + 0.5 * q * slope * second

    def bind(self, shapes: Sequence[tuple[int, ...]], seeds: Sequence[int]) -> tuple[PulsedLayer, ...]:
        """One `PulsedLayer` per layer: replica r (the flattened leading axes) draws its
        device-to-device factors from stream "device-variation" and its pulses from stream
        "pulses" of `seeds[r]`, key the layer index."""
        return tuple(PulsedLayer(self, tuple(shape), seeds, index) for index, shape in enumerate(shapes))

    def update(self, weight: Array, gradient: Array, learning_rate: float | Array) -> Array:
        """Not available unbound: the pulses are random (use `bind`)."""
        raise TypeError("the pulsed device draws random pulses: bind it to the layer shapes and seeds first (PulsedDevice.bind)")

    def update_into(
        self, weight: Array, gradient: Array, learning_rate: float | Array, out: Array, scratch: Array, spare_gradient: bool = False
    ) -> None:
        """Not available unbound: the pulses are random (use `bind`)."""
        self.update(weight, gradient, learning_rate)


PULSE_LIMIT = 10**6
"""The most pulses one element may need in one update without a `max_pulses` cap: beyond it an
update is an error (`PulseCountError`) instead of a loop that does not end (|Δ|/dw_min
pulses, e.g. after a step size far too large)."""


class PulseCountError(ValueError):
    """An update of the pulsed device needs more than PULSE_LIMIT pulses on one element."""


def variation_factors(rng: np.random.Generator, spread: float, shape: tuple[int, ...]) -> Array:
    """1 + spread·ξ with ξ ~ N(0, 1) truncated to |spread·ξ| < 1 (redrawn from `rng` in
    place until it is): factors in (0, 2) with mean 1."""
    draws = rng.standard_normal(shape)
    outside = np.abs(spread * draws) >= 1
    while outside.any():
        draws[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(spread * draws) >= 1
    return 1 + spread * draws


def pulsed_updates(
    device: PulsedDevice, weights: Array, gradients: Array, learning_rates: Array, generators: Sequence[np.random.Generator],
    dw_min: Array, gamma_up: Array, gamma_down: Array,
) -> Array:
    """W⁺ of the pulsed device for R replicas at once, as a new array [R, n]: `weights` and
    `gradients` [R, n] (flattened), `learning_rates` [R, 1], replica r drawing from
    `generators[r]`; `dw_min`, `gamma_up`, `gamma_down` [R, n] (nominal or device-to-device).

    Replica r draws, in order: one uniform per element (the extra pulse with probability equal
    to the fractional part), then, for pulse index i = 0, 1, … and only when c2c > 0, one normal
    per element of r that still has a pulse i, in the order of its flattened weight: exactly
    the draws of a run of that replica alone. Vectorised over replicas and elements: the loop
    runs over the pulse index, on the elements whose pulses are not done; every element's
    arithmetic is the same whatever else is in the batch.
    """
    replicas, elements = weights.shape
    desired = -(learning_rates * gradients)
    size = np.abs(desired) / dw_min
    result = weights.astype(float, copy=True)
    undefined = ~np.isfinite(size)  # a non-finite Δ: W⁺ is NaN there, as for every other device
    result[undefined] = np.nan
    size[undefined] = 0.0
    pulses = np.floor(size)
    for r in range(replicas):
        pulses[r] += generators[r].random(elements) < (size[r] - pulses[r])
        if device.max_pulses is None and elements and pulses[r].max() > PULSE_LIMIT:
            raise PulseCountError(
                f"an update needs {pulses[r].max():.3g} pulses of dw_min on one element (more than {PULSE_LIMIT}); "
                "lower the step size or set max_pulses"
            )
    if device.max_pulses is not None:
        np.minimum(pulses, device.max_pulses, out=pulses)
    result, pulses = result.ravel(), pulses.ravel()
    active = np.flatnonzero(pulses > 0)
    rising = desired.ravel()[active] > 0
    remaining = pulses[active]
    size_of, up_of, down_of = dw_min.ravel()[active], gamma_up.ravel()[active], gamma_down.ravel()[active]
    tau, p = device.tau, device.exponent
    while active.size:
        w = result[active]
        base = np.where(rising, 1 - w / tau, 1 + w / tau)
        np.maximum(base, 0.0, out=base)
        step = size_of * np.where(rising, up_of, down_of) * base**p
        if device.c2c > 0:
            owners = np.searchsorted(active, np.arange(1, replicas + 1) * elements)  # active is sorted: replica r's run ends at owners[r]
            step *= 1 + device.c2c * np.concatenate([generators[r].standard_normal(int(count)) for r, count in enumerate(np.diff(owners, prepend=0))])
        result[active] = np.clip(np.where(rising, w + step, w - step), -tau, tau)
        remaining = remaining - 1
        going = remaining > 0
        active, rising, remaining = active[going], rising[going], remaining[going]
        size_of, up_of, down_of = size_of[going], up_of[going], down_of[going]
    return result.reshape(replicas, elements)


class PulsedLayer:
    """One layer's pulsed update rule: the device's settings, the layer's device-to-device
    draws and the pulse generator of every replica (side effects: each update draws)."""

    def __init__(self, device: PulsedDevice, shape: tuple[int, ...], seeds: Sequence[int], layer_index: int) -> None:
        self.device = device
        self.shape = shape
        lead, element_shape = shape[:-2], shape[-2:]  # a layer's weights are [..., d_m, d_{m-1}]
        self.replicas = int(np.prod(lead)) if lead else 1
        if len(seeds) != self.replicas:
            raise ValueError(f"{len(seeds)} seeds for replica shape {lead}")
        self.pulse_generators = [generator(seed, "pulses", layer_index) for seed in seeds]
        if device.d2d > 0:
            factors = []
            for seed in seeds:
                rng = generator(seed, "device-variation", layer_index)
                factors.append([variation_factors(rng, device.d2d, element_shape) for _ in range(3)])
            self.dw_min = [device.dw_min * f[0] for f in factors]
            self.gamma_up = [device.gamma_up * f[1] for f in factors]
            self.gamma_down = [device.gamma_down * f[2] for f in factors]
        else:
            self.dw_min = [device.dw_min] * self.replicas
            self.gamma_up = [device.gamma_up] * self.replicas
            self.gamma_down = [device.gamma_down] * self.replicas

    name = "pulsed"

    @property
    def tau(self) -> float:
        """The device's conductance bound τ."""
        return self.device.tau

    def update(self, weight: Array, gradient: Array, learning_rate: float | Array) -> Array:
        """W⁺ as a new array (draws the next pulses of every replica)."""
        out = np.empty(np.broadcast_shapes(np.shape(weight), np.shape(gradient)))
        self.update_into(weight, gradient, learning_rate, out, out)
        return out

    def update_into(
        self, weight: Array, gradient: Array, learning_rate: float | Array, out: Array, scratch: Array, spare_gradient: bool = False
    ) -> None:
        """out = W⁺, every replica drawing from its own generator (`out` may be `weight`)."""
        replicas, elements = self.replicas, math.prod(self.shape[-2:])
        weights = np.reshape(np.asarray(weight, dtype=float), (replicas, elements))
        gradients = np.reshape(np.broadcast_to(np.asarray(gradient, dtype=float), np.shape(weight)), (replicas, elements))
        rates = np.broadcast_to(np.asarray(learning_rate, dtype=float), self.shape[:-2] + (1, 1)).reshape(replicas, 1)
        settings = (np.broadcast_to(np.asarray(values, dtype=float).reshape(replicas, -1), (replicas, elements)) for values in (self.dw_min, self.gamma_up, self.gamma_down))
        out[...] = np.reshape(pulsed_updates(self.device, weights, gradients, rates, self.pulse_generators, *settings), np.shape(out))


# ----------------------------------------------------------------------------- the registry

DEVICE_KINDS: dict[str, type] = {kind.name: kind for kind in (DigitalDevice, AsymmetricLinearDevice, SoftBoundsDevice, PulsedDevice)}
"""Every device kind by name: its settings dataclass (the fields are its settings)."""

DEVICE_NAMES = tuple(DEVICE_KINDS)


def device_settings(name: str) -> tuple[str, ...]:
    """The settings (field names) the device kind `name` takes."""
    return tuple(field.name for field in dataclasses.fields(DEVICE_KINDS[name]))


def make_device(name: str, tau: float | Array | None = None, **settings) -> Device:
    """The device called `name` with the given settings (defaults for the rest).

    `tau` is ignored by a device without a bound (digital, τ = ∞), so one τ can be passed
    to every device of a sweep; any other setting the device does not take is a ValueError,
    as is a bad value (naming the setting).
    """
    try:
        kind = DEVICE_KINDS[name]
    except KeyError:
        raise KeyError(f"unknown device {name!r}; allowed: {', '.join(DEVICE_NAMES)}") from None
    known = device_settings(name)
    if tau is not None and "tau" in known:
        settings["tau"] = tau
    unknown = sorted(set(settings) - set(known))
    if unknown:
        raise ValueError(f"the {name} device does not take {', '.join(unknown)}; its settings: {', '.join(known) or 'none'}")
    return kind(**settings)


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

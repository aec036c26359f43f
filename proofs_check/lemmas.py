"""Left and right sides of every lemma of MODEL.md §4 at a concrete instance.

Each evaluator maps an `Instance` (optionally with one leading batch axis on every array,
e.g. all updates of a trace at once) and an `Arithmetic` to an `Evaluation`: a list of
`Part`s, each one inequality family `lhs ≤ rhs` with arrays [batch..., entries]. The
right sides come from theory.constants' numerical path; the left sides from the network
of numerics.network run on the instance's weights. The headline part is the lemma's
quantity of CONTRACT.md (`bound --rhs` replaces its right side).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import mpmath
import numpy as np
import sympy as sp

from numerics import network
from numerics.activations import ACTIVATIONS
from numerics.devices import AsymmetricLinearDevice, DigitalDevice
from numerics.losses import LOSSES
from proofs_check.instances import LEMMA_IDS, Instance
from proofs_check.precision import FLOAT64, Arithmetic
from theory.constants import (
    ACTIVATION_CONSTANTS,
    LOSS_CONSTANTS,
    gamma_matrix,
    loss_gradient_bound,
    signal_constants,
    stability_constants,
    symmetric_gamma,
)

Array = np.ndarray


@dataclass(frozen=True)
class ConstantsModel:
    """The recursions the right sides come from: MODEL.md's (`EXACT`), or a deliberately
    modified one (a false variant that the engine must refute)."""

    name: str
    signal: Callable = signal_constants
    """(ω, X, L_φ, G_ℓ, sqrt) ↦ SignalConstants."""
    stability: Callable = stability_constants
    """(ω, X, L_φ, S_φ, L_ℓ, G_ℓ, u^f, u^b, sqrt) ↦ StabilityConstants."""
    ignore_delays: bool = False
    """Treat every measured delay as 0 in the right sides (the delay ignored)."""


EXACT = ConstantsModel("MODEL.md")


@dataclass
class Part:
    """One inequality family lhs ≤ rhs, arrays of shape [batch..., entries]."""

    name: str
    """The inequality, in MODEL.md's notation."""
    lhs: Array
    rhs: Array
    layer: int | None = None
    """Layer m the part is about (None for whole-network quantities)."""


@dataclass
class Evaluation:
    """All parts of one lemma at one (batched) instance, and the lemma's symbol values."""

    lemma: str
    parts: list[Part]
    headline: Part
    """The lemma's quantity (CONTRACT.md `bound`) and the project's own right side."""
    symbols: dict[str, Array] = field(default_factory=dict)
    """Values of CONTRACT.md's `bound` symbols, broadcastable against `headline.lhs`."""


# ---------------------------------------------------------------------------- helpers


def _amax(values, axis=None) -> Array:
    """np.max that returns an array (object reductions otherwise give bare mpmath numbers)."""
    return np.asarray(np.max(values, axis=axis))


def _asum(values, axis=None) -> Array:
    """np.sum that returns an array, likewise."""
    return np.asarray(np.sum(values, axis=axis))


def _maximum(first, second) -> Array:
    """np.maximum that returns an array, likewise."""
    return np.asarray(np.maximum(first, second))


def _exact(arithmetic: Arithmetic, value: sp.Expr):
    """A sympy constant in the working arithmetic."""
    if arithmetic is FLOAT64:
        return float(value)
    return mpmath.mpf(str(sp.N(value, 70)))


class _Context:
    """The instance converted into the working arithmetic, with its measured bounds."""

    def __init__(self, instance: Instance, arithmetic: Arithmetic, model: ConstantsModel) -> None:
        self.instance = instance
        self.ar = arithmetic
        self.model = model
        self.activation = arithmetic.activation(ACTIVATIONS[instance.activation])
        self.loss = arithmetic.loss(LOSSES[instance.loss])
        L_phi, S_phi = ACTIVATION_CONSTANTS[instance.activation]
        self.L_phi, self.S_phi = _exact(arithmetic, L_phi), _exact(arithmetic, S_phi)
        self.L_ell = _exact(arithmetic, LOSS_CONSTANTS[instance.loss])
        self.batch = instance.inputs.shape[:-2]
        self.x = arithmetic.convert(instance.inputs)
        if LOSSES[instance.loss].integer_targets:
            self.y = np.asarray(instance.targets).astype(np.int64)
        else:
            self.y = arithmetic.convert(instance.targets)
        self.W = self.weights(instance.weights)

    def weights(self, weights):
        return tuple(self.ar.convert(w) for w in weights)

    def scalar(self, value) -> Array:
        """A scalar or per-batch value, shaped [batch..., 1] to broadcast against samples."""
        array = np.asarray(value, dtype=float)
        converted = self.ar.convert(np.broadcast_to(array, self.batch).copy())
        return converted[..., None]

    def per_sample_X(self) -> Array:
        if self.instance.X is not None:
            return self.scalar(self.instance.X)
        return self.ar.norm(self.x, -1)

    def per_sample_Y(self) -> Array:
        if self.instance.Y is not None:
            return self.scalar(self.instance.Y)
        if LOSSES[self.instance.loss].integer_targets:
            return self.ar.convert(np.ones(self.y.shape))
        return self.ar.norm(self.y, -1)

    def omega(self, *weight_sets) -> Array:
        """ω [batch..., 1, M]: the instance's, or the largest spectral norm over the weight sets."""
        if self.instance.omega is not None:
            return self.ar.convert(np.asarray(self.instance.omega, dtype=float))[..., None, :]
        norms = []
        for m in range(self.instance.layers):
            candidates = [self.ar.spectral_norm(weights[m]) for weights in weight_sets]
            largest = candidates[0]
            for candidate in candidates[1:]:
                largest = _maximum(largest, candidate)
            norms.append(largest)
        return np.stack(norms, -1)[..., None, :]

    def G_ell(self, omega: Array, X: Array, Y: Array) -> Array:
        Z = self.model.signal(omega, X, self.L_phi, 1 + 0 * X, sqrt=self.ar.sqrt).Z
        return loss_gradient_bound(self.instance.loss, Z, Y, sqrt=self.ar.sqrt)

    def passes(self, forward_weights, backward_weights):
        """(forward pass, deltas) of the (possibly mixed) pass."""
        forward_pass = network.forward(forward_weights, self.x, self.activation)
        deltas = network.backward(forward_pass, self.y, backward_weights, self.activation, self.loss)
        return forward_pass, deltas

    def per_sample_gradients(self, forward_pass, deltas) -> list[Array]:
        return [network.per_sample_weight_gradients(d, a) for d, a in zip(deltas, forward_pass.layer_inputs)]

    def total_norm(self, per_layer: list[Array], axes) -> Array:
        return self.ar.sqrt(sum(_asum(g * g, axis=axes) for g in per_layer))

    def base_symbols(self, omega, X, Y, G_ell, signal, L, headline_rhs) -> dict[str, Array]:
        instance = self.instance
        omega_layers = omega[..., 0, :]
        W_max = instance.W_max if instance.W_max is not None else None
        if W_max is None:
            W_max_value = self.ar.max_abs(self.W[0])
            for w in self.W[1:]:
                W_max_value = _maximum(W_max_value, self.ar.max_abs(w))
            W_max_value = W_max_value[..., None]
        else:
            W_max_value = self.scalar(W_max)
        product = omega_layers[..., 0]
        for m in range(1, instance.layers):
            product = product * omega_layers[..., m]
        zero = 0 * X
        return {
            "M": zero + instance.layers,
            "alpha": zero + self.scalar(instance.alpha),
            "tau": zero + self.scalar(instance.tau),
            "W_max": zero + W_max_value,
            "X": zero + X,
            "Y": zero + Y,
            "L_phi": zero + self.L_phi,
            "S_phi": zero + self.S_phi,
            "L_ell": zero + self.L_ell,
            "G_ell": zero + G_ell,
            "omega_max": zero + _amax(omega_layers, axis=-1)[..., None],
            "omega_prod": zero + np.asarray(product)[..., None],
            "D": zero,
            "u_f": zero,
            "u_b": zero,
            "G": zero + signal.G,
            "L": zero + L,
            "bound": zero + headline_rhs,
        }


def _smoothness(context: _Context, omega, X, G_ell) -> Array:
    """L = ||Γ_sym||_2 per entry."""
    matrix = symmetric_gamma(gamma_matrix(omega, X, context.L_phi, context.S_phi, context.L_ell, G_ell, context.model.stability))
    return context.ar.spectral_norm(matrix)


# ------------------------------------------------------------------------- evaluators


def bounded_signal(instance: Instance, arithmetic: Arithmetic = FLOAT64, model: ConstantsModel = EXACT) -> Evaluation:
    """||a_m|| ≤ A_m, ||z_M|| ≤ Z_M, ||δ_m|| ≤ Δ_m, ||∇_{W_m} f||_F ≤ G_m, ||∇f||_F ≤ G, per sample."""
    c = _Context(instance, arithmetic, model)
    ar, layers = c.ar, instance.layers
    omega, X, Y = c.omega(c.W), c.per_sample_X(), c.per_sample_Y()
    G_ell = c.G_ell(omega, X, Y)
    signal = c.model.signal(omega, X, c.L_phi, G_ell, sqrt=ar.sqrt)
    forward_pass, deltas = c.passes(c.W, c.W)
    gradients = c.per_sample_gradients(forward_pass, deltas)
    parts = []
    for m in range(1, layers):
        parts.append(Part("||a_m|| ≤ A_m", ar.norm(forward_pass.layer_inputs[m], -1), signal.A[..., m], m))
    parts.append(Part("||z_M|| ≤ Z_M", ar.norm(forward_pass.output, -1), signal.Z, layers))
    for m in range(layers):
        parts.append(Part("||δ_m|| ≤ Δ_m", ar.norm(deltas[m], -1), signal.Delta[..., m], m + 1))
    for m in range(layers):
        parts.append(Part("||∇_{W_m} f||_F ≤ G_m", ar.norm(gradients[m], (-2, -1)), signal.G_layers[..., m], m + 1))
    headline = Part("||∇f||_F ≤ G", c.total_norm(gradients, (-2, -1)), signal.G)
    parts.append(headline)
    L = _smoothness(c, omega, X, G_ell)
    return Evaluation(instance.lemma, parts, headline, c.base_symbols(omega, X, Y, G_ell, signal, L, headline.rhs))


def signal_stability(instance: Instance, arithmetic: Arithmetic = FLOAT64, model: ConstantsModel = EXACT) -> Evaluation:
    """The mixed pass (forward W^f, backward MVMs W^b) against the pass at W: ζ, e, ε, γ bounds."""
    c = _Context(instance, arithmetic, model)
    ar, layers = c.ar, instance.layers
    W_f = c.weights(instance.forward_weights or instance.weights)
    W_b = c.weights(instance.backward_weights or instance.weights)
    omega, X, Y = c.omega(c.W, W_f, W_b), c.per_sample_X(), c.per_sample_Y()
    G_ell = c.G_ell(omega, X, Y)
    u_f = np.stack([ar.spectral_norm(c.W[m] - W_f[m]) for m in range(layers)], -1)[..., None, :]
    u_b = np.stack([ar.spectral_norm(c.W[m] - W_b[m]) for m in range(layers)], -1)[..., None, :]
    bounds = c.model.stability(omega, X, c.L_phi, c.S_phi, c.L_ell, G_ell, u_f, u_b, sqrt=ar.sqrt)
    exact_pass, exact_deltas = c.passes(c.W, c.W)
    mixed_pass, mixed_deltas = c.passes(W_f, W_b)
    exact_gradients = c.per_sample_gradients(exact_pass, exact_deltas)
    mixed_gradients = c.per_sample_gradients(mixed_pass, mixed_deltas)
    differences = [e - g for e, g in zip(exact_gradients, mixed_gradients)]
    parts = []
    for m in range(layers):
        gap = exact_pass.pre_activations[m] - mixed_pass.pre_activations[m]
        parts.append(Part("||z_m − z̃_m|| ≤ ζ_m", ar.norm(gap, -1), bounds.zeta[..., m], m + 1))
    for m in range(1, layers):
        gap = exact_pass.layer_inputs[m] - mixed_pass.layer_inputs[m]
        parts.append(Part("||a_m − ã_m|| ≤ e_m", ar.norm(gap, -1), bounds.e[..., m - 1], m))
    for m in range(layers):
        parts.append(Part("||δ_m − δ̃_m|| ≤ ε_m", ar.norm(exact_deltas[m] - mixed_deltas[m], -1), bounds.eps[..., m], m + 1))
    for m in range(layers):
        parts.append(Part("||∇_{W_m} f − g̃_m||_F ≤ γ_m", ar.norm(differences[m], (-2, -1)), bounds.gamma[..., m], m + 1))
    headline = Part("||∇f − g̃||_F ≤ ||γ||", c.total_norm(differences, (-2, -1)), ar.norm(bounds.gamma, -1))
    parts.append(headline)
    signal = c.model.signal(omega, X, c.L_phi, G_ell, sqrt=ar.sqrt)
    symbols = c.base_symbols(omega, X, Y, G_ell, signal, _smoothness(c, omega, X, G_ell), headline.rhs)
    symbols["u_f"] = 0 * X + _asum(_frobenius_gaps(c, c.W, W_f), axis=-1)[..., None]
    symbols["u_b"] = 0 * X + _asum(_frobenius_gaps(c, c.W, W_b), axis=-1)[..., None]
    return Evaluation(instance.lemma, parts, headline, symbols)


def _frobenius_gaps(c: _Context, first, second) -> Array:
    """||W_m − W'_m||_F per layer, [batch..., M]."""
    return np.stack([c.ar.norm(a - b, (-2, -1)) for a, b in zip(first, second)], -1)


def objective_smoothness(instance: Instance, arithmetic: Arithmetic = FLOAT64, model: ConstantsModel = EXACT) -> Evaluation:
    """||∇f(W;ξ) − ∇f(W';ξ)||_F ≤ ||Γ_sym u|| ≤ L ||W − W'||_F with u_m = ||W_m − W'_m||_F."""
    c = _Context(instance, arithmetic, model)
    ar = c.ar
    W_other = c.weights(instance.forward_weights)
    omega, X, Y = c.omega(c.W, W_other), c.per_sample_X(), c.per_sample_Y()
    G_ell = c.G_ell(omega, X, Y)
    u = _frobenius_gaps(c, c.W, W_other)[..., None, :]
    gamma = c.model.stability(omega, X, c.L_phi, c.S_phi, c.L_ell, G_ell, u, u, sqrt=ar.sqrt).gamma
    L = _smoothness(c, omega, X, G_ell)
    distance = ar.norm(u, -1)
    first = c.per_sample_gradients(*c.passes(c.W, c.W))
    second = c.per_sample_gradients(*c.passes(W_other, W_other))
    lhs = c.total_norm([a - b for a, b in zip(first, second)], (-2, -1))
    gamma_norm = ar.norm(gamma, -1)
    headline = Part("||∇f(W;ξ) − ∇f(W';ξ)||_F ≤ L ||W − W'||_F", lhs, L * distance)
    parts = [
        Part("||∇f(W;ξ) − ∇f(W';ξ)||_F ≤ ||Γ_sym u||", lhs, gamma_norm),
        Part("||Γ_sym u|| ≤ L ||u||", gamma_norm, L * distance),
        headline,
    ]
    signal = c.model.signal(omega, X, c.L_phi, G_ell, sqrt=ar.sqrt)
    symbols = c.base_symbols(omega, X, Y, G_ell, signal, L, headline.rhs)
    symbols["u_f"] = symbols["u_b"] = 0 * X + _asum(u, axis=-1)
    return Evaluation(instance.lemma, parts, headline, symbols)


def _device_step(c: _Context, weights, gradient, alpha, tau) -> tuple[Array, ...]:
    """W⁺ for every layer with the instance's device (ALD for finite τ, digital for τ = ∞)."""
    tau_array = np.asarray(tau, dtype=float)
    alpha_matrix = c.ar.convert(np.broadcast_to(np.asarray(alpha, dtype=float), c.batch).copy())[..., None, None]
    if np.all(np.isinf(tau_array)):
        device = DigitalDevice()
    else:
        device = AsymmetricLinearDevice(tau=np.broadcast_to(tau_array, c.batch).copy()[..., None, None])
    return tuple(device.update(w, g, alpha_matrix) for w, g in zip(weights, gradient))


def _micro_batch_gradient(c: _Context, W_f, W_b) -> tuple[Array, ...]:
    forward_pass, deltas = c.passes(W_f, W_b)
    return tuple(network.gradients_from_pass(forward_pass, deltas))


def analog_increment(instance: Instance, arithmetic: Arithmetic = FLOAT64, model: ConstantsModel = EXACT) -> Evaluation:
    """||W⁺ − W||_F ≤ α(1 + ||W||_inf/τ)||g||_F ≤ 2αG for one device update."""
    c = _Context(instance, arithmetic, model)
    ar, layers = c.ar, instance.layers
    W_f = c.weights(instance.forward_weights or instance.weights)
    W_b = c.weights(instance.backward_weights or instance.weights)
    gradient = c.weights(instance.gradient) if instance.gradient is not None else _micro_batch_gradient(c, W_f, W_b)
    omega = c.omega(c.W, W_f, W_b)
    X = c.scalar(instance.X) if instance.X is not None else _amax(ar.norm(c.x, -1), axis=-1)[..., None]
    Y = c.scalar(instance.Y) if instance.Y is not None else _amax(c.per_sample_Y(), axis=-1)[..., None]
    G_ell = c.G_ell(omega, X, Y)
    signal = c.model.signal(omega, X, c.L_phi, G_ell, sqrt=ar.sqrt)
    alpha, tau = c.scalar(instance.alpha), c.scalar(instance.tau)
    updated = _device_step(c, c.W, gradient, instance.alpha, instance.tau)
    steps = [ar.norm(u - w, (-2, -1))[..., None] for u, w in zip(updated, c.W)]
    gradient_norms = [ar.norm(g, (-2, -1))[..., None] for g in gradient]
    largest = [ar.max_abs(w)[..., None] for w in c.W]
    parts = []
    for m in range(layers):
        parts.append(
            Part("||W⁺_m − W_m||_F ≤ α(1 + ||W_m||_inf/τ)||g_m||_F", steps[m], alpha * (1 + largest[m] / tau) * gradient_norms[m], m + 1)
        )
    step = ar.sqrt(sum(s * s for s in steps))
    W_inf = largest[0]
    for value in largest[1:]:
        W_inf = _maximum(W_inf, value)
    g_norm = ar.sqrt(sum(g * g for g in gradient_norms))
    middle = alpha * (1 + W_inf / tau) * g_norm
    parts.append(Part("||W⁺ − W||_F ≤ α(1 + ||W||_inf/τ)||g||_F", step, middle))
    headline = Part("||W⁺ − W||_F ≤ 2αG", step, 2 * alpha * signal.G)
    parts.append(Part("α(1 + ||W||_inf/τ)||g||_F ≤ 2αG", middle, 2 * alpha * signal.G))
    parts.append(headline)
    symbols = c.base_symbols(omega, X, Y, G_ell, signal, _smoothness(c, omega, X, G_ell), headline.rhs)
    symbols["W_max"] = 0 * X + W_inf
    return Evaluation(instance.lemma, parts, headline, symbols)


def box_invariance(instance: Instance, arithmetic: Arithmetic = FLOAT64, model: ConstantsModel = EXACT) -> Evaluation:
    """|w⁺| ≤ τ for every entry with |w| ≤ τ and α|g| ≤ τ (ALD). Entries outside the hypotheses get lhs 0."""
    c = _Context(instance, arithmetic, model)
    ar = c.ar
    gradient = c.weights(instance.gradient) if instance.gradient is not None else _micro_batch_gradient(c, c.W, c.W)
    updated = _device_step(c, c.W, gradient, instance.alpha, instance.tau)
    tau_matrix = c.scalar(instance.tau)[..., None]
    alpha_matrix = c.scalar(instance.alpha)[..., None]
    lhs_layers, rhs_layers = [], []
    for w, g, u in zip(c.W, gradient, updated):
        inside = (np.abs(w) <= tau_matrix) & (alpha_matrix * np.abs(g) <= tau_matrix)
        lhs_layers.append(np.where(inside, np.abs(u), 0 * u).reshape(c.batch + (-1,)))
        rhs_layers.append((0 * u + tau_matrix).reshape(c.batch + (-1,)))
    lhs, rhs = np.concatenate(lhs_layers, -1), np.concatenate(rhs_layers, -1)
    headline = Part("|w⁺| ≤ τ (where |w| ≤ τ, α|g| ≤ τ)", _amax(lhs, axis=-1)[..., None], _amax(rhs, axis=-1)[..., None])
    parts = [Part("|w⁺_ij| ≤ τ", lhs, rhs), headline]
    omega = c.omega(c.W)
    X = _amax(ar.norm(c.x, -1), axis=-1)[..., None]
    Y = _amax(c.per_sample_Y(), axis=-1)[..., None]
    G_ell = c.G_ell(omega, X, Y)
    signal = c.model.signal(omega, X, c.L_phi, G_ell, sqrt=ar.sqrt)
    symbols = c.base_symbols(omega, X, Y, G_ell, signal, _smoothness(c, omega, X, G_ell), headline.rhs)
    return Evaluation(instance.lemma, parts, headline, symbols)


class _DelayWindow:
    """Stale versions and measured increments of a delay instance's history."""

    def __init__(self, c: _Context) -> None:
        instance = c.instance
        self.history = tuple(c.ar.convert(h) for h in instance.history)
        self.current = tuple(h[..., -1, :, :] for h in self.history)
        self.forward_delays = np.asarray(instance.forward_delays, dtype=np.int64)
        self.backward_delays = np.asarray(
            instance.backward_delays if instance.backward_delays is not None else np.zeros_like(self.forward_delays)
        , dtype=np.int64)
        steps = [c.ar.norm(np.diff(h, axis=-3), (-2, -1)) for h in self.history]
        self.step_norms = steps
        self.length = self.history[0].shape[-3]

    def stale(self, delays: Array) -> tuple[Array, ...]:
        """W_m^{(k − d_m)} per layer (delays [batch..., M])."""
        chosen = []
        for m, h in enumerate(self.history):
            index = self.length - 1 - delays[..., m]
            chosen.append(np.take_along_axis(h, index[..., None, None, None], axis=-3)[..., 0, :, :])
        return tuple(chosen)

    def increments(self, delays: Array) -> Array:
        """Σ_{i=k−d_m}^{k−1} ||W_m^{(i+1)} − W_m^{(i)}||_F per layer, [batch..., M]."""
        sums = []
        for m, steps in enumerate(self.step_norms):
            positions = np.arange(self.length - 1)
            mask = positions >= (self.length - 1 - delays[..., m][..., None])
            sums.append(_asum(np.where(mask, steps, 0 * steps), axis=-1))
        return np.stack(sums, -1)


def _delay_bounds(c: _Context, window: _DelayWindow, omega):
    """X, Y (micro-batch or instance), W_max and the per-layer increment bound α(1 + W_max/τ)G_m."""
    ar = c.ar
    X = c.scalar(c.instance.X) if c.instance.X is not None else _amax(ar.norm(c.x, -1), axis=-1)[..., None]
    Y = c.scalar(c.instance.Y) if c.instance.Y is not None else _amax(c.per_sample_Y(), axis=-1)[..., None]
    if c.instance.W_max is not None:
        W_max = c.scalar(c.instance.W_max)
    else:
        W_max = None
        for h in window.history:
            value = _amax(np.abs(h), axis=(-3, -2, -1))
            W_max = value if W_max is None else _maximum(W_max, value)
        W_max = W_max[..., None]
    G_ell = c.G_ell(omega, X, Y)
    signal = c.model.signal(omega, X, c.L_phi, G_ell, sqrt=ar.sqrt)
    alpha, tau = c.scalar(c.instance.alpha), c.scalar(c.instance.tau)
    per_step = alpha * (1 + W_max / tau)
    return X, Y, W_max, G_ell, signal, per_step


def _history_omega(c: _Context, window: _DelayWindow) -> Array:
    if c.instance.omega is not None:
        return c.omega()
    norms = [_amax(c.ar.spectral_norm(h), axis=-1) for h in window.history]
    return np.stack(norms, -1)[..., None, :]


def _delay_setup(instance: Instance, arithmetic: Arithmetic, model: ConstantsModel):
    """Context, delay window (the reference point W^{(k)} is its last version), ω and the bounds."""
    c = _Context(instance, arithmetic, model)
    window = _DelayWindow(c)
    c.W = window.current
    omega = _history_omega(c, window)
    return c, window, omega, _delay_bounds(c, window, omega)


def signal_delay(instance: Instance, arithmetic: Arithmetic = FLOAT64, model: ConstantsModel = EXACT) -> Evaluation:
    """Stale forward signals: ||ã_m − a_m(W^{(k)})|| ≤ e_m with u^f from the measured increments and the worst case."""
    c, window, omega, (X, Y, W_max, G_ell, signal, per_step) = _delay_setup(instance, arithmetic, model)
    ar, layers = c.ar, instance.layers
    d_f = window.forward_delays
    stale = window.stale(d_f)
    rhs_delays = 0 * d_f if c.model.ignore_delays else d_f
    measured = window.increments(rhs_delays)[..., None, :]
    worst = per_step[..., None] * signal.G_layers * rhs_delays[..., None, :]
    zero_b = 0 * measured
    per_sample_X = c.per_sample_X()
    e_measured = c.model.stability(omega, per_sample_X, c.L_phi, c.S_phi, c.L_ell, G_ell, measured, zero_b, sqrt=ar.sqrt)
    e_worst = c.model.stability(omega, per_sample_X, c.L_phi, c.S_phi, c.L_ell, G_ell, worst, zero_b, sqrt=ar.sqrt)
    fresh = network.forward(window.current, c.x, c.activation)
    stale_pass = network.forward(stale, c.x, c.activation)
    parts = []
    for m in range(layers):
        gap = ar.spectral_norm(window.current[m] - stale[m])[..., None]
        parts.append(Part("||W_m − W^f_m||_2 ≤ Σ increments", gap, measured[..., 0, m][..., None], m + 1))
        parts.append(Part("Σ increments ≤ α(1 + W_max/τ) G_m d^f_m", measured[..., 0, m][..., None], worst[..., 0, m][..., None], m + 1))
    for m in range(layers):
        gap = ar.norm(fresh.pre_activations[m] - stale_pass.pre_activations[m], -1)
        parts.append(Part("||z̃_m − z_m|| ≤ ζ_m (measured u^f)", gap, e_measured.zeta[..., m], m + 1))
        parts.append(Part("||z̃_m − z_m|| ≤ ζ_m (worst-case u^f)", gap, e_worst.zeta[..., m], m + 1))
    for m in range(1, layers):
        gap = ar.norm(fresh.layer_inputs[m] - stale_pass.layer_inputs[m], -1)
        parts.append(Part("||ã_m − a_m|| ≤ e_m (measured u^f)", gap, e_measured.e[..., m - 1], m))
        parts.append(Part("||ã_m − a_m|| ≤ e_m (worst-case u^f)", gap, e_worst.e[..., m - 1], m))
    headline = next(p for p in parts if p.name.startswith("||z̃_m") and "worst" in p.name and p.layer == layers)
    headline = Part("||z̃_M − z_M|| ≤ ζ_M (worst case)", headline.lhs, headline.rhs, layers)
    symbols = c.base_symbols(omega, per_sample_X, Y, G_ell, signal, _smoothness(c, omega, X, G_ell), headline.rhs)
    symbols["W_max"] = 0 * per_sample_X + W_max
    symbols["D"] = 0 * per_sample_X + _amax(d_f, axis=-1)[..., None]
    symbols["u_f"] = 0 * per_sample_X + _asum(measured, axis=-1)
    return Evaluation(instance.lemma, parts, headline, symbols)


def gradient_delay(instance: Instance, arithmetic: Arithmetic = FLOAT64, model: ConstantsModel = EXACT) -> Evaluation:
    """||g̃_k − ∇f(W^{(k)};ξ_k)||_F ≤ ||Γ(u^f, u^b)|| ≤ α c_D, c_D = (1 + W_max/τ)||Γ(d^f⊙G, d^b⊙G)||."""
    c, window, omega, (X, Y, W_max, G_ell, signal, per_step) = _delay_setup(instance, arithmetic, model)
    ar, layers = c.ar, instance.layers
    d_f, d_b = window.forward_delays, window.backward_delays
    if instance.gradient is not None:
        applied = c.weights(instance.gradient)
    else:
        applied = _micro_batch_gradient(c, window.stale(d_f), window.stale(d_b))
    exact = _micro_batch_gradient(c, window.current, window.current)
    if c.model.ignore_delays:
        d_f, d_b = 0 * d_f, 0 * d_b
    differences = [ar.norm(a - e, (-2, -1))[..., None] for a, e in zip(applied, exact)]
    lhs = ar.sqrt(sum(d * d for d in differences))
    u_f = window.increments(d_f)[..., None, :]
    u_b = window.increments(d_b)[..., None, :]
    gamma = c.model.stability(omega, X, c.L_phi, c.S_phi, c.L_ell, G_ell, u_f, u_b, sqrt=ar.sqrt).gamma
    gamma_worst = c.model.stability(
        omega, X, c.L_phi, c.S_phi, c.L_ell, G_ell,
        d_f[..., None, :] * signal.G_layers, d_b[..., None, :] * signal.G_layers, sqrt=ar.sqrt,
    ).gamma
    c_D = (1 + W_max / c.scalar(instance.tau)) * ar.norm(gamma_worst, -1)
    alpha = c.scalar(instance.alpha)
    measured_bound = ar.norm(gamma, -1)
    parts = [Part("||g̃_m − ∇_{W_m} f||_F ≤ γ_m (measured u)", differences[m], gamma[..., m], m + 1) for m in range(layers)]
    headline = Part("||g̃_k − ∇f(W^{(k)};ξ_k)||_F ≤ α c_D", lhs, alpha * c_D)
    parts += [
        Part("||g̃_k − ∇f(W^{(k)};ξ_k)||_F ≤ ||Γ(u^f, u^b)||", lhs, measured_bound),
        Part("||Γ(u^f, u^b)|| ≤ α c_D", measured_bound, alpha * c_D),
        headline,
    ]
    symbols = c.base_symbols(omega, X, Y, G_ell, signal, _smoothness(c, omega, X, G_ell), headline.rhs)
    symbols["W_max"] = 0 * X + W_max
    symbols["D"] = 0 * X + _amax(_maximum(d_f, d_b), axis=-1)[..., None]
    symbols["u_f"] = 0 * X + _asum(u_f, axis=-1)
    symbols["u_b"] = 0 * X + _asum(u_b, axis=-1)
    return Evaluation(instance.lemma, parts, headline, symbols)


def _row_axes(batch: tuple[int, ...], array) -> tuple[int, ...]:
    return tuple(range(len(batch), np.ndim(array)))


def finite_rows(instance: Instance) -> np.ndarray:
    """Per batch row (or 0-d): are all of the instance's numbers finite?"""
    batch = instance.inputs.shape[:-2]
    ok = np.ones(batch, dtype=bool)
    arrays = [instance.inputs, *instance.weights]
    for name in ("forward_weights", "backward_weights", "history", "gradient"):
        if getattr(instance, name) is not None:
            arrays += list(getattr(instance, name))
    if not LOSSES[instance.loss].integer_targets:
        arrays.append(instance.targets)
    for array in arrays:
        ok &= np.all(np.isfinite(array), axis=_row_axes(batch, array))
    for value in (instance.alpha, instance.omega, instance.X, instance.Y, instance.W_max):
        if value is not None:
            value = np.asarray(value, dtype=float)
            ok &= np.all(np.isfinite(value), axis=_row_axes(batch, value)) if value.ndim > len(batch) else np.isfinite(value)
    return ok


def assumptions_hold(instance: Instance) -> np.ndarray:
    """Per batch row (or 0-d): do the instance's finite numbers satisfy the lemma's assumptions?

    With ALD the updated weights must lie in the box (analog increment: ||W^{(k)}||_inf ≤ τ)
    and a delay window must satisfy ||W^{(i)}||_inf ≤ W_max < τ. The other hypotheses hold
    by construction (ω, X, Y are measured on the instance) or are checked part by part
    (box invariance). Rows with non-finite numbers count as inside: they are errors to
    report (`finite_rows`), never instances to skip.
    """
    batch = instance.inputs.shape[:-2]
    ok = np.ones(batch, dtype=bool)
    tau = np.asarray(instance.tau, dtype=float)
    if np.all(np.isinf(tau)):
        return ok
    if instance.lemma == "analog-increment":
        for weight in instance.weights:
            ok &= ~np.any(np.abs(weight) > tau[..., None, None], axis=_row_axes(batch, weight))
    if instance.lemma in ("signal-delay", "gradient-delay"):
        for versions in instance.history:
            ok &= ~np.any(np.abs(versions) >= tau[..., None, None, None], axis=_row_axes(batch, versions))
    return ok


EVALUATORS: dict[str, Callable[[Instance, Arithmetic, ConstantsModel], Evaluation]] = {
    "bounded-signal": bounded_signal,
    "signal-stability": signal_stability,
    "objective-smoothness": objective_smoothness,
    "analog-increment": analog_increment,
    "box-invariance": box_invariance,
    "signal-delay": signal_delay,
    "gradient-delay": gradient_delay,
}
assert tuple(EVALUATORS) == LEMMA_IDS


def evaluate(instance: Instance, arithmetic: Arithmetic = FLOAT64, model: ConstantsModel = EXACT) -> Evaluation:
    """Evaluate the instance's lemma in the given arithmetic with the given constants."""
    with arithmetic.context():
        return EVALUATORS[instance.lemma](instance, arithmetic, model)

"""An instance seen in one arithmetic: the quantities every lemma's sides are built from.

`Context` converts an `Instance` into the working arithmetic (float64, or mpmath at 50
digits for near ties) and offers the network's passes, per-sample gradients, norms and
the bounds measured on the instance. Built-in evaluators and user lemmas' left sides use
the same object, so a user's left side is re-evaluated in 50 digits like the built-ins'.
Every array may carry leading batch axes (all updates of a trace, a search population).
"""

from __future__ import annotations

import contextlib
from collections.abc import MutableMapping
from functools import lru_cache
from typing import Callable, Iterator

import mpmath
import numpy as np
import sympy as sp

from numerics import network
from numerics.activations import ACTIVATIONS
from numerics.devices import device_for_bound
from numerics.losses import LOSSES
from proofs_check.instances import Instance
from proofs_check.precision import FLOAT64, Arithmetic
from theory.convergence import DeviceConstants
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


def amax(values, axis=None) -> Array:
    """np.max that returns an array (object reductions otherwise give bare mpmath numbers)."""
    return np.asarray(np.max(values, axis=axis))


def asum(values, axis=None) -> Array:
    """np.sum that returns an array, likewise."""
    return np.asarray(np.sum(values, axis=axis))


def maximum(first, second) -> Array:
    """np.maximum that returns an array, likewise."""
    return np.asarray(np.maximum(first, second))


def exact(arithmetic: Arithmetic, value: sp.Expr):
    """A sympy constant in the working arithmetic (each evaluated once per precision)."""
    if arithmetic is FLOAT64:
        return _float_constant(value)
    return _mpmath_constant(value, mpmath.mp.prec)


@lru_cache(maxsize=None)
def _float_constant(value: sp.Expr) -> float:
    return float(value)


@lru_cache(maxsize=None)
def _mpmath_constant(value: sp.Expr, precision: int) -> mpmath.mpf:
    """The constant at the working precision `precision` (bits; part of the cache key)."""
    return mpmath.mpf(str(sp.N(value, 70)))


class Deferred:
    """A value computed on first use (see `DeferredValues`)."""

    def __init__(self, compute: Callable[[], Array]) -> None:
        self.compute = compute


class DeferredValues(MutableMapping):
    """Values of symbols at an instance (CONTRACT.md's `bound` symbols, the statement's symbols),
    built on first use by `build`, in the arithmetic and under the numpy error state in force
    when the mapping was made: only a candidate right side, a witness or the formula-path tests
    read them, and in 50 digits they cost more than the parts. A value `build` returns as
    `Deferred` (the smoothness constant L: Γ_sym and its spectral norm) is computed only when
    it is read. Values set before the build replace the built ones."""

    def __init__(self, build: Callable[[], dict], arithmetic: Arithmetic) -> None:
        self._build = build
        self._arithmetic = arithmetic
        self._error_state = np.geterr()
        self._values: dict | None = None
        self._overrides: dict = {}

    def _computing(self) -> contextlib.ExitStack:
        stack = contextlib.ExitStack()
        stack.enter_context(self._arithmetic.context())
        stack.enter_context(np.errstate(**self._error_state))
        return stack

    def _all(self) -> dict:
        if self._values is None:
            with self._computing():
                built = self._build()
            self._values, self._overrides = {**built, **self._overrides}, {}
        return self._values

    def __getitem__(self, name: str) -> Array:
        values = self._overrides if self._values is None and name in self._overrides else self._all()
        value = values[name]
        if isinstance(value, Deferred):
            with self._computing():
                value = values[name] = value.compute()
        return value

    def __setitem__(self, name: str, value: Array) -> None:
        (self._overrides if self._values is None else self._values)[name] = value

    def __delitem__(self, name: str) -> None:
        del self._all()[name]

    def __contains__(self, name: object) -> bool:
        return name in self._all()

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    def copy(self) -> "DeferredValues":
        """A copy that is built (or whose deferred values are computed) on its own first use."""
        copied = DeferredValues(self._build, self._arithmetic)
        copied._error_state = self._error_state
        if self._values is None:
            copied._overrides = dict(self._overrides)
        else:
            copied._values = dict(self._values)
        return copied


class ConstantsModel:
    """The recursions right sides come from: MODEL.md's (`EXACT`), or a deliberately
    modified one (a false variant that the engine must refute)."""

    def __init__(
        self, name: str, signal=signal_constants, stability=stability_constants, ignore_delays: bool = False,
        ignore_backward_delays: bool = False, step_factor=None,
    ) -> None:
        self.name = name
        self.signal = signal
        """(ω, X, L_φ, G_ℓ, sqrt) ↦ SignalConstants."""
        self.stability = stability
        """(ω, X, L_φ, S_φ, L_ℓ, G_ℓ, u^f, u^b, sqrt) ↦ StabilityConstants."""
        self.ignore_delays = ignore_delays
        """Treat every measured delay as 0 in the right sides (the delay ignored)."""
        self.ignore_backward_delays = ignore_backward_delays
        """Treat every measured backward delay d^b as 0 in the right sides (the backward MVMs
        taken as reading W^{(k)}, as in `ap`)."""
        self.step_factor = step_factor if step_factor is not None else (lambda constants: constants.q_max)
        """DeviceConstants ↦ the factor one update's step α||g|| is multiplied by (MODEL: q_max)."""

    def __repr__(self) -> str:
        return f"ConstantsModel({self.name!r})"

    def __reduce_ex__(self, protocol):
        # `EXACT` is compared by identity: pickled (to a Dask worker) it stays the module's EXACT.
        return "EXACT" if self is EXACT else super().__reduce_ex__(protocol)


EXACT = ConstantsModel("MODEL.md")


class Context:
    """The instance converted into the working arithmetic, with its passes and measured bounds.

    Attributes: `instance`, `ar` (the arithmetic), `x`, `y`, `W` (weights), `batch` (the
    leading batch shape), `activation`, `loss`, and the constants `L_phi`, `S_phi`, `L_ell`.
    """

    def __init__(self, instance: Instance, arithmetic: Arithmetic = FLOAT64, model: ConstantsModel = EXACT) -> None:
        self.instance = instance
        self.ar = arithmetic
        self.model = model
        self.activation = arithmetic.activation(ACTIVATIONS[instance.activation])
        self.loss = arithmetic.loss(LOSSES[instance.loss])
        L_phi, S_phi = ACTIVATION_CONSTANTS[instance.activation]
        self.L_phi, self.S_phi = exact(arithmetic, L_phi), exact(arithmetic, S_phi)
        self.L_ell = exact(arithmetic, LOSS_CONSTANTS[instance.loss])
        self.batch = instance.inputs.shape[:-2]
        self._shared: dict[tuple, tuple[tuple, object]] = {}
        """Results that do not depend on the constants model (conversions, spectral norms of
        converted arrays, passes), by operation and operand identities; shared with `sibling`s."""
        self.W = self.weights(instance.weights)

    def sibling(self, model: ConstantsModel) -> "Context":
        """The same instance in the same arithmetic with right sides from `model`, sharing every
        model-independent result computed so far or later (a false variant's claim evaluates
        the lemma under its modified recursion and under MODEL.md's on one instance)."""
        sibling = Context.__new__(Context)
        sibling.__dict__.update({name: value for name, value in self.__dict__.items() if name not in ("W", "model")})
        sibling.model = model
        sibling.W = sibling.weights(self.instance.weights)
        return sibling

    def shared(self, operation: str, operands: tuple, compute: Callable[[], object]):
        """`compute()` once per (operation, operand identities) for this context and its
        siblings; the operands are kept with the result, so their ids are not reused."""
        key = (operation, *map(id, operands))
        hit = self._shared.get(key)
        if hit is None or any(kept is not operand for kept, operand in zip(hit[0], operands)):
            hit = self._shared[key] = (operands, compute())
        return hit[1]

    @property
    def x(self) -> Array:
        """The inputs in the working arithmetic (converted on first use)."""
        return self.converted(self.instance.inputs)

    @property
    def y(self) -> Array:
        """The targets in the working arithmetic (integer class labels as they are)."""
        if LOSSES[self.instance.loss].integer_targets:
            return self.shared("labels", (self.instance.targets,), lambda: np.asarray(self.instance.targets).astype(np.int64))
        return self.converted(self.instance.targets)

    # ------------------------------------------------------------------ arithmetic

    def weights(self, weights) -> tuple[Array, ...]:
        """A weight tuple in the working arithmetic. Each array is converted once per context:
        an instance's W^f or W^b is often its W itself, and an mpmath conversion is costly."""
        return tuple(self.converted(w) for w in weights)

    def converted(self, array: Array) -> Array:
        """An instance array in the working arithmetic, converted once (`shared`)."""
        return self.shared("convert", (array,), lambda: self.ar.convert(array))

    def norm(self, values: Array, axes: int | tuple[int, ...] = -1) -> Array:
        """Euclidean norm over `axes` (Frobenius for two axes)."""
        return self.ar.norm(values, axes)

    def spectral_norm(self, matrices: Array) -> Array:
        """||W||_2 over the last two axes (once per array: `shared`)."""
        return self.shared("spectral norm", (matrices,), lambda: self.ar.spectral_norm(matrices))

    def spectral_norms(self, same_shape: tuple[Array, ...]) -> tuple[Array, ...]:
        """||W||_2 of each of several arrays of one shape (arrays, as `spectral_norm` gives): one
        call for all (each matrix's singular values are computed alone, as in separate calls)."""
        if len(same_shape) == 1:
            return (self.spectral_norm(same_shape[0]),)
        norms = self.shared("spectral norms", same_shape, lambda: np.asarray(self.ar.spectral_norm(np.stack(same_shape))))
        return tuple(norms[index, ...] for index in range(len(same_shape)))

    def sqrt(self, values: Array) -> Array:
        return self.ar.sqrt(values)

    def scalar(self, value) -> Array:
        """A scalar or per-batch value, shaped [batch..., 1] to broadcast against samples."""
        array = np.asarray(value, dtype=float)
        converted = self.ar.convert(np.broadcast_to(array, self.batch).copy())
        return converted[..., None]

    # ------------------------------------------------------------------ the network

    def forward(self, weights=None) -> network.ForwardPass:
        """The forward pass (pre-activations z_m, layer inputs a_{m−1}, output z_M) with `weights` (default W)."""
        return network.forward(self.W if weights is None else weights, self.x, self.activation)

    def passes(self, forward_weights=None, backward_weights=None):
        """(forward pass, deltas δ_m) of the (possibly mixed) pass: forward with W^f, backward MVMs with W^b."""
        forward_weights = self.W if forward_weights is None else forward_weights
        backward_weights = forward_weights if backward_weights is None else backward_weights

        def compute():
            forward_pass = network.forward(forward_weights, self.x, self.activation)
            return forward_pass, network.backward(forward_pass, self.y, backward_weights, self.activation, self.loss)

        return self.shared("passes", (*forward_weights, *backward_weights), compute)

    def per_sample_gradients(self, forward_pass, deltas) -> list[Array]:
        """∇_{W_m} f = δ_m a_{m−1}^T per sample, [batch..., samples, d_m, d_{m−1}] per layer."""
        return self.shared(
            "per-sample gradients", (forward_pass, *deltas),
            lambda: [network.per_sample_weight_gradients(d, a) for d, a in zip(deltas, forward_pass.layer_inputs)],
        )

    def micro_batch_gradient(self, forward_weights=None, backward_weights=None) -> tuple[Array, ...]:
        """The micro-batch gradient (mean over samples) of the mixed pass."""
        forward_pass, deltas = self.passes(forward_weights, backward_weights)
        return self.shared("micro-batch gradient", (forward_pass, *deltas), lambda: tuple(network.gradients_from_pass(forward_pass, deltas)))

    def total_norm(self, per_layer: list[Array], axes=(-2, -1)) -> Array:
        """sqrt(Σ_m ||q_m||²) over the layers."""
        return self.ar.sqrt(sum(asum(g * g, axis=axes) for g in per_layer))

    # ------------------------------------------------------------------ measured bounds

    def per_sample_X(self) -> Array:
        """X: the instance's, or ||x|| per sample."""
        if self.instance.X is not None:
            return self.scalar(self.instance.X)
        return self.ar.norm(self.x, -1)

    def per_sample_Y(self) -> Array:
        """Y: the instance's, or ||y|| per sample (1 for class labels)."""
        if self.instance.Y is not None:
            return self.scalar(self.instance.Y)
        if LOSSES[self.instance.loss].integer_targets:
            return self.ar.convert(np.ones(self.y.shape))
        return self.ar.norm(self.y, -1)

    def micro_batch_X(self) -> Array:
        """X for a micro-batch quantity: the instance's, or the largest ||x|| of the micro-batch."""
        if self.instance.X is not None:
            return self.scalar(self.instance.X)
        return amax(self.ar.norm(self.x, -1), axis=-1)[..., None]

    def micro_batch_Y(self) -> Array:
        """Y for a micro-batch quantity, likewise."""
        if self.instance.Y is not None:
            return self.scalar(self.instance.Y)
        return amax(self.per_sample_Y(), axis=-1)[..., None]

    def omega(self, *weight_sets) -> Array:
        """ω [batch..., 1, M]: the instance's, or the largest spectral norm over the weight sets."""
        if self.instance.omega is not None:
            return self.ar.convert(np.asarray(self.instance.omega, dtype=float))[..., None, :]
        norms = []
        for m in range(self.instance.layers):
            distinct = tuple({id(weights[m]): weights[m] for weights in weight_sets}.values())  # W^f, W^b are often W
            candidates = list(self.spectral_norms(distinct))
            largest = candidates[0]
            for candidate in candidates[1:]:
                largest = maximum(largest, candidate)
            norms.append(largest)
        return np.stack(norms, -1)[..., None, :]

    def G_ell(self, omega: Array, X: Array, Y: Array) -> Array:
        """G_ℓ: the bound on ||∇_z ℓ|| over the reachable outputs ||z_M|| ≤ Z_M."""
        Z = self.model.signal(omega, X, self.L_phi, 1 + 0 * X, sqrt=self.ar.sqrt).Z
        return loss_gradient_bound(self.instance.loss, Z, Y, sqrt=self.ar.sqrt)

    def signal(self, omega: Array, X: Array, G_ell: Array):
        """A_m, Z_M, Δ_m, G_m, G of the bounded-signal lemma (from the constants model)."""
        return self.model.signal(omega, X, self.L_phi, G_ell, sqrt=self.ar.sqrt)

    def stability(self, omega: Array, X: Array, G_ell: Array, u_f: Array, u_b: Array):
        """ζ_m, e_m, ε_m, γ_m of the signal-stability lemma for gaps (u^f, u^b)."""
        return self.model.stability(omega, X, self.L_phi, self.S_phi, self.L_ell, G_ell, u_f, u_b, sqrt=self.ar.sqrt)

    def frobenius_gaps(self, first, second) -> Array:
        """||W_m − W'_m||_F per layer, [batch..., M]."""
        return np.stack([self.ar.norm(a - b, (-2, -1)) for a, b in zip(first, second)], -1)

    def largest_entry(self, weights) -> Array:
        """||W||_inf = max_m ||W_m||_inf, [batch..., 1]."""
        largest = self.ar.max_abs(weights[0])
        for w in weights[1:]:
            largest = maximum(largest, self.ar.max_abs(w))
        return largest[..., None]

    def smoothness(self, omega: Array, X: Array, G_ell: Array) -> Array:
        """L = ||Γ_sym||_2 per entry."""
        matrix = symmetric_gamma(gamma_matrix(omega, X, self.L_phi, self.S_phi, self.L_ell, G_ell, self.model.stability))
        return self.ar.spectral_norm(matrix)

    def bound_symbols(self, omega, X, Y, G_ell, signal, L: "Array | Callable[[], Array]", headline_rhs) -> "DeferredValues":
        """Values of the symbols every lemma offers a candidate right side (CONTRACT.md `bound`),
        broadcast against the per-sample shape; `D`, `u_f`, `u_b` are 0 unless a lemma sets them.
        Built on first use; `L` may be given as a function computing it (`lambda:
        c.smoothness(...)`), the costliest of them, then computed only if read."""
        instance = self.instance

        def build() -> dict[str, Array]:
            omega_layers = omega[..., 0, :]
            W_max = self.largest_entry(self.W) if instance.W_max is None else self.scalar(instance.W_max)
            product = omega_layers[..., 0]
            for m in range(1, instance.layers):
                product = product * omega_layers[..., m]
            zero = 0 * X
            return {
                "M": zero + instance.layers,
                "alpha": zero + self.scalar(instance.alpha),
                "tau": zero + self.scalar(instance.tau),
                "W_max": zero + W_max,
                "X": zero + X,
                "Y": zero + Y,
                "L_phi": zero + self.L_phi,
                "S_phi": zero + self.S_phi,
                "L_ell": zero + self.L_ell,
                "G_ell": zero + G_ell,
                "omega_max": zero + amax(omega_layers, axis=-1)[..., None],
                "omega_prod": zero + np.asarray(product)[..., None],
                "D": zero,
                "u_f": zero,
                "u_b": zero,
                "G": zero + signal.G,
                "L": Deferred(lambda: zero + L()) if callable(L) else zero + L,
                "bound": zero + headline_rhs,
            }

        return DeferredValues(build, self.ar)

    def statement_values(self, omega, X, G_ell, **extra) -> DeferredValues:
        """Values of the statement's symbols (theory.symbols names: omega_m, X, L_phi, ...),
        for evaluating the sympy right sides at this instance (the formula path). Per-layer
        quantities (ω and the `u_f`, `u_b`, `d_f`, `d_b` of `extra`) come as [batch..., 1, M].
        Built on first use (only the formula-path tests read them)."""

        def build() -> dict[str, Array]:
            zero = 0 * X
            values = {
                "X": X,
                "L_phi": zero + self.L_phi,
                "S_phi": zero + self.S_phi,
                "L_ell": zero + self.L_ell,
                "G_ell": zero + G_ell,
                "alpha": zero + self.scalar(self.instance.alpha),
                "tau": zero + self.scalar(self.instance.tau),
            }
            values |= {f"omega_{m + 1}": zero + omega[..., m] for m in range(self.instance.layers)}
            for name, value in extra.items():
                value = np.asarray(value)
                if name in ("u_f", "u_b", "d_f", "d_b"):
                    values |= {f"{name}_{m + 1}": zero + value[..., m] for m in range(self.instance.layers)}
                else:
                    values[name] = zero + value
            return values

        return DeferredValues(build, self.ar)

    @property
    def device(self):
        """The instance's device (numerics.devices), or the one its τ names: ALD for a finite τ
        (one τ per batch row), digital SGD for τ = ∞."""
        if self.instance.device is not None:
            return self.instance.device
        tau = np.asarray(self.instance.tau, dtype=float)
        return device_for_bound(tau if np.all(np.isinf(tau)) else np.broadcast_to(tau, self.batch).copy()[..., None, None])

    def device_constants(self, W_max: Array) -> DeviceConstants:
        """β, q_max, G_max of the instance's device on the box |w| ≤ W_max (MODEL.md §2), in the
        working arithmetic and W_max's shape: `Device.constants` (the one home of the formulas)
        evaluated at every entry. An instance without a device is ALD with its τ (digital
        SGD's β = q_max = 1, G_max = 0 where τ = ∞)."""
        W_max = np.asarray(W_max)
        device = self.instance.device
        if device is None and np.ndim(self.instance.tau) == 0:
            device = device_for_bound(float(self.instance.tau))
        if device is None:  # one τ per batch row: ALD's constants (digital where τ = ∞), row by row
            tau = self.scalar(self.instance.tau)
            ratio = W_max / tau.reshape(tau.shape + (1,) * max(W_max.ndim - tau.ndim, 0))
            return DeviceConstants(1 - ratio, 1 + ratio, ratio)
        functions = _constants_functions(device)
        return DeviceConstants(*(np.asarray(function(W_max)) + 0 * W_max for function in functions))

    def device_step(self, weights, gradient) -> tuple[Array, ...]:
        """W⁺ for every layer with the instance's device (`device`)."""
        alpha = self.ar.convert(np.broadcast_to(np.asarray(self.instance.alpha, dtype=float), self.batch).copy())[..., None, None]
        device = self.device
        return tuple(device.update(w, g, alpha) for w, g in zip(weights, gradient))


_BOX = sp.Symbol("W_max", nonnegative=True)


@lru_cache(maxsize=64)
def _constants_functions(device) -> tuple:
    """β, q_max, G_max of a device as functions of W_max (its `constants` at a symbolic W_max, compiled)."""
    constants = device.constants(_BOX)
    return tuple(sp.lambdify(_BOX, sp.sympify(value), modules=[{"Max": _elementwise_max, "Min": _elementwise_min}, "numpy"]) for value in constants)


def _elementwise_max(*values):
    result = values[0]
    for value in values[1:]:
        result = np.maximum(result, value)
    return result


def _elementwise_min(*values):
    result = values[0]
    for value in values[1:]:
        result = np.minimum(result, value)
    return result

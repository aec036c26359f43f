"""The constants of MODEL.md §4 for any number of layers M, symbolically and numerically.

Bounded signal:   A_0 = X, A_m = L_φ ω_m A_{m−1} (m < M), Z_M = ω_M A_{M−1};
                  Δ_M = G_ℓ, Δ_m = L_φ ω_{m+1} Δ_{m+1}; G_m = Δ_m A_{m−1}; G = sqrt(Σ G_m²).
Signal stability (e_0 = 0):
                  ζ_m = A_{m−1} u^f_m + ω_m e_{m−1},   e_m = L_φ ζ_m,
                  ε_M = L_ℓ ζ_M,
                  ε_m = S_φ ω_{m+1} Δ_{m+1} ζ_m + L_φ (Δ_{m+1} u^b_{m+1} + ω_{m+1} ε_{m+1}),
                  γ_m = A_{m−1} ε_m + Δ_m e_{m−1};   γ = Γ (u^f, u^b),   L = ||Γ_sym||_2.

Two paths compute every quantity: the formula path builds sympy expressions and
lambdifies them (`symbolic_constants`, `formula_path`); the numerical path runs the
recursion directly on arrays (`signal_constants`, `stability_constants`) and works with
any arithmetic (float64, or object arrays of mpmath numbers with a matching `sqrt`).
Tests check that the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Callable, Sequence

import numpy as np
import sympy as sp

from theory import symbols as S

Array = np.ndarray


@dataclass(frozen=True)
class SymbolicConstants:
    """The sympy expressions of the §4 constants for one M (index 0 is layer 1).

    Each constant is built from those of the neighbouring layer (shared subexpressions,
    never expanded), so building them is polynomial in M; Γ and Γ_sym are built on first use.
    """

    layers: int
    """M."""
    A: tuple[sp.Expr, ...]
    """A_0..A_{M−1} (A_0 = X)."""
    Z: sp.Expr
    """Z_M."""
    Delta: tuple[sp.Expr, ...]
    """Δ_1..Δ_M."""
    G_layers: tuple[sp.Expr, ...]
    """G_1..G_M."""
    G: sp.Expr
    """G = sqrt(Σ G_m²)."""
    zeta: tuple[sp.Expr, ...]
    """ζ_1..ζ_M."""
    e: tuple[sp.Expr, ...]
    """e_1..e_M (e_0 = 0)."""
    eps: tuple[sp.Expr, ...]
    """ε_1..ε_M."""
    gamma: tuple[sp.Expr, ...]
    """γ_1..γ_M."""

    @property
    def arguments(self) -> tuple[sp.Symbol, ...]:
        """The free symbols, in the order the lambdified functions take them."""
        return argument_symbols(self.layers)

    @cached_property
    def Gamma(self) -> sp.Matrix:
        """M × 2M nonnegative matrix with γ = Γ (u^f_1..u^f_M, u^b_1..u^b_M): column j is γ
        of the recursion on the j-th unit gap (γ is linear in the gaps), as `gamma_matrix`
        computes it numerically; no expansion or differentiation."""
        layers = self.layers
        scalars = (S.X.symbol, S.L_phi.symbol, S.S_phi.symbol, S.L_ell.symbol, S.G_ell.symbol)
        zero, one = sp.Integer(0), sp.Integer(1)
        columns = []
        for index in range(2 * layers):
            gaps = [[zero] * layers, [zero] * layers]
            gaps[index // layers][index % layers] = one
            columns.append(_recursion(S.omega.of(layers), *scalars, gaps[0], gaps[1], sp.sqrt)[-1])
        return sp.Matrix(layers, 2 * layers, lambda i, j: columns[j][i])

    @cached_property
    def Gamma_sym(self) -> sp.Matrix:
        """M × M matrix with γ = Γ_sym u when u^f = u^b = u."""
        layers, Gamma = self.layers, self.Gamma
        return sp.Matrix(layers, layers, lambda i, j: Gamma[i, j] + Gamma[i, layers + j])


def argument_symbols(layers: int) -> tuple[sp.Symbol, ...]:
    """(ω_1..ω_M, X, L_φ, S_φ, L_ℓ, G_ℓ, u^f_1..u^f_M, u^b_1..u^b_M)."""
    return (
        *S.omega.of(layers),
        S.X.symbol,
        S.L_phi.symbol,
        S.S_phi.symbol,
        S.L_ell.symbol,
        S.G_ell.symbol,
        *S.u_f.of(layers),
        *S.u_b.of(layers),
    )


def _recursion(omega, X, L_phi, S_phi, L_ell, G_ell, u_f, u_b, sqrt):
    """The §4 recursions on any arithmetic (sympy symbols or arrays); lists indexed from layer 1."""
    A, Z, Delta, G_layers = _signal_recursion(omega, X, L_phi, G_ell)
    zeta, e, eps, gamma = _stability_recursion(omega, A, Delta, L_phi, S_phi, L_ell, u_f, u_b)
    return A, Z, Delta, G_layers, _total_gradient_bound(G_layers, sqrt), zeta, e, eps, gamma


def _signal_recursion(omega, X, L_phi, G_ell):
    """A_0..A_{M−1}, Z_M, Δ_1..Δ_M, G_1..G_M (bounded signal)."""
    layers = len(omega)
    A = [X]
    for m in range(1, layers):
        A.append(L_phi * omega[m - 1] * A[m - 1])
    Z = omega[layers - 1] * A[layers - 1]
    Delta = [None] * layers
    Delta[layers - 1] = G_ell
    for m in range(layers - 2, -1, -1):
        Delta[m] = L_phi * omega[m + 1] * Delta[m + 1]
    G_layers = [Delta[m] * A[m] for m in range(layers)]
    return A, Z, Delta, G_layers


def _total_gradient_bound(G_layers, sqrt):
    """G = sqrt(Σ G_m²)."""
    return sqrt(sum(g * g for g in G_layers[1:]) + G_layers[0] * G_layers[0])


def _stability_recursion(omega, A, Delta, L_phi, S_phi, L_ell, u_f, u_b):
    """ζ_m, e_m, ε_m, γ_m (signal stability) from the bounded-signal A, Δ and the gaps u^f, u^b."""
    layers = len(omega)
    zeta, e = [], []
    previous_e = 0
    for m in range(layers):
        zeta.append(A[m] * u_f[m] + omega[m] * previous_e)
        previous_e = L_phi * zeta[m]
        e.append(previous_e)
    eps = [None] * layers
    eps[layers - 1] = L_ell * zeta[layers - 1]
    for m in range(layers - 2, -1, -1):
        eps[m] = S_phi * omega[m + 1] * Delta[m + 1] * zeta[m] + L_phi * (
            Delta[m + 1] * u_b[m + 1] + omega[m + 1] * eps[m + 1]
        )
    gamma = [A[m] * eps[m] + Delta[m] * e[m - 1] if m > 0 else A[m] * eps[m] for m in range(layers)]
    return zeta, e, eps, gamma


@lru_cache(maxsize=None)
def symbolic_constants(layers: int) -> SymbolicConstants:
    """The §4 constants for M = `layers` as sympy expressions in the symbols of theory.symbols.

    Built by running the recursion on symbols, never by expanding or factoring: every
    constant refers to the expressions of the neighbouring layer (shared subexpressions),
    so the work grows polynomially in M, where an expanded ε_m has exponentially many terms.
    """
    if layers < 1:
        raise ValueError(f"M must be >= 1, got {layers}")
    A, Z, Delta, G_layers, G, zeta, e, eps, gamma = _recursion(
        S.omega.of(layers), S.X.symbol, S.L_phi.symbol, S.S_phi.symbol, S.L_ell.symbol, S.G_ell.symbol,
        S.u_f.of(layers), S.u_b.of(layers), sp.sqrt,
    )
    return SymbolicConstants(layers, tuple(A), Z, tuple(Delta), tuple(G_layers), G, tuple(zeta), tuple(e), tuple(eps), tuple(gamma))


@dataclass(frozen=True)
class SignalConstants:
    """Numerical bounded-signal constants; arrays [..., M] (A: [..., M] holding A_0..A_{M−1})."""

    A: Array
    Z: Array
    Delta: Array
    G_layers: Array
    G: Array


@dataclass(frozen=True)
class StabilityConstants:
    """Numerical signal-stability bounds ζ, e, ε, γ, arrays [..., M] (layer 1 first)."""

    zeta: Array
    e: Array
    eps: Array
    gamma: Array


def _stack_last(values: Sequence[Array]) -> Array:
    """np.stack(values, axis=−1) for values of one shape (the per-layer lists of the recursions),
    built as np.array along a new first axis and moved last in one copy: the same array, C-ordered,
    at a third of np.stack's cost on the toolkit's many small calls."""
    stacked = np.array(values)
    return stacked.transpose(tuple(range(1, stacked.ndim)) + (0,)).copy()


def _columns(values: Array) -> list[Array]:
    values = np.asarray(values) if not isinstance(values, np.ndarray) else values
    return [values[..., m] for m in range(values.shape[-1])]


def signal_constants(
    omega: Array, X: Array, L_phi: float, G_ell: Array, sqrt: Callable = np.sqrt
) -> SignalConstants:
    """Bounded-signal constants from ω [..., M] and X [...] (numerical path)."""
    A, Z, Delta, G_layers = _signal_recursion(_columns(omega), X, L_phi, G_ell)
    return SignalConstants(_stack_last(A), Z, _stack_last(Delta), _stack_last(G_layers), _total_gradient_bound(G_layers, sqrt))


def stability_constants(
    omega: Array,
    X: Array,
    L_phi: float,
    S_phi: float,
    L_ell: float,
    G_ell: Array,
    u_f: Array,
    u_b: Array,
    sqrt: Callable = np.sqrt,
) -> StabilityConstants:
    """Signal-stability bounds ζ, e, ε, γ from ω, X and the gaps u^f, u^b [..., M] (numerical path)."""
    omega = _columns(omega)
    A, _, Delta, _ = _signal_recursion(omega, X, L_phi, G_ell)
    zeta, e, eps, gamma = _stability_recursion(omega, A, Delta, L_phi, S_phi, L_ell, _columns(u_f), _columns(u_b))
    return StabilityConstants(*(_stack_last(q) for q in (zeta, e, eps, gamma)))


def gamma_matrix(omega: Array, X: Array, L_phi, S_phi, L_ell, G_ell: Array, stability: Callable | None = None) -> Array:
    """Γ [..., M, 2M] with γ = Γ (u^f, u^b), by evaluating the (linear) recursion on unit gaps.

    One evaluation of the recursion does all 2M unit gaps: every argument gets a trailing
    axis over the gaps (ω an axis before its layer axis), the same operations entry by entry
    as one evaluation per gap. Works in any arithmetic whose arrays support +, × (float64 or
    mpmath object arrays). `stability` replaces `stability_constants` (to study a modified
    recursion).
    """
    stability = stability or stability_constants
    layers = np.shape(omega)[-1]
    units = np.eye(2 * layers, dtype=float)  # row j: the j-th unit gap (u^f, u^b)
    along_units = [value if np.ndim(value) == 0 else np.asarray(value)[..., None] for value in (X, L_phi, S_phi, L_ell, G_ell)]
    X, L_phi, S_phi, L_ell, G_ell = along_units
    gamma = stability(np.asarray(omega)[..., None, :], X, L_phi, S_phi, L_ell, G_ell, units[:, :layers], units[:, layers:]).gamma
    return np.swapaxes(gamma, -1, -2)


def symmetric_gamma(gamma: Array) -> Array:
    """Γ_sym [..., M, M] = Γ_f + Γ_b from Γ [..., M, 2M]."""
    layers = gamma.shape[-2]
    return gamma[..., :layers] + gamma[..., layers:]


def smoothness_constant(omega: Array, X: Array, L_phi: float, S_phi: float, L_ell: float, G_ell: Array) -> Array:
    """L = ||Γ_sym||_2 (largest singular value), per leading index."""
    matrix = symmetric_gamma(gamma_matrix(omega, X, L_phi, S_phi, L_ell, G_ell))
    return np.linalg.norm(matrix, ord=2, axis=(-2, -1))


@lru_cache(maxsize=None)
def formula_path(layers: int) -> Callable[..., dict[str, Array]]:
    """Lambdified formula path: f(**values) → {'A', 'Z', 'Delta', 'G_layers', 'G', 'zeta', 'e', 'eps', 'gamma', 'Gamma'}.

    `values` maps symbol names (omega_1, ..., X, L_phi, S_phi, L_ell, G_ell, u_f_1, ..., u_b_M)
    to floats or broadcastable arrays.
    """
    constants = symbolic_constants(layers)
    outputs = {
        "A": list(constants.A),
        "Z": constants.Z,
        "Delta": list(constants.Delta),
        "G_layers": list(constants.G_layers),
        "G": constants.G,
        "zeta": list(constants.zeta),
        "e": list(constants.e),
        "eps": list(constants.eps),
        "gamma": list(constants.gamma),
        "Gamma": constants.Gamma.tolist(),
    }
    names = list(outputs)
    function = sp.lambdify(constants.arguments, [outputs[name] for name in names], modules="numpy", cse=True)
    argument_names = [symbol.name for symbol in constants.arguments]

    def evaluate(**values) -> dict[str, Array]:
        missing = [name for name in argument_names if name not in values]
        if missing:
            raise KeyError(f"missing values for {missing}")
        results = function(*(values[name] for name in argument_names))
        broadcast_shape = np.broadcast_shapes(*(np.shape(values[name]) for name in argument_names))
        evaluated = {name: _stack_like(result, broadcast_shape) for name, result in zip(names, results) if name != "Gamma"}
        rows = results[names.index("Gamma")]
        evaluated["Gamma"] = np.stack([_stack_like(row, broadcast_shape) for row in rows], -2)
        return evaluated

    return evaluate


def _stack_like(result, shape: tuple[int, ...]) -> Array:
    if isinstance(result, list):
        return np.stack([_stack_like(item, shape) for item in result], -1)
    return np.broadcast_to(np.asarray(result, dtype=float), shape)


ACTIVATION_CONSTANTS: dict[str, tuple[sp.Expr, sp.Expr]] = {
    "tanh": (sp.Integer(1), 4 / (3 * sp.sqrt(3))),
    "identity": (sp.Integer(1), sp.Integer(0)),
    "softsign": (sp.Integer(1), sp.Integer(2)),
}
"""Exact (L_φ, S_φ) = (sup |φ'|, sup |φ''|) per activation (MODEL.md §1)."""

LOSS_CONSTANTS: dict[str, sp.Expr] = {"squared": sp.Integer(1), "cross-entropy": sp.Rational(1, 2)}
"""Exact L_ℓ per loss (MODEL.md §1)."""


def loss_gradient_bound(loss_name: str, Z: Array, Y: Array, sqrt: Callable = np.sqrt) -> Array:
    """G_ℓ of MODEL.md §1: Z_M + Y for the squared loss, sqrt(2) for cross-entropy."""
    if loss_name == "squared":
        return Z + Y
    if loss_name == "cross-entropy":
        return sqrt(2 + 0 * Z)
    raise KeyError(f"unknown loss {loss_name!r}; allowed: squared, cross-entropy")


def constants_for(
    weights_norms: Sequence[float] | Array,
    X: Array,
    Y: Array,
    L_phi: float,
    S_phi: float,
    L_ell: float,
    loss_name: str,
) -> tuple[SignalConstants, Array, Array]:
    """Bounded-signal constants, G_ℓ and L for a network: ω = `weights_norms` [..., M]."""
    omega = np.asarray(weights_norms, dtype=float)
    provisional = signal_constants(omega, X, L_phi, 1.0 + 0 * X)
    G_ell = loss_gradient_bound(loss_name, provisional.Z, Y)
    signal = signal_constants(omega, X, L_phi, G_ell)
    L = smoothness_constant(omega, X, L_phi, S_phi, L_ell, G_ell)
    return signal, G_ell, L

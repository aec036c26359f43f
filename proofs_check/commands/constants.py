"""The bounded-signal and smoothness constants A, Δ, G, L of MODEL.md §4 for given ω, X, Y.

Evaluated on the numerical path (the recursion of theory.constants on floats), which is
polynomial in the depth M; tests check it against the formula path and an independent
implementation.
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from numerics.activations import ACTIVATIONS
from numerics.losses import LOSSES
from proofs_check.arguments import nonnegative_float, nonnegative_float_list, positive_finite_float, positive_int_list
from proofs_check.errors import UsageError
from proofs_check.output import Column, print_json, print_table
from proofs_check.limits import check_layers
from theory.constants import ACTIVATION_CONSTANTS, LOSS_CONSTANTS, gamma_matrix, loss_gradient_bound, signal_constants, symmetric_gamma


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dims", required=True, type=positive_int_list, help="d0,d1,...,dM")
    parser.add_argument("--omega", required=True, type=nonnegative_float_list, help="ω_1,...,ω_M: bounds on ||W_m||_2")
    parser.add_argument("--X", required=True, type=positive_finite_float, help="bound on ||x||")
    parser.add_argument("--Y", required=True, type=nonnegative_float, help="bound on ||y||")
    parser.add_argument("--activation", choices=tuple(ACTIVATIONS), default="tanh")
    parser.add_argument("--loss", choices=tuple(LOSSES), default="squared")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def compute(layers: int, omega: list[float], X: float, Y: float, activation: str, loss: str) -> dict:
    """A_0..A_{M−1}, Z_M, Δ_1..Δ_M, G_1..G_M, G, G_ℓ, Γ_sym and L = ||Γ_sym||_2, by the
    recursion on floats (theory.constants' numerical path: O(M²) work for any depth M).
    Values whose products overflow float64 are a UsageError, like NaN."""
    L_phi, S_phi = (float(value) for value in ACTIVATION_CONSTANTS[activation])
    L_ell = float(LOSS_CONSTANTS[loss])
    omega_array = np.asarray(omega, dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):
        provisional = signal_constants(omega_array, X, L_phi, 1.0)
        G_ell = float(loss_gradient_bound(loss, provisional.Z, Y))
        signal = signal_constants(omega_array, X, L_phi, G_ell)
        gamma_sym = symmetric_gamma(gamma_matrix(omega_array, X, L_phi, S_phi, L_ell, G_ell))
        finite = bool(np.all(np.isfinite(gamma_sym)) and all(np.all(np.isfinite(v)) for v in (signal.A, signal.Delta, signal.G_layers, signal.G, G_ell)))
        L = float(np.linalg.norm(gamma_sym, 2)) if finite else math.inf
    if not (finite and math.isfinite(L)):
        raise UsageError(
            f"--omega, --X, --Y: the constants overflow float64 (largest {np.finfo(float).max:.3g}): "
            f"products of X = {X:g} and the ω_m reach {_overflow_scale(omega_array, X):.3g} decades; give smaller values"
        )
    return {
        "dims": None,
        "activation": activation,
        "loss": loss,
        "omega": omega,
        "X": X,
        "Y": Y,
        "L_phi": L_phi,
        "S_phi": S_phi,
        "L_ell": L_ell,
        "G_ell": G_ell,
        "A": signal.A.tolist(),
        "Z": float(signal.Z),
        "Delta": signal.Delta.tolist(),
        "G_layers": signal.G_layers.tolist(),
        "G": float(signal.G),
        "Gamma_sym": gamma_sym.tolist(),
        "L": L,
    }


def _overflow_scale(omega: np.ndarray, X: float) -> float:
    """log10 of X·Π ω_m (ω_m = 0 ignored): how many decades the products span."""
    positive = omega[omega > 0]
    return math.log10(X) + float(np.sum(np.log10(positive)))


def run(arguments: argparse.Namespace) -> int:
    layers = len(arguments.dims) - 1
    if layers < 1:
        raise UsageError(f"--dims needs at least two entries d0,d1, got {','.join(map(str, arguments.dims))}")
    check_layers(layers, "--dims")
    if len(arguments.omega) != layers:
        raise UsageError(f"--omega needs M = {layers} entries (one per layer of --dims), got {len(arguments.omega)}")
    result = compute(layers, arguments.omega, arguments.X, arguments.Y, arguments.activation, arguments.loss)
    result["dims"] = arguments.dims
    if arguments.json:
        print_json(result)
        return 0
    print(f"constants of MODEL.md §4 for dims {arguments.dims} ({arguments.activation}, {arguments.loss})")
    print(f"L_phi = {result['L_phi']:.6g}, S_phi = {result['S_phi']:.6g}, L_ell = {result['L_ell']:.6g}, G_ell = {result['G_ell']:.6g}")
    print_table(
        [Column("m", "right")] + [Column(header, "right", ".6g") for header in ("omega_m", "A_{m-1}", "Delta_m", "G_m")],
        [(m + 1, arguments.omega[m], result["A"][m], result["Delta"][m], result["G_layers"][m]) for m in range(layers)],
    )
    print(f"Z_M = {result['Z']:.6g}   G = {result['G']:.6g}   L = ||Gamma_sym||_2 = {result['L']:.6g}")
    return 0

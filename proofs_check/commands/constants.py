"""The bounded-signal and smoothness constants A, Δ, G, L of MODEL.md §4 for given ω, X, Y.

Evaluated on the formula path (sympy expressions of theory.constants, lambdified).
"""

from __future__ import annotations

import argparse

import numpy as np

from numerics.activations import ACTIVATIONS
from numerics.losses import LOSSES
from proofs_check.arguments import nonnegative_float, nonnegative_float_list, positive_float, positive_int_list
from proofs_check.errors import UsageError
from proofs_check.output import Column, print_json, print_table
from theory.constants import ACTIVATION_CONSTANTS, LOSS_CONSTANTS, formula_path, loss_gradient_bound


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dims", required=True, type=positive_int_list, help="d0,d1,...,dM")
    parser.add_argument("--omega", required=True, type=nonnegative_float_list, help="ω_1,...,ω_M: bounds on ||W_m||_2")
    parser.add_argument("--X", required=True, type=positive_float, help="bound on ||x||")
    parser.add_argument("--Y", required=True, type=nonnegative_float, help="bound on ||y||")
    parser.add_argument("--activation", choices=tuple(ACTIVATIONS), default="tanh")
    parser.add_argument("--loss", choices=tuple(LOSSES), default="squared")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def compute(layers: int, omega: list[float], X: float, Y: float, activation: str, loss: str) -> dict:
    """A_0..A_{M−1}, Z_M, Δ_1..Δ_M, G_1..G_M, G, G_ℓ, Γ_sym and L = ||Γ_sym||_2."""
    L_phi, S_phi = (float(value) for value in ACTIVATION_CONSTANTS[activation])
    L_ell = float(LOSS_CONSTANTS[loss])
    evaluate = formula_path(layers)
    values = {f"omega_{m}": omega[m - 1] for m in range(1, layers + 1)}
    values.update({f"u_f_{m}": 0.0 for m in range(1, layers + 1)} | {f"u_b_{m}": 0.0 for m in range(1, layers + 1)})
    values.update(X=X, L_phi=L_phi, S_phi=S_phi, L_ell=L_ell, G_ell=1.0)
    Z = float(evaluate(**values)["Z"])
    values["G_ell"] = float(loss_gradient_bound(loss, Z, Y))
    result = evaluate(**values)
    gamma = result["Gamma"]
    gamma_sym = gamma[:, :layers] + gamma[:, layers:]
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
        "G_ell": values["G_ell"],
        "A": result["A"].tolist(),
        "Z": float(result["Z"]),
        "Delta": result["Delta"].tolist(),
        "G_layers": result["G_layers"].tolist(),
        "G": float(result["G"]),
        "Gamma_sym": gamma_sym.tolist(),
        "L": float(np.linalg.norm(gamma_sym, 2)),
    }


def run(arguments: argparse.Namespace) -> int:
    layers = len(arguments.dims) - 1
    if layers < 1:
        raise UsageError(f"--dims needs at least two entries d0,d1, got {','.join(map(str, arguments.dims))}")
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

"""Deep networks: the symbolic constants of MODEL.md §4 are built with shared subexpressions
(polynomial in M, no expansion), so M = 64 builds and evaluates like the numerical path."""

from __future__ import annotations

import numpy as np
import sympy as sp

from theory import constants as C


def _point(layers: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {
        "omega": rng.uniform(0.5, 1.2, layers), "X": 1.3, "L_phi": 1.0, "S_phi": 0.7, "L_ell": 1.0, "G_ell": 2.0,
        "u_f": rng.uniform(0, 1, layers), "u_b": rng.uniform(0, 1, layers),
    }


def test_symbolic_constants_of_a_deep_network_equal_the_numerical_path():
    layers = 64
    constants = C.symbolic_constants(layers)
    point = _point(layers)
    function = sp.lambdify(constants.arguments, [constants.eps[0], constants.gamma[0], constants.G, constants.Z], modules="numpy", cse=True)
    eps_1, gamma_1, G, Z = function(*point["omega"], point["X"], point["L_phi"], point["S_phi"], point["L_ell"], point["G_ell"], *point["u_f"], *point["u_b"])
    stability = C.stability_constants(point["omega"], point["X"], point["L_phi"], point["S_phi"], point["L_ell"], point["G_ell"], point["u_f"], point["u_b"])
    signal = C.signal_constants(point["omega"], point["X"], point["L_phi"], point["G_ell"])
    np.testing.assert_allclose([eps_1, gamma_1, G, Z], [stability.eps[0], stability.gamma[0], signal.G, signal.Z], rtol=1e-12)
    # the comparison can fail: the first layer's ε without its S_φ term differs
    without_curvature = C.stability_constants(point["omega"], point["X"], point["L_phi"], 0.0, point["L_ell"], point["G_ell"], point["u_f"], point["u_b"])
    assert not np.isclose(eps_1, without_curvature.eps[0], rtol=1e-12)


def test_symbolic_gamma_columns_are_the_recursion_on_unit_gaps():
    layers = 6
    constants = C.symbolic_constants(layers)
    point = _point(layers, seed=1)
    values = dict(zip(constants.arguments[: layers + 5], [*point["omega"], point["X"], point["L_phi"], point["S_phi"], point["L_ell"], point["G_ell"]]))
    Gamma = np.array(constants.Gamma.xreplace(values).evalf(), dtype=float)
    np.testing.assert_allclose(Gamma, C.gamma_matrix(point["omega"], point["X"], point["L_phi"], point["S_phi"], point["L_ell"], point["G_ell"]), rtol=1e-12)
    gaps = np.concatenate([point["u_f"], point["u_b"]])
    gamma = sp.lambdify(constants.arguments, list(constants.gamma))(*values.values(), *point["u_f"], *point["u_b"])
    np.testing.assert_allclose(Gamma @ gaps, gamma, rtol=1e-12)

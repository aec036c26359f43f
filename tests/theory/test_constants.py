"""The §4 constants: formula path (sympy, lambdified) = numerical path (recursion on arrays)
= an independent float implementation written here; the `constants` command reports them."""

from __future__ import annotations

import json
import math
import zlib

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st
from scipy import optimize

from numerics.activations import ACTIVATIONS
from numerics.losses import LOSSES
from proofs_check.cli import main
from theory import constants as C
from theory import symbols as S
from proofs_check.library import get_lemma


def independent_constants(omega, X, L_phi, S_phi, L_ell, G_ell, u_f, u_b):
    """MODEL.md §4 transcribed with plain Python floats and 1-based lists."""
    M = len(omega)
    w = [None] + list(omega)
    A = [X] + [0.0] * M
    for m in range(1, M):
        A[m] = L_phi * w[m] * A[m - 1]
    Z = w[M] * A[M - 1]
    Delta = [0.0] * (M + 2)
    Delta[M] = G_ell
    for m in range(M - 1, 0, -1):
        Delta[m] = L_phi * w[m + 1] * Delta[m + 1]
    G_layers = [Delta[m] * A[m - 1] for m in range(1, M + 1)]
    uf, ub = [None] + list(u_f), [None] + list(u_b)
    zeta, e, eps = [0.0] * (M + 1), [0.0] * (M + 1), [0.0] * (M + 2)
    for m in range(1, M + 1):
        zeta[m] = A[m - 1] * uf[m] + w[m] * e[m - 1]
        e[m] = L_phi * zeta[m]
    eps[M] = L_ell * zeta[M]
    for m in range(M - 1, 0, -1):
        eps[m] = S_phi * w[m + 1] * Delta[m + 1] * zeta[m] + L_phi * (Delta[m + 1] * ub[m + 1] + w[m + 1] * eps[m + 1])
    gamma = [A[m - 1] * eps[m] + Delta[m] * e[m - 1] for m in range(1, M + 1)]
    return {
        "A": A[:M],
        "Z": Z,
        "Delta": Delta[1 : M + 1],
        "G_layers": G_layers,
        "G": math.sqrt(sum(g * g for g in G_layers)),
        "zeta": zeta[1:],
        "e": e[1:],
        "eps": eps[1 : M + 1],
        "gamma": gamma,
    }


positive = st.floats(0.05, 5.0)


@st.composite
def points(draw):
    M = draw(st.integers(1, 5))
    values = {
        "omega": [draw(positive) for _ in range(M)],
        "X": draw(positive),
        "L_phi": draw(st.floats(0.1, 1.0)),
        "S_phi": draw(st.floats(0.0, 2.0)),
        "L_ell": draw(st.floats(0.1, 1.0)),
        "G_ell": draw(positive),
        "u_f": [draw(st.floats(0.0, 1.0)) for _ in range(M)],
        "u_b": [draw(st.floats(0.0, 1.0)) for _ in range(M)],
    }
    return M, values


def symbol_values(M, values):
    named = {"X": values["X"], "L_phi": values["L_phi"], "S_phi": values["S_phi"], "L_ell": values["L_ell"], "G_ell": values["G_ell"]}
    for m in range(M):
        named[f"omega_{m + 1}"] = values["omega"][m]
        named[f"u_f_{m + 1}"] = values["u_f"][m]
        named[f"u_b_{m + 1}"] = values["u_b"][m]
    return named


@given(points())
def test_formula_path_equals_independent_implementation(point):
    M, values = point
    expected = independent_constants(**values)
    formula = C.formula_path(M)(**symbol_values(M, values))
    for key, value in expected.items():
        np.testing.assert_allclose(formula[key], value, rtol=1e-12, atol=1e-300, err_msg=key)


@given(points())
def test_numerical_path_equals_formula_path(point):
    M, values = point
    formula = C.formula_path(M)(**symbol_values(M, values))
    omega = np.array(values["omega"])
    signal = C.signal_constants(omega, values["X"], values["L_phi"], values["G_ell"])
    stability = C.stability_constants(
        omega, values["X"], values["L_phi"], values["S_phi"], values["L_ell"], values["G_ell"], np.array(values["u_f"]), np.array(values["u_b"])
    )
    for key, value in [("A", signal.A), ("Z", signal.Z), ("Delta", signal.Delta), ("G", signal.G), ("zeta", stability.zeta), ("gamma", stability.gamma), ("eps", stability.eps)]:
        np.testing.assert_allclose(value, formula[key], rtol=1e-12, atol=1e-300, err_msg=key)  # subnormal inputs round differently
    Gamma = C.gamma_matrix(omega, values["X"], values["L_phi"], values["S_phi"], values["L_ell"], values["G_ell"])
    np.testing.assert_allclose(Gamma, formula["Gamma"], rtol=1e-12, atol=1e-14)
    gaps = np.concatenate([values["u_f"], values["u_b"]])
    np.testing.assert_allclose(Gamma @ gaps, stability.gamma, rtol=1e-12, atol=1e-14)
    assert np.all(Gamma >= 0), "Γ must be a nonnegative matrix"


@given(points())
def test_lemma_statements_evaluate_like_the_independent_implementation(point):
    M, values = point
    expected = independent_constants(**values)
    named = symbol_values(M, values)
    rhs = get_lemma("bounded-signal").statement.evaluate_rhs(M, named)
    np.testing.assert_allclose(rhs["||δ_m|| ≤ Δ_m"], expected["Delta"], rtol=1e-12)
    np.testing.assert_allclose(rhs["||∇f||_F ≤ G"], [expected["G"]], rtol=1e-12)
    np.testing.assert_allclose(rhs["||z_M|| ≤ Z_M"], [expected["Z"]], rtol=1e-12)
    stability = get_lemma("signal-stability").statement.evaluate_rhs(M, named)
    np.testing.assert_allclose(stability["||∇_{W_m} f − g̃_m||_F ≤ γ_m"], expected["gamma"], rtol=1e-12)
    np.testing.assert_allclose(stability["||δ_m − δ̃_m|| ≤ ε_m"], expected["eps"], rtol=1e-12)
    # Gradient delay: c_D = q_max||Γ(d^f ⊙ G, d^b ⊙ G)|| with the independent Γ; ALD's q_max = 1 + W_max/τ.
    d_f = [min(3, M - m) for m in range(1, M + 1)]
    W_max, tau, alpha = 0.3, 2.0, 0.01
    worst = independent_constants(**{**values, "u_f": [d * g for d, g in zip(d_f, expected["G_layers"])], "u_b": [0.0] * M})
    c_D = (1 + W_max / tau) * math.sqrt(sum(g * g for g in worst["gamma"]))
    named.update({f"d_f_{m + 1}": d_f[m] for m in range(M)} | {f"d_b_{m + 1}": 0 for m in range(M)}, W_max=W_max, tau=tau, alpha=alpha, q_max=1 + W_max / tau)
    delay = get_lemma("gradient-delay").statement.evaluate_rhs(M, named)
    np.testing.assert_allclose(delay["||g̃_k − ∇f(W^{(k)};ξ_k)||_F ≤ α c_D"], [alpha * c_D], rtol=1e-12)


def test_a_wrong_formula_path_is_caught():
    """The comparison above fails for a recursion with S_φ dropped from ε_m."""
    values = {"omega": [1.0, 0.8], "X": 1.5, "L_phi": 1.0, "S_phi": 0.77, "L_ell": 1.0, "G_ell": 2.0, "u_f": [0.3, 0.1], "u_b": [0.0, 0.2]}
    mutant = independent_constants(**{**values, "S_phi": 0.0})
    formula = C.formula_path(2)(**symbol_values(2, values))
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(formula["eps"], mutant["eps"], rtol=1e-12)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_constants_are_the_suprema(name):
    """L_φ = sup|φ'| and S_φ = sup|φ''|, numerically (bounded optimisation), and φ(0) = 0."""
    activation = ACTIVATIONS[name]
    exact_L, exact_S = C.ACTIVATION_CONSTANTS[name]
    assert activation.lipschitz == pytest.approx(float(exact_L), rel=1e-15)
    assert activation.curvature == pytest.approx(float(exact_S), rel=1e-15)
    assert activation.function(np.array(0.0)) == 0.0
    grid = np.linspace(-20, 20, 400_001)
    assert np.max(np.abs(activation.derivative(grid))) == pytest.approx(float(exact_L), rel=1e-6)
    found = optimize.minimize_scalar(lambda z: -abs(activation.second_derivative(np.array(z))), bounds=(1e-9, 5), method="bounded", options={"xatol": 1e-12})
    assert max(-found.fun, np.max(np.abs(activation.second_derivative(grid)))) == pytest.approx(float(exact_S), rel=1e-6, abs=1e-12)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_smoothness_constant(name):
    """L_ℓ bounds the largest Hessian eigenvalue of ℓ in z (checked on random logits)."""
    loss = LOSSES[name]
    rng = np.random.default_rng(3)
    largest = 0.0
    for _ in range(200):
        z = rng.standard_normal(4) * 3
        if name == "squared":
            hessian = np.eye(4)
        else:
            p = np.exp(z - z.max())
            p /= p.sum()
            hessian = np.diag(p) - np.outer(p, p)
        largest = max(largest, float(np.linalg.eigvalsh(hessian).max()))
    assert largest <= float(C.LOSS_CONSTANTS[name]) + 1e-12
    assert loss.smoothness == float(C.LOSS_CONSTANTS[name])
    if name == "cross-entropy":
        assert largest > 0.45, "the 1/2 bound is nearly attained by two equal logits"


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_constants_command_matches_the_recursion(activation, loss, capsys):
    rng = np.random.default_rng(zlib.crc32(f"{activation}/{loss}".encode()))
    for _ in range(3):
        M = int(rng.integers(1, 5))
        dims = rng.integers(1, 6, size=M + 1).tolist()
        omega = rng.uniform(0.2, 2.0, size=M).round(6).tolist()
        X, Y = round(float(rng.uniform(0.5, 3)), 6), round(float(rng.uniform(0, 3)), 6)
        code = main(["constants", "--dims", ",".join(map(str, dims)), "--omega", ",".join(map(str, omega)), "--X", str(X), "--Y", str(Y), "--activation", activation, "--loss", loss, "--json"])
        assert code == 0
        report = json.loads(capsys.readouterr().out)
        L_phi, S_phi = (float(v) for v in C.ACTIVATION_CONSTANTS[activation])
        L_ell = float(C.LOSS_CONSTANTS[loss])
        Z = independent_constants(omega, X, L_phi, S_phi, L_ell, 1.0, [0] * M, [0] * M)["Z"]
        G_ell = Z + Y if loss == "squared" else math.sqrt(2)
        expected = independent_constants(omega, X, L_phi, S_phi, L_ell, G_ell, [0] * M, [0] * M)
        for key in ("A", "Delta", "G"):
            np.testing.assert_allclose(report[key], expected[key], rtol=1e-12)
        # L = ||Γ_sym||_2 with Γ_sym from unit gaps of the independent recursion.
        columns = []
        for j in range(M):
            unit = [0.0] * M
            unit[j] = 1.0
            columns.append(independent_constants(omega, X, L_phi, S_phi, L_ell, G_ell, unit, unit)["gamma"])
        assert report["L"] == pytest.approx(np.linalg.norm(np.array(columns).T, 2), rel=1e-12)


def test_symbols_carry_domains_and_latex():
    assert S.tau.symbol.is_positive and S.S_phi.symbol.is_nonnegative
    assert S.parameter("omega_3").latex == r"\omega_{3}"
    # version 2: β = min(γ₊, γ₋)(1 − W_max/τ)^p > 0 can exceed 1 when a gain does; G_max ≥ 0
    assert S.beta.contains(1.5) and not S.beta.contains(0.0) and not S.beta.contains(float("nan"))
    assert S.q_max.symbol.is_positive and S.G_max.contains(0.0) and not S.G_max.contains(-0.1)
    assert S.parameter("q_max").latex == r"q_{\max}" and S.parameter("G_max").latex == r"G_{\max}"
    rng = np.random.default_rng(0)
    draws = S.alpha.sample(rng, 1000)
    assert np.all(S.alpha.contains(draws)) and draws.min() >= S.alpha.typical[0]
    assert sp.LessThan(S.beta.symbol, S.q_max.symbol) in S.ASSUMPTIONS
    assert sp.Eq(S.beta.symbol, 1 - S.W_max.symbol / S.tau.symbol) in S.ALD_ASSUMPTIONS
    assert sp.Eq(S.q_max.symbol, 1 + S.W_max.symbol / S.tau.symbol) in S.ALD_ASSUMPTIONS


def test_stacking_the_per_layer_lists_is_np_stack():
    """`_stack_last` (the recursions' fast stack) equals np.stack(·, axis=−1) in value, dtype, shape
    and C order: for 0-d values, batches of any rank, and mpmath object arrays."""
    import mpmath

    from theory.constants import _stack_last

    rng = np.random.default_rng(0)
    cases = [
        [np.float64(v) for v in rng.normal(size=3)],
        [rng.normal(size=5) for _ in range(4)],
        [rng.normal(size=(2, 3, 1)) for _ in range(2)],
        [np.array([mpmath.mpf(1) / 3, mpmath.mpf(2)], dtype=object) for _ in range(3)],
    ]
    for values in cases:
        fast, plain = _stack_last(values), np.stack(values, axis=-1)
        assert fast.shape == plain.shape and fast.dtype == plain.dtype and fast.flags.c_contiguous
        assert (fast == plain).all()

"""Network gradients (MODEL.md §1) against central finite differences, and the mixed pass.

Finite-difference error budget (float64, central differences with step h on f):
truncation h²/6·|f'''| plus rounding ≈ ε·|f|/h with ε = 2.2e-16. With h = 1e-6 and the
O(1) losses and weights used here the absolute error is ≲ 1e-9, so the comparison
`||g_fd − g||_F ≤ RTOL·||g||_F + ATOL·(1 + |f|)` with RTOL = 1e-6 and ATOL = 1e-8 leaves
a margin of ten or more over the error budget while still detecting any gradient that
is wrong by more than one part in a million (the negative controls below show it fails).
"""

from __future__ import annotations

import math
import zlib

import numpy as np
import pytest

from numerics import network
from numerics.activations import ACTIVATIONS, activation_by_name
from numerics.losses import LOSSES, loss_by_name

STEP = 1e-6
RTOL = 1e-6
ATOL = 1e-8

# (d_0, ..., d_M): M = 1, single units, a hidden layer of one unit, deeper networks.
SHAPES = [
    (1, 1),
    (4, 3),
    (1, 1, 1),
    (3, 4, 2),
    (5, 1, 4),
    (2, 3, 4, 3),
    (3, 2, 2, 2, 2),
]
BATCH_SIZES = [1, 5]


def _problem(dims, batch, loss_name, seed):
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal((dims[m + 1], dims[m])) / math.sqrt(dims[m]) for m in range(len(dims) - 1)]
    x = rng.standard_normal((batch, dims[0]))
    if loss_name == "cross-entropy":
        y = rng.integers(0, dims[-1], size=batch)
    else:
        y = rng.standard_normal((batch, dims[-1]))
    return weights, x, y


def finite_difference_gradients(weights, x, y, activation, loss, step=STEP):
    """Central differences of the micro-batch mean loss, entry by entry."""
    gradients = []
    for m, weight in enumerate(weights):
        fd = np.zeros_like(weight)
        for index in np.ndindex(weight.shape):
            plus = [w.copy() for w in weights]
            minus = [w.copy() for w in weights]
            plus[m][index] += step
            minus[m][index] -= step
            f_plus = float(network.mean_loss(plus, x, y, activation, loss))
            f_minus = float(network.mean_loss(minus, x, y, activation, loss))
            fd[index] = (f_plus - f_minus) / (2 * step)
        gradients.append(fd)
    return gradients


def gradient_error(candidate, reference, loss_value):
    """(error, allowed): the Frobenius gap over all layers and the tolerance it must stay under."""
    error = math.sqrt(sum(float(np.sum((c - r) ** 2)) for c, r in zip(candidate, reference)))
    scale = math.sqrt(sum(float(np.sum(r**2)) for r in reference))
    return error, RTOL * scale + ATOL * (1.0 + abs(loss_value))


def agrees_with_finite_differences(candidate, weights, x, y, activation, loss):
    fd = finite_difference_gradients(weights, x, y, activation, loss)
    value = float(network.mean_loss(weights, x, y, activation, loss))
    error, allowed = gradient_error(candidate, fd, value)
    return error <= allowed, error, allowed


def _cases():
    for dims in SHAPES:
        for loss_name in LOSSES:
            if loss_name == "cross-entropy" and dims[-1] < 2:
                continue  # one class: softmax is constant, the gradient is identically zero
            for activation_name in ACTIVATIONS:
                for batch in BATCH_SIZES:
                    yield dims, loss_name, activation_name, batch


@pytest.mark.parametrize(("dims", "loss_name", "activation_name", "batch"), list(_cases()))
def test_gradients_match_central_differences(dims, loss_name, activation_name, batch):
    activation, loss = activation_by_name(activation_name), loss_by_name(loss_name)
    weights, x, y = _problem(dims, batch, loss_name, seed=zlib.crc32(repr((dims, loss_name, activation_name, batch)).encode()))
    analytic = network.gradients(weights, x, y, activation, loss)
    assert [g.shape for g in analytic] == [w.shape for w in weights]
    ok, error, allowed = agrees_with_finite_differences(analytic, weights, x, y, activation, loss)
    assert ok, f"gradient differs from central differences by {error:.3e} > {allowed:.3e}"
    # The gradient is not trivially zero, so the relative part of the check has teeth.
    assert sum(float(np.sum(g**2)) for g in analytic) > 1e-8


@pytest.mark.parametrize("loss_name", list(LOSSES))
@pytest.mark.parametrize("corruption", ["flip-sign", "scale-1e-4"])
def test_comparison_detects_a_wrong_gradient(loss_name, corruption):
    """Negative control: the same comparison rejects a gradient wrong in one layer."""
    activation, loss = activation_by_name("tanh"), loss_by_name(loss_name)
    weights, x, y = _problem((3, 4, 3, 2), 4, loss_name, seed=7)
    analytic = list(network.gradients(weights, x, y, activation, loss))
    assert agrees_with_finite_differences(analytic, weights, x, y, activation, loss)[0]
    wrong = [g.copy() for g in analytic]
    if corruption == "flip-sign":
        wrong[1] = -wrong[1]
    else:
        wrong[1] = wrong[1] * (1.0 + 1e-4)
    ok, error, allowed = agrees_with_finite_differences(wrong, weights, x, y, activation, loss)
    assert not ok, f"a corrupted gradient passed: error {error:.3e} <= {allowed:.3e}"


def test_comparison_detects_a_transposed_layer_input():
    """Negative control: a plausible implementation slip (using a_m instead of a_{m-1}) is caught."""
    activation, loss = activation_by_name("tanh"), loss_by_name("squared")
    weights, x, y = _problem((3, 3, 3, 2), 3, "squared", seed=11)
    forward_pass = network.forward(weights, x, activation)
    deltas = network.backward(forward_pass, y, weights, activation, loss)
    shifted_inputs = list(forward_pass.layer_inputs)
    shifted_inputs[1] = forward_pass.layer_inputs[2]  # wrong activation fed to layer 2's gradient
    wrong = [network.weight_gradient(d, a) for d, a in zip(deltas, shifted_inputs)]
    assert not agrees_with_finite_differences(wrong, weights, x, y, activation, loss)[0]


# ----- the mixed pass of the signal-stability lemma ---------------------------------------


def _softmax(z):
    shifted = z - np.max(z)
    e = np.exp(shifted)
    return e / np.sum(e)


def mixed_pass_by_hand(forward_weights, backward_weights, x, y, activation_name, loss_name):
    """MODEL §1 per sample, written out: forward with W^f, backward MVMs with W^b, mean gradient."""
    phi = {"tanh": np.tanh, "identity": lambda z: z, "softsign": lambda z: z / (1 + np.abs(z))}[activation_name]
    dphi = {
        "tanh": lambda z: 1 - np.tanh(z) ** 2,
        "identity": lambda z: np.ones_like(z),
        "softsign": lambda z: 1 / (1 + np.abs(z)) ** 2,
    }[activation_name]
    layers = len(forward_weights)
    total = [np.zeros_like(w) for w in forward_weights]
    for i in range(x.shape[0]):
        a = [x[i]]
        z = []
        for m in range(layers):
            z.append(forward_weights[m] @ a[m])
            if m < layers - 1:
                a.append(phi(z[m]))
        if loss_name == "squared":
            delta = z[-1] - y[i]
        else:
            delta = _softmax(z[-1])
            delta[int(y[i])] -= 1.0
        for m in range(layers - 1, -1, -1):
            total[m] += np.outer(delta, a[m])
            if m > 0:
                delta = dphi(z[m - 1]) * (backward_weights[m].T @ delta)
    return [t / x.shape[0] for t in total]


@pytest.mark.parametrize("loss_name", list(LOSSES))
@pytest.mark.parametrize("activation_name", list(ACTIVATIONS))
@pytest.mark.parametrize("dims", [(4, 3), (3, 4, 2), (2, 5, 1, 3), (3, 2, 4, 3, 2)])
def test_mixed_pass(dims, activation_name, loss_name):
    activation, loss = activation_by_name(activation_name), loss_by_name(loss_name)
    weights, x, y = _problem(dims, 6, loss_name, seed=3)
    rng = np.random.default_rng(4)
    other = [w + 0.3 * rng.standard_normal(w.shape) for w in weights]

    plain = network.gradients(weights, x, y, activation, loss)
    same = network.gradients(weights, x, y, activation, loss, backward_weights=[w.copy() for w in weights])
    for p, s in zip(plain, same):
        np.testing.assert_array_equal(s, p)

    mixed = network.gradients(weights, x, y, activation, loss, backward_weights=other)
    by_hand = mixed_pass_by_hand(weights, other, x, y, activation_name, loss_name)
    for g, h in zip(mixed, by_hand):
        np.testing.assert_allclose(g, h, rtol=1e-12, atol=1e-14)
    # The hand loop with W^b = W^f is plain backprop too (it agrees with the vectorised code).
    for g, h in zip(plain, mixed_pass_by_hand(weights, weights, x, y, activation_name, loss_name)):
        np.testing.assert_allclose(g, h, rtol=1e-12, atol=1e-14)
    if len(dims) > 2:
        # Different backward weights change every layer's gradient below the top one.
        for g, p in zip(mixed[:-1], plain[:-1]):
            assert np.max(np.abs(g - p)) > 1e-6
        # W^b_1 is never used: nothing passes below stage 1.
        changed = [other[0] + 5.0] + list(other[1:])
        again = network.gradients(weights, x, y, activation, loss, backward_weights=changed)
        for g, h in zip(again, mixed):
            np.testing.assert_array_equal(g, h)
    # The top layer's gradient uses only forward values.
    np.testing.assert_array_equal(mixed[-1], plain[-1])


def test_replica_axes_match_separate_runs():
    """Leading replica axes compute each replica's gradient independently."""
    activation, loss = activation_by_name("softsign"), loss_by_name("squared")
    replicas = [_problem((3, 4, 2), 5, "squared", seed=s) for s in range(3)]
    x, y = replicas[0][1], replicas[0][2]
    stacked = [np.stack([r[0][m] for r in replicas]) for m in range(2)]
    batched = network.gradients(stacked, x, y, activation, loss)
    for r, (weights, _, _) in enumerate(replicas):
        for g, single in zip(batched, network.gradients(weights, x, y, activation, loss)):
            np.testing.assert_allclose(g[r], single, rtol=1e-13, atol=1e-15)


def test_cross_entropy_is_stable_for_large_logits():
    loss = loss_by_name("cross-entropy")
    z = np.array([[1000.0, -1000.0, 0.0], [-800.0, -800.0, -799.0]])
    labels = np.array([1, 2])
    value = loss.value(z, labels)
    gradient = loss.gradient(z, labels)
    assert np.all(np.isfinite(value)) and np.all(np.isfinite(gradient))
    np.testing.assert_allclose(value[0], 2000.0, rtol=1e-15)
    np.testing.assert_allclose(value[1], math.log(2 + math.e) - 1.0, rtol=1e-12)
    np.testing.assert_allclose(gradient.sum(axis=-1), 0.0, atol=1e-15)
    np.testing.assert_allclose(gradient[0], [1.0, -1.0, 0.0], atol=1e-15)

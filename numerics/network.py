"""The network of MODEL.md §1, vectorised over a micro-batch and any leading replica axes.

Conventions: samples are rows. Inputs x [..., b, d_0]; layer m's weights W_m
[..., d_m, d_{m-1}]; z_m = W_m a_{m-1} is computed as a_{m-1} @ W_m^T. Layers are
numbered 1..M in the mathematics and stored 0..M-1 in Python sequences. The last layer
is linear. A micro-batch gradient is the mean of the per-sample rank-one gradients.

The layer primitives (`layer_forward`, `output_delta`, `hidden_delta`, `backpropagate`,
`weight_gradient`) are what a pipeline stage runs; `forward` and `backward` compose them
for the whole network.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from numerics.activations import Activation
from numerics.losses import Loss

Array = np.ndarray
Weights = Sequence[Array]


def layer_forward(weight: Array, previous_activation: Array) -> Array:
    """z_m = W_m a_{m-1} for every sample (rows)."""
    return previous_activation @ np.swapaxes(weight, -1, -2)


def output_delta(output: Array, target: Array, loss: Loss) -> Array:
    """δ_M = ∇_z ℓ(z_M, y) per sample."""
    return loss.gradient(output, target)


def hidden_delta(pre_activation: Array, backpropagated: Array, activation: Activation) -> Array:
    """δ_m = φ'(z_m) ⊙ (W_{m+1}^T δ_{m+1}), given the backpropagated vector."""
    return activation.derivative(pre_activation) * backpropagated


def backpropagate(weight: Array, delta: Array) -> Array:
    """W_m^T δ_m per sample: the vector stage m passes to stage m-1."""
    return delta @ weight


def weight_gradient(delta: Array, previous_activation: Array) -> Array:
    """Mean over the micro-batch of the rank-one gradients δ_m a_{m-1}^T."""
    samples = previous_activation.shape[-2]
    return (np.swapaxes(delta, -1, -2) @ previous_activation) / samples


def per_sample_weight_gradients(delta: Array, previous_activation: Array) -> Array:
    """The rank-one gradients δ_m a_{m-1}^T of every sample, shape [..., b, d_m, d_{m-1}]."""
    return delta[..., :, None] * previous_activation[..., None, :]


@dataclass(frozen=True)
class ForwardPass:
    """Stored forward values: inputs a_0..a_{M-1} of the layers and pre-activations z_1..z_M."""

    layer_inputs: tuple[Array, ...]
    """a_0 = x, a_1, ..., a_{M-1}."""
    pre_activations: tuple[Array, ...]
    """z_1, ..., z_M (z_M is the output)."""

    @property
    def output(self) -> Array:
        """z_M."""
        return self.pre_activations[-1]


def forward(weights: Weights, inputs: Array, activation: Activation) -> ForwardPass:
    """Forward pass a_0 = x, z_m = W_m a_{m-1}, a_m = φ(z_m) (m < M)."""
    layer_inputs = [inputs]
    pre_activations = []
    for index, weight in enumerate(weights):
        pre_activation = layer_forward(weight, layer_inputs[-1])
        pre_activations.append(pre_activation)
        if index < len(weights) - 1:
            layer_inputs.append(activation.function(pre_activation))
    return ForwardPass(tuple(layer_inputs), tuple(pre_activations))


def backward(
    forward_pass: ForwardPass,
    targets: Array,
    backward_weights: Weights,
    activation: Activation,
    loss: Loss,
) -> tuple[Array, ...]:
    """Deltas δ_1..δ_M from stored forward values and the weights of the backward MVMs.

    With `backward_weights` equal to the forward weights this is backpropagation; with
    other weights it is the mixed pass of the signal-stability lemma (forward with W^f,
    backward MVMs with W^b). Only W_2..W_M of `backward_weights` are used.
    """
    layers = len(forward_pass.pre_activations)
    deltas: list[Array] = [output_delta(forward_pass.output, targets, loss)]
    for index in range(layers - 2, -1, -1):
        backpropagated = backpropagate(backward_weights[index + 1], deltas[0])
        deltas.insert(0, hidden_delta(forward_pass.pre_activations[index], backpropagated, activation))
    return tuple(deltas)


def gradients_from_pass(forward_pass: ForwardPass, deltas: Sequence[Array]) -> tuple[Array, ...]:
    """Micro-batch gradients ∇_{W_m} f = mean of δ_m a_{m-1}^T, m = 1..M."""
    return tuple(weight_gradient(delta, a) for delta, a in zip(deltas, forward_pass.layer_inputs))


def gradients(
    weights: Weights,
    inputs: Array,
    targets: Array,
    activation: Activation,
    loss: Loss,
    backward_weights: Weights | None = None,
) -> tuple[Array, ...]:
    """Micro-batch gradient of the mean loss; a mixed pass when `backward_weights` is given."""
    forward_pass = forward(weights, inputs, activation)
    deltas = backward(forward_pass, targets, weights if backward_weights is None else backward_weights, activation, loss)
    return gradients_from_pass(forward_pass, deltas)


def mean_loss(weights: Weights, inputs: Array, targets: Array, activation: Activation, loss: Loss) -> Array:
    """f(W; ξ): the mean over the micro-batch of ℓ(z_M, y) (one value per leading index)."""
    output = forward(weights, inputs, activation).output
    return np.mean(loss.value(output, targets), axis=-1)

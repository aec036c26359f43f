"""Real data at laptop scale: scikit-learn's bundled digits, a held-out split, MLP classifiers.

The data set is `sklearn.datasets.load_digits` (1,797 greyscale 8×8 images of the digits
0–9, pixel values 0..16, shipped with scikit-learn: no download). A seeded, stratified split
(`sklearn.model_selection.train_test_split`) holds out a quarter of it as the test split;
inputs are standardised per pixel with the training split's mean and standard deviation
(test inputs with the same statistics; pixels that are constant on the training split
become 0). The networks are MODEL.md §1's: no biases, tanh hidden layers, a linear last
layer, softmax cross-entropy on its logits.

An epoch is `micro_batches_per_epoch` micro-batches of `micro_batch_size` training
samples: the largest multiple of the mini-batch B that fits the training split, so every
schedule does the same work per epoch. Each replica seed reshuffles the training split at
every epoch (its own permutation, from its own random stream); the whole run is one
continuous stream of rows, so `numerics.training.train` reads micro-batch j from rows
[j·b, (j+1)·b) as always.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np

from numerics import network
from numerics.activations import TANH
from numerics.data import Dataset
from numerics.losses import CROSS_ENTROPY
from numerics.streams import generator

Array = np.ndarray

INPUTS = 64
"""d_0: 8×8 pixels."""
CLASSES = 10
"""d_M: the digits 0..9."""
TEST_FRACTION = 0.25


@dataclass(frozen=True)
class DigitsSplit:
    """A seeded, stratified train/test split of the digits, standardised with the train statistics."""

    train_inputs: Array
    """[N_train, 64]."""
    train_labels: Array
    """[N_train] integers 0..9."""
    test_inputs: Array
    """[N_test, 64]."""
    test_labels: Array
    """[N_test]."""
    seed: int

    @property
    def train_size(self) -> int:
        return int(self.train_inputs.shape[0])

    @property
    def test_size(self) -> int:
        return int(self.test_inputs.shape[0])

    def describe(self) -> dict:
        """What the JSON summary records about the data."""
        return {
            "dataset": "sklearn.datasets.load_digits (8x8 images, 10 classes)",
            "samples": self.train_size + self.test_size,
            "train": self.train_size,
            "test": self.test_size,
            "test_fraction": TEST_FRACTION,
            "split": f"sklearn train_test_split, stratified, random_state={self.seed}",
            "scaling": "standardised per pixel with the training split's mean and std (constant pixels -> 0)",
            "largest_train_input_norm": float(np.max(np.linalg.norm(self.train_inputs, axis=-1))),
        }


@lru_cache(maxsize=4)
def digits_split(seed: int) -> DigitsSplit:
    """The split of `seed` (cached: the arrays are never modified)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    inputs = np.asarray(digits.data, dtype=float)
    labels = np.asarray(digits.target, dtype=np.int64)
    train_x, test_x, train_y, test_y = train_test_split(inputs, labels, test_size=TEST_FRACTION, stratify=labels, random_state=seed)
    mean = train_x.mean(axis=0)
    std = train_x.std(axis=0)
    std[std == 0] = 1.0
    train_x = (train_x - mean) / std
    test_x = (test_x - mean) / std
    for array in (train_x, test_x, train_y, test_y):
        array.setflags(write=False)
    return DigitsSplit(train_x, train_y, test_x, test_y, seed)


def mlp_dims(layers: int, width: int) -> list[int]:
    """d_0..d_M of an M-layer MLP: 64 inputs, M − 1 hidden layers of `width`, 10 logits."""
    if layers < 1:
        raise ValueError(f"the number of layers M must be >= 1, got {layers}")
    return [INPUTS] + [width] * (layers - 1) + [CLASSES]


def micro_batches_per_epoch(train_size: int, micro_batch_size: int, mini_batch: int) -> int:
    """The largest multiple of B micro-batches of b samples that fits the training split."""
    count = (train_size // (micro_batch_size * mini_batch)) * mini_batch
    if count < mini_batch:
        raise ValueError(f"a mini-batch of {mini_batch}x{micro_batch_size} samples does not fit {train_size} training samples")
    return count


def epoch_stream(split: DigitsSplit, seeds: Sequence[int], epochs: int, samples_per_epoch: int) -> tuple[Array, Array]:
    """Inputs [S, epochs·n, 64] and labels [S, epochs·n] of S replica seeds: for every epoch a
    fresh permutation of the training split (seed s, stream "shuffle", key epoch),
    its first n = `samples_per_epoch` rows."""
    inputs = np.empty((len(seeds), epochs * samples_per_epoch, INPUTS))
    labels = np.empty((len(seeds), epochs * samples_per_epoch), dtype=np.int64)
    for r, seed in enumerate(seeds):
        for epoch in range(epochs):
            order = generator(int(seed), "shuffle", epoch).permutation(split.train_size)[:samples_per_epoch]
            rows = slice(epoch * samples_per_epoch, (epoch + 1) * samples_per_epoch)
            inputs[r, rows] = split.train_inputs[order]
            labels[r, rows] = split.train_labels[order]
    return inputs, labels


def replicated(inputs: Array, labels: Array, copies: int) -> Dataset:
    """The per-seed stream repeated for `copies` groups of replicas (e.g. digital, then ALD)."""
    return Dataset(np.concatenate([inputs] * copies), np.concatenate([labels] * copies))


def logits(weights: Sequence[Array], inputs: Array) -> Array:
    """z_M of a replica stack [R, d_m, d_{m-1}] on shared inputs [N, d_0]: the forward pass of
    `numerics.network.forward`, with the first layer of every replica in one matrix product."""
    first = weights[0]
    if first.ndim == 2:
        return network.forward(weights, inputs, TANH).output
    replicas, rows, columns = first.shape
    z = (inputs @ first.reshape(replicas * rows, columns).T).reshape(inputs.shape[0], replicas, rows).transpose(1, 0, 2)
    for weight in weights[1:]:
        z = np.tanh(z) @ np.swapaxes(weight, -1, -2)
    return z


def accuracy(weights: Sequence[Array], inputs: Array, labels: Array) -> Array:
    """Fraction of correctly classified samples (arg-max logit), one value per replica."""
    return evaluate(weights, inputs, labels)[0]


def evaluate(weights: Sequence[Array], inputs: Array, labels: Array) -> tuple[Array, Array]:
    """(accuracy, mean cross-entropy) on the given samples, one value each per replica."""
    z = logits(weights, inputs)
    correct = np.mean(np.argmax(z, axis=-1) == labels, axis=-1)
    shape = z.shape[:-2] + labels.shape
    loss = np.mean(CROSS_ENTROPY.value(z, np.broadcast_to(labels, shape)), axis=-1)
    return correct, loss

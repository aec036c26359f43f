"""Training data and initial weights: the seeded teacher–student task, and user files.

Inputs, teacher and initial weights each come from their own named random stream of the
run's seed (`numerics.streams`: "data", "teacher", "init").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from numerics.activations import Activation
from numerics.losses import Loss
from numerics.network import forward
from numerics.streams import generator

Array = np.ndarray

@dataclass(frozen=True)
class Dataset:
    """Samples ξ = (x, y): inputs x [N, d_0]; targets y [N, d_M] or integer labels [N]."""

    inputs: Array
    targets: Array

    @property
    def size(self) -> int:
        """N."""
        return self.inputs.shape[-2]

    def rows(self, micro_batch: int, micro_batch_size: int) -> Array:
        """Row indices of micro-batch j: [j·b, (j+1)·b) modulo N, in order."""
        return (micro_batch * micro_batch_size + np.arange(micro_batch_size)) % self.size

    def take(self, rows: Array) -> tuple[Array, Array]:
        """(x, y) of the given rows (along the sample axis, any leading replica axes kept).

        The copies are C-contiguous. (Fancy indexing x[..., rows, :] of a replica stack
        would lay the rows out sample-major; a per-replica sum over such a strided axis
        runs in another order than the unbatched pairwise sum, so a batched loss would
        differ from the unbatched one in the last bit.)"""
        inputs = np.take(self.inputs, rows, axis=-2)
        if self.targets.ndim == self.inputs.ndim:
            return inputs, np.take(self.targets, rows, axis=-2)
        return inputs, np.take(self.targets, rows, axis=-1)

    def window(self, start: int, count: int) -> tuple[Array, Array]:
        """(x, y) of rows [start, start + count) modulo N, in order: `take` of those rows,
        but a view (no copy) when they do not wrap around."""
        first = start % self.size
        if first + count > self.size:
            return self.take((start + np.arange(count)) % self.size)
        rows = slice(first, first + count)
        if self.targets.ndim == self.inputs.ndim:
            return self.inputs[..., rows, :], self.targets[..., rows, :]
        return self.inputs[..., rows, :], self.targets[..., rows]


def initial_weights(dims: Sequence[int], seed: int, scale: float = 1.0, bound: float | None = None) -> tuple[Array, ...]:
    """W_m with i.i.d. N(0, scale²/d_{m-1}) entries, from the run's init stream; with
    `bound`, every entry clipped to [−bound, bound] (an analog run starts inside its box)."""
    rng = generator(seed, "init")
    weights = tuple(
        rng.standard_normal((dims[m + 1], dims[m])) * (scale / np.sqrt(dims[m])) for m in range(len(dims) - 1)
    )
    return weights if bound is None else tuple(np.clip(w, -bound, bound) for w in weights)


def teacher_student(
    dims: Sequence[int], samples: int, seed: int, activation: Activation, loss: Loss
) -> Dataset:
    """The teacher–student task: x ~ N(0, I), y = teacher(x) (cross-entropy: the arg-max label).

    The teacher has the student's architecture and its own random weights, so the task
    is realisable: f* = 0 for the squared loss.
    """
    inputs = generator(seed, "data").standard_normal((samples, dims[0]))
    teacher_rng = generator(seed, "teacher")
    teacher = tuple(
        teacher_rng.standard_normal((dims[m + 1], dims[m])) / np.sqrt(dims[m]) for m in range(len(dims) - 1)
    )
    outputs = forward(teacher, inputs, activation).output
    targets = np.argmax(outputs, axis=-1) if loss.integer_targets else outputs
    return Dataset(inputs, targets)

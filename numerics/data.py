"""Training data and initial weights: the seeded teacher–student task, and user files;
the sampling rule by which a micro-batch picks its rows (MODEL.md §3 "Sampling").

Inputs, teacher and initial weights each come from their own named random stream of the
run's seed (`numerics.streams`: "data", "teacher", "init"); i.i.d. sampling draws the rows
of micro-batch j from the stream "sampling" with key j // 1024 (a block of 1,024 micro-batches).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar, Sequence

import numpy as np

from numerics.activations import Activation
from numerics.losses import Loss
from numerics.network import forward
from numerics.streams import generator

Array = np.ndarray


# ----- sampling: the rows of a micro-batch ---------------------------------------------------


class Sampling(ABC):
    """The rule by which micro-batch j picks its b of the N rows (MODEL.md §3 "Sampling").

    One object is used wherever the rows of a micro-batch are computed: the training loop
    (through `batches`), `Dataset.rows`, and the recomputations of `proofs_check.traces`.
    The rows are a function of (j, b, N, seed) alone, so the rows of micro-batch j do not
    depend on the order in which a schedule runs its operations, nor on how many replicas
    run together (replica r uses its own seed, `TrainingSettings.seeds[r]`).

    A new rule implements `rows`; `batches` then reads each micro-batch's samples through
    a table of every micro-batch's rows (`RowTableBatches`).
    """

    name: ClassVar[str]
    """Name on the command line (`simulate --sampling`)."""

    @abstractmethod
    def rows(self, micro_batch: int, micro_batch_size: int, size: int, seed: int = 0) -> Array:
        """Row indices [b] of micro-batch j, each in [0, N), for a run with `seed`."""

    def table(self, micro_batches: int, micro_batch_size: int, size: int, seeds: Sequence[int], lead_shape: tuple[int, ...] = ()) -> Array:
        """`rows(j, b, N, seeds[r])` of every micro-batch j < J and replica r: lead_shape + [J, b]
        (replicas in C order of lead_shape, one seed each), in `row_index_type(N)`."""
        _check_seeds(seeds, lead_shape)
        table = np.empty((len(seeds), micro_batches, micro_batch_size), dtype=row_index_type(size))
        for r, seed in enumerate(seeds):
            for j in range(micro_batches):
                table[r, j] = self.rows(j, micro_batch_size, size, seed)
        return table.reshape(tuple(lead_shape) + (micro_batches, micro_batch_size))

    def batches(self, data: Dataset, micro_batch_size: int, micro_batches: int, seeds: Sequence[int], lead_shape: tuple[int, ...] = ()) -> MicroBatches:
        """The samples of micro-batches 0..J−1 of a run on `data` with replica axes
        `lead_shape` (the data carries the same leading axes or none) and one seed per replica."""
        return RowTableBatches(data, self.table(micro_batches, micro_batch_size, data.size, seeds, lead_shape), lead_shape)


def row_index_type(size: int) -> np.dtype:
    """The smallest unsigned integer type holding every row index of N rows: a run's row table
    (J·b indices per replica, hundreds of MB in int64 for the long saturation runs) takes
    8× less memory in uint8 for N ≤ 256, and indexing reads the same rows."""
    return np.min_scalar_type(max(int(size) - 1, 0))


def _check_seeds(seeds: Sequence[int], lead_shape: tuple[int, ...]) -> None:
    """One seed per replica of `lead_shape` (ValueError otherwise)."""
    if len(seeds) != math.prod(lead_shape):
        raise ValueError(f"{len(seeds)} seeds for replica shape {lead_shape}")


@dataclass(frozen=True)
class CyclicSampling(Sampling):
    """Micro-batch j takes rows [j·b, (j+1)·b) modulo N, in order (an incremental-gradient
    method); the same rows for every seed."""

    name: ClassVar[str] = "cyclic"

    def rows(self, micro_batch: int, micro_batch_size: int, size: int, seed: int = 0) -> Array:
        return (micro_batch * micro_batch_size + np.arange(micro_batch_size)) % size

    def batches(self, data: Dataset, micro_batch_size: int, micro_batches: int, seeds: Sequence[int], lead_shape: tuple[int, ...] = ()) -> MicroBatches:
        """Windows of the data (views, no copies); the same samples as the generic row table
        (tests/numerics/test_sampling.py), bit for bit."""
        return WindowBatches(data, micro_batch_size, lead_shape)


IID_BLOCK = 1024
"""Micro-batches per draw of i.i.d. sampling: micro-batch j takes row j mod IID_BLOCK of the
[IID_BLOCK, b] draw with key j // IID_BLOCK (one generator per block, not per micro-batch)."""


@dataclass(frozen=True)
class IIDSampling(Sampling):
    """Micro-batch j draws b rows uniformly from [0, N), independently and with replacement:
    row j mod 1024 of `integers(0, N, size=(1024, b))` of the generator of stream "sampling"
    with key j // 1024 of the seed (`IID_BLOCK`)."""

    name: ClassVar[str] = "iid"

    def rows(self, micro_batch: int, micro_batch_size: int, size: int, seed: int = 0) -> Array:
        block, row = divmod(int(micro_batch), IID_BLOCK)
        return _iid_block(block, int(micro_batch_size), int(size), int(seed))[row]

    def table(self, micro_batches: int, micro_batch_size: int, size: int, seeds: Sequence[int], lead_shape: tuple[int, ...] = ()) -> Array:
        """The generic table, drawn a block at a time (the same rows as `rows`)."""
        _check_seeds(seeds, lead_shape)
        table = np.empty((len(seeds), micro_batches, micro_batch_size), dtype=row_index_type(size))
        for r, seed in enumerate(seeds):
            for first in range(0, micro_batches, IID_BLOCK):
                block = table[r, first : first + IID_BLOCK]
                block[...] = _draw_block(first // IID_BLOCK, micro_batch_size, size, int(seed))[: len(block)]
        return table.reshape(tuple(lead_shape) + (micro_batches, micro_batch_size))


def _draw_block(block: int, micro_batch_size: int, size: int, seed: int) -> Array:
    """The rows [IID_BLOCK, b] of micro-batches block·IID_BLOCK … (block+1)·IID_BLOCK − 1."""
    return generator(seed, "sampling", block).integers(0, size, size=(IID_BLOCK, micro_batch_size))


@lru_cache(maxsize=64)
def _iid_block(block: int, micro_batch_size: int, size: int, seed: int) -> Array:
    """`_draw_block`, remembered (read-only) for the row-by-row recomputations of a run."""
    rows = _draw_block(block, micro_batch_size, size, seed)
    rows.setflags(write=False)
    return rows


CYCLIC = CyclicSampling()
IID = IIDSampling()
SAMPLINGS: dict[str, Sampling] = {sampling.name: sampling for sampling in (CYCLIC, IID)}
"""Every sampling rule by name (the choices of `simulate --sampling`); cyclic is the default."""
SAMPLING_NAMES = tuple(SAMPLINGS)


def sampling_by_name(name: str) -> Sampling:
    """The sampling rule called `name`; KeyError lists the known names."""
    try:
        return SAMPLINGS[name]
    except KeyError:
        raise KeyError(f"unknown sampling {name!r}; allowed: {', '.join(SAMPLINGS)}") from None


# ----- data sets ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Dataset:
    """Samples ξ = (x, y): inputs x [N, d_0]; targets y [N, d_M] or integer labels [N]."""

    inputs: Array
    targets: Array

    @property
    def size(self) -> int:
        """N."""
        return self.inputs.shape[-2]

    def rows(self, micro_batch: int, micro_batch_size: int, *, sampling: Sampling = CYCLIC, seed: int = 0) -> Array:
        """Row indices of micro-batch j under `sampling` for a run with `seed` (default
        cyclic: [j·b, (j+1)·b) modulo N, in order)."""
        return sampling.rows(micro_batch, micro_batch_size, self.size, seed)

    def take(self, rows: Array) -> tuple[Array, Array]:
        """(x, y) of the given rows (along the sample axis, any leading replica axes kept).

        `rows` [n] is shared by every replica; on shared data (no replica axes) `rows` may
        have leading axes of its own ([..., n] gives x [..., n, d_0]); on data with replica
        axes, `rows` [..., n] with those leading axes takes one row set per replica.

        The copies are C-contiguous. (Fancy indexing x[..., rows, :] of a replica stack
        would lay the rows out sample-major; a per-replica sum over such a strided axis
        runs in another order than the unbatched pairwise sum, so a batched loss would
        differ from the unbatched one in the last bit.)"""
        return self.take_inputs(rows), self.take_targets(rows)

    def take_inputs(self, rows: Array) -> Array:
        """x of the given rows, as `take`."""
        return _take_rows(self.inputs, rows, self.inputs.ndim - 2)

    def take_targets(self, rows: Array) -> Array:
        """y of the given rows, as `take`."""
        labels = self.targets.ndim < self.inputs.ndim
        return _take_rows(self.targets, rows, self.inputs.ndim - 2, labels=labels)

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


def _take_rows(array: Array, rows: Array, replica_axes: int, labels: bool = False) -> Array:
    """The given rows of `array` (samples along axis −2, or −1 for labels) as a C-contiguous
    copy; with replica axes and rows carrying them too, replica r's rows of replica r's samples."""
    rows = np.asarray(rows)
    axis = -1 if labels else -2
    if replica_axes and rows.ndim > 1:
        return np.ascontiguousarray(np.take_along_axis(array, rows if labels else rows[..., None], axis=axis))
    return np.take(array, rows, axis=axis)


# ----- the samples of a run's micro-batches ---------------------------------------------------


class MicroBatches(ABC):
    """The samples of a run's micro-batches, shaped for its replica stack (`Sampling.batches`).

    The training loop reads the inputs of micro-batch j at its first forward pass, its
    targets at its last backward pass, and the samples of each update (its consecutive
    micro-batches) at the update's reference point."""

    @abstractmethod
    def inputs(self, micro_batch: int) -> Array:
        """x of micro-batch j, [..., b, d_0] with the replica axes."""

    @abstractmethod
    def targets(self, micro_batch: int) -> Array:
        """y of micro-batch j for the loss gradient (broadcasting against [..., b, d_M])."""

    @abstractmethod
    def samples(self, first: int, count: int) -> tuple[Array, Array]:
        """(x, y) of micro-batches first .. first+count−1, concatenated in order, for
        `network.mean_loss` of the replica stack (integer labels with the replica axes)."""

    @abstractmethod
    def update_rows(self, updates: int, per_update: int) -> list[Array]:
        """Row indices of each update's micro-batches (per_update of them, consecutive):
        [per_update·b] per update, or lead_shape + [per_update·b] when the replicas' rows differ."""


class WindowBatches(MicroBatches):
    """Cyclic micro-batches: windows [j·b, (j+1)·b) modulo N of the data, views when they do
    not wrap around; shared by every replica."""

    def __init__(self, data: Dataset, micro_batch_size: int, lead_shape: tuple[int, ...]) -> None:
        self.data, self.b, self.lead_shape = data, micro_batch_size, tuple(lead_shape)
        self.broadcast_inputs = bool(lead_shape) and data.inputs.ndim == 2
        self.shared_labels = self.broadcast_inputs and data.targets.ndim == 1

    def inputs(self, micro_batch: int) -> Array:
        a, _ = self.data.window(micro_batch * self.b, self.b)
        return np.broadcast_to(a, self.lead_shape + a.shape) if self.broadcast_inputs else a

    def targets(self, micro_batch: int) -> Array:
        return self.data.window(micro_batch * self.b, self.b)[1]

    def samples(self, first: int, count: int) -> tuple[Array, Array]:
        x, y = self.data.window(first * self.b, count * self.b)
        return x, replica_labels(y, self.lead_shape) if self.shared_labels else y

    def update_rows(self, updates: int, per_update: int) -> list[Array]:
        rows_per_update = per_update * self.b
        return list((np.arange(updates * rows_per_update) % self.data.size).reshape(updates, rows_per_update))


class RowTableBatches(MicroBatches):
    """Micro-batches from a table of every micro-batch's rows, lead_shape + [J, b] (one row
    set per replica): C-contiguous copies, replica r's rows of replica r's (or the shared) data."""

    def __init__(self, data: Dataset, table: Array, lead_shape: tuple[int, ...]) -> None:
        self.data, self.table, self.lead_shape = data, table, tuple(lead_shape)
        self.b = table.shape[-1]

    def _rows(self, first: int, count: int) -> Array:
        return self.table[..., first : first + count, :].reshape(self.lead_shape + (count * self.b,))

    def inputs(self, micro_batch: int) -> Array:
        return self.data.take_inputs(self.table[..., micro_batch, :])

    def targets(self, micro_batch: int) -> Array:
        return self.data.take_targets(self.table[..., micro_batch, :])

    def samples(self, first: int, count: int) -> tuple[Array, Array]:
        return self.data.take(self._rows(first, count))

    def update_rows(self, updates: int, per_update: int) -> list[Array]:
        return [self._rows(k * per_update, per_update) for k in range(updates)]


def replica_labels(labels: Array, lead_shape: tuple[int, ...]) -> Array:
    """Integer labels [b] shared by replicas, as a C-contiguous [..., b] copy per replica.

    A loss value takes the logit of each sample's label along the class axis, which needs
    the replica axes on the labels too; a copy (not a stride-0 view) keeps the per-sample
    values, and so each replica's mean over its samples, in the unbatched memory order."""
    return np.ascontiguousarray(np.broadcast_to(labels, lead_shape + labels.shape))


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

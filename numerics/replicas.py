"""Many independent training runs as one: a leading replica axis of length R.

`numerics.training.train` accepts weights [R, d_m, d_{m-1}] and data [R, N, ·] (or shared
data [N, ·]); every array operation then does R problems at once (a stacked matmul is one
BLAS call per replica with the operands and strides of the unbatched call). Replica r's
numbers are bit-identical to an unbatched run with the same inputs and seed. This module
builds the stacks and runs large stacks in chunks on a few threads.

Two ways replicas differ:

- **By seed.** `replica_seeds(s, R)` gives seeds s, s+1, ..., s+R-1. Replica r takes its
  teacher–student data (`seeded_teacher_student`), its initial weights
  (`seeded_initial_weights`), its gradient noise and its i.i.d. micro-batch rows
  (`TrainingSettings.seeds`, `TrainingSettings.sampling`) from seed s + r, so it is the
  unbatched run with seed s + r. With shared files instead (`simulate --data/--init`), the
  shared part is the same for every replica: with both files given, replicas differ only
  by their noise and sampling seed.
- **By hyper-parameters.** `hyper_grid(learning_rates, taus)` returns one α per replica
  (for `TrainingSettings.learning_rate`, shape [R]) and one τ per replica (for
  `AsymmetricLinearDevice(tau=...)`, shape [R, 1, 1], broadcasting over each replica's
  weight matrices): the Cartesian product, α-major. Use it with shared initial weights
  (`broadcast_replicas`) and shared data; replica r equals the unbatched run with α_r,
  τ_r and noise seed `seeds[r]`.
"""

from __future__ import annotations

import contextvars
import dataclasses
import os
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Sequence

import numpy as np

from numerics import network
from numerics.activations import Activation
from numerics.data import Dataset, initial_weights, replica_labels, teacher_student
from numerics.losses import Loss
from numerics.training import Progress, TrainingResult, TrainingSettings, compiled_schedule, synchronous_update_order, train

Array = np.ndarray

DEFAULT_CHUNK = 32
"""Replicas per `train` call in `train_replicas`: large enough that the per-operation Python
cost is shared by many replicas, small enough that a layer's weight stack stays near the
core's cache (measured on dims 32-64-64-10; see benchmarks/bench_replicas.py)."""


def replica_seeds(base_seed: int, replicas: int) -> tuple[int, ...]:
    """Seeds of R seeded replicas: base_seed + r for r = 0..R-1."""
    if replicas < 1:
        raise ValueError(f"the number of replicas must be >= 1, got {replicas}")
    return tuple(base_seed + r for r in range(replicas))


def stack_replicas(per_replica: Sequence[Sequence[Array]]) -> tuple[Array, ...]:
    """Weights of R runs (each a sequence W_1..W_M) as one stack [R, d_m, d_{m-1}] per layer."""
    return tuple(np.stack([np.asarray(weights[m], dtype=float) for weights in per_replica]) for m in range(len(per_replica[0])))


def broadcast_replicas(weights: Sequence[Array], replicas: int) -> tuple[Array, ...]:
    """The same initial weights for every replica: [R, d_m, d_{m-1}] copies."""
    return tuple(np.repeat(np.asarray(w, dtype=float)[None], replicas, axis=0) for w in weights)


def seeded_initial_weights(dims: Sequence[int], seeds: Sequence[int], scale: float = 1.0, bound: float | None = None) -> tuple[Array, ...]:
    """`initial_weights(dims, seed, scale, bound)` of every seed, stacked."""
    return stack_replicas([initial_weights(dims, seed, scale=scale, bound=bound) for seed in seeds])


def seeded_teacher_student(dims: Sequence[int], samples: int, seeds: Sequence[int], activation: Activation, loss: Loss) -> Dataset:
    """`teacher_student(dims, samples, seed, ...)` of every seed, stacked: x [R, N, d_0], y [R, N, ·]."""
    tasks = [teacher_student(dims, samples, seed, activation, loss) for seed in seeds]
    return Dataset(np.stack([task.inputs for task in tasks]), np.stack([task.targets for task in tasks]))


def hyper_grid(learning_rates: Sequence[float], taus: Sequence[float]) -> tuple[Array, Array]:
    """The α × τ grid, α-major: (α per replica [R], τ per replica [R, 1, 1]), R = len(α)·len(τ).

    Pass the first as `TrainingSettings.learning_rate` and the second as
    `AsymmetricLinearDevice(tau=...)`; replica r = i·len(τ) + j runs α_i with τ_j.
    """
    alpha = np.asarray(learning_rates, dtype=float).ravel()
    tau = np.asarray(taus, dtype=float).ravel()
    if alpha.size == 0 or tau.size == 0:
        raise ValueError("the grid needs at least one learning rate and one tau")
    return np.repeat(alpha, tau.size), np.tile(tau, alpha.size).reshape(-1, 1, 1)


def mean_loss(weights: Sequence[Array], data: Dataset, activation: Activation, loss: Loss) -> Array:
    """f(W; ξ) over all of `data` for each replica of a stack [R, d_m, d_{m-1}] (shared
    data, or data with the replica axis): `network.mean_loss`, with shared integer labels
    given the replica axis."""
    lead_shape = tuple(weights[0].shape[:-2])
    targets = data.targets
    if lead_shape and data.inputs.ndim == 2 and targets.ndim == 1:
        targets = replica_labels(targets, lead_shape)
    return network.mean_loss(weights, data.inputs, targets, activation, loss)


def usable_cpus() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _chunk_settings(settings: TrainingSettings, replicas: int, rows: slice) -> TrainingSettings:
    learning_rate = settings.learning_rate
    if np.ndim(learning_rate) > 0:
        learning_rate = np.asarray(learning_rate)[rows]
    device = settings.device
    # any device whose τ is one per replica (a settings dataclass with an array τ) keeps the chunk's rows
    if dataclasses.is_dataclass(device) and np.ndim(device.tau) > 0 and np.shape(device.tau)[0] == replicas:
        device = dataclasses.replace(device, tau=np.asarray(device.tau)[rows])
    return dataclasses.replace(settings, learning_rate=learning_rate, device=device, seeds=tuple(settings.seeds[rows]))


def _merge(parts: list[TrainingResult]) -> TrainingResult:
    first = parts[0]
    if len(parts) == 1:
        return first

    def join(arrays: Sequence[Array]) -> Array:
        return np.concatenate(arrays, axis=0)

    layers = len(first.final_weights)
    update_rows = first.update_rows  # shared by the replicas, unless each has its own rows
    if any(rows.ndim > 1 for rows in update_rows):
        update_rows = [join([p.update_rows[k] for p in parts]) for k in range(len(update_rows))]
    versions = applied = None
    if first.versions is not None:
        versions = [np.concatenate([p.versions[m] for p in parts], axis=1) for m in range(layers)]  # replicas after the version axis
        applied = [np.concatenate([p.applied_gradients[m] for p in parts], axis=1) for m in range(layers)]
    return TrainingResult(
        final_weights=tuple(join([p.final_weights[m] for p in parts]) for m in range(layers)),
        reference_loss=None if first.reference_loss is None else join([p.reference_loss for p in parts]),
        forward_versions=first.forward_versions,
        backward_versions=first.backward_versions,
        max_abs_weight=join([p.max_abs_weight for p in parts]),
        record=first.record,
        versions=versions,
        applied_gradients=applied,
        update_rows=update_rows,
    )


def train_replicas(
    initial: Sequence[Array],
    data: Dataset,
    settings: TrainingSettings,
    *,
    workers: int | None = None,
    chunk: int = DEFAULT_CHUNK,
    progress: Progress | None = None,
) -> TrainingResult:
    """`train` on R replicas (initial [R, d_m, d_{m-1}]), in chunks of `chunk` replicas run on
    `workers` threads (default: the usable CPUs). The result is the one `train` would return
    for the whole stack, bit for bit: chunks are independent runs, and numpy releases the
    GIL inside its array loops, so chunks on different cores run concurrently.

    Per-replica settings (α of shape [R], an ALD τ of shape [R, 1, 1], the R seeds) and data
    with a replica axis are split with the weights; shared data is shared.
    """
    replicas = initial[0].shape[0] if initial[0].ndim == 3 else 0
    if replicas == 0 or any(w.ndim != 3 or w.shape[0] != replicas for w in initial):
        raise ValueError("train_replicas needs weights with one leading replica axis [R, d_m, d_{m-1}]")
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    workers = usable_cpus() if workers is None else workers
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if len(settings.seeds) != replicas:
        raise ValueError(f"{len(settings.seeds)} noise seeds for {replicas} replicas")
    if replicas <= chunk:
        return train(initial, data, settings, progress=progress)

    # Build the shared schedule once, before the threads ask for it (compiled for the slot loop
    # unless the schedule runs an update at a time).
    shape = (settings.schedule, len(initial), settings.micro_batches, settings.micro_batches_per_update)
    if synchronous_update_order(*shape) is None:
        compiled_schedule(*shape)
    per_replica_data = data.inputs.ndim == 3
    pieces = [slice(start, min(start + chunk, replicas)) for start in range(0, replicas, chunk)]

    def run(rows: slice) -> TrainingResult:
        piece = Dataset(data.inputs[rows], data.targets[rows]) if per_replica_data else data
        return train([w[rows] for w in initial], piece, _chunk_settings(settings, replicas, rows))

    if workers == 1:
        chunks = progress(pieces, len(pieces)) if progress is not None else pieces
        return _merge([run(rows) for rows in chunks])
    parts: dict[int, TrainingResult] = {}
    with ThreadPoolExecutor(max_workers=min(workers, len(pieces))) as pool:
        # Each chunk runs in a copy of the caller's context (numpy's errstate lives there).
        futures = {pool.submit(contextvars.copy_context().run, run, rows): index for index, rows in enumerate(pieces)}
        done = as_completed(futures)
        if progress is not None:
            done = progress(done, len(pieces))
        for future in done:
            parts[futures[future]] = future.result()
    return _merge([parts[index] for index in range(len(pieces))])


def replica(result: TrainingResult, r: int) -> TrainingResult:
    """Replica r of a batched result, shaped like an unbatched run's result."""
    versions = applied = None
    if result.versions is not None:
        versions = [layer[:, r] for layer in result.versions]
        applied = [layer[:, r] for layer in result.applied_gradients]
    return TrainingResult(
        final_weights=tuple(w[r] for w in result.final_weights),
        reference_loss=None if result.reference_loss is None else result.reference_loss[r],
        forward_versions=result.forward_versions,
        backward_versions=result.backward_versions,
        max_abs_weight=result.max_abs_weight[r],
        record=result.record,
        versions=versions,
        applied_gradients=applied,
        update_rows=[rows[r] if rows.ndim > 1 else rows for rows in result.update_rows],
    )

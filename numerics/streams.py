"""The named random streams of the code base: every random choice flows from one integer seed.

A stream is a `numpy.random.SeedSequence` derived from the seed and the stream's name; a
stream with a key (a micro-batch, an epoch, a run) is one independent sub-stream per key.
Data, initial weights, gradient noise and every search draw from their own streams, so
they are independent of each other and of the order in which a schedule runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Stream:
    """The derivation SeedSequence([seed, *entropy], spawn_key=spawn_key + key) of a named stream."""

    spawn_key: tuple[int, ...] = ()
    """Leading words of the spawn key; a call's key follows them."""
    entropy: tuple[int, ...] = ()
    """Words appended to the seed in the entropy (empty: the seed alone is the entropy)."""


STREAMS: dict[str, Stream] = {
    "data": Stream(spawn_key=(0,)),
    "init": Stream(spawn_key=(1,)),
    "noise": Stream(spawn_key=(2,)),
    "teacher": Stream(spawn_key=(3,)),
    "sampling": Stream(spawn_key=(4,)),
    "adversarial": Stream(spawn_key=(7,)),
    "shuffle": Stream(spawn_key=(11,)),
    "rates-noise": Stream(spawn_key=(21,)),
    "pulses": Stream(spawn_key=(31,)),
    "device-variation": Stream(spawn_key=(32,)),
    "theorem-seeds": Stream(entropy=(5,)),
}
"""Every stream by name:

- data: teacher–student inputs; init: initial weights; teacher: the teacher's weights;
- noise: N(0, σ²) gradient noise of a training run, key the micro-batch j;
- sampling: the rows of micro-batch j under i.i.d. sampling (`numerics.data.IIDSampling`), key
  j // 1024 (one draw per block of 1,024 micro-batches);
- adversarial: the adversarial search of `proofs_check.adversarial`;
- shuffle: the digits experiment's permutation of the training split, key the epoch;
- rates-noise: the rates experiment's update noise, key the run;
- pulses: the pulsed device's stochastic rounding and cycle-to-cycle noise, key the layer
  index (one generator per layer and replica, drawn in the order of that layer's updates);
- device-variation: the pulsed device's device-to-device factors, key the layer index
  (drawn once, when the device is bound to a run);
- theorem-seeds: the sampling seeds of a convergence check's replicas (`generate_state`);
  with key 1, the start vector of its Hessian power iteration.
"""


def seed_sequence(seed: int, name: str, *key: int) -> np.random.SeedSequence:
    """The SeedSequence of stream `name` (with sub-stream `key`) of a run with `seed`."""
    try:
        stream = STREAMS[name]
    except KeyError:
        raise KeyError(f"unknown random stream {name!r}; known: {', '.join(STREAMS)}") from None
    entropy = [int(seed), *stream.entropy] if stream.entropy else seed
    return np.random.SeedSequence(entropy, spawn_key=stream.spawn_key + key)


def generator(seed: int, name: str, *key: int) -> np.random.Generator:
    """The generator (PCG64) of stream `name` (with sub-stream `key`) of a run with `seed`."""
    return np.random.Generator(np.random.PCG64(seed_sequence(seed, name, *key)))

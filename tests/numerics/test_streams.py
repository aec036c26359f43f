"""The registry of named random streams: distinct streams, a helpful error, and the seeds of
the code that drew its streams from literal SeedSequence constructions before it."""

from __future__ import annotations

import numpy as np
import pytest

from numerics.streams import STREAMS, generator, seed_sequence

LEGACY = {
    # name: (key, the SeedSequence the old call site built for seed s) — the specification of bit-identity
    "data": ((), lambda s: np.random.SeedSequence(s, spawn_key=(0,))),  # numerics.data DATA_STREAM = 0
    "init": ((), lambda s: np.random.SeedSequence(s, spawn_key=(1,))),  # numerics.data INIT_STREAM = 1
    "noise": ((5,), lambda s: np.random.SeedSequence(s, spawn_key=(2, 5))),  # numerics.training, NOISE_STREAM = 2, micro-batch 5
    "teacher": ((), lambda s: np.random.SeedSequence(s, spawn_key=(3,))),  # numerics.data TEACHER_STREAM = 3
    "sampling": ((6,), lambda s: np.random.SeedSequence(s, spawn_key=(4, 6))),  # new (i.i.d. rows), block 6 of 1,024 micro-batches: the specification
    "adversarial": ((), lambda s: np.random.SeedSequence(s, spawn_key=(7,))),  # proofs_check.adversarial.search
    "shuffle": ((4,), lambda s: np.random.SeedSequence(s, spawn_key=(11, 4))),  # experiments.digits SHUFFLE_STREAM = 11, epoch 4
    "rates-noise": ((1002,), lambda s: np.random.SeedSequence(s, spawn_key=(21, 1002))),  # experiments.rates NOISE_STREAM = 21, run 1000 + 2
    "theorem-seeds": ((), lambda s: np.random.SeedSequence([int(s), 5])),  # proofs_check.theorems.noise_seeds
    "pulses": ((2,), lambda s: np.random.SeedSequence(s, spawn_key=(31, 2))),  # new (pulsed device), layer index 2: the specification
    "device-variation": ((1,), lambda s: np.random.SeedSequence(s, spawn_key=(32, 1))),  # new (pulsed d2d), layer index 1: the specification
}
SEEDS = (0, 1, 17, 2**31 + 5, 2**40 + 3)


def test_every_stream_has_a_legacy_reference():
    assert set(STREAMS) == set(LEGACY)


def test_every_registered_stream_is_distinct():
    derivations = [(stream.spawn_key, stream.entropy) for stream in STREAMS.values()]
    assert len(set(derivations)) == len(derivations)
    first_draws = {name: generator(3, name).integers(2**63) for name in STREAMS}
    assert len(set(first_draws.values())) == len(STREAMS)


def test_an_unknown_name_raises_with_the_known_names():
    with pytest.raises(KeyError) as error:
        generator(0, "nosie")
    message = str(error.value)
    assert "'nosie'" in message and all(name in message for name in STREAMS)


@pytest.mark.parametrize("name", sorted(LEGACY))
@pytest.mark.parametrize("seed", SEEDS)
def test_the_registry_reproduces_the_legacy_seeds(name, seed):
    key, legacy = LEGACY[name]
    expected = legacy(seed)
    got = seed_sequence(seed, name, *key)
    assert np.array_equal(got.generate_state(8), expected.generate_state(8))
    assert got.spawn_key == expected.spawn_key
    legacy_draws = np.random.default_rng(expected).standard_normal(16)
    assert np.array_equal(generator(seed, name, *key).standard_normal(16), legacy_draws)


def test_the_same_seed_gives_the_same_draws_and_other_names_or_keys_others():
    for name in STREAMS:
        assert np.array_equal(generator(9, name).standard_normal(8), generator(9, name).standard_normal(8))
        assert not np.array_equal(generator(9, name).standard_normal(8), generator(10, name).standard_normal(8))
    assert not np.array_equal(generator(9, "noise", 0).standard_normal(8), generator(9, "noise", 1).standard_normal(8))
    assert not np.array_equal(generator(9, "sampling", 0).standard_normal(8), generator(9, "sampling", 1).standard_normal(8))
    assert not np.array_equal(generator(9, "sampling", 5).standard_normal(8), generator(9, "noise", 5).standard_normal(8))
    draws = [generator(9, name).standard_normal(8) for name in STREAMS]
    assert all(not np.array_equal(draws[i], draws[j]) for i in range(len(draws)) for j in range(i))

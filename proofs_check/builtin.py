"""The built-in set of small models and schedules that `run` checks: teacher–student data;
M ∈ {2, 3, 4}; tanh and identity; squared and cross-entropy; WOP, SP and AP; digital SGD and
ALD at two values of τ. Two further groups bring the lemmas close to their bounds on traces
too: softsign runs, and ALD runs that start near the device bound (largest |w| = 0.95τ)
with a larger step, so that box invariance and the analog increment are nearly tight."""

from __future__ import annotations

from itertools import product

from numerics.devices import AsymmetricLinearDevice, DigitalDevice
from proofs_check.traces import TraceSetting

DIMS = {2: (5, 8, 3), 3: (5, 8, 8, 3), 4: (5, 6, 6, 6, 3)}
"""Widths d_0..d_M per number of stages M."""
ACTIVATIONS = ("tanh", "identity")
LOSSES = ("squared", "cross-entropy")
SCHEDULES = ("wop", "sp", "ap")
DEVICES = (DigitalDevice(), AsymmetricLinearDevice(tau=1.0), AsymmetricLinearDevice(tau=4.0))
LEARNING_RATE = 0.05
UPDATES = {"full": 40, "quick": 10}

SOFTSIGN = (("softsign",), LOSSES, ("sp", "ap"), DEVICES[:2], (None,), (LEARNING_RATE,))
"""Softsign runs: digital and ALD, synchronous and asynchronous."""
SATURATION = 0.95
NEAR_BOUND = (("tanh", "softsign"), LOSSES, ("ap",), (AsymmetricLinearDevice(tau=1.0),), (SATURATION,), (0.3,))
"""ALD runs from largest |w| = 0.95τ with α = 0.3."""


def builtin_settings(quick: bool, seed: int) -> list[TraceSetting]:
    """Every combination of the built-in set; each run gets its own seed (seed, seed + 1, ...)."""
    updates = UPDATES["quick" if quick else "full"]
    main = product(ACTIVATIONS, LOSSES, SCHEDULES, DEVICES, (None,), (LEARNING_RATE,))
    groups = [product(DIMS.values(), main)]
    groups += [product(DIMS.values(), product(*group)) for group in (SOFTSIGN, NEAR_BOUND)]
    settings = []
    for index, (dims, (activation, loss, schedule, device, saturation, learning_rate)) in enumerate(
        combination for group in groups for combination in group
    ):
        settings.append(
            TraceSetting(
                schedule=schedule,
                dims=dims,
                activation=activation,
                loss=loss,
                device=device,
                learning_rate=learning_rate,
                updates=updates,
                micro_batch_size=4,
                mini_batch=2,
                samples=64,
                seed=seed + index,
                saturation=saturation,
            )
        )
    return settings

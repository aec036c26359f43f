"""The built-in set of small models and schedules that `run` checks (issue 4):
teacher–student data; M ∈ {2, 3, 4}; tanh and identity; squared and cross-entropy;
WOP, SP and AP; digital SGD and ALD at two values of τ."""

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


def builtin_settings(quick: bool, seed: int) -> list[TraceSetting]:
    """Every combination of the built-in set; each run gets its own seed (seed, seed + 1, ...)."""
    updates = UPDATES["quick" if quick else "full"]
    settings = []
    combinations = product(DIMS.items(), ACTIVATIONS, LOSSES, SCHEDULES, DEVICES)
    for index, ((_, dims), activation, loss, schedule, device) in enumerate(combinations):
        settings.append(
            TraceSetting(
                schedule=schedule,
                dims=dims,
                activation=activation,
                loss=loss,
                device=device,
                learning_rate=LEARNING_RATE,
                updates=updates,
                micro_batch_size=4,
                mini_batch=2,
                samples=64,
                seed=seed + index,
            )
        )
    return settings

"""The built-in set of small models and schedules that `run` checks: teacher–student data;
M ∈ {2, 3, 4}; tanh and identity; squared and cross-entropy; WOP, SP and AP; digital SGD and
ALD at two values of τ. Further groups bring the lemmas close to their bounds on traces
too: softsign runs, and ALD runs that start near the device bound (largest |w| = 0.95τ)
with a larger step, so that box invariance and the analog increment are nearly tight. The
schedules 1f1b, pipedream and 2bw (measured backward delays d^b > 0 for the last two) run
with ALD and a non-linear `softbounds` device (p = 2, γ₊ ≠ γ₋, so its symmetric point is
not 0), which also runs SP and AP and starts near its bound."""

from __future__ import annotations

from itertools import product

from numerics.devices import AsymmetricLinearDevice, DigitalDevice, SoftBoundsDevice
from numerics.schedules import schedule_named
from proofs_check.model_error import ModelErrorSetting
from proofs_check.traces import TraceSetting

DIMS = {2: (5, 8, 3), 3: (5, 8, 8, 3), 4: (5, 6, 6, 6, 3)}
"""Widths d_0..d_M per number of stages M."""
ACTIVATIONS = ("tanh", "identity")
LOSSES = ("squared", "cross-entropy")
SCHEDULES = ("wop", "sp", "ap")
DEVICES = (DigitalDevice(), AsymmetricLinearDevice(tau=1.0), AsymmetricLinearDevice(tau=4.0))
SOFTBOUNDS = SoftBoundsDevice(tau=1.0, exponent=2.0, gamma_up=1.25, gamma_down=0.75)
"""A non-linear response-function device: p = 2, γ₊ ≠ γ₋ (symmetric point w* ≈ 0.13τ)."""
LEARNING_RATE = 0.05
UPDATES = {"full": 40, "quick": 10}
MINI_BATCH = 2
"""Micro-batches per update of the schedules that average a mini-batch (2bw: at least M)."""

SOFTSIGN = (("softsign",), LOSSES, ("sp", "ap"), DEVICES[:2], (None,), (LEARNING_RATE,))
"""Softsign runs: digital and ALD, synchronous and asynchronous."""
SATURATION = 0.95
NEAR_BOUND = (("tanh", "softsign"), LOSSES, ("ap",), (AsymmetricLinearDevice(tau=1.0),), (SATURATION,), (0.3,))
"""ALD runs from largest |w| = 0.95τ with α = 0.3."""
NEW_SCHEDULES = (("tanh",), LOSSES, ("1f1b", "pipedream", "2bw"), (AsymmetricLinearDevice(tau=1.0), SOFTBOUNDS), (None,), (LEARNING_RATE,))
"""The schedules of MODEL.md §3 version 2 (pipedream and 2bw read stale versions in their backward passes too)."""
RESPONSE_FUNCTION = (("tanh", "identity"), LOSSES, ("sp", "ap"), (SOFTBOUNDS,), (None,), (LEARNING_RATE,))
"""The softbounds device on the paper's schedules."""
RESPONSE_NEAR_BOUND = (("tanh",), LOSSES, ("ap", "pipedream"), (SOFTBOUNDS,), (SATURATION,), (0.3,))
"""The softbounds device from largest |w| = 0.95τ with α = 0.3."""


def builtin_settings(quick: bool, seed: int) -> list[TraceSetting]:
    """Every combination of the built-in set; each run gets its own seed (seed, seed + 1, ...)."""
    updates = UPDATES["quick" if quick else "full"]
    main = product(ACTIVATIONS, LOSSES, SCHEDULES, DEVICES, (None,), (LEARNING_RATE,))
    groups = [product(DIMS.values(), main)]
    groups += [product(DIMS.values(), product(*group)) for group in (SOFTSIGN, NEAR_BOUND, NEW_SCHEDULES, RESPONSE_FUNCTION, RESPONSE_NEAR_BOUND)]
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
                mini_batch=max(MINI_BATCH, schedule_named(schedule).smallest_mini_batch(len(dims) - 1)),
                samples=64,
                seed=seed + index,
                saturation=saturation,
            )
        )
    return settings


def model_error_setting(quick: bool, seed: int) -> ModelErrorSetting:
    """The pulsed device's model-error measurement of `run` (report.json `model_error`): the
    updates of an AP run on the built-in softbounds device replayed through pulsed devices
    with dw_min = 0.01 and 0.001 (c2c = d2d = 0)."""
    trace = TraceSetting(
        schedule="ap", dims=DIMS[3], activation="tanh", loss="squared", device=SOFTBOUNDS, learning_rate=LEARNING_RATE,
        updates=UPDATES["quick" if quick else "full"], micro_batch_size=4, mini_batch=MINI_BATCH, samples=64, seed=seed,
    )
    return ModelErrorSetting(trace, pulse_sizes=(0.01, 0.001), replicas=16 if quick else 64)

"""The pulsed device against its mean model: a model-error measurement, not a lemma verdict.

MODEL.md §2 and §5: the `pulsed` device is outside the theorems' assumptions (its update is
random even given g); with c2c = d2d = 0 its expected update equals the `softbounds` update
up to a second-order term O(α²|g|²/τ). This module measures how far it falls from that
prediction on a real trace: the updates (W^{(k)}, g̃_k) of a built-in `softbounds` run are
replayed through pulsed devices with the same τ, p, γ₊, γ₋ (several pulse sizes dw_min), each
update by R independently seeded replicas, and compared with the softbounds increment
`ΔW_sb = U_sb(W^{(k)}, g̃_k) − W^{(k)}`:

- `mean_relative_deviation`: per replica, the mean over the trace's updates of
  `⟨ΔW_pulsed − ΔW_sb, ΔW_sb⟩ / ||ΔW_sb||²_F` (the relative error of the increment along the
  prediction: its mean is the model's bias, 0 if the mean model were exact), then its mean
  and standard error over the replicas;
- `mean_relative_distance`: likewise with `||ΔW_pulsed − ΔW_sb||_F / ||ΔW_sb||_F` (how far one
  pulsed update lands from the prediction: pulse quantisation, shrinking with dw_min);
- `second_order_relative_deviation`: the bias measured against the second-order mean
  (`PulsedDevice.second_order_mean`) instead: what is left once the O(α²|g|²/τ) term is
  accounted for;
- `floor_factor`: the mean model's `4 G_max²/β²` on the trace's box (the theorem's floor per
  unit σ², MODEL.md §5), the figure the pulsed device would be held to.

Every random draw comes from the stream "pulses" of the replica seeds `seed + r`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from numerics.devices import PulsedDevice, SoftBoundsDevice
from numerics.replicas import replica_seeds
from proofs_check.traces import Trace, TraceSetting, simulate

Array = np.ndarray


@dataclass(frozen=True)
class ModelErrorSetting:
    """The measurement: a softbounds run to replay, the pulse sizes, the number of replicas."""

    trace: TraceSetting
    """A built-in run on a `softbounds` device (its updates are replayed through pulsed devices)."""
    pulse_sizes: tuple[float, ...] = (0.01, 0.001)
    """Nominal pulse sizes dw_min of the pulsed devices compared (c2c = d2d = 0)."""
    replicas: int = 16
    """Independently seeded pulsed replicas per update (the standard errors are over these)."""

    def __post_init__(self) -> None:
        if not isinstance(self.trace.device, SoftBoundsDevice):
            raise ValueError(f"the model-error measurement replays a softbounds run, got the {self.trace.device.name} device")
        if self.replicas < 2:
            raise ValueError(f"the model-error measurement needs at least 2 replicas for a standard error, got {self.replicas}")


def mean_and_standard_error(values: Array) -> tuple[float, float]:
    """Mean over the replicas and its standard error (sample standard deviation / sqrt(R))."""
    values = np.asarray(values, dtype=float)
    return float(np.mean(values)), float(np.std(values, ddof=1) / math.sqrt(values.size))


def pulsed_increments(device: PulsedDevice, trace: Trace, seeds: tuple[int, ...]) -> list[list[Array]]:
    """ΔW of every update k and layer m replayed through the pulsed device, [R, d_m, d_{m−1}] each
    (one bound device per replica seed, its pulses drawn in the order of the updates)."""
    result, alpha = trace.result, trace.setting.learning_rate
    replicas = len(seeds)
    shapes = [(replicas,) + layer[0].shape for layer in result.versions]
    rules = device.bind(shapes, seeds)
    increments = []
    for k in range(trace.setting.updates):
        row = []
        for rule, layer, gradients in zip(rules, result.versions, result.applied_gradients):
            start = np.broadcast_to(layer[k], (replicas,) + layer[k].shape)
            row.append(rule.update(start, np.broadcast_to(gradients[k], start.shape), alpha) - start)
        increments.append(row)
    return increments


def model_error(setting: ModelErrorSetting, seed: int) -> dict:
    """The model-error section of report.json (see the module docstring)."""
    trace = simulate(setting.trace)
    mean_model: SoftBoundsDevice = trace.setting.device
    result, alpha = trace.result, trace.setting.learning_rate
    predicted = [
        [mean_model.update(layer[k], gradients[k], alpha) - layer[k] for layer, gradients in zip(result.versions, result.applied_gradients)]
        for k in range(trace.setting.updates)
    ]
    W_max = float(max(np.max(np.abs(layer)) for layer in result.versions))
    constants = mean_model.constants(W_max)
    seeds = replica_seeds(seed, setting.replicas)
    rows = []
    for dw_min in setting.pulse_sizes:
        device = PulsedDevice(
            tau=float(mean_model.tau), exponent=mean_model.exponent, gamma_up=mean_model.gamma_up, gamma_down=mean_model.gamma_down, dw_min=dw_min
        )
        second_order = [
            [device.second_order_mean(layer[k], -alpha * gradients[k]) for layer, gradients in zip(result.versions, result.applied_gradients)]
            for k in range(trace.setting.updates)
        ]
        replayed = pulsed_increments(device, trace, seeds)
        along, distance, along_second = [], [], []
        for k, row in enumerate(replayed):
            pulsed = np.concatenate([increment.reshape(setting.replicas, -1) for increment in row], axis=1)
            reference = np.concatenate([increment.ravel() for increment in predicted[k]])
            second = np.concatenate([increment.ravel() for increment in second_order[k]])
            scale = float(reference @ reference)
            if scale == 0.0:
                continue  # a zero gradient: nothing to compare
            along.append((pulsed - reference) @ reference / scale)
            distance.append(np.linalg.norm(pulsed - reference, axis=1) / math.sqrt(scale))
            along_second.append((pulsed - second) @ reference / scale)
        per_replica = {name: np.mean(np.stack(values), axis=0) for name, values in (("along", along), ("distance", distance), ("second", along_second))}
        deviation, deviation_error = mean_and_standard_error(per_replica["along"])
        spread, spread_error = mean_and_standard_error(per_replica["distance"])
        second, second_error = mean_and_standard_error(per_replica["second"])
        rows.append(
            {
                "dw_min": dw_min,
                "updates_compared": len(along),
                "mean_relative_deviation": deviation,
                "mean_relative_deviation_standard_error": deviation_error,
                "mean_relative_distance": spread,
                "mean_relative_distance_standard_error": spread_error,
                "second_order_relative_deviation": second,
                "second_order_relative_deviation_standard_error": second_error,
            }
        )
    return {
        "kind": "model error (not a lemma verdict)",
        "trace": trace.setting.label,
        "mean_model": {"device": mean_model.name, "tau": float(mean_model.tau), "p": mean_model.exponent, "gamma_up": mean_model.gamma_up, "gamma_down": mean_model.gamma_down},
        "replicas": setting.replicas,
        "seeds": [seeds[0], seeds[-1]],
        "W_max": W_max,
        "beta": constants.beta,
        "q_max": constants.q_max,
        "G_max": constants.G_max,
        "floor_factor": 4 * constants.G_max**2 / constants.beta**2,
        "pulse_sizes": rows,
    }

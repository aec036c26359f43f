"""Presenting and re-checking a witness (an instance at which a claim fails)."""

from __future__ import annotations

import numpy as np

from proofs_check.instances import Instance


def describe(instance: Instance) -> list[str]:
    """Human-readable lines: the weights, inputs, targets, versions and delays of the instance."""
    lines = [f"lemma {instance.lemma}: activation {instance.activation}, loss {instance.loss}, α = {instance.alpha:g}, τ = {instance.tau:g}"]
    if instance.origin:
        lines.append(f"origin: {instance.origin}")
    with np.printoptions(precision=6, suppress=False, linewidth=120):
        for m, weight in enumerate(instance.weights, start=1):
            lines.append(f"W{m} = {np.array2string(np.asarray(weight), prefix='     ')}")
        for name in ("forward_weights", "backward_weights", "gradient"):
            values = getattr(instance, name)
            if values is not None:
                for m, value in enumerate(values, start=1):
                    lines.append(f"{name}[{m}] = {np.array2string(np.asarray(value), prefix='    ')}")
        lines.append(f"x = {np.array2string(np.asarray(instance.inputs), prefix='    ')}")
        lines.append(f"y = {np.array2string(np.asarray(instance.targets), prefix='    ')}")
        if instance.history is not None:
            lines.append(f"versions: {instance.history[0].shape[-3]} consecutive versions W^(k-n+1)..W^(k) per layer")
            lines.append(f"forward delays d^f = {np.asarray(instance.forward_delays).tolist()}, backward delays d^b = {np.asarray(instance.backward_delays).tolist() if instance.backward_delays is not None else 0}")
    return lines

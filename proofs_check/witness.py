"""Presenting, loading and validating a witness (an instance at which a claim fails)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from proofs_check.errors import UsageError
from proofs_check.instances import Instance, instance_from_arrays

_TEXT_KEYS = ("lemma", "activation", "loss")
_REQUIRED_KEYS = (*_TEXT_KEYS, "weights_1", "inputs", "targets")


def load_witness(path: Path, flag: str = "witness") -> Instance:
    """The instance saved at `path`, after checking that it is one: readable, with every
    required array, known activation and loss, shapes that chain layer to layer, delays
    inside their history and scalars in MODEL.md's domains (α ≥ 0, τ > 0, X, Y, W_max ≥ 0).
    Anything else is a UsageError naming the file and what is wrong. NaN or inf values are
    not damage: they load, and a check reports them as MODEL.md's `error`."""
    from numerics.activations import ACTIVATIONS
    from numerics.losses import LOSSES
    from proofs_check.inputs import read_npz

    arrays = read_npz(Path(path), flag)
    where = f"{flag} {path}"
    missing = [key for key in _REQUIRED_KEYS if key not in arrays]
    if missing:
        raise UsageError(f"{where}: not a witness file, missing array(s) {', '.join(missing)} (found {', '.join(sorted(arrays)) or 'none'})")
    for key in _TEXT_KEYS:
        if arrays[key].dtype.kind != "U" or arrays[key].ndim != 0:
            raise UsageError(f"{where}: '{key}' must be a text entry, got {arrays[key].dtype} of shape {arrays[key].shape}")
    for key, value in arrays.items():
        if key not in (*_TEXT_KEYS, "origin", "extra") and value.dtype.kind not in "biuf":
            raise UsageError(f"{where}: array '{key}' must be numeric, got dtype {value.dtype}")
    activation, loss = str(arrays["activation"]), str(arrays["loss"])
    if activation not in ACTIVATIONS:
        raise UsageError(f"{where}: unknown activation {activation!r}; allowed: {', '.join(ACTIVATIONS)}")
    if loss not in LOSSES:
        raise UsageError(f"{where}: unknown loss {loss!r}; allowed: {', '.join(LOSSES)}")
    try:
        instance = instance_from_arrays(arrays)
    except (ValueError, TypeError, KeyError) as error:
        raise UsageError(f"{where}: not a witness file ({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''})") from None
    _check_shapes(instance, where, integer_labels=LOSSES[loss].integer_targets)
    _check_domains(instance, where)
    return instance


def _check_shapes(instance: Instance, where: str, integer_labels: bool) -> None:
    weights = instance.weights
    for m, weight in enumerate(weights, start=1):
        if weight.ndim != 2 or weight.size == 0:
            raise UsageError(f"{where}: weights_{m} must be a non-empty matrix [d{m}, d{m - 1}], got shape {weight.shape}")
        if m > 1 and weight.shape[1] != weights[m - 2].shape[0]:
            raise UsageError(f"{where}: weights_{m} has {weight.shape[1]} columns but weights_{m - 1} has {weights[m - 2].shape[0]} rows")
    dims = [weights[0].shape[1]] + [w.shape[0] for w in weights]
    layers = len(weights)
    inputs = instance.inputs
    if inputs.ndim != 2 or inputs.shape[0] == 0 or inputs.shape[1] != dims[0]:
        raise UsageError(f"{where}: 'inputs' must have shape [b, {dims[0]}] with b >= 1, got {inputs.shape}")
    samples = inputs.shape[0]
    targets = instance.targets
    if integer_labels and targets.dtype.kind in "iu":
        if targets.shape != (samples,):
            raise UsageError(f"{where}: integer labels 'targets' must have shape [{samples}], got {targets.shape}")
        if targets.size and (targets.min() < 0 or targets.max() >= dims[-1]):
            raise UsageError(f"{where}: labels in 'targets' must lie in 0..{dims[-1] - 1}")
    elif targets.shape != (samples, dims[-1]):
        raise UsageError(f"{where}: 'targets' must have shape [{samples}, {dims[-1]}], got {targets.shape}")
    for name in ("forward_weights", "backward_weights", "gradient"):
        values = getattr(instance, name)
        if values is not None:
            if len(values) != layers:
                raise UsageError(f"{where}: {name} has {len(values)} layers, the weights {layers}")
            for m, (value, weight) in enumerate(zip(values, weights), start=1):
                if value.shape != weight.shape:
                    raise UsageError(f"{where}: {name}_{m} must have the shape {weight.shape} of weights_{m}, got {value.shape}")
    history = instance.history
    if history is not None:
        if len(history) != layers:
            raise UsageError(f"{where}: history has {len(history)} layers, the weights {layers}")
        versions = history[0].shape[0] if history[0].ndim == 3 else 0
        for m, (value, weight) in enumerate(zip(history, weights), start=1):
            if value.ndim != 3 or value.shape[1:] != weight.shape or value.shape[0] != versions or versions == 0:
                raise UsageError(f"{where}: history_{m} must have shape [n, {weight.shape[0]}, {weight.shape[1]}] with the same n >= 1 for every layer, got {value.shape}")
    for name in ("forward_delays", "backward_delays"):
        delays = getattr(instance, name)
        if delays is None:
            continue
        if history is None:
            raise UsageError(f"{where}: {name} given without a history of versions")
        if delays.shape != (layers,):
            raise UsageError(f"{where}: {name} must have shape [{layers}], got {delays.shape}")
        if not np.all(np.isfinite(delays)) or np.any(delays != np.round(delays)) or np.any(delays < 0) or np.any(delays > versions - 1):
            raise UsageError(f"{where}: {name} {np.asarray(delays).tolist()} must be integers in 0..{versions - 1} (inside the history of {versions} versions)")


def _check_domains(instance: Instance, where: str) -> None:
    """Scalars outside MODEL.md's domains (NaN passes here: it is an `error`, not damage)."""
    rules = {"alpha": (">= 0", lambda v: v < 0), "tau": ("> 0", lambda v: v <= 0), "X": (">= 0", lambda v: v < 0), "Y": (">= 0", lambda v: v < 0), "W_max": (">= 0", lambda v: v < 0)}
    for name, (allowed, outside) in rules.items():
        value = getattr(instance, name)
        if value is not None and np.any(outside(np.asarray(value, dtype=float))):
            raise UsageError(f"{where}: {name} = {np.asarray(value).tolist()} is outside MODEL.md's domain ({name} {allowed})")
    if instance.omega is not None and np.any(np.asarray(instance.omega, dtype=float) < 0):
        raise UsageError(f"{where}: omega must be >= 0 (bounds on spectral norms), got {np.asarray(instance.omega).tolist()}")


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

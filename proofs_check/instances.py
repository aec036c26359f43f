"""A lemma instance: the concrete point at which a lemma of MODEL.md §4 is evaluated.

An instance is also a witness: `save_instance` writes it to an .npz that `load_instance`
reads back, so a violation can be replayed and re-checked bit for bit.
"""

from __future__ import annotations

import dataclasses
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from numerics.devices import Device, make_device


Array = np.ndarray



@dataclass(frozen=True)
class Instance:
    """Inputs of one lemma evaluation. Optional fields default to values measured on the instance."""

    lemma: str
    """Id of the lemma the instance belongs to (how `replay` finds it in the registry)."""
    activation: str
    """Activation name."""
    loss: str
    """Loss name."""
    weights: tuple[Array, ...]
    """W = (W_1..W_M): the reference point (W^{(k)} on a trace)."""
    inputs: Array
    """x [b, d_0]."""
    targets: Array
    """y [b, d_M] or integer labels [b]."""
    forward_weights: tuple[Array, ...] | None = None
    """W^f of the mixed pass (signal stability), or W' (objective smoothness)."""
    backward_weights: tuple[Array, ...] | None = None
    """W^b of the mixed pass (signal stability)."""
    history: tuple[Array, ...] | None = None
    """Delay lemmas: per layer, the versions W_m^{(k−n+1)}..W_m^{(k)} stacked [n, d_m, d_{m−1}]."""
    forward_delays: Array | None = None
    """d^f [M] (delay lemmas)."""
    backward_delays: Array | None = None
    """d^b [M] (delay lemmas)."""
    gradient: tuple[Array, ...] | None = None
    """g: the gradient an update applies (analog increment, box invariance, gradient delay)."""
    alpha: float | Array = 0.0
    """Step size α (a float, or [n] for a batched instance)."""
    tau: float | Array = math.inf
    """Device bound τ (∞: digital)."""
    omega: Array | None = None
    """Bounds ω_m on ||W_m||_2 for every version involved; default: measured on the instance."""
    X: float | Array | None = None
    """Bound on ||x||; default: per sample (or the micro-batch's largest, for micro-batch quantities)."""
    Y: float | Array | None = None
    """Bound on ||y||; default likewise."""
    W_max: float | Array | None = None
    """Bound on ||W||_inf over the versions involved; default: measured."""
    device: Device | None = None
    """The update rule (numerics.devices, with its settings and constants) of the updates the
    instance is about; None: the one τ names (ALD for a finite τ, digital SGD for τ = ∞)."""
    origin: str = ""
    """Where the instance comes from (trace, random draw, adversarial search)."""
    extra: dict = field(default_factory=dict)
    """Free-form metadata (schedule, update index, seed, ...), JSON-serialisable."""

    @property
    def layers(self) -> int:
        """M."""
        return len(self.weights)


_TUPLE_FIELDS = ("weights", "forward_weights", "backward_weights", "history", "gradient")
_ARRAY_FIELDS = ("inputs", "targets", "forward_delays", "backward_delays", "omega")
_SCALAR_FIELDS = ("alpha", "tau", "X", "Y", "W_max")
_TEXT_FIELDS = ("lemma", "activation", "loss", "origin")


def instance_arrays(instance: Instance) -> dict[str, Array]:
    """The instance as a flat dict of arrays (the .npz layout of a witness)."""
    import json

    arrays: dict[str, Array] = {}
    for name in _TEXT_FIELDS:
        arrays[name] = np.array(getattr(instance, name))
    arrays["extra"] = np.array(json.dumps(instance.extra, sort_keys=True, default=str))
    if instance.device is not None:
        settings = {name: np.asarray(value).tolist() for name, value in dataclasses.asdict(instance.device).items()}
        arrays["device"] = np.array(json.dumps({"name": instance.device.name, "settings": settings}, sort_keys=True))
    for name in _TUPLE_FIELDS:
        value = getattr(instance, name)
        if value is not None:
            for index, item in enumerate(value, start=1):
                arrays[f"{name}_{index}"] = np.asarray(item)
    for name in _ARRAY_FIELDS:
        value = getattr(instance, name)
        if value is not None:
            arrays[name] = np.asarray(value)
    for name in _SCALAR_FIELDS:
        value = getattr(instance, name)
        if value is not None:
            arrays[name] = np.asarray(value, dtype=float)
    return arrays


def instance_from_arrays(arrays: dict[str, Array]) -> Instance:
    """Inverse of `instance_arrays`."""
    import json

    values: dict = {name: str(arrays[name]) for name in _TEXT_FIELDS}
    values["extra"] = json.loads(str(arrays["extra"])) if "extra" in arrays else {}
    if "device" in arrays:
        device = json.loads(str(arrays["device"]))
        values["device"] = make_device(device["name"], **device["settings"])
    for name in _TUPLE_FIELDS:
        items = []
        while f"{name}_{len(items) + 1}" in arrays:
            items.append(np.asarray(arrays[f"{name}_{len(items) + 1}"]))
        values[name] = tuple(items) if items else None
    for name in _ARRAY_FIELDS:
        values[name] = np.asarray(arrays[name]) if name in arrays else None
    for name in _SCALAR_FIELDS:
        if name in arrays:
            value = np.asarray(arrays[name], dtype=float)
            values[name] = float(value) if value.ndim == 0 else value
        else:
            values[name] = None
    if values["alpha"] is None:
        values["alpha"] = 0.0
    if values["tau"] is None:
        values["tau"] = math.inf
    return Instance(**values)


def instance_bytes(instance: Instance) -> bytes:
    """The witness .npz as bytes."""
    buffer = io.BytesIO()
    np.savez(buffer, **instance_arrays(instance))
    return buffer.getvalue()


def load_instance(path: Path) -> Instance:
    """Read a witness written by `instance_bytes` / `proofs_check.output.write_bytes`."""
    with np.load(path, allow_pickle=False) as archive:
        return instance_from_arrays({key: archive[key] for key in archive.files})


def replace(instance: Instance, **changes) -> Instance:
    """A copy of the instance with some fields changed."""
    return dataclasses.replace(instance, **changes)


def batch_size(instance: Instance) -> int | None:
    """n for a batched instance (inputs [n, b, d_0]), None for a single one."""
    return instance.inputs.shape[0] if instance.inputs.ndim == 3 else None


def select(instance: Instance, rows) -> Instance:
    """The sub-instance of a batched instance at `rows` (an index array keeps the batch axis,
    an integer removes it). Every array field carries the batch axis; 0-d scalars are shared."""
    if batch_size(instance) is None:
        raise ValueError("select needs a batched instance")
    changes: dict = {}
    for name in _TUPLE_FIELDS:
        value = getattr(instance, name)
        if value is not None:
            changes[name] = tuple(np.asarray(item)[rows] for item in value)
    for name in _ARRAY_FIELDS:
        value = getattr(instance, name)
        if value is not None:
            changes[name] = np.asarray(value)[rows]
    for name in _SCALAR_FIELDS:
        value = getattr(instance, name)
        if value is not None and np.ndim(value) > 0:
            selected = np.asarray(value, dtype=float)[rows]
            changes[name] = float(selected) if np.ndim(selected) == 0 else selected
    return dataclasses.replace(instance, **changes)


def _row_axes(batch: tuple[int, ...], array) -> tuple[int, ...]:
    return tuple(range(len(batch), np.ndim(array)))


def finite_rows(instance: Instance) -> np.ndarray:
    """Per batch row (or 0-d): are all of the instance's numbers finite? (Read-only; computed once
    per instance object, whose arrays are never changed in place: a trace instance is checked by
    its lemma and by every false variant.)"""
    known = instance.__dict__.get("_finite_rows")
    if known is None:
        known = instance.__dict__["_finite_rows"] = _finite_rows(instance)
        known.setflags(write=False)
    return known


def _finite_rows(instance: Instance) -> np.ndarray:
    batch = instance.inputs.shape[:-2]
    ok = np.ones(batch, dtype=bool)
    arrays = [instance.inputs, *instance.weights]
    for name in ("forward_weights", "backward_weights", "history", "gradient"):
        if getattr(instance, name) is not None:
            arrays += list(getattr(instance, name))
    if np.issubdtype(np.asarray(instance.targets).dtype, np.floating):
        arrays.append(instance.targets)
    for array in arrays:
        ok &= np.all(np.isfinite(array), axis=_row_axes(batch, array))
    for value in (instance.alpha, instance.omega, instance.X, instance.Y, instance.W_max):
        if value is not None:
            value = np.asarray(value, dtype=float)
            ok &= np.all(np.isfinite(value), axis=_row_axes(batch, value)) if value.ndim > len(batch) else np.isfinite(value)
    return ok


@dataclass(frozen=True)
class Network:
    """A network of MODEL.md §1 at one point: weights W_1..W_M, a micro-batch (x, y), and the
    bounds measured on it (ω_m = ||W_m||_2, X = max ||x||, Y = max ||y||)."""

    activation: str
    loss: str
    weights: tuple[Array, ...]
    inputs: Array
    """x [b, d_0]."""
    targets: Array
    """y [b, d_M], or integer labels [b] (cross-entropy)."""

    @property
    def layers(self) -> int:
        """M."""
        return len(self.weights)

    @property
    def dims(self) -> tuple[int, ...]:
        """d_0, ..., d_M."""
        return (self.weights[0].shape[1],) + tuple(w.shape[0] for w in self.weights)

    @property
    def omega(self) -> Array:
        """ω_m = ||W_m||_2."""
        return np.array([np.linalg.norm(w, 2) for w in self.weights])

    @property
    def X(self) -> float:
        return float(np.max(np.linalg.norm(self.inputs, axis=-1)))

    @property
    def Y(self) -> float:
        if self.targets.dtype.kind in "iu":
            return 1.0
        return float(np.max(np.linalg.norm(self.targets, axis=-1)))

    def instance(self, lemma="bounded-signal", **fields) -> Instance:
        """The network as an instance of `lemma` (an id or a lemma; extra fields as keywords)."""
        lemma_id = lemma if isinstance(lemma, str) else lemma.id
        return Instance(lemma_id, self.activation, self.loss, self.weights, self.inputs, self.targets, **fields)

"""Loading and validating, presenting and re-checking a witness (an instance at which a claim fails), for a referee.

`examine(instance, claim, part)` re-judges the claim at the witness and states where it
broke: the inequality and the layer, lhs, rhs and their ratio, the constants that entered
the right side (the lemma's bound symbols at the instance, CONTRACT.md `bound`), and the
instance (M, widths, activation, loss, α, τ, delays). `describe` prints that statement and
then the raw arrays; `witness_bytes` saves the statement inside the witness .npz (key
`statement`, JSON) beside the arrays that `load_instance` reads back.
"""

from __future__ import annotations

import io
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from proofs_check.errors import UsageError
from proofs_check.instances import Instance, instance_arrays, instance_from_arrays

NETWORK = "network (not per layer)"
"""How a part about the whole network (no layer m) is named."""


@dataclass(frozen=True)
class WitnessStatement:
    """Where and how a claim broke at a witness instance."""

    claim: str
    """The claim that was checked (the lemma's own bound, a candidate, or a false variant)."""
    part: str
    """The inequality that broke, in MODEL.md's notation."""
    layer: int | None
    """The layer m of that inequality (None: a whole-network quantity)."""
    status: str
    """'violated' or 'error' ('holds' when the claim holds at this instance)."""
    lhs: float
    rhs: float
    ratio: float
    """lhs/rhs (NaN when a side is not finite)."""
    constants: dict
    """The lemma's bound symbols at the instance (per sample values as a list when they differ)."""
    instance: dict
    """M, widths d_0..d_M, activation, loss, α, τ, micro-batch size, delays, origin."""

    @property
    def where(self) -> str:
        return NETWORK if self.layer is None else f"layer {self.layer}"

    def as_dict(self) -> dict:
        """JSON-ready (non-finite numbers become null when written by proofs_check.output)."""
        return asdict(self)

    def lines(self) -> list[str]:
        """The statement as text lines."""
        facts = self.instance
        delays = ""
        if facts.get("forward_delays") is not None:
            delays = f", delays d^f = {facts['forward_delays']}, d^b = {facts['backward_delays'] if facts.get('backward_delays') is not None else 0}"
        return [
            f"claim: {self.claim}",
            f"{'broke' if self.status != 'holds' else 'closest to breaking'}: {self.part} at {self.where}: {self.status}",
            f"  lhs = {_number(self.lhs)}, rhs = {_number(self.rhs)}, lhs/rhs = {_number(self.ratio)}",
            "  constants in the right side: " + ", ".join(f"{name} = {_number(value)}" for name, value in self.constants.items()),
            f"instance: M = {facts['M']}, widths {'-'.join(map(str, facts['widths']))}, activation {facts['activation']}, loss {facts['loss']}, "
            f"α = {_number(facts['alpha'])}, τ = {_number(facts['tau'])}, micro-batch of {facts['micro_batch']}{delays}",
        ] + ([f"origin: {facts['origin']}"] if facts.get("origin") else [])


def _number(value) -> str:
    if value is None:
        return "--"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_number(v) for v in value) + "]"
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.10g}"


def _plain(values) -> float | list:
    """A float when every entry is the same, else the list of entries."""
    array = np.asarray(values, dtype=float).ravel()
    if array.size == 0:
        return math.nan
    if np.all(array == array[0]) or (np.all(np.isnan(array))):
        return float(array[0])
    return [float(v) for v in array]


def instance_facts(instance: Instance) -> dict:
    """The structure of an instance: what a referee needs to rebuild it."""
    widths = [int(np.shape(instance.weights[0])[-1])] + [int(np.shape(w)[-2]) for w in instance.weights]
    return {
        "lemma": instance.lemma,
        "M": instance.layers,
        "widths": widths,
        "activation": instance.activation,
        "loss": instance.loss,
        "alpha": _plain(instance.alpha),
        "tau": _plain(instance.tau),
        "micro_batch": int(np.shape(instance.inputs)[-2]),
        "forward_delays": None if instance.forward_delays is None else np.asarray(instance.forward_delays).astype(int).ravel().tolist(),
        "backward_delays": None if instance.backward_delays is None else np.asarray(instance.backward_delays).astype(int).ravel().tolist(),
        "origin": instance.origin,
        "extra": instance.extra,
    }


def _at(values, index: int, entries: int) -> float | list:
    """A symbol's value at the entry that broke when it has one value per entry, else `_plain`."""
    array = np.asarray(values, dtype=float).ravel()
    if array.size == entries and entries > 1 and not np.all(array == array[0]):
        return float(array[index])
    return _plain(array)


_RANK = {"holds": 0, "violated": 1, "error": 2}


def examine(instance: Instance, claim=None, part: str | None = None) -> WitnessStatement:
    """Re-judge `claim` (default: the lemma's own bound) at the instance and state the entry
    that broke: in the part named `part` if given (the engine's record), else in the worst
    part; the first entry of the worst status (as the engine picks it), or the largest
    ratio when every entry holds."""
    from proofs_check.claims import own_claim
    from proofs_check.precision import FLOAT64

    from proofs_check.instances import finite_rows

    claim = claim if claim is not None else own_claim(instance.lemma)
    if not np.all(finite_rows(instance)):  # MODEL.md: NaN or inf is `error`, never evaluated
        return WitnessStatement(claim.name, part or "non-finite input (NaN or inf)", None, "error", math.nan, math.nan, math.nan, {}, instance_facts(instance))
    with np.errstate(all="ignore"):
        verdicts = claim.judge(instance)
        symbols = claim.lemma.evaluate(instance, FLOAT64, claim.model).symbols
    candidates = [v for v in verdicts if v.name == part] or verdicts
    best = None
    for verdict in candidates:
        statuses = verdict.status.ravel()
        if statuses.size == 0:
            continue
        rank = max(_RANK[s] for s in statuses)
        if rank:
            index = int(np.flatnonzero([_RANK[s] == rank for s in statuses])[0])
        else:
            finite = np.where(np.isfinite(verdict.ratio.ravel()), verdict.ratio.ravel(), -np.inf)
            index = int(np.argmax(finite))
        key = (rank, float(verdict.ratio.ravel()[index]) if rank == 0 else 0.0)
        if best is None or key > best[0]:
            best = (key, verdict, index)
    if claim.candidate is not None:
        names = sorted(symbol.name for symbol in claim.candidate.expression.free_symbols)
    else:
        names = list(symbols)
    facts = instance_facts(instance)
    if best is None:
        constants = {name: _plain(symbols[name]) for name in names if name in symbols}
        return WitnessStatement(claim.name, part or "", None, "error", math.nan, math.nan, math.nan, constants, facts)
    _, verdict, index = best
    constants = {name: _at(symbols[name], index, verdict.status.size) for name in names if name in symbols}
    return WitnessStatement(
        claim=claim.name,
        part=verdict.name,
        layer=verdict.layer,
        status=str(verdict.status.ravel()[index]),
        lhs=float(np.asarray(verdict.lhs, dtype=float).ravel()[index]),
        rhs=float(np.asarray(verdict.rhs, dtype=float).ravel()[index]),
        ratio=float(verdict.ratio.ravel()[index]),
        constants=constants,
        instance=facts,
    )


def arrays_lines(instance: Instance) -> list[str]:
    """The instance's numbers: weights, perturbed weights, gradient, inputs, targets, versions."""
    lines = []
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
    return lines


def describe(instance: Instance, claim=None, part: str | None = None) -> list[str]:
    """Human-readable lines: where the claim broke (`examine`), then the instance's numbers."""
    return examine(instance, claim, part).lines() + arrays_lines(instance)


def witness_bytes(instance: Instance, statement: WitnessStatement | None = None) -> bytes:
    """The witness .npz: the instance's arrays (`load_instance` reads them back bit for bit)
    and, under `statement`, the statement as JSON."""
    from proofs_check.output import json_text

    arrays = instance_arrays(instance)
    if statement is not None:
        arrays["statement"] = np.array(json_text(statement.as_dict()))
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def saved_statement(path) -> dict | None:
    """The statement saved in a witness .npz (None for a file written without one)."""
    with np.load(path, allow_pickle=False) as archive:
        return json.loads(str(archive["statement"])) if "statement" in archive.files else None


# ----------------------------------------------------------------------------- loading

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
        if key not in (*_TEXT_KEYS, "origin", "extra", "statement", "device") and value.dtype.kind not in "biuf":
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

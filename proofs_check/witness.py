"""Presenting and re-checking a witness (an instance at which a claim fails), for a referee.

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

import numpy as np

from proofs_check.instances import Instance, instance_arrays

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

    claim = claim if claim is not None else own_claim(instance.lemma)
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

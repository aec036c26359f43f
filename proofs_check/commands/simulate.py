"""One training run of a schedule with a device; writes DIR/trace.npz and DIR/summary.json.

Without --data/--init a seeded teacher–student task is generated (numerics.data).
`--device` is any kind of the registry numerics.devices.DEVICE_KINDS; its settings come from
the device flags (proofs_check.arguments.DEVICE_FLAGS: --tau, --exponent, --up, --down,
--dw-min, --c2c, --d2d, --max-pulses), and a flag the chosen device does not take is exit 2.
`--sampling cyclic` (default) gives micro-batch j the rows [j·b, (j+1)·b) modulo N in order;
`--sampling iid` draws each micro-batch's b rows uniformly with replacement, from the seed's
"sampling" stream with key j // 1024, one draw per block of 1,024 micro-batches
(numerics.data.IIDSampling).

`--replicas R` runs R independent replicas at once (numerics.replicas): replica r uses seed
`--seed` + r for its generated data, its generated initial weights, its gradient noise and
its i.i.d. rows, so it is bit-identical to the single run with that seed. A file given with
--data or --init is shared by every replica (with both, replicas differ only by their noise
and sampling seed).
With R > 1 the trace arrays gain a leading replica axis (W1_final [R, d1, d0], loss
[R, updates]; fwd_version and bwd_version stay [updates, M], the schedule being shared),
and summary.json's final_loss and max_abs_weight become lists of R values, with
"replicas": R and "seeds": [...] added.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from pathlib import Path

import numpy as np

from numerics.activations import ACTIVATIONS
from numerics.data import SAMPLING_NAMES, initial_weights, sampling_by_name, teacher_student
from numerics.devices import Device, PulseCountError, initial_bound
from numerics.losses import LOSSES
from numerics.schedules import schedule_named
from numerics.replicas import broadcast_replicas, replica_seeds, seeded_initial_weights, seeded_teacher_student, train_replicas
from numerics.replicas import mean_loss as replica_mean_loss
from numerics.training import TrainingResult, TrainingSettings, train
from proofs_check.arguments import (
    add_device_arguments, add_schedule_argument, check_schedule_shape, device_from_arguments, nonnegative_float, nonnegative_int, output_path, positive_finite_float, positive_int, positive_int_list,
)
from proofs_check.errors import UsageError
from proofs_check.inputs import load_dataset, load_initial_weights
from proofs_check.limits import check_simulation
from proofs_check.output import print_json, print_table, progress_bar, write_json, write_npz

DEFAULT_DIMS = [6, 8, 8, 3]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_schedule_argument(parser, required=True)
    add_device_arguments(parser)
    parser.add_argument("--lr", required=True, type=positive_finite_float, help="step size α > 0")
    parser.add_argument("--updates", required=True, type=positive_int, help="K, updates per layer")
    parser.add_argument("--dims", type=positive_int_list, help=f"d0,d1,...,dM (default {','.join(map(str, DEFAULT_DIMS))}, or from --init)")
    parser.add_argument("--activation", choices=tuple(ACTIVATIONS), default="tanh")
    parser.add_argument("--loss", choices=tuple(LOSSES), default="squared")
    parser.add_argument("--micro-batch-size", type=positive_int, default=4, help="b, samples per micro-batch (default 4)")
    parser.add_argument("--mini-batch", type=positive_int, default=4, help="B, micro-batches per update: a mini-batch (single, wop, sp, 1f1b) or a 2bw group (needs B >= M); ap and pipedream use 1 (default 4)")
    parser.add_argument("--data", type=Path, help=".npz with x [N, d0] and y [N, dM] (cross-entropy: int labels [N])")
    parser.add_argument("--init", type=Path, help=".npz with W1..WM (default: N(0, 1/d_{m-1}) entries, clipped to ±τ/2 for a bounded device)")
    parser.add_argument("--samples", type=positive_int, default=256, help="N for the generated teacher–student task (default 256)")
    parser.add_argument("--noise", type=nonnegative_float, default=0.0, help="σ: add N(0, σ²) to every micro-batch gradient entry")
    parser.add_argument(
        "--sampling", choices=SAMPLING_NAMES, default="cyclic",
        help="cyclic (default): micro-batch j takes rows [j·b, (j+1)·b) mod N in order; iid: b rows drawn with replacement (seeded)",
    )
    parser.add_argument("--seed", type=nonnegative_int, default=0)
    parser.add_argument(
        "--replicas", type=positive_int, default=1,
        help="R >= 1 independent replicas in one batched run; replica r uses seed --seed + r (default 1)",
    )
    parser.add_argument("--out", type=output_path, default=Path("results"), help="output directory (default results)")
    parser.add_argument("--json", action="store_true", help="print summary.json to stdout")


def summarise(arguments: argparse.Namespace, device: Device, dims: list[int], result: TrainingResult, final_loss: float | list[float]) -> dict:
    """The CONTRACT.md summary.json object (plus the run's remaining settings, the device's
    among them); with replicas, final_loss and max_abs_weight are lists (one value per replica)."""
    record = result.record
    batched = getattr(arguments, "replicas", 1) > 1
    summary = {
        "schedule": arguments.schedule,
        "device": device.name,
        "tau": device.tau if math.isfinite(device.tau) else None,
        "device_settings": {key: (value if not (isinstance(value, float) and math.isinf(value)) else None) for key, value in dataclasses.asdict(device).items()},
        "lr": arguments.lr,
        "updates": arguments.updates,
        "dims": dims,
        "slots": record.slots,
        "density": record.density,
        "final_loss": final_loss,
        "max_abs_weight": [float(v) for v in result.max_abs_weight] if batched else float(result.max_abs_weight),
        "fwd_delay_max": record.largest_forward_delay,
        "bwd_delay_max": record.largest_backward_delay,
        "activation": arguments.activation,
        "loss": arguments.loss,
        "micro_batch_size": arguments.micro_batch_size,
        "mini_batch": record.mini_batch,
        "micro_batches": record.micro_batches,
        "noise": arguments.noise,
        "sampling": getattr(arguments, "sampling", "cyclic"),
        "seed": arguments.seed,
    }
    if batched:
        summary["replicas"] = arguments.replicas
        summary["seeds"] = list(replica_seeds(arguments.seed, arguments.replicas))
    return summary


def run(arguments: argparse.Namespace) -> int:
    device = device_from_arguments(arguments)
    activation, loss = ACTIVATIONS[arguments.activation], LOSSES[arguments.loss]
    if arguments.out.exists() and not arguments.out.is_dir():
        raise UsageError(f"--out: {arguments.out} exists and is not a directory")
    replicas = arguments.replicas
    if arguments.init is not None:
        initial = load_initial_weights(arguments.init, arguments.dims)
        dims = [initial[0].shape[1]] + [w.shape[0] for w in initial]
    else:
        dims = arguments.dims or DEFAULT_DIMS
        if len(dims) < 2:
            raise UsageError(f"--dims needs at least two entries d0,d1, got {','.join(map(str, dims))}")
        initial = None
    if loss.integer_targets and dims[-1] < 2:
        raise UsageError(f"--dims: --loss {loss.name} needs dM >= 2 classes, got {dims[-1]}")
    check_schedule_shape(arguments.schedule, len(dims) - 1, arguments.updates * arguments.mini_batch, arguments.mini_batch)
    per_update = schedule_named(arguments.schedule).micro_batches_per_update(arguments.mini_batch)
    check_simulation(
        dims, replicas, 0 if arguments.data is not None else arguments.samples, arguments.micro_batch_size,
        arguments.updates * per_update, per_update, arguments.updates, arguments.schedule,
    )
    seeds = replica_seeds(arguments.seed, replicas)
    if initial is not None and math.isfinite(device.tau):
        largest = max(float(np.max(np.abs(w))) for w in initial)
        if largest > device.tau:
            raise UsageError(f"--init: entries must satisfy |w| <= --tau {device.tau} for the {device.name} device, largest is {largest:g}")
    data = load_dataset(arguments.data, dims, loss) if arguments.data is not None else None
    try:
        initial, data = _replica_inputs(arguments, dims, seeds, activation, loss, initial, data, device)
    except MemoryError:
        raise UsageError(f"--replicas: {replicas} replicas of dims {','.join(map(str, dims))} do not fit in memory") from None

    settings = TrainingSettings(
        schedule=arguments.schedule,
        device=device,
        learning_rate=arguments.lr,
        updates=arguments.updates,
        activation=activation,
        loss=loss,
        micro_batch_size=arguments.micro_batch_size,
        mini_batch=arguments.mini_batch,
        noise=arguments.noise,
        seeds=seeds,
        sampling=sampling_by_name(arguments.sampling),
    )
    with np.errstate(over="ignore", invalid="ignore"):
        try:
            if replicas == 1:
                result = train(initial, data, settings, progress=progress_bar(f"simulate {arguments.schedule}"))
            else:
                result = train_replicas(initial, data, settings, progress=progress_bar(f"simulate {arguments.schedule} ×{replicas}"))
        except PulseCountError as error:
            raise UsageError(f"--max-pulses: {error} (--lr {arguments.lr}, --dw-min {device.dw_min})") from None
        losses = replica_mean_loss(result.final_weights, data, activation, loss)
    final_loss = [float(value) for value in losses] if replicas > 1 else float(losses)
    summary = summarise(arguments, device, dims, result, final_loss)
    trace = {f"W{m}_final": w for m, w in enumerate(result.final_weights, start=1)}
    trace.update(loss=result.reference_loss, fwd_version=result.forward_versions, bwd_version=result.backward_versions)
    try:
        write_npz(arguments.out / "trace.npz", trace)
        write_json(arguments.out / "summary.json", summary)
    except OSError as error:
        raise UsageError(f"--out: cannot write to {arguments.out} ({error.strerror or error})") from None
    if arguments.json:
        print_json(summary)
    else:
        runs = f", {replicas} replicas (seeds {seeds[0]}..{seeds[-1]})" if replicas > 1 else ""
        keys = ("slots", "density", "final_loss", "max_abs_weight", "fwd_delay_max", "bwd_delay_max")
        print_table(
            ["quantity", "value"], [(key, _shown(summary[key])) for key in keys],
            title=f"simulate {arguments.schedule} with {arguments.device}: dims {dims}, {arguments.updates} updates{runs}",
        )
        if not all(math.isfinite(value) for value in np.ravel(final_loss)):
            print("warning: the run diverged (non-finite loss); lower --lr")
        print(f"wrote {arguments.out / 'trace.npz'} and {arguments.out / 'summary.json'}")
    return 0


def _replica_inputs(arguments, dims, seeds, activation, loss, initial, data, device) -> tuple:
    """Initial weights and data of the run: a file is shared by every replica; what is
    generated comes from each replica's seed (unbatched and exactly as before for R = 1)."""
    replicas = len(seeds)
    bound = initial_bound(device)  # generated weights start inside the device's box: |w| <= τ/2
    if initial is None:
        initial = initial_weights(dims, seeds[0], bound=bound) if replicas == 1 else seeded_initial_weights(dims, seeds, bound=bound)
    elif replicas > 1:
        initial = broadcast_replicas(initial, replicas)
    if data is None:
        if replicas == 1:
            data = teacher_student(dims, arguments.samples, seeds[0], activation, loss)
        else:
            data = seeded_teacher_student(dims, arguments.samples, seeds, activation, loss)
    return initial, data


def _shown(value):
    """A summary value for the table; long per-replica lists as their range."""
    if isinstance(value, list) and len(value) > 8 and all(isinstance(v, float) for v in value):
        finite = [v for v in value if math.isfinite(v)]
        span = f"min {min(finite)}, max {max(finite)}" if finite else "no finite value"
        return f"[{len(value)} replicas: {span}]"
    return value

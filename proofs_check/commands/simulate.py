"""One training run of a schedule with a device; writes DIR/trace.npz and DIR/summary.json.

Without --data/--init a seeded teacher–student task is generated (numerics.data).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

from numerics import network
from numerics.activations import ACTIVATIONS
from numerics.data import initial_weights, teacher_student
from numerics.devices import DEVICE_NAMES, make_device
from numerics.losses import LOSSES
from numerics.schedules import SCHEDULE_NAMES
from numerics.training import TrainingResult, TrainingSettings, train
from proofs_check.arguments import nonnegative_float, nonnegative_int, positive_float, positive_finite_float, positive_int, positive_int_list
from proofs_check.errors import UsageError
from proofs_check.inputs import load_dataset, load_initial_weights
from proofs_check.output import print_json, progress_bar, write_json, write_npz

DEFAULT_DIMS = [6, 8, 8, 3]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--schedule", required=True, choices=SCHEDULE_NAMES)
    parser.add_argument("--device", required=True, choices=DEVICE_NAMES)
    parser.add_argument("--tau", type=positive_float, default=1.0, help="ALD conductance bound τ > 0 (default 1; ignored by digital)")
    parser.add_argument("--lr", required=True, type=positive_finite_float, help="step size α > 0")
    parser.add_argument("--updates", required=True, type=positive_int, help="K, updates per layer")
    parser.add_argument("--dims", type=positive_int_list, help=f"d0,d1,...,dM (default {','.join(map(str, DEFAULT_DIMS))}, or from --init)")
    parser.add_argument("--activation", choices=tuple(ACTIVATIONS), default="tanh")
    parser.add_argument("--loss", choices=tuple(LOSSES), default="squared")
    parser.add_argument("--micro-batch-size", type=positive_int, default=4, help="b, samples per micro-batch (default 4)")
    parser.add_argument("--mini-batch", type=positive_int, default=4, help="B, micro-batches per update for single/wop/sp (default 4; AP uses 1)")
    parser.add_argument("--data", type=Path, help=".npz with x [N, d0] and y [N, dM] (cross-entropy: int labels [N])")
    parser.add_argument("--init", type=Path, help=".npz with W1..WM (default: N(0, 1/d_{m-1}) entries, clipped to ±τ/2 for ald)")
    parser.add_argument("--samples", type=positive_int, default=256, help="N for the generated teacher–student task (default 256)")
    parser.add_argument("--noise", type=nonnegative_float, default=0.0, help="σ: add N(0, σ²) to every micro-batch gradient entry")
    parser.add_argument("--seed", type=nonnegative_int, default=0)
    parser.add_argument("--out", type=Path, default=Path("results"), help="output directory (default results)")
    parser.add_argument("--json", action="store_true", help="print summary.json to stdout")


def summarise(arguments: argparse.Namespace, dims: list[int], result: TrainingResult, final_loss: float) -> dict:
    """The CONTRACT.md summary.json object (plus the run's remaining settings)."""
    record = result.record
    return {
        "schedule": arguments.schedule,
        "device": arguments.device,
        "tau": arguments.tau if arguments.device == "ald" else None,
        "lr": arguments.lr,
        "updates": arguments.updates,
        "dims": dims,
        "slots": record.slots,
        "density": record.density,
        "final_loss": final_loss,
        "max_abs_weight": float(result.max_abs_weight),
        "fwd_delay_max": record.largest_forward_delay,
        "bwd_delay_max": record.largest_backward_delay,
        "activation": arguments.activation,
        "loss": arguments.loss,
        "micro_batch_size": arguments.micro_batch_size,
        "mini_batch": record.mini_batch,
        "micro_batches": record.micro_batches,
        "noise": arguments.noise,
        "seed": arguments.seed,
    }


def run(arguments: argparse.Namespace) -> int:
    activation, loss = ACTIVATIONS[arguments.activation], LOSSES[arguments.loss]
    if arguments.out.exists() and not arguments.out.is_dir():
        raise UsageError(f"--out: {arguments.out} exists and is not a directory")
    if arguments.init is not None:
        initial = load_initial_weights(arguments.init, arguments.dims)
        dims = [initial[0].shape[1]] + [w.shape[0] for w in initial]
    else:
        dims = arguments.dims or DEFAULT_DIMS
        if len(dims) < 2:
            raise UsageError(f"--dims needs at least two entries d0,d1, got {','.join(map(str, dims))}")
        # Generated weights of an ALD run start inside its box, with room to move: |w| <= τ/2.
        initial = initial_weights(dims, arguments.seed, bound=arguments.tau / 2 if arguments.device == "ald" else None)
    if loss.integer_targets and dims[-1] < 2:
        raise UsageError(f"--dims: --loss {loss.name} needs dM >= 2 classes, got {dims[-1]}")
    if arguments.device == "ald":
        largest = max(float(np.max(np.abs(w))) for w in initial)
        if largest > arguments.tau:
            raise UsageError(f"--init: entries must satisfy |w| <= --tau {arguments.tau} for the ald device, largest is {largest:g}")
    if arguments.data is not None:
        data = load_dataset(arguments.data, dims, loss)
    else:
        data = teacher_student(dims, arguments.samples, arguments.seed, activation, loss)

    settings = TrainingSettings(
        schedule=arguments.schedule,
        device=make_device(arguments.device, arguments.tau),
        learning_rate=arguments.lr,
        updates=arguments.updates,
        activation=activation,
        loss=loss,
        micro_batch_size=arguments.micro_batch_size,
        mini_batch=arguments.mini_batch,
        noise=arguments.noise,
        seeds=(arguments.seed,),
    )
    with np.errstate(over="ignore", invalid="ignore"):
        result = train(initial, data, settings, progress=progress_bar(f"simulate {arguments.schedule}"))
        final_loss = float(network.mean_loss(result.final_weights, data.inputs, data.targets, activation, loss))
    summary = summarise(arguments, dims, result, final_loss)
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
        print(f"simulate {arguments.schedule} with {arguments.device}: dims {dims}, {arguments.updates} updates")
        for key in ("slots", "density", "final_loss", "max_abs_weight", "fwd_delay_max", "bwd_delay_max"):
            print(f"  {key:<16}{summary[key]}")
        if not math.isfinite(final_loss):
            print("  warning: the run diverged (non-finite loss); lower --lr")
        print(f"  wrote {arguments.out / 'trace.npz'} and {arguments.out / 'summary.json'}")
    return 0

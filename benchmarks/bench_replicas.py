"""Benchmark: many replicas per call (issue 6). Prints ONE JSON object on stdout.

    python benchmarks/bench_replicas.py [--updates K] [--micro-batch-size b] [--repeats n]

Workload: the seeded teacher–student task on dims 32-64-64-10 (tanh, squared loss, N = 256
samples per replica), AP schedule, ALD device with τ = 2 (initial weights clipped to ±τ/2 as
`simulate` does), α = 0.05, no gradient noise, b = 8 samples per micro-batch, K = 100
updates. Replica r uses seed r for its data, initial weights and noise stream.

Measured in this one process, each with `time.perf_counter`, one warm-up call, then the best
of n repeats (n = 5, 3 for the 256-replica runs):

- updates per second (and replica-updates per second) for R = 1 (the unbatched path, 2-D
  arrays), R = 16 (one batched `train` call) and R = 256 (`train_replicas`: chunks of 32
  replicas on one thread per usable CPU; also on a single thread, for comparison);
- the cost of sequential single runs: 16 unbatched runs (seeds 0..15) one after another;
  the cost of 256 sequential runs is taken as 256/16 times that (every run costs the same),
  so per replica-update it is the sample's time / (16·K);
- the speed-up of R = 256 batched over sequential single runs, per replica-update;
- this machine's float64 matmul peak: a 2048×2048 by 2048×2048 product (2·2048³ flops),
  using every BLAS thread, best of n;
- the fraction of that peak the batched run reaches, counting only the network's matmuls.

Flop count per replica-update (AP: one micro-batch of b samples per update; layer m has
d_m × d_{m-1} weights, P = Σ_{m=1..M} d_m d_{m-1}, P_≥2 = Σ_{m=2..M} d_m d_{m-1}):

    forward  F(k) at every stage:          2·b·P      (z_m = W_m a_{m-1})
    gradient at every stage:               2·b·P      (δ_m a_{m-1}^T, summed over the b samples)
    backward at stages 2..M:               2·b·P_≥2   (W_m^T δ_m; stage 1 passes nothing down)
    reference loss f(W^{(k)}; ξ_k):        2·b·P      (a forward pass at the reference point)
    total                                  2·b·(3P + P_≥2)

For 32-64-64-10 and b = 8: P = 6784, P_≥2 = 4736, total 401,408 flops. Elementwise work
(activations, the device update, max-abs tracking) is not counted.

`speedup_if_batched_matmuls_ran_at_peak` is the sequential cost per replica-update divided by
the time these flops take at the measured peak: no batched run that keeps the matmuls can be
faster than that. The batched results are also checked against the sequential sample
(bit-identical final weights, reference losses and max_abs_weight); no timing is asserted.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from numerics.activations import TANH  # noqa: E402
from numerics.data import Dataset  # noqa: E402
from numerics.devices import AsymmetricLinearDevice  # noqa: E402
from numerics.losses import SQUARED  # noqa: E402
from numerics.replicas import DEFAULT_CHUNK, replica_seeds, seeded_initial_weights, seeded_teacher_student, train_replicas, usable_cpus  # noqa: E402
from numerics.training import TrainingSettings, train  # noqa: E402

DIMS = (32, 64, 64, 10)
SAMPLES = 256
TAU = 2.0
LEARNING_RATE = 0.05
SEQUENTIAL_SAMPLE = 16
PEAK_SIZE = 2048


def best_time(function, repeats: int) -> float:
    """One warm-up call, then the best of `repeats` timed calls (seconds)."""
    function()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def flops_per_replica_update(dims, micro_batch_size: int) -> dict:
    weights = [dims[m + 1] * dims[m] for m in range(len(dims) - 1)]
    total, below = sum(weights), sum(weights[1:])
    parts = {
        "forward": 2 * micro_batch_size * total,
        "gradient": 2 * micro_batch_size * total,
        "backward": 2 * micro_batch_size * below,
        "reference_loss": 2 * micro_batch_size * total,
    }
    parts["total"] = sum(parts.values())
    return parts


def matmul_peak(repeats: int) -> float:
    """float64 GFLOP/s of a large square matmul (all BLAS threads)."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((PEAK_SIZE, PEAK_SIZE)), rng.standard_normal((PEAK_SIZE, PEAK_SIZE))
    seconds = best_time(lambda: a @ b, repeats)
    return 2 * PEAK_SIZE**3 / seconds / 1e9


def same_runs(batched, singles) -> bool:
    for r, single in enumerate(singles):
        if not all(np.array_equal(w[r], s) for w, s in zip(batched.final_weights, single.final_weights)):
            return False
        if not (np.array_equal(batched.reference_loss[r], single.reference_loss) and np.array_equal(batched.max_abs_weight[r], single.max_abs_weight)):
            return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=100, help="K, updates per run (default 100)")
    parser.add_argument("--micro-batch-size", type=int, default=8, help="b (default 8)")
    parser.add_argument("--repeats", type=int, default=5, help="best of n (default 5; 3 for R = 256)")
    arguments = parser.parse_args()
    updates, b, repeats = arguments.updates, arguments.micro_batch_size, arguments.repeats
    big_repeats = max(1, min(repeats, 3))
    load_at_start = os.getloadavg()[0]  # other processes competing for the CPUs skew the threaded run

    seeds = replica_seeds(0, 256)
    initial = seeded_initial_weights(DIMS, seeds, bound=TAU / 2)
    data = seeded_teacher_student(DIMS, SAMPLES, seeds, TANH, SQUARED)
    settings = TrainingSettings(
        schedule="ap", device=AsymmetricLinearDevice(tau=TAU), learning_rate=LEARNING_RATE, updates=updates,
        activation=TANH, loss=SQUARED, micro_batch_size=b, noise=0.0, seeds=seeds,
    )

    def single(r: int):
        return train([w[r] for w in initial], Dataset(data.inputs[r], data.targets[r]), dataclasses.replace(settings, seeds=(seeds[r],)))

    def stack(replicas: int):
        return [w[:replicas] for w in initial], Dataset(data.inputs[:replicas], data.targets[:replicas]), dataclasses.replace(settings, seeds=seeds[:replicas])

    workers = usable_cpus()
    runs = []

    def record(replicas: int, seconds: float, **how) -> float:
        per_replica_update = seconds / (replicas * updates)
        runs.append({
            "replicas": replicas,
            "seconds": seconds,
            "updates_per_second": updates / seconds,
            "replica_updates_per_second": replicas * updates / seconds,
            "microseconds_per_replica_update": per_replica_update * 1e6,
            **how,
        })
        return per_replica_update

    record(1, best_time(lambda: single(0), repeats), call="train on 2-D arrays (the unbatched path)")
    weights16, data16, settings16 = stack(16)
    record(16, best_time(lambda: train(weights16, data16, settings16), repeats), call="train on [16, d_m, d_{m-1}] (one batched call)")
    weights256, data256, settings256 = stack(256)
    batched_result = None

    def batched(threads: int):
        nonlocal batched_result
        batched_result = train_replicas(weights256, data256, settings256, workers=threads, chunk=DEFAULT_CHUNK)

    serial_cost = record(256, best_time(lambda: batched(1), big_repeats), call=f"train_replicas, chunks of {DEFAULT_CHUNK}, 1 thread")
    batched_cost = record(256, best_time(lambda: batched(workers), big_repeats), call=f"train_replicas, chunks of {DEFAULT_CHUNK}, {workers} threads")

    singles = []

    def sequential():
        singles.clear()
        singles.extend(single(r) for r in range(SEQUENTIAL_SAMPLE))

    sequential_seconds = best_time(sequential, big_repeats)
    sequential_cost = sequential_seconds / (SEQUENTIAL_SAMPLE * updates)

    flops = flops_per_replica_update(DIMS, b)
    peak = matmul_peak(repeats)
    batched_gflops = flops["total"] / batched_cost / 1e9
    speedup = sequential_cost / batched_cost
    report = {
        "benchmark": "replicas",
        "workload": {
            "dims": list(DIMS), "schedule": "ap", "device": "ald", "tau": TAU, "lr": LEARNING_RATE,
            "activation": "tanh", "loss": "squared", "micro_batch_size": b, "updates": updates,
            "samples_per_replica": SAMPLES, "noise": 0.0, "seeds": "replica r uses seed r",
        },
        "timing": {"clock": "time.perf_counter", "warmup_calls": 1, "statistic": "best of n", "repeats": repeats, "repeats_R256_and_sequential": big_repeats},
        "machine": {
            "usable_cpus": workers, "python": platform.python_version(), "numpy": np.__version__,
            "processor": platform.processor() or platform.machine(),
            "load_average_1min": {"at_start": load_at_start, "at_end": os.getloadavg()[0]},
        },
        "runs": runs,
        "sequential_single_runs": {
            "sample_runs": SEQUENTIAL_SAMPLE,
            "how": f"{SEQUENTIAL_SAMPLE} unbatched runs (seeds 0..{SEQUENTIAL_SAMPLE - 1}) one after another; 256 sequential runs cost 256/{SEQUENTIAL_SAMPLE} times as much",
            "seconds_for_sample": sequential_seconds,
            "microseconds_per_replica_update": sequential_cost * 1e6,
            "estimated_seconds_for_256_runs": sequential_cost * 256 * updates,
        },
        "speedup_R256_over_sequential": speedup,
        "speedup_R256_single_thread_over_sequential": sequential_cost / serial_cost,
        "batched_bit_identical_to_sequential_sample": same_runs(batched_result, singles),
        "flops_per_replica_update": flops,
        "flop_formula": "2*b*(3*P + P_ge2), P = sum_m d_m*d_{m-1}, P_ge2 = sum_{m>=2} d_m*d_{m-1}: forward, gradient, backward (stages 2..M), reference-loss forward",
        "matmul_peak": {"size": PEAK_SIZE, "gflops": peak, "how": f"{PEAK_SIZE}x{PEAK_SIZE} @ {PEAK_SIZE}x{PEAK_SIZE} float64, 2n^3 flops, best of {repeats}"},
        "batched_R256_gflops": batched_gflops,
        "batched_R256_fraction_of_peak": batched_gflops / peak,
        "single_run_gflops": flops["total"] / (runs[0]["microseconds_per_replica_update"] * 1e-6) / 1e9,
        # An upper bound: even if the batched run did nothing but its matmuls, at the peak rate.
        "speedup_if_batched_matmuls_ran_at_peak": sequential_cost / (flops["total"] / (peak * 1e9)),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

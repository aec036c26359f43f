"""Benchmark: the main job and the Figure 4 experiment (issue 12). Prints ONE JSON object on stdout.

    python benchmarks/bench_main.py [--repeats n] [--skip-replicas]

Times, each command in a fresh process (`python -m proofs_check ...`, output to a temporary
directory), n times (default 3), and reports the median wall time and the median CPU time
(user + sys of the child, from `resource.getrusage(RUSAGE_CHILDREN)`):

- `run --quick`, `run`, `experiment figure4 --quick`;

beside the issue's targets (2-core machine, the other core idle: ≤ 8 s, ≤ 25 s, ≤ 20 s) and
the numbers measured before it (21–23 s, 77 s, 58–81 s). Then it runs
`benchmarks/bench_replicas.py` and reports its replica throughput (replica-updates per
second of the R = 256 runs) and the fraction of this machine's float64 matmul peak they
reach (the peak from a large numpy matmul, measured by that script). The machine's load
average is recorded: other processes competing for the CPUs inflate the wall times, not the
CPU times. No number here is asserted anywhere.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

COMMANDS = {
    "run --quick": ["run", "--quick"],
    "run": ["run"],
    "experiment figure4 --quick": ["experiment", "figure4", "--quick"],
}
"""The timed commands (each also gets --out into a fresh temporary directory)."""
TARGET_SECONDS = {"run --quick": 8.0, "run": 25.0, "experiment figure4 --quick": 20.0}
"""The issue's wall-time targets on a 2-core machine with the other core idle."""
BEFORE_SECONDS = {"run --quick": [21.0, 23.0], "run": [77.0, 77.0], "experiment figure4 --quick": [58.0, 81.0]}
"""Wall times (range) measured before issue 12, as a new user ran them on a 2-core machine."""
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
"""Not passed to bench_replicas.py: its matmul peak and threaded runs use every BLAS thread."""


def _environment() -> dict:
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), environment.get("PYTHONPATH", "")]))
    return environment


def time_command(arguments: list[str]) -> dict:
    """Wall and CPU seconds of one run of `python -m proofs_check ARGUMENTS --out TMP`."""
    with tempfile.TemporaryDirectory() as directory:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        completed = subprocess.run(
            [sys.executable, "-m", "proofs_check", *arguments, "--out", str(Path(directory) / "out")],
            cwd=directory, env=_environment(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(arguments)} failed with exit {completed.returncode}: {completed.stderr.strip()[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_seconds": wall, "cpu_seconds": cpu, "exit_code": completed.returncode}


def replica_throughput() -> dict:
    """bench_replicas.py's R = 256 replica-updates per second and fraction of the matmul peak."""
    environment = {key: value for key, value in _environment().items() if key not in BLAS_THREAD_VARIABLES}  # the peak uses every BLAS thread
    completed = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_replicas.py")], env=environment, capture_output=True, text=True, check=True)
    report = json.loads(completed.stdout)
    runs = {run["call"]: run for run in report["runs"] if run["replicas"] == 256}
    best = max(runs.values(), key=lambda run: run["replica_updates_per_second"])
    return {
        "workload": report["workload"],
        "replica_updates_per_second": {call: run["replica_updates_per_second"] for call, run in runs.items()},
        "best_replica_updates_per_second": best["replica_updates_per_second"],
        "matmul_peak_gflops": report["matmul_peak"]["gflops"],
        "matmul_peak_how": report["matmul_peak"]["how"],
        "fraction_of_matmul_peak": report["batched_R256_fraction_of_peak"],
        "gflops": report["batched_R256_gflops"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per command; the median is reported (default 3)")
    parser.add_argument("--skip-replicas", action="store_true", help="do not run bench_replicas.py")
    arguments = parser.parse_args()
    if arguments.repeats < 1:
        parser.error(f"--repeats must be >= 1, got {arguments.repeats}")
    load_at_start = os.getloadavg()[0]
    commands = {}
    for name, command in COMMANDS.items():
        samples = [time_command(command) for _ in range(arguments.repeats)]
        wall = statistics.median(sample["wall_seconds"] for sample in samples)
        commands[name] = {
            "median_wall_seconds": round(wall, 2),
            "median_cpu_seconds": round(statistics.median(sample["cpu_seconds"] for sample in samples), 2),
            "wall_seconds": [round(sample["wall_seconds"], 2) for sample in samples],
            "cpu_seconds": [round(sample["cpu_seconds"], 2) for sample in samples],
            "target_wall_seconds": TARGET_SECONDS[name],
            "target_met": wall <= TARGET_SECONDS[name],
            "before_wall_seconds": BEFORE_SECONDS[name],
            "speed_up_over_before": round(statistics.mean(BEFORE_SECONDS[name]) / wall, 2),
        }
    report = {
        "benchmark": "main",
        "commands": commands,
        "timing": {"clock": "time.perf_counter (wall), getrusage of the child (user + sys)", "statistic": f"median of {arguments.repeats}", "process": "a fresh `python -m proofs_check` per run (imports included)"},
        "machine": {
            "cpus": os.cpu_count(), "python": platform.python_version(), "processor": platform.processor() or platform.machine(),
            "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
            "load_average_1min": {"at_start": load_at_start, "at_end": os.getloadavg()[0]},
        },
        "replicas": None if arguments.skip_replicas else replica_throughput(),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

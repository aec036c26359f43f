"""Laptop-scale reproductions of the paper's experiments: `experiment figure4`, `experiment rates` and `experiment devices`.

figure4: digits MLPs (M = 1..8) trained with digital SGD and ALD analog SGD on the single
device, WOP, SP and AP; test accuracy vs epoch and vs slots, speed-up vs M (throughput and
time to accuracy). Writes DIR/figure4.png (and .pdf), DIR/figure4.json, DIR/figure4_accuracy.tex,
DIR/figure4_speed_up.tex, DIR/figure4_gaps.tex, DIR/figure4_schedules.tex (every schedule of
the registry, 1F1B, PipeDream and 2BW included: throughput, time to accuracy, peak memory).

rates: (1/K) Σ ||∇f(W^{(k)})||² vs K for SP and AP beside the theorem's right side, and the
asymptotic floor vs τ and σ beside 4σ²W_max²/(β²τ²). Writes DIR/rates.png (and .pdf), DIR/rates.json,
DIR/rates_rate.tex, DIR/rates_floor.tex, DIR/rates_slopes.tex.

devices: the digits MLP with AP and SP on digital SGD, ALD, softbounds (p = 2, γ₊ ≠ γ₋) and the
pulsed device (several dw_min, c2c, d2d): final accuracy and the measured floor (plateau of
||∇f||², its excess over digital SGD) beside 4 G_max² σ²/(B β²). Writes DIR/devices.png,
DIR/devices.pdf, DIR/devices.json, DIR/devices.tex.

Exit 0 when every checked claim holds (figure4: throughput speed-ups within 5% of the
closed forms, identical iterates for single, WOP, SP and 1F1B, peak in-flight micro-batches and
weight versions equal to the closed forms; rates: every measured value
below the theorem's right side, every hypothesis met; devices: every measurement finite and no
row whose hypotheses hold above the bound), 1 otherwise, 2 on bad input.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from proofs_check.arguments import nonnegative_int, output_path
from proofs_check.atomic import atomic_directory, check_output_directory
from proofs_check.errors import UsageError
from proofs_check.executor import add_scheduler_argument, command_executor
from proofs_check.output import Column, print_json, print_table, progress_bar, write_figure_formats, write_json, write_text
from proofs_check.provenance import command_line, provenance

DEFAULT_OUT = Path("results/experiments")
MAX_SEEDS = 64


def add_arguments(parser: argparse.ArgumentParser) -> None:
    experiments = parser.add_subparsers(dest="experiment", required=True, metavar="{figure4,rates,devices}")
    figure4 = experiments.add_parser(
        "figure4",
        help="the paper's Figure 4 on digits MLPs: accuracy vs epoch and slots, speed-up vs stages",
        description="Digits MLPs (M = 1..8), digital SGD and ALD, single/WOP/SP/AP, several seeds as replicas.",
    )
    figure4.add_argument("--quick", action="store_true", help="3 seeds, 5 epochs (under a minute)")
    figure4.add_argument("--seeds", type=int, default=None, help=f"seeds per configuration, 1..{MAX_SEEDS} (default 8; 3 with --quick)")
    _common(figure4)
    rates = experiments.add_parser(
        "rates",
        help="average squared gradient norm vs K beside the theorem; the asymptotic floor vs tau and sigma",
        description="Rate in K for SP and AP beside MODEL.md's right side; ALD floor vs τ and σ beside 4σ²W_max²/(β²τ²).",
    )
    rates.add_argument("--quick", action="store_true", help="shorter sweeps (under a minute)")
    _common(rates)
    devices = experiments.add_parser(
        "devices",
        help="digits MLP on digital, ALD, softbounds and pulsed devices: accuracy and measured floor beside 4 G_max^2 sigma^2/(B beta^2)",
        description="AP and SP on every device kind of MODEL.md §2; the measured floor beside the theorem's floor and whole right side.",
    )
    devices.add_argument("--quick", action="store_true", help="2 seeds, 2 epochs, four devices (seconds)")
    devices.add_argument("--seeds", type=int, default=None, help=f"seeds per configuration, 2..{MAX_SEEDS} (default 8; 2 with --quick)")
    _common(devices)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=output_path, default=DEFAULT_OUT, help=f"output directory (default {DEFAULT_OUT})")
    parser.add_argument("--seed", type=nonnegative_int, default=0, help="seed of the data split / task and first replica seed (default 0)")
    parser.add_argument("--json", action="store_true", help="print the JSON summary to stdout instead of the table")
    add_scheduler_argument(parser)


def _write(out: Path, files: dict) -> None:
    """Write the experiment's files into a new directory that replaces their set in `out`
    as a whole (proofs_check.atomic); the other experiment's files in `out` stay."""
    with atomic_directory(out, tuple(files)) as staging:
        for name, value in files.items():
            path = staging / name
            if name.endswith(".png"):
                write_figure_formats(path.with_suffix(""), value)
            elif name.endswith(".json"):
                write_json(path, value)
            else:
                write_text(path, value)


def _report(arguments: argparse.Namespace, summary: dict, failed: list[str], print_summary) -> int:
    """Print the summary (JSON, or the experiment's tables), name every failed check on
    stderr, and return the exit code: 1 if a check failed, else 0."""
    if arguments.json:
        print_json(summary)
    else:
        print_summary(summary, arguments.out)
    if failed:
        print("FAILED: " + "; ".join(failed), file=sys.stderr)
    return 1 if failed else 0


def run(arguments: argparse.Namespace) -> int:
    check_output_directory(arguments.out)
    if arguments.experiment == "figure4":
        return _figure4(arguments)
    if arguments.experiment == "devices":
        return _devices(arguments)
    return _rates(arguments)


def _figure4(arguments: argparse.Namespace) -> int:
    if arguments.seeds is not None and not 1 <= arguments.seeds <= MAX_SEEDS:
        raise UsageError(f"--seeds must be an integer between 1 and {MAX_SEEDS}, got {arguments.seeds}")
    from proofs_check.experiments import figure4
    config = figure4.figure4_config(arguments.quick, seeds=arguments.seeds, seed=arguments.seed)
    with command_executor(arguments) as executor:
        start = time.perf_counter()
        summary = figure4.run_figure4(config, progress=progress_bar("experiment figure4"), executor=executor)
    summary["timing"] = {"elapsed_seconds": round(time.perf_counter() - start, 2)}
    summary["provenance"] = provenance(arguments.seed, command_line(arguments))
    _write(
        arguments.out,
        {
            "figure4.png": figure4.figure4_figure(summary),
            "figure4_accuracy.tex": figure4.accuracy_table(summary),
            "figure4_speed_up.tex": figure4.speed_up_table(summary),
            "figure4_gaps.tex": figure4.gaps_table(summary),
            "figure4_schedules.tex": figure4.schedules_table(summary),
            "figure4.json": summary,
        },
    )
    checks = summary["checks"]
    failed = [] if checks["throughput_within_tolerance"] else ["throughput speed-ups differ from the closed forms by more than 5%"]
    failed += [f"single/WOP/SP iterates differ at M={m}" for m, same in checks["synchronous_schedules_identical"].items() if not same]
    failed += [] if checks["ap_equals_control_at_one_stage"] else ["AP and the no-delay control differ at M=1"]
    failed += [f"peak in-flight or weight versions differ from the closed forms: {', '.join(checks['memory_mismatches'])}"] if checks["memory_mismatches"] else []
    return _report(arguments, summary, failed, _print_figure4)


def _fmt(summary: dict, digits: int = 3) -> str:
    if summary["mean"] is None:
        return "not reached"
    text = f"{summary['mean']:.{digits}f} ± {summary['std']:.{digits}f}"
    return text + (f" ({summary['count']}/{summary['count'] + summary['missing']})" if summary["missing"] else "")


def _print_figure4(summary: dict, out: Path) -> None:
    from proofs_check.experiments.figure4 import DEVICES, find

    config = summary["config"]
    main = config["main_stages"]
    accuracy = []
    for device in DEVICES:
        for schedule in ("single", "wop", "sp", "ap", "control"):
            row = find(summary["runs"], stages=main, schedule=schedule, device=device)
            accuracy.append((device, schedule, _fmt(row["final_accuracy_summary"]), _fmt(row["epochs_to_target_summary"], 2), _fmt(row["slots_to_target_summary"], 0)))
    print_table(
        ["device", "schedule"] + [Column(header, "right") for header in ("final accuracy", "epochs to target", "slots to target")],
        accuracy,
        title=f"figure4: digits MLP, M = {main} for the accuracy rows, {config['seeds']} seeds, {config['epochs']} epochs, target {config['target']}",
    )
    print()
    speed_up = []
    for stages in config["stages"]:
        sp = find(summary["throughput"], stages=stages, schedule="sp")
        ap = find(summary["throughput"], stages=stages, schedule="ap")
        tta = [find(summary["time_to_accuracy"], stages=stages, schedule="ap", device=d)["summary"] for d in DEVICES]
        gap = [find(summary["ap_minus_sp"], stages=stages, device=d)["final_accuracy_gap_summary"] for d in DEVICES]
        stale = find(summary["ap_minus_sp"], stages=stages, device="ald")["staleness_final_accuracy_gap_summary"]
        speed_up.append(
            (stages, sp["speed_up"], sp["closed_form"], ap["speed_up"], ap["closed_form"], _fmt(tta[0], 2), _fmt(tta[1], 2), _fmt(gap[0], 4), _fmt(gap[1], 4), _fmt(stale, 4))
        )
    print_table(
        [Column("M", "right")]
        + [Column(header, "right", ".3f") for header in ("SP thr", "closed", "AP thr", "closed")]
        + [Column(header, "right") for header in ("AP time-to-acc (digital)", "AP time-to-acc (ALD)", "AP-SP acc (digital)", "AP-SP acc (ALD)", "AP-control (ALD)")],
        speed_up,
    )
    checks = summary["checks"]
    print(f"throughput vs closed forms: worst relative difference {checks['throughput_worst_relative_difference']:.4f} (tolerance {checks['throughput_tolerance']})")
    print(f"peak in-flight micro-batches and weight versions vs closed forms (every schedule, every M): {'equal' if checks['memory_matches_closed_forms'] else 'DIFFERENT'}")
    print(f"wrote {out / 'figure4.png'} (and .pdf), {out / 'figure4.json'}, {out / 'figure4_accuracy.tex'}, {out / 'figure4_speed_up.tex'}, {out / 'figure4_gaps.tex'}, {out / 'figure4_schedules.tex'} in {summary['timing']['elapsed_seconds']} s")


def _rates(arguments: argparse.Namespace) -> int:
    from proofs_check.experiments import rates

    config = rates.rates_config(arguments.quick, seed=arguments.seed)
    with command_executor(arguments) as executor:
        start = time.perf_counter()
        summary = rates.run_rates(config, progress=progress_bar("experiment rates"), executor=executor)
    summary["timing"] = {"elapsed_seconds": round(time.perf_counter() - start, 2)}
    summary["provenance"] = provenance(arguments.seed, command_line(arguments))
    _write(
        arguments.out,
        {
            "rates.png": rates.rates_figure(summary),
            "rates_rate.tex": rates.rate_table(summary),
            "rates_floor.tex": rates.floor_table(summary),
            "rates_slopes.tex": rates.slope_table(summary),
            "rates.json": summary,
        },
    )
    checks = summary["checks"]
    failed = [] if checks["measured_below_bound_everywhere"] else ["a measured value exceeds the theorem's right side"]
    failed += [] if checks["hypotheses_hold_everywhere"] else ["a hypothesis of the theorem failed after a run"]
    return _report(arguments, summary, failed, _print_rates)


def _print_rates(summary: dict, out: Path) -> None:
    print_table(
        [
            "schedule", Column("K", "right"), Column("alpha", "right", ".3e"), Column("measured mean", "right", ".4e"),
            Column("std", "right", ".2e"), Column("rhs", "right", ".4g"), Column("rhs/measured", "right", ".4g"),
        ],
        [(row["schedule"].upper(), row["K"], row["alpha"], row["lhs"]["mean"], row["lhs"]["std"], row["rhs"], row["rhs_over_lhs"]) for row in summary["rate"]],
    )
    print()
    print_table(
        ["slope vs K"] + [Column(header, "right", ".3f") for header in ("measured", "rhs", "vanishing part")] + [Column("reference", "right", "g")],
        [(schedule.upper(), slope["lhs"], slope["rhs"], slope["vanishing_part"], slope["reference"]) for schedule, slope in summary["rate_slopes"].items()],
    )
    print()
    print_table(
        [
            Column("sigma", "right", ".3g"), Column("tau", "right", ".3g"), Column("W_max", "right", ".3f"), Column("plateau", "right", ".3e"),
            Column("excess mean", "right", ".3e"), Column("std", "right", ".1e"), Column("formula", "right", ".3e"), Column("formula/excess", "right", ".4g"),
        ],
        [
            (row["sigma"], row["tau"], row["W_max"], row["plateau"]["mean"], row["excess"]["mean"], row["excess"]["std"], row["formula"], row["formula_over_excess"])
            for run in summary["floor"]
            for row in run["rows"]
        ],
    )
    print()
    slopes = summary["floor_slopes"]
    print_table(
        ["floor slope"] + [Column(header, "right", ".3f") for header in ("excess", "formula")] + [Column("nominal", "right", "+g")],
        [(f"vs tau at sigma_n={row['sigma_noise']:g}", row["excess"], row["formula"], row["nominal"]) for row in slopes["tau"]]
        + [(f"vs sigma at tau={row['tau_factor']:g}*||W*||_inf", row["excess"], row["formula"], row["nominal"]) for row in slopes["sigma"]],
    )
    checks = summary["checks"]
    print(f"measured below the theorem's right side everywhere: {checks['measured_below_bound_everywhere']}; hypotheses met: {checks['hypotheses_hold_everywhere']}")
    print(f"wrote {out / 'rates.png'} (and .pdf), {out / 'rates.json'}, {out / 'rates_rate.tex'}, {out / 'rates_floor.tex'}, {out / 'rates_slopes.tex'} in {summary['timing']['elapsed_seconds']} s")


def _devices(arguments: argparse.Namespace) -> int:
    if arguments.seeds is not None and not 2 <= arguments.seeds <= MAX_SEEDS:
        raise UsageError(f"--seeds must be an integer between 2 and {MAX_SEEDS}, got {arguments.seeds}")
    from proofs_check.experiments import devices

    config = devices.devices_config(arguments.quick, seeds=arguments.seeds, seed=arguments.seed)
    start = time.perf_counter()
    summary = devices.run_devices(config, progress=progress_bar("experiment devices"))
    summary["timing"] = {"elapsed_seconds": round(time.perf_counter() - start, 2)}
    summary["provenance"] = provenance(arguments.seed, command_line(arguments))
    figure = devices.devices_figure(summary)
    _write(arguments.out, {"devices.png": figure, "devices.tex": devices.devices_table(summary), "devices.json": summary})
    checks = summary["checks"]
    failed = [] if checks["every_measurement_finite"] and checks["no_error"] else ["a measurement is NaN or infinite"]
    failed += [] if checks["no_violation"] else ["a measured plateau exceeds the theorem's bound where its hypotheses hold"]
    return _report(arguments, summary, failed, _print_devices)


def _print_devices(summary: dict, out: Path) -> None:
    config = summary["config"]
    print_table(
        ["device", "schedule", Column("accuracy", "right", ".3f"), Column("plateau", "right", ".3e"), Column("s.e.", "right", ".1e"),
         Column("excess", "right", ".3e"), Column("sigma^2", "right", ".3e"), Column("W_max", "right", ".3f"), Column("floor", "right", ".3e"), "verdict"],
        [
            (row["device"], row["schedule"].upper(), row["final_accuracy_summary"]["mean"], row["plateau_summary"]["mean"], row["plateau_standard_error"],
             row["excess_over_digital_summary"]["mean"] if row["kind"] != "digital" else None, row["sigma2"], row["W_max"], row["floor"], row["verdict"])
            for row in summary["rows"]
        ],
        title=f"devices: digits MLP, M = {config['stages']}, {config['seeds']} seeds, {config['epochs']} epochs",
    )
    outside = summary["checks"]["rows_outside_hypotheses"]
    if outside:
        print(f"outside the theorem's hypotheses ({len(outside)} rows): " + "; ".join(outside))
    print(f"wrote {out / 'devices.png'} (and .pdf), {out / 'devices.json'}, {out / 'devices.tex'} in {summary['timing']['elapsed_seconds']} s")

"""Check a convergence theorem of MODEL.md §5, or a candidate right side for its left side,
against simulation over seeds and K.

The left side is the mean over seeds of (1/K) Σ_{k<K} ||∇f(W^{(k)})||² on the built-in
i.i.d.-sampling experiment; the right side is the project's calibrated bound, or `--rhs`, an
expression in the theorem symbols evaluated at the calibrated constants at every K. Exit 1
with the offending (K, lhs, rhs) when violated in the statistical sense of MODEL.md §5.

`--schedule` (a schedule the theorem covers) and `--device` with the device flags of
`simulate` (a response-function device: digital, ald, softbounds; `--tau` fixes τ, else the
headline's τ = 20·||W_0||_inf) replace the headline regime's; β, q_max and G_max are then the
device's own constants. The training runs and the regimes' checks run through `--scheduler`.
"""

from __future__ import annotations

import argparse
import math

from proofs_check.api import check_theorem
from proofs_check.arguments import DEVICE_FLAGS, add_device_arguments, device_from_arguments, nonnegative_int, positive_finite_float
from proofs_check.candidates import CandidateError
from proofs_check.errors import UsageError
from proofs_check.limits import check_budget
from proofs_check.executor import add_scheduler_argument, command_executor
from proofs_check.output import Column, print_json, print_table
from proofs_check.theorems import CONVERGENCE_IDS, THEOREM_SYMBOLS, covered_schedules, device_problem, parse_theorem_rhs
from proofs_check.tolerance import HOLDS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--id", required=True, choices=CONVERGENCE_IDS, help="the theorem")
    parser.add_argument("--rhs", help=f"candidate right side in the symbols {', '.join(THEOREM_SYMBOLS)} ('bound' = the project's calibrated right side); default: the project's bound")
    parser.add_argument("--budget", type=positive_finite_float, default=10.0, help="scales the number of seeds: 10 (default) = 8 quick / 32 full seeds, linearly, at least 4")
    parser.add_argument("--seed", type=nonnegative_int, default=0)
    parser.add_argument("--quick", action="store_true", help="the quick experiment (8 seeds at the default budget)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--schedule", metavar="S",
        help="replace the headline's schedules: " + "; ".join(f"{theorem}: {', '.join(covered_schedules(theorem))}" for theorem in CONVERGENCE_IDS),
    )
    add_device_arguments(parser, required=False)
    add_scheduler_argument(parser)


def _number(value) -> float:
    """A reported number as a float ('nan', 'inf', '-inf' and None as NaN or ±inf)."""
    if value is None:
        return float("nan")
    return float(value)


def _ratio(lhs, rhs) -> float:
    lhs, rhs = _number(lhs), _number(rhs)
    return lhs / rhs if rhs != 0 and math.isfinite(rhs) else float("nan")


def _schedule(arguments: argparse.Namespace) -> str | None:
    """`--schedule`, one the theorem covers, or a UsageError naming the allowed ones."""
    allowed = covered_schedules(arguments.id)
    if arguments.schedule is not None and arguments.schedule not in allowed:
        raise UsageError(f"--schedule: {arguments.id} covers {', '.join(allowed)}; got {arguments.schedule!r}")
    return arguments.schedule


def _device(arguments: argparse.Namespace):
    """The device of `--device` and its flags (None without it), or a UsageError: a device flag
    without --device, or a device the theorem does not cover (pulsed)."""
    if arguments.device is None:
        given = [flag for setting, (flag, *_) in DEVICE_FLAGS.items() if getattr(arguments, setting, None) is not None]
        if given:
            raise UsageError(f"{given[0]}: needs --device (digital, ald or softbounds)")
        return None
    device = device_from_arguments(arguments)
    problem = device_problem(device)
    if problem is not None:
        raise UsageError(f"--device {device.name}: {problem}")
    return device


def _device_line(details: dict) -> str:
    """One line: the device, τ and the constants β, q_max, G_max the check used."""
    chosen = details.get("chosen") or {}
    settings = ", ".join(f"{key}={value:g}" for key, value in (chosen.get("device_settings") or {}).items() if isinstance(value, (int, float)))
    return (
        f"device {details.get('device')}{f' ({settings})' if settings else ''}, τ = {_number(details.get('tau')):.4g}: "
        f"β = {_number(details.get('beta')):.4g}, q_max = {_number(details.get('q_max')):.4g}, G_max = {_number(details.get('G_max')):.4g} "
        f"at W_max = {_number(details.get('W_max')):.4g}; schedules {', '.join(details.get('schedules') or [])}, B = {details.get('mini_batch')}"
    )


def run(arguments: argparse.Namespace) -> int:
    check_budget(arguments.budget)
    if arguments.rhs is not None:
        try:
            parse_theorem_rhs(arguments.rhs)
        except CandidateError as error:
            raise UsageError(f"--rhs: {error}") from None
    schedule, device = _schedule(arguments), _device(arguments)
    with command_executor(arguments) as executor:
        result = check_theorem(
            arguments.id, arguments.rhs, budget=arguments.budget, seed=arguments.seed, quick=arguments.quick,
            schedule=schedule, device=device, tau=getattr(arguments, "tau", None), executor=executor,
        )
    code = 0 if result.status == HOLDS else 1
    if arguments.json:
        print_json(result.as_dict())
        return code
    details = result.details
    print(f"{result.id}: {details.get('statement', '')}")
    print(f"right side: {arguments.rhs or 'bound (calibrated constants)'}; {details.get('seeds')} seeds, confidence {details.get('confidence', 0.99):.0%} (one-sided lower bound of the mean)")
    if "beta" in details:
        print(_device_line(details))
    per_K = details.get("per_K") or []
    if per_K:
        print_table(
            [Column("K", "right"), Column("lhs", "right", ".4g"), Column("99% lower", "right", ".4g"), Column("rhs", "right", ".4g"), Column("lhs/rhs", "right", ".3g"), Column("certified rhs", "right", ".4g"), "status"],
            [(row["K"], _number(row["lhs"]), _number(row["ci"]["lower"]), _number(row["rhs"]), _ratio(row["lhs"], row["rhs"]), _number(row["rhs_certified"]), row["status"]) for row in per_K],
        )
        critical = details.get("critical_scale", {})
        print(f"critical scale (lhs/rhs at the worst K): {_number(result.critical_scale):.3g} (calibrated bound {_number(critical.get('calibrated')):.3g}, certified {_number(critical.get('certified')):.3g})")
        rate = details.get("rate", {})
        if "K_of_epsilon_slope" in rate:
            print(f"rate: lhs ∝ K^{rate['fitted_exponent']:.3f} ± {rate['std_error']:.2g}, K(ε) ∝ ε^{rate['K_of_epsilon_slope']:.3f} (allowed [-2, -1]): {rate['status']}")
    regimes = details.get("regimes") or []
    if len(regimes) > 1:
        print_table(
            ["regime", "schedule", Column("K max", "right"), Column("critical scale", "right", ".3g"), "status"],
            [(row["name"], row["schedule"], row["K_values"][-1], _number((row.get("critical_scale") or {}).get("calibrated")), row["status"]) for row in regimes],
            title="regimes (each makes one term of the bound dominant; the right side must hold in all):",
        )
    if result.status != HOLDS:
        offending = details.get("offending")
        if offending:
            print(f"VIOLATED{' in regime ' + offending['regime'] if 'regime' in offending else ''} at K={offending['K']}: lhs {_number(offending['lhs']):.6g} (99% lower bound {_number(offending['lower']):.6g}) > rhs {_number(offending['rhs']):.6g}")
        print(f"{result.status.upper()}: {details.get('reason', '')}")
    else:
        print("holds")
    return code

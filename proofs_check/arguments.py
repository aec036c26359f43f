"""Argument types for argparse: each rejects bad values with a message naming what is allowed."""

from __future__ import annotations

import argparse
import math
from pathlib import Path


def _number(text: str, kind: type) -> float | int:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'}, got {text!r}") from None
    if isinstance(value, float) and math.isnan(value):
        raise argparse.ArgumentTypeError("NaN is not allowed")
    if isinstance(value, float) and math.isinf(value):
        raise argparse.ArgumentTypeError(f"must be finite, got {text}")
    return value


def positive_int(text: str) -> int:
    """An integer ≥ 1."""
    value = _number(text, int)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text}")
    return value


def nonnegative_int(text: str) -> int:
    """An integer ≥ 0."""
    value = _number(text, int)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text}")
    return value


def positive_float(text: str) -> float:
    """A finite number > 0."""
    value = _number(text, float)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def positive_finite_float(text: str) -> float:
    """A finite number > 0 (the same as `positive_float`: no flag takes NaN or inf)."""
    return positive_float(text)


def nonnegative_float(text: str) -> float:
    """A finite number ≥ 0."""
    value = _number(text, float)
    if not (value >= 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


def positive_int_list(text: str) -> list[int]:
    """Comma-separated integers ≥ 1."""
    try:
        values = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if any(value < 1 for value in values):
        raise argparse.ArgumentTypeError(f"every entry must be >= 1, got {text}")
    return values


def nonnegative_float_list(text: str) -> list[float]:
    """Comma-separated finite numbers ≥ 0."""
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
    if any(not (math.isfinite(value) and value >= 0) for value in values):
        raise argparse.ArgumentTypeError(f"every entry must be a finite number >= 0, got {text}")
    return values


def add_schedule_argument(parser: argparse.ArgumentParser, **options) -> None:
    """`--schedule` whose choices are the registry's names (numerics.schedules.SCHEDULES)."""
    from numerics.schedules import SCHEDULES

    parser.add_argument(
        "--schedule", choices=tuple(SCHEDULES),
        help="a schedule of MODEL.md §3: " + "; ".join(f"{name}: {schedule.title}" for name, schedule in SCHEDULES.items()),
        **options,
    )


def check_schedule_shape(schedule: str, stages: int, micro_batches: int, mini_batch: int) -> None:
    """A UsageError naming --mini-batch or --micro-batches when `schedule` cannot run with
    B = `mini_batch` and J = `micro_batches` on M = `stages` (2bw needs B >= M; J a multiple of B)."""
    from numerics.schedules import schedule_named
    from proofs_check.errors import UsageError

    definition = schedule_named(schedule)
    per_update = definition.micro_batches_per_update(mini_batch)
    smallest = definition.smallest_mini_batch(stages)
    if per_update < smallest:
        raise UsageError(f"--mini-batch: {definition.name} needs B >= the {stages} stages, got {mini_batch}")
    if micro_batches % per_update:
        raise UsageError(f"--micro-batches must be a multiple of --mini-batch ({per_update}), got {micro_batches}")


def output_path(text: str) -> Path:
    """A path to write to (a directory or a file); the empty string is refused, where
    Path('') would silently mean the current directory."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must name a path, got an empty string")
    return Path(text)


def add_plugin_argument(parser: argparse.ArgumentParser) -> None:
    """`--plugin FILE.py` (repeatable): files that register user lemmas, loaded before the command runs."""
    parser.add_argument(
        "--plugin", action="append", default=[], type=Path, metavar="FILE.py",
        help="a Python file that registers lemmas with proofs_check.register_lemma (repeatable)",
    )


def lemma_argument(value: str, flag: str = "--lemma"):
    """The registered lemma called `value` (after plugins are loaded), or a UsageError listing the ids."""
    from proofs_check.errors import UsageError
    from proofs_check.library import REGISTRY, RegistryError

    try:
        return REGISTRY.get(value)
    except RegistryError:
        raise UsageError(f"{flag}: unknown lemma {value!r}; allowed: {', '.join(REGISTRY.ids())}") from None


# ----- the device flags of `simulate` (MODEL.md §2) ----------------------------------------

DEVICE_FLAGS = {
    "tau": ("--tau", positive_float, "T", "conductance bound τ > 0 (default 1; inf allowed)"),
    "exponent": ("--exponent", positive_finite_float, "P", "exponent p > 0 of the response functions (default 1)"),
    "gamma_up": ("--up", positive_finite_float, "G", "up gain γ₊ > 0 (default 1)"),
    "gamma_down": ("--down", positive_finite_float, "G", "down gain γ₋ > 0 (default 1)"),
    "dw_min": ("--dw-min", positive_finite_float, "D", "pulse size dw_min > 0 (default 0.001)"),
    "c2c": ("--c2c", nonnegative_float, "C", "cycle-to-cycle noise c2c >= 0 (default 0)"),
    "d2d": ("--d2d", nonnegative_float, "V", "device-to-device variation d2d >= 0 (default 0)"),
    "max_pulses": ("--max-pulses", positive_int, "N", "largest number of pulses per element and update, >= 1 (default: no cap)"),
}
"""Each device setting (a field of the device kinds of numerics.devices) → (flag, type, metavar, help)."""


def add_device_arguments(parser: argparse.ArgumentParser, required: bool = True) -> None:
    """`--device` (a registered device kind; `required` or not) and one flag per device setting (DEVICE_FLAGS)."""
    from numerics.devices import DEVICE_NAMES, device_settings

    parser.add_argument("--device", required=required, choices=DEVICE_NAMES)
    for setting, (flag, kind, metavar, text) in DEVICE_FLAGS.items():
        users = [name for name in DEVICE_NAMES if setting in device_settings(name)]
        parser.add_argument(flag, dest=setting, type=kind, metavar=metavar, default=None, help=f"{text}; {', '.join(users)} only")


def device_from_arguments(arguments: argparse.Namespace):
    """The device `--device` names, with the settings its flags give (the kind's defaults for
    the rest). A flag the device does not use is a UsageError naming the flag and the devices
    that use it."""
    from numerics.devices import DEVICE_NAMES, device_settings, make_device
    from proofs_check.errors import UsageError

    name = arguments.device
    takes = device_settings(name)
    settings = {}
    for setting, (flag, *_) in DEVICE_FLAGS.items():
        value = getattr(arguments, setting, None)
        if value is None:
            continue
        if setting not in takes:
            users = [other for other in DEVICE_NAMES if setting in device_settings(other)]
            raise UsageError(f"{flag}: not used by --device {name}; allowed only with --device {', '.join(users)}")
        settings[setting] = value
    try:
        return make_device(name, **settings)
    except ValueError as error:
        raise UsageError(f"--device {name}: {error}") from None

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

"""Small statistics shared by the experiments: mean ± standard deviation over seeds, log-log slopes."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from proofs_check.theorems import _slope

Array = np.ndarray


def spread(values: Sequence[float] | Array) -> dict:
    """Mean, sample standard deviation (ddof = 1; 0 for one value), min, max and the number of
    finite values; NaN entries (e.g. a seed that never reached a target) are left out and counted."""
    array = np.asarray(values, dtype=float).ravel()
    finite = array[np.isfinite(array)]
    if finite.size == 0:
        return {"mean": None, "std": None, "min": None, "max": None, "count": 0, "missing": int(array.size)}
    return {
        "mean": float(np.mean(finite)),
        "std": float(np.std(finite, ddof=1)) if finite.size > 1 else 0.0,
        "min": float(np.min(finite)),
        "max": float(np.max(finite)),
        "count": int(finite.size),
        "missing": int(array.size - finite.size),
    }


def log_slope(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Least-squares slope of log y against log x (proofs_check.theorems' fit); None when
    fewer than two points or a value is not positive and finite."""
    slope = _slope(x, y)
    return slope if math.isfinite(slope) else None


def plain_list(values: Array) -> list:
    """A list of floats with NaN as None (JSON null)."""
    return [None if not math.isfinite(float(v)) else float(v) for v in np.asarray(values, dtype=float).ravel()]

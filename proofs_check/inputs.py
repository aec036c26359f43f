"""Reading and validating user files (--data, --init); every problem is a UsageError."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from numerics.data import Dataset
from numerics.losses import Loss
from proofs_check.errors import UsageError


def read_npz(path: Path, flag: str) -> dict[str, np.ndarray]:
    """Every array of the .npz archive at `path`; a missing, empty, damaged or non-.npz file
    (an .npy array, a pickle, text) is a UsageError naming `flag` and the file."""
    if not path.exists():
        raise UsageError(f"{flag}: no such file {path}")
    if path.is_file() and path.stat().st_size == 0:
        raise UsageError(f"{flag}: {path} is an empty file, not an .npz archive")
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise UsageError(f"{flag}: {path} holds a single array (an .npy file), not an .npz archive of named arrays")
        with loaded as archive:
            return {key: archive[key] for key in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise UsageError(f"{flag}: {path} is not a readable .npz archive ({reason})") from None


def _finite_float_array(array: np.ndarray, flag: str, key: str) -> np.ndarray:
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise UsageError(f"{flag}: array '{key}' must be numeric, got dtype {array.dtype}")
    array = array.astype(float)
    if not np.all(np.isfinite(array)):
        raise UsageError(f"{flag}: array '{key}' contains NaN or infinite values")
    return array


def load_initial_weights(path: Path, dims: list[int] | None) -> tuple[np.ndarray, ...]:
    """W1..WM from an .npz; shapes must chain [d_m, d_{m-1}] and match `dims` when given."""
    arrays = read_npz(path, "--init")
    layers = 0
    while f"W{layers + 1}" in arrays:
        layers += 1
    if layers == 0:
        raise UsageError(f"--init: {path} must hold arrays W1..WM, found keys {sorted(arrays)}")
    extra = sorted(set(arrays) - {f"W{m}" for m in range(1, layers + 1)})
    if extra:
        raise UsageError(f"--init: unexpected keys {extra}; allowed: W1..W{layers} (consecutive)")
    weights = tuple(_finite_float_array(arrays[f"W{m}"], "--init", f"W{m}") for m in range(1, layers + 1))
    for m, weight in enumerate(weights, start=1):
        if weight.ndim != 2:
            raise UsageError(f"--init: W{m} must be a matrix [d{m}, d{m - 1}], got shape {weight.shape}")
        if weight.size == 0:
            raise UsageError(f"--init: W{m} must have at least one row and one column, got shape {weight.shape}")
        if m > 1 and weight.shape[1] != weights[m - 2].shape[0]:
            raise UsageError(f"--init: W{m} has {weight.shape[1]} columns but W{m - 1} has {weights[m - 2].shape[0]} rows")
    init_dims = [weights[0].shape[1]] + [w.shape[0] for w in weights]
    if dims is not None and dims != init_dims:
        raise UsageError(f"--dims {','.join(map(str, dims))} does not match --init, whose dims are {','.join(map(str, init_dims))}")
    return weights


def load_dataset(path: Path, dims: list[int], loss: Loss) -> Dataset:
    """x [N, d_0] and y [N, d_M] (cross-entropy: integer labels [N] in 0..d_M-1)."""
    arrays = read_npz(path, "--data")
    for key in ("x", "y"):
        if key not in arrays:
            raise UsageError(f"--data: {path} must hold arrays 'x' and 'y', missing '{key}'")
    inputs = _finite_float_array(arrays["x"], "--data", "x")
    if inputs.ndim != 2 or inputs.shape[1] != dims[0] or inputs.shape[0] == 0:
        raise UsageError(f"--data: 'x' must have shape [N, {dims[0]}] with N >= 1, got {inputs.shape}")
    samples = inputs.shape[0]
    raw_targets = arrays["y"]
    if loss.integer_targets:
        if raw_targets.shape != (samples,) or not np.issubdtype(raw_targets.dtype, np.integer):
            raise UsageError(f"--data: 'y' must hold integer labels of shape [{samples}] for --loss {loss.name}, got {raw_targets.dtype} {raw_targets.shape}")
        if raw_targets.min() < 0 or raw_targets.max() >= dims[-1]:
            raise UsageError(f"--data: labels in 'y' must lie in 0..{dims[-1] - 1}")
        targets = raw_targets.astype(np.int64)
    else:
        targets = _finite_float_array(raw_targets, "--data", "y")
        if targets.shape != (samples, dims[-1]):
            raise UsageError(f"--data: 'y' must have shape [{samples}, {dims[-1]}], got {targets.shape}")
    return Dataset(inputs, targets)

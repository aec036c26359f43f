"""Arithmetic in which a lemma instance is evaluated: float64, or mpmath at 50 digits.

MODEL.md's tolerance policy re-evaluates a ratio within 1e-6 of 1 in arbitrary precision.
The same evaluation code runs in both: numpy object arrays of mpmath numbers support
+, −, ×, /, @, sum and abs, and this module supplies what they lack (square roots,
spectral norms, the activations and losses).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from typing import Callable, Iterator

import mpmath
import numpy as np

from numerics.activations import Activation
from numerics.losses import Loss

Array = np.ndarray

HIGH_PRECISION_DIGITS = 50


@dataclass(frozen=True)
class Arithmetic:
    """How to compute: the array conversion and the non-polynomial operations."""

    name: str
    convert: Callable[[Array], Array]
    """float64 input → working array."""
    sqrt: Callable[[Array], Array]
    spectral_norm: Callable[[Array], Array]
    """||W||_2 over the last two axes."""
    exp: Callable[[Array], Array]
    log: Callable[[Array], Array]
    tanh: Callable[[Array], Array]
    context: Callable[[], contextlib.AbstractContextManager]
    """Context in which to compute (mpmath working precision)."""

    def norm(self, values: Array, axes: int | tuple[int, ...] = -1) -> Array:
        """Euclidean norm over `axes` (Frobenius for two axes)."""
        return self.sqrt(np.asarray(np.sum(values * values, axis=axes)))

    def max_abs(self, values: Array, axes: int | tuple[int, ...] = (-2, -1)) -> Array:
        """Largest absolute entry over `axes` (||W||_inf of MODEL.md)."""
        return np.asarray(np.max(np.abs(values), axis=axes))

    def activation(self, activation: Activation) -> Activation:
        """The activation computed in this arithmetic."""
        if self.name == "float64" or activation.name != "tanh":
            return activation
        tanh = self.tanh
        return replace(activation, function=tanh, derivative=lambda z: 1 - tanh(z) ** 2)

    def loss(self, loss: Loss) -> Loss:
        """The loss computed in this arithmetic."""
        if self.name == "float64" or loss.name != "cross-entropy":
            return loss
        exp, log = self.exp, self.log

        def log_softmax(z: Array) -> Array:
            shifted = z - np.max(z, axis=-1, keepdims=True)
            return shifted - log(np.sum(exp(shifted), axis=-1, keepdims=True))

        def value(z: Array, labels: Array) -> Array:
            return -np.take_along_axis(log_softmax(z), labels[..., None].astype(np.intp), axis=-1)[..., 0]

        def gradient(z: Array, labels: Array) -> Array:
            one_hot = (labels[..., None] == np.arange(z.shape[-1])).astype(int)
            return exp(log_softmax(z)) - one_hot

        return replace(loss, value=value, gradient=gradient)


def _float64_spectral_norm(matrices: Array) -> Array:
    """||W||_2 over the last two axes; NaN for a matrix holding NaN or inf (LAPACK's SVD
    would not converge on it): a non-finite input is an error to report, never a crash."""
    matrices = np.asarray(matrices, dtype=float)
    finite = np.all(np.isfinite(matrices), axis=(-2, -1))
    if finite.all():
        return _largest_singular_values(matrices)
    norms = _largest_singular_values(np.where(finite[..., None, None], matrices, 0.0))
    return np.where(finite, norms, np.nan)


def _largest_singular_values(matrices: Array) -> Array:
    """σ_max of each (finite) matrix, as √λ_max of its smaller Gram matrix (AAᵀ or AᵀA): the
    Euclidean norm when one side is 1, the closed form of a 2 × 2 symmetric matrix, LAPACK's
    symmetric eigenvalues (`eigvalsh`) above. Each matrix is first divided by the power of two
    at or below its largest entry (exact), so the Gram matrix neither overflows nor underflows.
    Agrees with LAPACK's SVD (np.linalg.norm(·, 2)) to a few units in the last place
    (tests/proofs_check/test_engine.py), at a fraction of its cost on the toolkit's small stacks."""
    rows, columns = matrices.shape[-2:]
    if rows == 0 or columns == 0:
        return np.zeros(matrices.shape[:-2])
    largest = np.max(np.abs(matrices), axis=(-2, -1))
    scale = np.ldexp(1.0, np.frexp(np.where(largest > 0, largest, 1.0))[1] - 1)  # entries of scaled in [−2, 2)
    scaled = matrices / scale[..., None, None]
    if min(rows, columns) == 1:
        return scale * np.sqrt(np.sum(scaled * scaled, axis=(-2, -1)))
    gram = scaled @ scaled.swapaxes(-1, -2) if rows <= columns else scaled.swapaxes(-1, -2) @ scaled
    if gram.shape[-1] == 2:
        first, second, off = gram[..., 0, 0], gram[..., 1, 1], gram[..., 0, 1]
        top = 0.5 * (first + second) + np.hypot(0.5 * (first - second), off)
    else:
        top = np.linalg.eigvalsh(gram)[..., -1]
    return scale * np.sqrt(np.maximum(top, 0.0))


FLOAT64 = Arithmetic(
    name="float64",
    convert=lambda values: np.array(values, dtype=float, copy=True),
    sqrt=np.sqrt,
    spectral_norm=_float64_spectral_norm,
    exp=np.exp,
    log=np.log,
    tanh=np.tanh,
    context=contextlib.nullcontext,
)


def _elementwise(function: Callable) -> Callable[[Array], Array]:
    vectorised = np.frompyfunc(function, 1, 1)

    def apply(values):
        result = vectorised(values)
        return result if isinstance(result, np.ndarray) else np.asarray(result, dtype=object)

    return apply


def _mp_spectral_norm(matrices: Array) -> Array:
    """||W||_2 over the last two axes in the working precision: sqrt of the largest eigenvalue
    of the smaller Gram matrix (WᵀW or WWᵀ). That eigenvalue is the Gram matrix's 2-norm, so
    it is found to the working precision's relative accuracy (unlike the small eigenvalues);
    a 1 × 1 Gram matrix is ||W||², a 2 × 2 one has its closed form (a sum of nonnegative
    terms), a larger one goes to mpmath's symmetric eigensolver."""
    matrices = np.asarray(matrices, dtype=object)
    result = np.empty(matrices.shape[:-2], dtype=object)
    for index in np.ndindex(result.shape):
        matrix = mpmath.matrix(matrices[index].tolist())
        gram = matrix.T * matrix if matrix.cols <= matrix.rows else matrix * matrix.T
        result[index] = mpmath.sqrt(_largest_eigenvalue(gram))
    return result


def _largest_eigenvalue(gram: "mpmath.matrix"):
    """The largest eigenvalue of a symmetric positive semidefinite mpmath matrix (never below
    its largest diagonal entry, as it is in exact arithmetic, so never negative)."""
    if gram.rows == 1:
        return gram[0, 0]
    if gram.rows == 2:
        a, b, c = gram[0, 0], gram[0, 1], gram[1, 1]
        return (a + c) / 2 + mpmath.sqrt(((a - c) / 2) ** 2 + b * b)
    diagonal = max(gram[i, i] for i in range(gram.rows))
    return max(diagonal, max(mpmath.eigsy(gram, eigvals_only=True)))


@contextlib.contextmanager
def _mp_context() -> Iterator[None]:
    with mpmath.workdps(HIGH_PRECISION_DIGITS):
        yield


def _mp_convert(values: Array) -> Array:
    array = np.asarray(values)
    if np.issubdtype(array.dtype, np.integer):
        return array.copy()
    return _elementwise(mpmath.mpf)(array.astype(float))


MPMATH = Arithmetic(
    name=f"mpmath{HIGH_PRECISION_DIGITS}",
    convert=_mp_convert,
    sqrt=_elementwise(mpmath.sqrt),
    spectral_norm=_mp_spectral_norm,
    exp=_elementwise(mpmath.exp),
    log=_elementwise(mpmath.log),
    tanh=_elementwise(mpmath.tanh),
    context=_mp_context,
)

"""The symbols of MODEL.md, each a `Parameter` carrying its sympy symbol (with assumptions),
its domain, a typical range for sampling, its LaTeX symbol and its meaning.

One parameter object drives symbolic work (`.symbol`), sampling in tests and searches
(`.typical`), domain checks (`.contains`) and table headers (`.latex`). Per-layer
quantities (ω_m, u^f_m, ...) are `LayerParameter`s, expanded to M symbols by `.of(M)`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp


@dataclass(frozen=True)
class Domain:
    """An interval of the real line (or of the integers), with open or closed ends."""

    low: float = -math.inf
    high: float = math.inf
    low_closed: bool = False
    high_closed: bool = False
    integer: bool = False

    def contains(self, value) -> np.ndarray:
        """Elementwise membership; NaN is never inside."""
        value = np.asarray(value, dtype=float)
        above = value >= self.low if self.low_closed else value > self.low
        below = value <= self.high if self.high_closed else value < self.high
        inside = above & below & ~np.isnan(value)
        if self.integer:
            inside &= np.isfinite(value) & (value == np.round(value))
        return inside

    def __str__(self) -> str:
        left = "[" if self.low_closed else "("
        right = "]" if self.high_closed else ")"
        kind = " (integers)" if self.integer else ""
        return f"{left}{self.low:g}, {self.high:g}{right}{kind}"


POSITIVE = Domain(0.0, math.inf)
NONNEGATIVE = Domain(0.0, math.inf, low_closed=True)
POSITIVE_INTEGER = Domain(1.0, math.inf, low_closed=True, integer=True)
NONNEGATIVE_INTEGER = Domain(0.0, math.inf, low_closed=True, integer=True)
UNIT_INTERVAL = Domain(0.0, 1.0, high_closed=True)


def _assumptions(domain: Domain) -> dict[str, bool]:
    assumptions: dict[str, bool] = {"real": True}
    if domain.integer:
        assumptions["integer"] = True
    if domain.low == 0.0:
        assumptions["nonnegative" if domain.low_closed else "positive"] = True
    elif domain.low >= 1.0:
        assumptions["positive"] = True
    return assumptions


@dataclass(frozen=True)
class Parameter:
    """A named scalar quantity of MODEL.md."""

    name: str
    """Identifier used in code, in `bound --rhs` expressions and in JSON."""
    latex: str
    """LaTeX symbol for tables and statements."""
    meaning: str
    """One line: what the quantity is."""
    domain: Domain
    """Values the mathematics allows."""
    typical: tuple[float, float]
    """Range sampled by property tests and adversarial searches."""
    log_scale: bool = False
    """Sample log-uniformly in `typical` (for scales spanning decades)."""

    @property
    def symbol(self) -> sp.Symbol:
        """The sympy symbol, with assumptions from the domain."""
        return sp.Symbol(self.name, **_assumptions(self.domain))

    def contains(self, value) -> np.ndarray:
        """Elementwise: is `value` in the domain?"""
        return self.domain.contains(value)

    def sample(self, rng: np.random.Generator, size=None) -> np.ndarray:
        """Draws from the typical range (integers for integer domains)."""
        low, high = self.typical
        if self.domain.integer:
            return rng.integers(int(low), int(high) + 1, size=size)
        if self.log_scale:
            return np.exp(rng.uniform(math.log(low), math.log(high), size=size))
        return rng.uniform(low, high, size=size)


@dataclass(frozen=True)
class LayerParameter:
    """A per-layer quantity q_m, m = 1..M."""

    name: str
    """Stem: symbols are named `<name>_<m>`."""
    latex: str
    """LaTeX stem; the layer goes in a subscript."""
    meaning: str
    domain: Domain
    typical: tuple[float, float]
    log_scale: bool = False
    first: int = 1
    """Index of the first layer (0 for A_0 = X style sequences)."""

    def at(self, layer: int) -> Parameter:
        """The scalar parameter for one layer."""
        return Parameter(
            name=f"{self.name}_{layer}",
            latex=f"{self.latex}_{{{layer}}}",
            meaning=f"{self.meaning} (layer {layer})",
            domain=self.domain,
            typical=self.typical,
            log_scale=self.log_scale,
        )

    def of(self, layers: int) -> tuple[sp.Symbol, ...]:
        """Symbols q_first..q_{first+layers-1}."""
        return tuple(self.at(m).symbol for m in range(self.first, self.first + layers))


# Network and data (MODEL.md §1).
M = Parameter("M", "M", "number of layers = pipeline stages", POSITIVE_INTEGER, (1, 5))
L_phi = Parameter("L_phi", r"L_{\phi}", "sup |φ'|, Lipschitz constant of the activation", POSITIVE, (0.25, 1.0))
S_phi = Parameter("S_phi", r"S_{\phi}", "sup |φ''|, Lipschitz constant of φ'", NONNEGATIVE, (0.0, 2.0))
X = Parameter("X", "X", "bound on ||x|| over the data", POSITIVE, (0.1, 5.0), log_scale=True)
Y = Parameter("Y", "Y", "bound on ||y|| over the data", NONNEGATIVE, (0.0, 5.0))
L_ell = Parameter("L_ell", r"L_{\ell}", "Lipschitz constant of ∇_z ℓ", POSITIVE, (0.5, 1.0))
G_ell = Parameter("G_ell", r"G_{\ell}", "bound on ||∇_z ℓ|| over reachable outputs", POSITIVE, (0.1, 5.0), log_scale=True)
omega = LayerParameter("omega", r"\omega", "bound on the spectral norm ||W_m||_2", POSITIVE, (0.1, 3.0), log_scale=True)

# Device (MODEL.md §2).
tau = Parameter("tau", r"\tau", "device bound: conductances live in [-τ, τ]", POSITIVE, (0.5, 20.0), log_scale=True)
W_max = Parameter("W_max", r"W_{\max}", "bounded saturation: ||W_k||_inf ≤ W_max < τ", POSITIVE, (0.05, 2.0), log_scale=True)
beta = Parameter(
    "beta",
    r"\beta",
    "device constant β = min over |w| ≤ W_max of min(q₊, q₋) = min(γ₊, γ₋)(1 − W_max/τ)^p > 0 (ALD: 1 − W_max/τ)",
    POSITIVE,
    (0.05, 1.0),
)
q_max = Parameter(
    "q_max",
    r"q_{\max}",
    "device constant q_max = max over |w| ≤ W_max of max(q₊, q₋) = max(γ₊, γ₋)(1 + W_max/τ)^p ≥ β (ALD: 1 + W_max/τ ≤ 2)",
    POSITIVE,
    (0.5, 4.0),
    log_scale=True,
)
G_max = Parameter(
    "G_max",
    r"G_{\max}",
    "device constant G_max = max over |w| ≤ W_max of |G(w)|, G = (q₋ − q₊)/2 (ALD: W_max/τ)",
    NONNEGATIVE,
    (0.0, 2.0),
)
gamma_up = Parameter("gamma_up", r"\gamma_{+}", "up gain γ₊ of a response-function device: q₊(w) = γ₊(1 − w/τ)^p", POSITIVE, (0.25, 4.0), log_scale=True)
gamma_down = Parameter("gamma_down", r"\gamma_{-}", "down gain γ₋ of a response-function device: q₋(w) = γ₋(1 + w/τ)^p", POSITIVE, (0.25, 4.0), log_scale=True)
exponent = Parameter("p", "p", "response exponent p of a response-function device (ALD: 1)", POSITIVE, (0.25, 4.0), log_scale=True)
alpha = Parameter("alpha", r"\alpha", "step size", POSITIVE, (1e-4, 0.5), log_scale=True)

# Perturbations and delays (MODEL.md §4).
u_f = LayerParameter("u_f", r"u^{f}", "bound on ||W_m − W^f_m||_2 (forward weight gap)", NONNEGATIVE, (0.0, 1.0))
u_b = LayerParameter("u_b", r"u^{b}", "bound on ||W_m − W^b_m||_2 (backward weight gap)", NONNEGATIVE, (0.0, 1.0))
d_f = LayerParameter("d_f", r"d^{f}", "forward delay of layer m", NONNEGATIVE_INTEGER, (0, 4))
d_b = LayerParameter("d_b", r"d^{b}", "backward delay of layer m", NONNEGATIVE_INTEGER, (0, 4))
D = Parameter("D", "D", "largest delay, M − 1 for AP", NONNEGATIVE_INTEGER, (0, 4))

# Convergence (MODEL.md §5).
L = Parameter("L", "L", "smoothness constant ||Γ_sym||_2", POSITIVE, (0.1, 100.0), log_scale=True)
G = Parameter("G", "G", "gradient bound sqrt(Σ G_m²)", POSITIVE, (0.1, 100.0), log_scale=True)
sigma = Parameter("sigma", r"\sigma", "standard deviation of the stochastic gradient (σ² = E||∇f(W;ξ) − ∇f(W)||²)", NONNEGATIVE, (0.0, 2.0))
Delta_0 = Parameter("Delta_0", r"\Delta_{0}", "f(W_0) − f*", POSITIVE, (0.01, 10.0), log_scale=True)
c_D = Parameter("c_D", "c_{D}", "delay constant of the gradient-delay lemma", NONNEGATIVE, (0.0, 100.0))
K = Parameter("K", "K", "number of updates", POSITIVE_INTEGER, (1, 10**6))
epsilon = Parameter("epsilon", r"\varepsilon", "target accuracy above the asymptotic floor", POSITIVE, (1e-4, 1.0), log_scale=True)
B = Parameter("B", "B", "micro-batches per mini-batch", POSITIVE_INTEGER, (1, 16))
J = Parameter("J", "J", "micro-batches in total", POSITIVE_INTEGER, (1, 1000))

SCALARS: dict[str, Parameter] = {
    p.name: p
    for p in (
        M, L_phi, S_phi, X, Y, L_ell, G_ell, tau, W_max, beta, q_max, G_max, gamma_up, gamma_down, exponent,
        alpha, D, L, G, sigma, Delta_0, c_D, K, epsilon, B, J,
    )
}
LAYERED: dict[str, LayerParameter] = {p.name: p for p in (omega, u_f, u_b, d_f, d_b)}

ASSUMPTIONS = (
    sp.StrictLessThan(W_max.symbol, tau.symbol),
    sp.StrictGreaterThan(beta.symbol, 0),
    sp.LessThan(beta.symbol, q_max.symbol),
    sp.GreaterThan(G_max.symbol, 0),
)
"""Relations between symbols that MODEL.md (version 2, §2) assumes for any response-function
device: W_max < τ, 0 < β ≤ q_max (a minimum is at most a maximum), G_max ≥ 0."""

ALD_ASSUMPTIONS = (
    sp.Eq(beta.symbol, 1 - W_max.symbol / tau.symbol),
    sp.Eq(q_max.symbol, 1 + W_max.symbol / tau.symbol),
    sp.Eq(G_max.symbol, W_max.symbol / tau.symbol),
)
"""The asymmetric linear device's constants (MODEL.md §2): β = 1 − W_max/τ, q_max = 1 + W_max/τ, G_max = W_max/τ."""


def parameter(name: str) -> Parameter:
    """The scalar parameter called `name`, or one layer of a per-layer one (`omega_2`)."""
    if name in SCALARS:
        return SCALARS[name]
    stem, _, index = name.rpartition("_")
    if stem in LAYERED and index.isdigit():
        return LAYERED[stem].at(int(index))
    raise KeyError(f"unknown symbol {name!r}")


def latex_of(name: str) -> str:
    """LaTeX of a symbol name (scalar or per-layer)."""
    return parameter(name).latex

"""The proof-step ledger: every step of MODEL.md's proof sketches (§4 lemmas, §5 theorems).

Each `Step` states one inequality or identity, names its justification, and says how it is
verified: `Symbolic` — sympy proves it here (theory.prover: an identity reduces to 0, or a
difference is shown nonnegative, possibly through a checked certificate), under
hypotheses encoded as parameterisations that cover exactly the constrained set; or
`Numerical` — the step is analytic (norms of vectors of any size, Lipschitz arguments), and
it names the CONTRACT.md lemma or theorem id and the quantities proofs_check must evaluate
on simulated networks. `verify_ledger()` gives every step 'proved', 'numerical' or
'unproved'; nothing is 'proved' unless sympy proved it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import sympy as sp

from theory import convergence as C
from theory.prover import PROVED, UNPROVED, Proof, Substitutions, all_proved, prove_identity, prove_inequality

NUMERICAL = "numerical"
STATUSES = (PROVED, NUMERICAL, UNPROVED)

JUSTIFICATIONS = (
    "triangle inequality",
    "Cauchy–Schwarz",
    "Young",
    "Lipschitz",
    "step-size condition",
    "telescoping",
    "choice of α",
    "algebra",
    "definition",
)

THEOREM_CHECKS = ("sync-convergence", "async-convergence")
"""CONTRACT.md theorem ids a numerical step may name (besides the registered lemma ids of
proofs_check, which the theory does not import; tests check every named id resolves)."""

alpha, beta, L, sigma, Delta_0, K, c_D, W_max, tau, B = (
    C.alpha, C.beta, C.L, C.sigma, C.Delta_0, C.K, C.c_D, C.W_max, C.tau, C.B,
)

# Proof-local quantities: norms (nonnegative reals), entries (reals), parameters of hypotheses (≥ 0).
grad_norm = sp.Symbol("grad_norm", nonnegative=True)
bias_norm = sp.Symbol("bias_norm", nonnegative=True)
noise_norm = sp.Symbol("noise_norm", nonnegative=True)
g, w = sp.symbols("g w", real=True)
x, y, z = sp.symbols("x y z", real=True)
p, q, r, h, a_param = sp.symbols("p q r h a", nonnegative=True)
u_pos, p_pos = sp.Symbol("u", positive=True), sp.Symbol("p", positive=True)
G_m = sp.Symbol("G_m", positive=True)
d = sp.Symbol("d", integer=True, nonnegative=True)
k = sp.Symbol("k", integer=True, nonnegative=True)
i = sp.Symbol("i", integer=True)
sigma_positive = sp.Symbol("sigma", positive=True)
f_expected = sp.Function("F")

saturation = sp.Symbol("W_inf", nonnegative=True)  # ||W||_inf
slope, slope_mixed = sp.symbols("phi_prime phi_prime_mixed", real=True)  # φ'(z)_i, φ'(z̃)_i
back, back_mixed = sp.symbols("v_i v_mixed_i", real=True)  # (W^T δ)_i, ((W^b)^T δ̃)_i
rows, columns = sp.symbols("n_out n_in", integer=True, positive=True)
weight, weight_forward = sp.MatrixSymbol("W", rows, columns), sp.MatrixSymbol("W_f", rows, columns)
weight_backward = sp.MatrixSymbol("W_b", rows, columns)
signal, signal_mixed = sp.MatrixSymbol("a", columns, 1), sp.MatrixSymbol("a_mixed", columns, 1)
error, error_mixed = sp.MatrixSymbol("delta", rows, 1), sp.MatrixSymbol("delta_mixed", rows, 1)

LATEX_NAMES = {
    grad_norm: r"\|\nabla f(W)\|",
    bias_norm: r"\|b\|",
    noise_norm: r"\|n\|",
    G_m: r"G_{m}",
    sigma_positive: r"\sigma",
    saturation: r"\|W\|_{\infty}",
    slope: r"\phi'(z)_i",
    slope_mixed: r"\phi'(\tilde z)_i",
    back: r"v_i",
    back_mixed: r"\tilde v_i",
    weight_forward: r"W^{f}",
    weight_backward: r"W^{b}",
    signal_mixed: r"\tilde a",
    error: r"\delta",
    error_mixed: r"\tilde\delta",
}


def _latex(expression: sp.Basic) -> str:
    return C.to_latex(expression, LATEX_NAMES)


def ald_update(weight: sp.Expr, gradient: sp.Expr) -> sp.Expr:
    """ALD update of one entry: w⁺ = w − αg − (α/τ)|g|w (MODEL.md §2)."""
    return weight - alpha * gradient - alpha / tau * sp.Abs(gradient) * weight


# ----------------------------------------------------------------------------- verification kinds


@dataclass(frozen=True)
class Identity:
    """left = right, proved when left − right reduces to 0 (after the substitutions)."""

    left: sp.Basic
    right: sp.Basic
    substitutions: Substitutions = ()

    def prove(self) -> Proof:
        return prove_identity(self.left, self.right, self.substitutions)

    @property
    def latex(self) -> str:
        return f"{_latex(self.left)} = {_latex(self.right)}"

    @property
    def text(self) -> str:
        return f"{sp.sstr(self.left)} = {sp.sstr(self.right)}"


@dataclass(frozen=True)
class Inequality:
    """smaller ≤ larger, proved when sympy shows larger − smaller ≥ 0 (after the substitutions,
    through the certificate when one is given)."""

    smaller: sp.Expr
    larger: sp.Expr
    substitutions: Substitutions = ()
    certificate: sp.Expr | None = None

    def prove(self) -> Proof:
        return prove_inequality(self.smaller, self.larger, self.substitutions, self.certificate)

    @property
    def relation(self) -> sp.Rel:
        return sp.Le(self.smaller, self.larger, evaluate=False)

    @property
    def latex(self) -> str:
        return f"{_latex(self.smaller)} \\le {_latex(self.larger)}"

    @property
    def text(self) -> str:
        return f"{sp.sstr(self.smaller)} ≤ {sp.sstr(self.larger)}"


@dataclass(frozen=True)
class Symbolic:
    """sympy proves every obligation; `hypotheses` says how the step's assumptions were encoded."""

    obligations: tuple[Identity | Inequality, ...]
    hypotheses: str = ""

    kind = "symbolic"

    def prove(self) -> Proof:
        return all_proved(obligation.prove() for obligation in self.obligations)


@dataclass(frozen=True)
class Numerical:
    """An analytic step, cross-checked numerically: `check` is the CONTRACT.md id, `quantities` what to evaluate."""

    check: str
    quantities: tuple[str, ...]

    kind = "numerical"


@dataclass(frozen=True)
class Step:
    """One step of a proof sketch: a statement, its justification, and how it is verified."""

    id: str
    section: str
    statement: str
    justification: str
    verification: Symbolic | Numerical
    latex_text: str = ""
    """LaTeX of the statement; symbolic steps default to their obligations."""

    def __post_init__(self) -> None:
        if self.justification not in JUSTIFICATIONS:
            raise ValueError(f"step {self.id}: justification {self.justification!r} not in {JUSTIFICATIONS}")

    @property
    def latex(self) -> str:
        if self.latex_text:
            return self.latex_text
        if isinstance(self.verification, Symbolic):
            shown = dict.fromkeys(obligation.latex for obligation in self.verification.obligations)
            return r",\quad ".join(shown)
        return self.statement

    @property
    def relations(self) -> tuple[sp.Basic, ...]:
        """The sympy relations a symbolic step proves (identities as Eq, inequalities as Le)."""
        if not isinstance(self.verification, Symbolic):
            return ()
        relations = []
        for obligation in self.verification.obligations:
            if isinstance(obligation, Inequality):
                relations.append(obligation.relation)
            elif not isinstance(obligation.left, sp.MatrixExpr):
                relations.append(sp.Eq(obligation.left, obligation.right, evaluate=False))
        return tuple(relations)


@dataclass(frozen=True)
class StepVerdict:
    """A step with its verification status ('proved' | 'numerical' | 'unproved') and how it was reached."""

    step: Step
    status: str
    detail: str

    def as_dict(self) -> dict:
        verification = self.step.verification
        record = {
            "id": self.step.id,
            "section": self.step.section,
            "statement": self.step.statement,
            "latex": self.step.latex,
            "justification": self.step.justification,
            "verification": verification.kind,
            "status": self.status,
            "detail": self.detail,
        }
        if isinstance(verification, Numerical):
            record["check"] = verification.check
            record["quantities"] = list(verification.quantities)
        else:
            record["hypotheses"] = verification.hypotheses
        return record


def verify_step(step: Step) -> StepVerdict:
    """Run a symbolic step's proof; a numerical step is reported as such with its check."""
    if isinstance(step.verification, Numerical):
        quantities = "; ".join(step.verification.quantities)
        return StepVerdict(step, NUMERICAL, f"checked numerically by '{step.verification.check}': {quantities}")
    proof = step.verification.prove()
    return StepVerdict(step, PROVED if proof.proved else UNPROVED, proof.method)


# ----------------------------------------------------------------------------- §4 lemmas


def _bounded_signal_steps() -> list[Step]:
    section = "§4 bounded signal"
    return [
        Step(
            "bounded-signal/forward",
            section,
            "||a_m|| = ||φ(W_m a_{m−1}) − φ(0)|| ≤ L_φ ||W_m||_2 ||a_{m−1}|| ≤ L_φ ω_m A_{m−1} = A_m; ||z_M|| ≤ ω_M A_{M−1} = Z_M",
            "Lipschitz",
            Numerical("bounded-signal", ("||a_m|| ≤ A_m", "||z_M|| ≤ Z_M")),
            r"\|a_m\| \le L_\phi \omega_m A_{m-1} = A_m,\quad \|z_M\| \le \omega_M A_{M-1} = Z_M",
        ),
        Step(
            "bounded-signal/backward",
            section,
            "||δ_M|| = ||∇_z ℓ|| ≤ G_ℓ; ||δ_m|| = ||φ'(z_m) ⊙ W_{m+1}^T δ_{m+1}|| ≤ L_φ ω_{m+1} Δ_{m+1} = Δ_m",
            "Lipschitz",
            Numerical("bounded-signal", ("||δ_M|| ≤ G_ℓ", "||δ_m|| ≤ Δ_m")),
            r"\|\delta_m\| \le L_\phi \omega_{m+1} \Delta_{m+1} = \Delta_m,\quad \|\delta_M\| \le G_\ell",
        ),
        Step(
            "bounded-signal/gradient",
            section,
            "||∇_{W_m} f||_F = ||δ_m a_{m−1}^T||_F = ||δ_m||·||a_{m−1}|| ≤ Δ_m A_{m−1} = G_m; ||∇f||_F² = Σ_m ||∇_{W_m} f||_F² ≤ G²",
            "definition",
            Numerical("bounded-signal", ("||∇_{W_m} f||_F ≤ G_m", "||∇f||_F ≤ G")),
            r"\|\nabla_{W_m} f\|_F = \|\delta_m\|\,\|a_{m-1}\| \le G_m,\quad \|\nabla f\|_F \le G",
        ),
    ]


def _signal_stability_steps() -> list[Step]:
    section = "§4 signal stability"
    return [
        Step(
            "signal-stability/forward-split",
            section,
            "W a − W^f ã = (W − W^f) ã + W (a − ã)",
            "algebra",
            Symbolic((Identity(weight * signal - weight_forward * signal_mixed, (weight - weight_forward) * signal_mixed + weight * (signal - signal_mixed)),)),
        ),
        Step(
            "signal-stability/forward-bound",
            section,
            "||z_m − z̃_m|| ≤ ||W_m − W^f_m||_2 ||ã_{m−1}|| + ||W_m||_2 ||a_{m−1} − ã_{m−1}|| ≤ A_{m−1} u^f_m + ω_m e_{m−1} = ζ_m",
            "triangle inequality",
            Numerical("signal-stability", ("||z_m − z̃_m|| ≤ ζ_m",)),
            r"\|z_m - \tilde z_m\| \le A_{m-1} u^f_m + \omega_m e_{m-1} = \zeta_m",
        ),
        Step(
            "signal-stability/activation",
            section,
            "||a_m − ã_m|| = ||φ(z_m) − φ(z̃_m)|| ≤ L_φ ζ_m = e_m",
            "Lipschitz",
            Numerical("signal-stability", ("||a_m − ã_m|| ≤ e_m",)),
            r"\|a_m - \tilde a_m\| \le L_\phi \zeta_m = e_m",
        ),
        Step(
            "signal-stability/backward-split",
            section,
            "per entry φ'(z)v − φ'(z̃)ṽ = (φ'(z) − φ'(z̃))v + φ'(z̃)(v − ṽ); W^T δ − (W^b)^T δ̃ = (W − W^b)^T δ + (W^b)^T (δ − δ̃)",
            "algebra",
            Symbolic(
                (
                    Identity(slope * back - slope_mixed * back_mixed, (slope - slope_mixed) * back + slope_mixed * (back - back_mixed)),
                    Identity(weight.T * error - weight_backward.T * error_mixed, (weight - weight_backward).T * error + weight_backward.T * (error - error_mixed)),
                )
            ),
        ),
        Step(
            "signal-stability/S_phi-product",
            section,
            "||(φ'(z_m) − φ'(z̃_m)) ⊙ W_{m+1}^T δ_{m+1}|| ≤ ||φ'(z_m) − φ'(z̃_m)||_inf ||W_{m+1}^T δ_{m+1}|| ≤ S_φ ζ_m ω_{m+1} Δ_{m+1}",
            "Lipschitz",
            Numerical("signal-stability", ("||(φ'(z_m) − φ'(z̃_m)) ⊙ W_{m+1}^T δ_{m+1}|| ≤ S_φ ω_{m+1} Δ_{m+1} ζ_m",)),
            r"\|(\phi'(z_m) - \phi'(\tilde z_m)) \odot W_{m+1}^T \delta_{m+1}\| \le S_\phi \omega_{m+1} \Delta_{m+1} \zeta_m",
        ),
        Step(
            "signal-stability/L_phi-bound",
            section,
            "||φ'(z̃_m) ⊙ (W_{m+1}^T δ_{m+1} − (W^b_{m+1})^T δ̃_{m+1})|| ≤ L_φ (Δ_{m+1} u^b_{m+1} + ω_{m+1} ε_{m+1}); with the S_φ product bound, ||δ_m − δ̃_m|| ≤ ε_m (ε_M = L_ℓ ζ_M)",
            "Lipschitz",
            Numerical("signal-stability", ("||δ_m − δ̃_m|| ≤ ε_m", "||δ_M − δ̃_M|| ≤ L_ℓ ζ_M")),
            r"\|\tilde\phi'_m \odot (W_{m+1}^T\delta_{m+1} - (W^b_{m+1})^T\tilde\delta_{m+1})\| \le L_\phi(\Delta_{m+1}u^b_{m+1} + \omega_{m+1}\varepsilon_{m+1}),\quad \|\delta_m - \tilde\delta_m\| \le \varepsilon_m",
        ),
        Step(
            "signal-stability/rank-one-split",
            section,
            "δ a^T − δ̃ ã^T = (δ − δ̃) a^T + δ̃ (a − ã)^T",
            "algebra",
            Symbolic((Identity(error * signal.T - error_mixed * signal_mixed.T, (error - error_mixed) * signal.T + error_mixed * (signal - signal_mixed).T),)),
        ),
        Step(
            "signal-stability/rank-one-bound",
            section,
            "||∇_{W_m} f(W) − g̃_m||_F ≤ ||δ_m − δ̃_m||·||a_{m−1}|| + ||δ̃_m||·||a_{m−1} − ã_{m−1}|| ≤ A_{m−1} ε_m + Δ_m e_{m−1} = γ_m",
            "triangle inequality",
            Numerical("signal-stability", ("||∇_{W_m} f(W) − g̃_m||_F ≤ γ_m",)),
            r"\|\nabla_{W_m} f(W) - \tilde g_m\|_F \le A_{m-1}\varepsilon_m + \Delta_m e_{m-1} = \gamma_m",
        ),
    ]


def _objective_smoothness_steps() -> list[Step]:
    section = "§4 objective smoothness"
    return [
        Step(
            "objective-smoothness/stability",
            section,
            "with u^f = u^b = u, u_m = ||W_m − W'_m||_F ≥ ||W_m − W'_m||_2: ||∇f(W;ξ) − ∇f(W';ξ)||_F ≤ ||γ|| = ||Γ_sym u||",
            "Lipschitz",
            Numerical("objective-smoothness", ("||∇f(W;ξ) − ∇f(W';ξ)||_F ≤ ||Γ_sym u||",)),
            r"\|\nabla f(W;\xi) - \nabla f(W';\xi)\|_F \le \|\Gamma_{\mathrm{sym}} u\|",
        ),
        Step(
            "objective-smoothness/operator-norm",
            section,
            "||Γ_sym u|| ≤ ||Γ_sym||_2 ||u|| = L ||W − W'||_F (||u||² = Σ_m ||W_m − W'_m||_F²)",
            "definition",
            Numerical("objective-smoothness", ("||Γ_sym u|| ≤ L ||W − W'||_F",)),
            r"\|\Gamma_{\mathrm{sym}} u\| \le \|\Gamma_{\mathrm{sym}}\|_2 \|u\| = L \|W - W'\|_F",
        ),
    ]


def _analog_increment_steps() -> list[Step]:
    section = "§4 analog increment"
    entry_change = g + sp.Abs(g) * w / tau
    entry_bound = (sp.Abs(g) * (1 + sp.Abs(w) / tau)) ** 2
    sign_cases = tuple(
        Inequality(entry_change**2, entry_bound, ((g, sign_g * p), (w, sign_w * q)))
        for sign_g in (1, -1)
        for sign_w in (1, -1)
    )
    return [
        Step(
            "analog-increment/update",
            section,
            "ALD: w⁺ − w = −α (g + |g| w/τ), so W⁺ − W = −α (g̃ + |g̃| ⊙ W/τ)",
            "definition",
            Symbolic((Identity(ald_update(w, g) - w, -alpha * entry_change),)),
            r"w^{+} - w = -\alpha\left(g + \frac{|g|\,w}{\tau}\right)",
        ),
        Step(
            "analog-increment/entrywise",
            section,
            "|g + |g| w/τ| ≤ |g| (1 + |w|/τ) for every entry (squared; four sign cases of g and w)",
            "algebra",
            Symbolic(sign_cases, "cases g = ±p, w = ±q with p, q ≥ 0"),
        ),
        Step(
            "analog-increment/saturation-factor",
            section,
            "1 + ||W||_inf/τ ≤ 2 when ||W||_inf ≤ W_max < τ",
            "algebra",
            Symbolic((Inequality(1 + saturation / tau, sp.Integer(2), ((saturation, tau * q / (1 + q)),)),), "||W||_inf = τ q/(1 + q), q ≥ 0, covers [0, τ)"),
        ),
        Step(
            "analog-increment",
            section,
            "||W^{(k+1)} − W^{(k)}||_F = α ||g̃ + |g̃| ⊙ W/τ||_F ≤ α (1 + ||W^{(k)}||_inf/τ) ||g̃_k||_F ≤ 2αG",
            "algebra",
            Numerical("analog-increment", ("||W^{(k+1)} − W^{(k)}||_F ≤ α (1 + ||W^{(k)}||_inf/τ) ||g̃_k||_F ≤ 2αG",)),
            r"\|W^{(k+1)} - W^{(k)}\|_F \le \alpha\left(1 + \tfrac{\|W^{(k)}\|_\infty}{\tau}\right)\|\tilde g_k\|_F \le 2\alpha G",
        ),
    ]


def _box_invariance_steps() -> list[Step]:
    section = "§4 box invariance"
    gradient = sp.Symbol("g", nonnegative=True)  # the case g ≥ 0; g < 0 by symmetry
    updated = ald_update(w, gradient)
    upper_slack = (tau - w) + alpha * gradient / tau * (tau + w)
    return [
        Step(
            "box-invariance/lower-identity",
            section,
            "for g ≥ 0: τ + w⁺ = (τ + w)(1 − αg/τ)",
            "algebra",
            Symbolic((Identity(tau + updated, (tau + w) * (1 - alpha * gradient / tau)),)),
            r"g \ge 0:\ \tau + w^{+} = (\tau + w)\left(1 - \frac{\alpha g}{\tau}\right)",
        ),
        Step(
            "box-invariance/upper-identity",
            section,
            "for g ≥ 0: τ − w⁺ = (τ − w) + (αg/τ)(τ + w)",
            "algebra",
            Symbolic((Identity(tau - updated, upper_slack),)),
            r"g \ge 0:\ \tau - w^{+} = (\tau - w) + \frac{\alpha g}{\tau}(\tau + w)",
        ),
        Step(
            "box-invariance/symmetry",
            section,
            "the ALD update is odd: w⁺(−w, −g) = −w⁺(w, g), so g < 0 mirrors g ≥ 0",
            "algebra",
            Symbolic((Identity(ald_update(-w, -g), -ald_update(w, g)),)),
            r"w^{+}(-w, -g) = -w^{+}(w, g),\quad w^{+}(w, g) = w - \alpha g - \frac{\alpha}{\tau}|g|\,w",
        ),
        Step(
            "box-invariance",
            section,
            "|w| ≤ τ and 0 ≤ αg ≤ τ ⇒ −τ ≤ w⁺ ≤ τ",
            "algebra",
            Symbolic(
                (
                    Inequality(-tau, updated, ((w, a_param - tau), (gradient, (tau - q) / alpha))),
                    Inequality(updated, tau, ((gradient, h / alpha), (w, (u_pos - p) / 2), (tau, (u_pos + p) / 2))),
                    Inequality(updated, tau, ((gradient, h / alpha), (w, (r - p_pos) / 2), (tau, (r + p_pos) / 2))),
                ),
                "lower: w = a − τ and αg = τ − q with a, q ≥ 0 (τ + w ≥ 0, αg ≤ τ); "
                "upper: αg = h ≥ 0 and τ + w, τ − w as u, p ≥ 0 with τ = (u + p)/2, in two cases (u > 0 or p > 0) covering |w| ≤ τ",
            ),
            r"|w| \le \tau,\ 0 \le \alpha g \le \tau \;\Rightarrow\; -\tau \le w^{+} \le \tau",
        ),
    ]


def _signal_delay_steps() -> list[Step]:
    section = "§4 signal delay"
    increment = alpha * (1 + W_max / tau) * G_m
    step_index = sp.Symbol("k", integer=True)
    return [
        Step(
            "signal-delay/path",
            section,
            "u^f_m = ||W_m^{(k)} − W_m^{(k−d)}||_2 ≤ Σ_{i=k−d}^{k−1} ||W_m^{(i+1)} − W_m^{(i)}||_F",
            "triangle inequality",
            Numerical("signal-delay", ("||W_m^{(k)} − W_m^{(k−d^f_m)}||_2 ≤ Σ_{i=k−d^f_m}^{k−1} ||W_m^{(i+1)} − W_m^{(i)}||_F",)),
            r"u^f_m \le \sum_{i=k-d^f_m}^{k-1}\|W_m^{(i+1)} - W_m^{(i)}\|_F",
        ),
        Step(
            "signal-delay/sum",
            section,
            "Σ_{i=k−d}^{k−1} α (1 + W_max/τ) G_m = α (1 + W_max/τ) G_m d (d increments of the analog-increment bound)",
            "algebra",
            Symbolic((Identity(sp.Sum(increment, (i, step_index - d, step_index - 1)), increment * d),)),
        ),
        Step(
            "signal-delay",
            section,
            "with u^f_m ≤ α (1 + W_max/τ) G_m d^f_m, the stale forward signals obey ||ã_m − a_m(W^{(k)})|| ≤ e_m",
            "Lipschitz",
            Numerical("signal-delay", ("u^f_m ≤ α (1 + W_max/τ) G_m d^f_m", "||ã_m − a_m(W^{(k)})|| ≤ e_m")),
            r"\|\tilde a_m - a_m(W^{(k)})\| \le e_m",
        ),
    ]


def _gradient_delay_steps() -> list[Step]:
    section = "§4 gradient delay"
    return [
        Step(
            "gradient-delay/stability",
            section,
            "||g̃_k − ∇f(W^{(k)}; ξ_k)||_F ≤ ||Γ (u^f, u^b)|| (signal stability with the versions read)",
            "Lipschitz",
            Numerical("gradient-delay", ("||g̃_k − ∇f(W^{(k)}; ξ_k)||_F ≤ ||Γ (u^f, u^b)||",)),
            r"\|\tilde g_k - \nabla f(W^{(k)};\xi_k)\|_F \le \|\Gamma(u^f, u^b)\|",
        ),
        Step(
            "gradient-delay",
            section,
            "Γ ≥ 0 entrywise and u ≤ α (1 + W_max/τ)(d^f ⊙ G_vec, d^b ⊙ G_vec), so ||Γ (u^f, u^b)|| ≤ α c_D",
            "algebra",
            Numerical("gradient-delay", ("||Γ (u^f, u^b)|| ≤ α c_D", "||g̃_k − ∇f(W^{(k)}; ξ_k)||_F ≤ α c_D")),
            r"\|\Gamma(u^f, u^b)\| \le \alpha c_D",
        ),
    ]


# ----------------------------------------------------------------------------- §5 theorems


def _convergence_steps() -> list[Step]:
    section = "§5 convergence"
    ratio = W_max / tau
    combined = 2 * bias_norm + sigma * ratio  # c = 2||b|| + σ W_max/τ
    step_size = ((beta, 24 * L * alpha + r),)  # α ≤ β/(24L) ⇔ β = 24Lα + r, r ≥ 0
    entry_change = g + sp.Abs(g) * w / tau
    update_norm_cases = tuple(
        Inequality(entry_change**2, 4 * g**2, ((g, sign_g * p), (w, sign_w * tau * q / (1 + q))))
        for sign_g in (1, -1)
        for sign_w in (1, -1)
    )
    descent_before = -alpha * (beta * grad_norm**2 - grad_norm * combined) + L / 2 * alpha**2 * 4 * 3 * (grad_norm**2 + sigma**2 + bias_norm**2)
    descent_after = -alpha * beta / 4 * grad_norm**2 + 6 * L * alpha**2 * sigma**2 + alpha * sigma**2 * W_max**2 / (beta * tau**2) + bias_norm**2 * (4 * alpha / beta + 6 * L * alpha**2)
    descent_certificate = alpha * (
        (beta / 4 - 6 * L * alpha) * grad_norm**2 + (beta * grad_norm - combined) ** 2 / (2 * beta) + (2 * bias_norm - sigma * ratio) ** 2 / (2 * beta)
    )
    per_update_rest = 6 * L * alpha**2 * sigma**2 + alpha * sigma**2 * W_max**2 / (beta * tau**2) + alpha**2 * c_D**2 * (4 * alpha / beta + 6 * L * alpha**2)
    return [
        Step(
            "convergence/descent-lemma",
            section,
            "f(W⁺) ≤ f(W) + ⟨∇f(W), W⁺ − W⟩ + (L/2) ||W⁺ − W||_F² (L-smoothness on the box)",
            "Lipschitz",
            Numerical("objective-smoothness", ("f(W^{(k+1)}) − f(W^{(k)}) − ⟨∇f(W^{(k)}), W^{(k+1)} − W^{(k)}⟩ ≤ (L/2) ||W^{(k+1)} − W^{(k)}||_F²",)),
            r"f(W^+) \le f(W) + \langle \nabla f(W), W^+ - W\rangle + \tfrac{L}{2}\|W^+ - W\|_F^2",
        ),
        Step(
            "convergence/inner-product",
            section,
            "with n = ∇f(W;ξ) − ∇f(W), b = g̃ − ∇f(W;ξ): ⟨∇f, g̃ + |g̃| ⊙ W/τ⟩ ≥ ||∇f||² + ⟨∇f, n⟩ − ||∇f||·||b|| − (W_max/τ) ||∇f|| (||∇f|| + ||n|| + ||b||)",
            "Cauchy–Schwarz",
            Numerical("async-convergence", ("⟨∇f(W), g̃ + |g̃| ⊙ W/τ⟩ ≥ ||∇f||² + ⟨∇f, n⟩ − ||∇f||·||b|| − (W_max/τ)||∇f||(||∇f|| + ||n|| + ||b||)",)),
            r"\langle \nabla f, \tilde g + |\tilde g| \odot W/\tau\rangle \ge \|\nabla f\|^2 + \langle\nabla f, n\rangle - \|\nabla f\|\|b\| - \tfrac{W_{\max}}{\tau}\|\nabla f\|(\|\nabla f\| + \|n\| + \|b\|)",
        ),
        Step(
            "convergence/inner-product-collect",
            section,
            "x² − x||b|| − (W_max/τ)(x² + x||n|| + x||b||) ≥ βx² − x(2||b|| + ||n|| W_max/τ), x = ||∇f||; in expectation (E⟨∇f, n⟩ = 0, E||n|| ≤ σ): E⟨∇f, g̃ + |g̃| ⊙ W/τ⟩ ≥ β||∇f||² − ||∇f||(2||b|| + σ W_max/τ)",
            "algebra",
            Symbolic(
                (
                    Inequality(
                        beta * grad_norm**2 - grad_norm * (2 * bias_norm + noise_norm * ratio),
                        grad_norm**2 - grad_norm * bias_norm - ratio * (grad_norm**2 + grad_norm * noise_norm + grad_norm * bias_norm),
                        ((W_max, tau * (1 - beta)),),
                    ),
                ),
                "β = 1 − W_max/τ > 0 entered as W_max = τ(1 − β)",
            ),
        ),
        Step(
            "convergence/young",
            section,
            "Young with weight β/2: x·c ≤ (β/2) x² + c²/(2β)",
            "Young",
            Symbolic((Inequality(x * y, beta / 2 * x**2 + y**2 / (2 * beta)),), "x, c real, β > 0"),
        ),
        Step(
            "convergence/square-split",
            section,
            "(2||b|| + σ W_max/τ)² ≤ 2 (4||b||² + σ² W_max²/τ²), i.e. (P + Q)² ≤ 2P² + 2Q²",
            "Cauchy–Schwarz",
            Symbolic((Inequality((x + y) ** 2, 2 * x**2 + 2 * y**2),), "P, Q real"),
        ),
        Step(
            "convergence/update-norm",
            section,
            "||g̃ + |g̃| ⊙ W/τ||² ≤ 4 ||g̃||²: per entry (g + |g| w/τ)² ≤ 4g² for |w| ≤ W_max < τ",
            "algebra",
            Symbolic(update_norm_cases, "cases g = ±p, w = ±τ q/(1 + q) with p, q ≥ 0 (covers |w| < τ)"),
        ),
        Step(
            "convergence/three-term-split",
            section,
            "(x + y + z)² ≤ 3 (x² + y² + z²)",
            "Cauchy–Schwarz",
            Symbolic((Inequality((x + y + z) ** 2, 3 * (x**2 + y**2 + z**2), certificate=(x - y) ** 2 + (y - z) ** 2 + (z - x) ** 2),), "x, y, z real; SOS certificate"),
        ),
        Step(
            "convergence/second-moment",
            section,
            "g̃ = ∇f + n + b, so E||g̃||² ≤ E(||∇f|| + ||n|| + ||b||)² ≤ 3 (||∇f||² + σ² + E||b||²)",
            "triangle inequality",
            Numerical("async-convergence", ("E||g̃_k||² ≤ 3 (||∇f(W^{(k)})||² + σ² + ||b_k||²)",)),
            r"\mathbb{E}\|\tilde g\|^2 \le 3\left(\|\nabla f\|^2 + \sigma^2 + \|b\|^2\right)",
        ),
        Step(
            "convergence/step-size",
            section,
            "α ≤ β/(24L) ⇒ 6Lα² ≤ αβ/4",
            "step-size condition",
            Symbolic((Inequality(6 * L * alpha**2, alpha * beta / 4, step_size),), "α ≤ β/(24L) entered as β = 24Lα + r, r ≥ 0"),
        ),
        Step(
            "convergence/one-step",
            section,
            "E f(W⁺) ≤ f(W) − (αβ/4)||∇f||² + 6Lα²σ² + ασ²W_max²/(βτ²) + ||b||²(4α/β + 6Lα²): the descent lemma with the bounds above, 6Lα²||∇f||² absorbed by the step-size condition",
            "algebra",
            Symbolic(
                (Inequality(descent_before, descent_after, step_size, descent_certificate),),
                "α ≤ β/(24L) entered as β = 24Lα + r, r ≥ 0; certificate α[(β/4 − 6Lα)x² + (βx − c)²/(2β) + (2||b|| − σW_max/τ)²/(2β)]",
            ),
            r"\mathbb{E}f(W^{+}) \le f(W) - \frac{\alpha\beta}{4}\|\nabla f\|^{2} + 6L\alpha^{2}\sigma^{2} + \frac{\alpha\sigma^{2}W_{\max}^{2}}{\beta\tau^{2}} + \|b\|^{2}\left(\frac{4\alpha}{\beta} + 6L\alpha^{2}\right)",
        ),
        Step(
            "convergence/delay-substitution",
            section,
            "||b_k|| ≤ α c_D (gradient delay) ⇒ ||b||²(4α/β + 6Lα²) ≤ α²c_D²(4α/β + 6Lα²)",
            "algebra",
            Symbolic(
                (Inequality(bias_norm**2 * (4 * alpha / beta + 6 * L * alpha**2), alpha**2 * c_D**2 * (4 * alpha / beta + 6 * L * alpha**2), ((c_D, (bias_norm + r) / alpha),)),),
                "||b|| ≤ αc_D entered as c_D = (||b|| + r)/α, r ≥ 0",
            ),
        ),
        Step(
            "convergence/telescoping",
            section,
            "Σ_{k<K} (E f(W^{(k)}) − E f(W^{(k+1)})) = f(W_0) − E f(W^{(K)}) ≤ f(W_0) − f* = Δ_0",
            "telescoping",
            Symbolic((Identity(sp.Sum(f_expected(k) - f_expected(k + 1), (k, 0, K - 1)), f_expected(0) - f_expected(K)),), "F(k) = E f(W^{(k)})"),
        ),
        Step(
            "convergence/average",
            section,
            "dividing Σ_k (αβ/4) E||∇f(W^{(k)})||² ≤ Δ_0 + K(6Lα²σ² + ασ²W_max²/(βτ²) + α²c_D²(4α/β + 6Lα²)) by αβK/4 gives the theorem's right side",
            "algebra",
            Symbolic((Identity(4 / (alpha * beta * K) * (Delta_0 + K * per_update_rest), C.async_convergence().rhs),)),
        ),
    ]


def _choice_of_alpha_steps() -> list[Step]:
    section = "§5 choice of α"
    variance = sigma_positive**2
    terms = C.async_terms()
    o_form = C.rate_o_form().subs(sigma, sigma_positive)
    square_root = C.sqrt_step_size(variance)
    beta_le_one = (beta, 1 / (1 + p))  # 0 < β ≤ 1
    large_k = ((sigma, sigma_positive), (K, 576 * L * Delta_0 * (1 + r) ** 2 / (beta**2 * variance)), beta_le_one)
    small_k = ((sigma, sigma_positive), (K, 576 * L * Delta_0 / (beta**2 * variance * (1 + r) ** 2)), beta_le_one)
    vanishing = C.vanishing_part(terms).subs(sigma, sigma_positive)
    at_sqrt = vanishing.subs(alpha, square_root)
    at_cap = vanishing.subs(alpha, C.step_size_bound())
    bound = C.RATE_CONSTANT * o_form
    return [
        Step(
            "choice-of-alpha/regimes",
            section,
            "α = min(β/(24L), sqrt(Δ_0/(Lσ²K))) is the sqrt branch for K ≥ 576LΔ_0/(β²σ²) and β/(24L) below",
            "choice of α",
            Symbolic(
                (Inequality(square_root, C.step_size_bound(), large_k[:2]), Inequality(C.step_size_bound(), square_root, small_k[:2])),
                "σ > 0; K = 576LΔ_0(1 + r)^{±2}/(β²σ²), r ≥ 0",
            ),
        ),
        Step(
            "choice-of-alpha/rate",
            section,
            "at the chosen α the vanishing part ≤ 96 (sqrt(LΔ_0σ²/K)/β + (LΔ_0 + c_D²Δ_0/(Lσ²))/(β²K)) in both regimes (SP/WOP: c_D = 0, σ² → σ²/B)",
            "choice of α",
            Symbolic(
                (Inequality(at_sqrt, bound, large_k), Inequality(at_cap, bound, small_k)),
                "σ > 0; 0 < β ≤ 1 as β = 1/(1 + p); each regime's K as in choice-of-alpha/regimes",
            ),
            r"\alpha = \min\left(\frac{\beta}{24L}, \sqrt{\frac{\Delta_{0}}{L\sigma^{2}K}}\right) \Rightarrow \text{vanishing part} \le 96\left(\frac{1}{\beta}\sqrt{\frac{L\Delta_{0}\sigma^{2}}{K}} + \frac{L\Delta_{0} + c_D^{2}\Delta_{0}/(L\sigma^{2})}{\beta^{2}K}\right)",
        ),
        Step(
            "choice-of-alpha/ratio-limit",
            section,
            "lim_{K→∞} (vanishing part at the chosen α)/(O-form) = 28: the O-form is the rate",
            "choice of α",
            Symbolic((Identity(sp.Limit(C.vanishing_part_at_chosen_step(terms, "sqrt-branch") / C.rate_o_form(), K, sp.oo), sp.Integer(28)),)),
            r"\lim_{K\to\infty}\frac{\text{vanishing part at the chosen }\alpha}{\text{O-form}} = 28",
        ),
    ]


def _synchronous_steps() -> list[Step]:
    section = "§5 SP and WOP"
    micro_batch = sp.Symbol("j", integer=True, positive=True)
    return [
        Step(
            "sync/independence",
            section,
            "E||(1/B) Σ_j n_j||² = (1/B²) Σ_j E||n_j||² for independent zero-mean micro-batch noises n_j",
            "definition",
            Numerical("sync-convergence", ("E||(1/B) Σ_j n_j||² ≤ σ²/B (mini-batch gradient noise)",)),
            r"\mathbb{E}\Big\|\tfrac{1}{B}\sum_{j=1}^{B} n_j\Big\|^2 = \tfrac{1}{B^2}\sum_{j=1}^{B}\mathbb{E}\|n_j\|^2",
        ),
        Step(
            "sync/variance-sum",
            section,
            "(1/B²) Σ_{j=1}^{B} σ² = σ²/B",
            "algebra",
            Symbolic((Identity(sp.Sum(sigma**2, (micro_batch, 1, B)) / B**2, sigma**2 / B),)),
        ),
        Step(
            "sync/theorem",
            section,
            "the SP/WOP right side is the AP right side with c_D = 0 and σ² → σ²/B",
            "algebra",
            Symbolic((Identity(C.sync_convergence().rhs, C.async_convergence().rhs.subs({c_D: 0, sigma: sigma / sp.sqrt(B)})),)),
            r"\mathrm{rhs}_{\mathrm{sync}} = \mathrm{rhs}_{\mathrm{async}}\big|_{c_D = 0,\ \sigma^{2} \to \sigma^{2}/B}",
        ),
    ]


def _digital_steps() -> list[Step]:
    section = "§5 digital SGD"
    with_beta = {beta: C.BETA_DEFINITION}
    return [
        Step(
            "digital/limit",
            section,
            "τ → ∞ (β → 1): the right side becomes digital SGD's, and the asymptotic floor vanishes",
            "algebra",
            Symbolic(
                (
                    Identity(sp.Limit(C.async_convergence().rhs.subs(with_beta), tau, sp.oo), 4 * Delta_0 / (alpha * K) + 24 * L * alpha * sigma**2 + alpha**2 * c_D**2 * (16 + 24 * L * alpha)),
                    Identity(sp.Limit(C.async_terms()["asymptotic_floor"].subs(with_beta), tau, sp.oo), sp.Integer(0)),
                    Identity(sp.Limit(C.sync_convergence().rhs.subs(with_beta), tau, sp.oo), 4 * Delta_0 / (alpha * K) + 24 * L * alpha * sigma**2 / B),
                ),
                "β = 1 − W_max/τ substituted, sympy.limit in τ",
            ),
            r"\lim_{\tau\to\infty}\mathrm{rhs}\big|_{\beta = 1 - W_{\max}/\tau} = \frac{4\Delta_{0}}{\alpha K} + 24L\alpha\sigma^{2} + \alpha^{2}c_D^{2}(16 + 24L\alpha),\quad \lim_{\tau\to\infty}\frac{4\sigma^{2}W_{\max}^{2}}{\beta^{2}\tau^{2}} = 0",
        ),
    ]


@lru_cache(maxsize=None)
def ledger() -> tuple[Step, ...]:
    """Every step of MODEL.md's proof sketches, §4 then §5."""
    return tuple(
        _bounded_signal_steps()
        + _signal_stability_steps()
        + _objective_smoothness_steps()
        + _analog_increment_steps()
        + _box_invariance_steps()
        + _signal_delay_steps()
        + _gradient_delay_steps()
        + _convergence_steps()
        + _choice_of_alpha_steps()
        + _synchronous_steps()
        + _digital_steps()
    )


@lru_cache(maxsize=None)
def _verified_ledger() -> tuple[StepVerdict, ...]:
    return tuple(verify_step(step) for step in ledger())


def verify_ledger(steps: Sequence[Step] | None = None) -> tuple[StepVerdict, ...]:
    """Verify every step (default: the whole ledger): 'proved' | 'numerical' | 'unproved' each."""
    if steps is None:
        return _verified_ledger()
    return tuple(verify_step(step) for step in steps)

"""The proof-step ledger: every step of MODEL.md's proof sketches (§2 device constants, §4
lemmas, §5 theorems, version 2), each with one honest status.

- `proved`: an inequality (or a case analysis of them) that follows from its stated
  hypotheses and the symbols' domains alone; z3 decides it (theory.prover.decide:
  hypotheses ∧ ¬claim is unsat). No substitution is chosen by hand.
- `identity`: an algebraic rewriting (an expansion, a sum, a limit, a substitution
  instance), checked by sympy simplifying the difference to 0; reported as such, not as
  proved.
- `numerical`: an analytic step (norms of vectors of any size, Lipschitz arguments,
  expectations) that names the CONTRACT.md lemma or theorem id whose check samples it.
- `unproved`: anything else — z3 refuted it (`sat`, with a counterexample), answered
  `unknown`, timed out, or the hypotheses were inconsistent; or sympy could not reduce an
  identity.

The §5 chains are built twice from the same step shapes: the asynchronous one with the
delay bias (||b|| ≤ α c_D) and variance σ², and the synchronous one with no bias and
variance σ²/B, each ending in an identity with its theorem's stated right side. Neither is
derived from the other. `mutants()` are deliberately false versions of several steps;
z3 must refute each (tests/theory/test_ledger.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import sympy as sp

from theory import convergence as C
from theory import symbols as S
from theory.prover import DEFAULT_TIMEOUT_MS, IDENTITY, PROVED, UNPROVED, Proof, check_identity, combine, decide

NUMERICAL = "numerical"
STATUSES = (PROVED, IDENTITY, NUMERICAL, UNPROVED)

JUSTIFICATIONS = (
    "triangle inequality",
    "Cauchy–Schwarz",
    "Young",
    "Jensen",
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

alpha, beta, q_max, G_max, L, sigma, Delta_0, K, c_D, W_max, tau, B = (
    C.alpha, C.beta, C.q_max, C.G_max, C.L, C.sigma, C.Delta_0, C.K, C.c_D, C.W_max, C.tau, C.B,
)

# Proof-local quantities. Norms and their expectations are nonnegative reals; entries of
# vectors and expectations of signed quantities are reals.
grad_norm = sp.Symbol("x", nonnegative=True)  # ||∇f(W)||
bias_norm = sp.Symbol("b_norm", nonnegative=True)  # ||b|| (sure bound ≤ α c_D)
mean_noise_norm = sp.Symbol("n_mean", nonnegative=True)  # E||n||
mean_noise_square = sp.Symbol("n_sq", nonnegative=True)  # E||n||²
mean_bias_norm = sp.Symbol("b_mean", nonnegative=True)  # E||b||
mean_bias_square = sp.Symbol("b_sq", nonnegative=True)  # E||b||²
mean_gradient_square = sp.Symbol("g_sq", nonnegative=True)  # E||g̃||²
mean_update_square = sp.Symbol("p_sq", nonnegative=True)  # E||p||²
inner = sp.Symbol("I", real=True)  # E⟨∇f, p⟩
middle = sp.Symbol("Z", real=True)  # E Σ F_i ∇f_i n_i
descent = sp.Symbol("D", real=True)  # E f(W⁺) − f(W)
rest = sp.Symbol("R", real=True)  # the per-update remainder of the one-step bound
sum_squares = sp.Symbol("S", nonnegative=True)  # Σ_{k<K} E||∇f(W^{(k)})||²
telescoped = sp.Symbol("T", real=True)  # Σ_{k<K} (E f(W^{(k)}) − E f(W^{(k+1)}))
f_first, f_last, f_star = sp.symbols("f_0 f_K f_star", real=True)  # f(W_0), E f(W^{(K)}), inf f
entry_grad, entry_noise, entry_bias = sp.symbols("d n b", real=True)  # ∇f_i, n_i, b_i
entry_F, entry_G = sp.symbols("F G", real=True)  # F(w_i), G(w_i)
q_up, q_down = sp.symbols("q_up q_down", positive=True)  # q₊(w_i), q₋(w_i)
g, w = sp.symbols("g w", real=True)
u, v, z = sp.symbols("u v z", real=True)
saturation = sp.Symbol("W_inf", nonnegative=True)  # ||W||_inf
sqrt_rate = sp.Symbol("s", nonnegative=True)  # sqrt(LΔ_0σ²/K)
cube_rate = sp.Symbol("t", nonnegative=True)  # (q_max c_D Δ_0/(β²K))^{1/3}
coefficient_a, coefficient_b, coefficient_c = sp.symbols("a_K b_K c_K", nonnegative=True)
root_K = sp.Symbol("sqrt_K", positive=True)  # K^{1/2}
cube_root_K = sp.Symbol("cbrt_K", positive=True)  # K^{1/3}
G_m = sp.Symbol("G_m", positive=True)
d = sp.Symbol("d_delay", integer=True, nonnegative=True)
k = sp.Symbol("k", integer=True, nonnegative=True)
i = sp.Symbol("i", integer=True)
f_expected = sp.Function("F_E")

slope, slope_mixed = sp.symbols("phi_prime phi_prime_mixed", real=True)  # φ'(z)_i, φ'(z̃)_i
back, back_mixed = sp.symbols("v_i v_mixed_i", real=True)  # (W^T δ)_i, ((W^b)^T δ̃)_i
rows, columns = sp.symbols("n_out n_in", integer=True, positive=True)
weight, weight_forward = sp.MatrixSymbol("W", rows, columns), sp.MatrixSymbol("W_f", rows, columns)
weight_backward = sp.MatrixSymbol("W_b", rows, columns)
signal, signal_mixed = sp.MatrixSymbol("a", columns, 1), sp.MatrixSymbol("a_mixed", columns, 1)
error, error_mixed = sp.MatrixSymbol("delta", rows, 1), sp.MatrixSymbol("delta_mixed", rows, 1)

LATEX_NAMES = {
    grad_norm: r"\|\nabla f\|",
    bias_norm: r"\|b\|",
    mean_noise_norm: r"\mathbb{E}\|n\|",
    mean_noise_square: r"\mathbb{E}\|n\|^{2}",
    mean_bias_norm: r"\mathbb{E}\|b\|",
    mean_bias_square: r"\mathbb{E}\|b\|^{2}",
    mean_gradient_square: r"\mathbb{E}\|\tilde g\|^{2}",
    mean_update_square: r"\mathbb{E}\|p\|^{2}",
    inner: r"\mathbb{E}\langle\nabla f, p\rangle",
    middle: r"\mathbb{E}\textstyle\sum_i F_i \nabla f_i n_i",
    descent: r"\mathbb{E}f(W^{+}) - f(W)",
    sum_squares: r"\textstyle\sum_{k<K}\mathbb{E}\|\nabla f(W^{(k)})\|^{2}",
    telescoped: r"\textstyle\sum_{k<K}(\mathbb{E}f(W^{(k)}) - \mathbb{E}f(W^{(k+1)}))",
    f_first: r"f(W_0)",
    f_last: r"\mathbb{E}f(W^{(K)})",
    f_star: r"f^{*}",
    entry_grad: r"\nabla f_i",
    entry_noise: r"n_i",
    entry_bias: r"b_i",
    entry_F: r"F_i",
    entry_G: r"G_i",
    q_up: r"q_{+}",
    q_down: r"q_{-}",
    saturation: r"\|W\|_{\infty}",
    sqrt_rate: r"s",
    cube_rate: r"t",
    root_K: r"\sqrt{K}",
    cube_root_K: r"K^{1/3}",
    G_m: r"G_{m}",
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


def response_update(gradient: sp.Expr, F: sp.Expr = entry_F, G: sp.Expr = entry_G) -> sp.Expr:
    """p_i = g F + |g| G, the response-function update direction of one entry (W⁺ = W − α p)."""
    return gradient * F + sp.Abs(gradient) * G


def le(smaller: sp.Expr, larger: sp.Expr) -> sp.Rel:
    return sp.Le(smaller, larger, evaluate=False)


def ge(larger: sp.Expr, smaller: sp.Expr) -> sp.Rel:
    return sp.Ge(larger, smaller, evaluate=False)


def eq(left: sp.Expr, right: sp.Expr) -> sp.Rel:
    return sp.Eq(left, right, evaluate=False)


# ----------------------------------------------------------------------------- verification kinds


@dataclass(frozen=True)
class Hypothesis:
    """One hypothesis of a decided step: its text and its sympy relation."""

    text: str
    relation: sp.Basic

    @property
    def latex(self) -> str:
        return _latex(self.relation)


@dataclass(frozen=True)
class Implication:
    """hypotheses ⇒ claim, decided by z3 (with the domains of the symbols)."""

    claim: sp.Basic
    hypotheses: tuple[Hypothesis, ...] = ()

    def prove(self, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> Proof:
        return decide(self.claim, [hypothesis.relation for hypothesis in self.hypotheses], timeout_ms=timeout_ms)

    def without(self, *texts: str) -> "Implication":
        """The same claim with the named hypotheses dropped (to show that they matter)."""
        return Implication(self.claim, tuple(hypothesis for hypothesis in self.hypotheses if hypothesis.text not in texts))

    @property
    def latex(self) -> str:
        claim = _latex(self.claim)
        if not self.hypotheses:
            return claim
        return r",\ ".join(hypothesis.latex for hypothesis in self.hypotheses) + r"\;\Rightarrow\;" + claim

    @property
    def text(self) -> str:
        claim = sp.sstr(self.claim)
        if not self.hypotheses:
            return claim
        return " ∧ ".join(sp.sstr(hypothesis.relation) for hypothesis in self.hypotheses) + " ⇒ " + claim


@dataclass(frozen=True)
class Decided:
    """Inequalities z3 must prove from their hypotheses (several obligations: cases, or parts)."""

    obligations: tuple[Implication, ...]

    kind = "z3"

    def prove(self, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> Proof:
        return combine((obligation.prove(timeout_ms) for obligation in self.obligations), PROVED)

    @property
    def hypotheses(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(hypothesis.text for obligation in self.obligations for hypothesis in obligation.hypotheses))


@dataclass(frozen=True)
class Identity:
    """left = right, an algebraic rewriting checked by sympy."""

    left: sp.Basic
    right: sp.Basic

    def prove(self) -> Proof:
        return check_identity(self.left, self.right)

    @property
    def latex(self) -> str:
        return f"{_latex(self.left)} = {_latex(self.right)}"

    @property
    def text(self) -> str:
        return f"{sp.sstr(self.left)} = {sp.sstr(self.right)}"


@dataclass(frozen=True)
class Algebraic:
    """Identities sympy must reduce to 0."""

    identities: tuple[Identity, ...]

    kind = "identity"

    def prove(self) -> Proof:
        return combine((identity.prove() for identity in self.identities), IDENTITY)


@dataclass(frozen=True)
class Numerical:
    """An analytic step, cross-checked numerically: `check` is the CONTRACT.md id, `quantities` what to evaluate."""

    check: str
    quantities: tuple[str, ...]

    kind = "numerical"


@dataclass(frozen=True)
class Step:
    """One step of a proof sketch: a statement, its justification, how it is verified, and the steps it uses."""

    id: str
    section: str
    statement: str
    justification: str
    verification: Decided | Algebraic | Numerical
    latex_text: str = ""
    """LaTeX of the statement; decided and algebraic steps default to their obligations."""
    uses: tuple[str, ...] = ()
    """Ids of earlier steps whose conclusions this step's hypotheses are."""

    def __post_init__(self) -> None:
        if self.justification not in JUSTIFICATIONS:
            raise ValueError(f"step {self.id}: justification {self.justification!r} not in {JUSTIFICATIONS}")

    @property
    def latex(self) -> str:
        if self.latex_text:
            return self.latex_text
        if isinstance(self.verification, Decided):
            return r",\quad ".join(dict.fromkeys(obligation.latex for obligation in self.verification.obligations))
        if isinstance(self.verification, Algebraic):
            return r",\quad ".join(dict.fromkeys(identity.latex for identity in self.verification.identities))
        return self.statement

    @property
    def relations(self) -> tuple[sp.Basic, ...]:
        """The sympy claims of a decided step, and the scalar identities of an algebraic one (as Eq)."""
        if isinstance(self.verification, Decided):
            return tuple(obligation.claim for obligation in self.verification.obligations)
        if isinstance(self.verification, Algebraic):
            return tuple(eq(identity.left, identity.right) for identity in self.verification.identities if not isinstance(identity.left, sp.MatrixExpr))
        return ()


@dataclass(frozen=True)
class StepVerdict:
    """A step with its status ('proved' | 'identity' | 'numerical' | 'unproved') and how it was reached."""

    step: Step
    status: str
    detail: str
    proof: Proof | None = None

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
            "uses": list(self.step.uses),
        }
        if isinstance(verification, Numerical):
            record["check"] = verification.check
            record["quantities"] = list(verification.quantities)
        elif isinstance(verification, Decided):
            record["hypotheses"] = list(verification.hypotheses)
            record["obligations"] = [obligation.text for obligation in verification.obligations]
        else:
            record["identities"] = [identity.text for identity in verification.identities]
        if self.proof is not None:
            record["seconds"] = round(self.proof.seconds, 4)
            if verification.kind == "z3":
                record["z3"] = self.proof.outcome
                record["domains"] = list(self.proof.domains)
            if self.proof.counterexample is not None:
                record["counterexample"] = dict(self.proof.counterexample)
        return record


def verify_step(step: Step, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> StepVerdict:
    """Decide a z3 step, check an algebraic one; a numerical step is reported with its check."""
    verification = step.verification
    if isinstance(verification, Numerical):
        quantities = "; ".join(verification.quantities)
        return StepVerdict(step, NUMERICAL, f"checked numerically by '{verification.check}': {quantities}")
    proof = verification.prove(timeout_ms) if isinstance(verification, Decided) else verification.prove()
    return StepVerdict(step, proof.status, proof.method, proof)


def _hyp(text: str, relation: sp.Basic) -> Hypothesis:
    return Hypothesis(text, relation)


_TEXT_NAMES = {"x": "||∇f||", "alpha": "α", "beta": "β", "sigma": "σ", "Delta_0": "Δ_0"}


def _text(expression: sp.Expr) -> str:
    """A short plain-text form of a proof-local expression for hypothesis texts."""
    text = sp.sstr(expression)
    for name, shown in _TEXT_NAMES.items():
        text = re.sub(rf"\b{name}\b", shown, text)
    return text


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
            Algebraic((Identity(weight * signal - weight_forward * signal_mixed, (weight - weight_forward) * signal_mixed + weight * (signal - signal_mixed)),)),
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
            Algebraic(
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
            Algebraic((Identity(error * signal.T - error_mixed * signal_mixed.T, (error - error_mixed) * signal.T + error_mixed * (signal - signal_mixed).T),)),
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
    device = (
        _hyp("F − |G| = min(q₊, q₋) ≥ β (device/min-max, A4)", ge(entry_F - sp.Abs(entry_G), beta)),
        _hyp("F + |G| = max(q₊, q₋) ≤ q_max (device/min-max, A4)", le(entry_F + sp.Abs(entry_G), q_max)),
    )
    return [
        Step(
            "analog-increment/update",
            section,
            "ALD: w⁺ − w = −α (g + |g| w/τ), the response-function update with F = 1, G = w/τ",
            "definition",
            Algebraic((Identity(ald_update(w, g) - w, -alpha * entry_change), Identity(response_update(g, 1, w / tau), entry_change))),
            r"w^{+} - w = -\alpha\left(g + \frac{|g|\,w}{\tau}\right) = -\alpha\,(g F + |g| G)\big|_{F = 1,\ G = w/\tau}",
        ),
        Step(
            "analog-increment/entrywise",
            section,
            "ALD: |g + |g| w/τ| ≤ |g| (1 + |w|/τ) for every entry",
            "triangle inequality",
            Decided((Implication(le(sp.Abs(entry_change), sp.Abs(g) * (1 + sp.Abs(w) / tau))),)),
        ),
        Step(
            "analog-increment/response-entrywise",
            section,
            "any response-function device: |g F + |g| G| ≤ |g| (F + |G|) ≤ q_max |g| for every entry",
            "triangle inequality",
            Decided((Implication(le(sp.Abs(response_update(g)), q_max * sp.Abs(g)), device),)),
            uses=("device/min-max",),
        ),
        Step(
            "analog-increment/saturation-factor",
            section,
            "1 + ||W||_inf/τ ≤ 2 when ||W||_inf ≤ W_max < τ",
            "algebra",
            Decided((Implication(le(1 + saturation / tau, 2), (_hyp("||W||_inf ≤ W_max", le(saturation, W_max)), _hyp("W_max < τ", sp.StrictLessThan(W_max, tau)))),)),
        ),
        Step(
            "analog-increment",
            section,
            "||W^{(k+1)} − W^{(k)}||_F ≤ α q_max ||g̃_k||_F (ALD: α (1 + ||W^{(k)}||_inf/τ) ||g̃_k||_F ≤ 2αG)",
            "algebra",
            Numerical("analog-increment", ("||W^{(k+1)} − W^{(k)}||_F ≤ α (1 + ||W^{(k)}||_inf/τ) ||g̃_k||_F ≤ 2αG",)),
            r"\|W^{(k+1)} - W^{(k)}\|_F \le \alpha q_{\max}\|\tilde g_k\|_F,\quad \text{ALD: } \alpha\left(1 + \tfrac{\|W^{(k)}\|_\infty}{\tau}\right)\|\tilde g_k\|_F \le 2\alpha G",
            uses=("analog-increment/entrywise", "analog-increment/response-entrywise", "analog-increment/saturation-factor"),
        ),
    ]


def _box_invariance_steps() -> list[Step]:
    section = "§4 box invariance"
    gradient = sp.Symbol("g_plus", nonnegative=True)  # the case g ≥ 0 of the identities
    updated = ald_update(w, gradient)
    upper_slack = (tau - w) + alpha * gradient / tau * (tau + w)
    box = (
        _hyp("|w| ≤ τ", le(sp.Abs(w), tau)),
        _hyp("α|g| ≤ τ", le(alpha * sp.Abs(g), tau)),
    )
    return [
        Step(
            "box-invariance/lower-identity",
            section,
            "for g ≥ 0: τ + w⁺ = (τ + w)(1 − αg/τ)",
            "algebra",
            Algebraic((Identity(tau + updated, (tau + w) * (1 - alpha * gradient / tau)),)),
            r"g \ge 0:\ \tau + w^{+} = (\tau + w)\left(1 - \frac{\alpha g}{\tau}\right)",
        ),
        Step(
            "box-invariance/upper-identity",
            section,
            "for g ≥ 0: τ − w⁺ = (τ − w) + (αg/τ)(τ + w)",
            "algebra",
            Algebraic((Identity(tau - updated, upper_slack),)),
            r"g \ge 0:\ \tau - w^{+} = (\tau - w) + \frac{\alpha g}{\tau}(\tau + w)",
        ),
        Step(
            "box-invariance/symmetry",
            section,
            "the ALD update is odd: w⁺(−w, −g) = −w⁺(w, g), so g < 0 mirrors g ≥ 0",
            "algebra",
            Algebraic((Identity(ald_update(-w, -g), -ald_update(w, g)),)),
            r"w^{+}(-w, -g) = -w^{+}(w, g),\quad w^{+}(w, g) = w - \alpha g - \frac{\alpha}{\tau}|g|\,w",
        ),
        Step(
            "box-invariance",
            section,
            "|w| ≤ τ and α|g| ≤ τ ⇒ |w⁺| ≤ τ for the ALD update (every sign of g and w)",
            "algebra",
            Decided((Implication(le(sp.Abs(ald_update(w, g)), tau), box),)),
            r"|w| \le \tau,\ \alpha|g| \le \tau \;\Rightarrow\; \left|w - \alpha g - \tfrac{\alpha}{\tau}|g|\,w\right| \le \tau",
        ),
    ]


def _signal_delay_steps() -> list[Step]:
    section = "§4 signal delay"
    increment = alpha * q_max * G_m
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
            "Σ_{i=k−d}^{k−1} α q_max G_m = α q_max G_m d (d increments of the analog-increment bound)",
            "algebra",
            Algebraic((Identity(sp.Sum(increment, (i, step_index - d, step_index - 1)), increment * d),)),
        ),
        Step(
            "signal-delay",
            section,
            "with u^f_m ≤ α q_max G_m d^f_m, the stale forward signals obey ||ã_m − a_m(W^{(k)})|| ≤ e_m",
            "Lipschitz",
            Numerical("signal-delay", ("u^f_m ≤ α q_max G_m d^f_m (ALD: q_max = 1 + W_max/τ)", "||ã_m − a_m(W^{(k)})|| ≤ e_m")),
            r"\|\tilde a_m - a_m(W^{(k)})\| \le e_m",
            uses=("signal-delay/path", "signal-delay/sum", "analog-increment"),
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
            "Γ ≥ 0 entrywise and u ≤ α q_max (d^f ⊙ G_vec, d^b ⊙ G_vec) (A3: applied gradients bounded), so ||Γ (u^f, u^b)|| ≤ α c_D",
            "algebra",
            Numerical("gradient-delay", ("||Γ (u^f, u^b)|| ≤ α c_D", "||g̃_k − ∇f(W^{(k)}; ξ_k)||_F ≤ α c_D")),
            r"\|\Gamma(u^f, u^b)\| \le \alpha c_D",
            uses=("gradient-delay/stability", "signal-delay"),
        ),
    ]


# ----------------------------------------------------------------------------- §2 device constants


def _device_steps() -> list[Step]:
    section = "§2 device constants"
    F = (q_up + q_down) / 2
    G = (q_down - q_up) / 2
    box = (_hyp("|w| ≤ W_max", le(sp.Abs(w), W_max)), _hyp("W_max < τ", sp.StrictLessThan(W_max, tau)))
    ald_up, ald_down = 1 - w / tau, 1 + w / tau
    ald = C.ALD_CONSTANTS
    return [
        Step(
            "device/min-max",
            section,
            "with F = (q₊ + q₋)/2 and G = (q₋ − q₊)/2 per entry: F − |G| = min(q₊, q₋) and F + |G| = max(q₊, q₋)",
            "algebra",
            Decided((Implication(eq(F - sp.Abs(G), sp.Min(q_up, q_down))), Implication(eq(F + sp.Abs(G), sp.Max(q_up, q_down))))),
        ),
        Step(
            "device/ald-constants",
            section,
            "ALD (q₊ = 1 − w/τ, q₋ = 1 + w/τ) on |w| ≤ W_max < τ: min(q₊, q₋) ≥ 1 − W_max/τ = β, max(q₊, q₋) ≤ 1 + W_max/τ = q_max, |G| = |w|/τ ≤ W_max/τ = G_max",
            "algebra",
            Decided(
                (
                    Implication(ge(sp.Min(ald_up, ald_down), ald.beta), box),
                    Implication(le(sp.Max(ald_up, ald_down), ald.q_max), box),
                    Implication(le(sp.Abs((ald_down - ald_up) / 2), ald.G_max), box),
                )
            ),
        ),
        Step(
            "device/ald-step-size",
            section,
            "ALD: q_max = 1 + W_max/τ ≤ 2, so α ≤ β/(24L) implies the theorems' α ≤ β/(6 L q_max²)",
            "step-size condition",
            Decided(
                (
                    Implication(le(ald.q_max, 2), box[1:]),
                    Implication(le(alpha, beta / (6 * L * ald.q_max**2)), (box[1], _hyp("α ≤ β/(24L)", le(alpha, beta / (24 * L))))),
                )
            ),
            uses=("device/ald-constants",),
        ),
        Step(
            "device/ald-worst-case",
            section,
            "with ALD's q_max ≤ 2 and G_max = W_max/τ the right side becomes MODEL.md's familiar ALD form, and β/(6Lq_max²) becomes β/(24L) (the chain uses q_max only as an upper bound, so 2 may stand for it)",
            "algebra",
            Algebraic(
                (
                    Identity(C.ald_worst_case(C.async_convergence().rhs), C.total(C.ald_familiar_terms())),
                    Identity(C.ald_worst_case(C.sync_convergence().rhs), C.total(C.ald_familiar_terms(0, sigma**2 / B))),
                    Identity(C.ald_worst_case(C.step_size_bound()), beta / (24 * L)),
                )
            ),
        ),
        Step(
            "device/ald-digital-limit",
            section,
            "as τ → ∞ ALD's constants become digital SGD's: β → 1, q_max → 1, G_max → 0",
            "algebra",
            Algebraic(
                (
                    Identity(sp.Limit(ald.beta, tau, sp.oo), sp.Integer(1)),
                    Identity(sp.Limit(ald.q_max, tau, sp.oo), sp.Integer(1)),
                    Identity(sp.Limit(ald.G_max, tau, sp.oo), sp.Integer(0)),
                )
            ),
        ),
    ]


# ----------------------------------------------------------------------------- §5 shared steps


STEP_SIZE = _hyp("α ≤ β/(6 L q_max²) (step-size condition)", C.step_size_condition())


def _entry_device() -> tuple[Hypothesis, ...]:
    return (
        _hyp("F − |G| = min(q₊, q₋) ≥ β (device/min-max, A4)", ge(entry_F - sp.Abs(entry_G), beta)),
        _hyp("F + |G| = max(q₊, q₋) ≤ q_max (device/min-max, A4)", le(entry_F + sp.Abs(entry_G), q_max)),
        _hyp("|G| ≤ G_max (A4)", le(sp.Abs(entry_G), G_max)),
    )


def _shared_convergence_steps() -> list[Step]:
    section = "§5 convergence (shared steps)"
    device = _entry_device()
    entry_gradient = entry_grad + entry_noise + entry_bias  # g̃_i = ∇f_i + n_i + b_i
    entry_inner = entry_grad * response_update(entry_gradient)
    entry_lower = beta * entry_grad**2 + entry_F * entry_grad * entry_noise - q_max * sp.Abs(entry_grad) * sp.Abs(entry_bias) - G_max * sp.Abs(entry_grad) * sp.Abs(entry_noise)
    young_weight = sp.Symbol("y", real=True)
    return [
        Step(
            "convergence/descent-lemma",
            section,
            "(1) f(W⁺) ≤ f(W) + ⟨∇f(W), W⁺ − W⟩ + (L/2) ||W⁺ − W||_F² (A1), so with W⁺ = W − αp: E f(W⁺) ≤ f(W) − α E⟨∇f, p⟩ + (L/2) α² E||p||²",
            "Lipschitz",
            Numerical("objective-smoothness", ("f(W^{(k+1)}) − f(W^{(k)}) − ⟨∇f(W^{(k)}), W^{(k+1)} − W^{(k)}⟩ ≤ (L/2) ||W^{(k+1)} − W^{(k)}||_F²",)),
            r"f(W^+) \le f(W) + \langle \nabla f(W), W^+ - W\rangle + \tfrac{L}{2}\|W^+ - W\|_F^2",
        ),
        Step(
            "convergence/entry-inner-product",
            section,
            "(2) per entry, with g̃_i = ∇f_i + n_i + b_i and p_i = g̃_i F_i + |g̃_i| G_i: ∇f_i p_i ≥ β ∇f_i² + F_i ∇f_i n_i − q_max |∇f_i||b_i| − G_max |∇f_i||n_i|",
            "algebra",
            Decided((Implication(ge(entry_inner, entry_lower), device),)),
            uses=("device/min-max",),
        ),
        Step(
            "convergence/inner-product",
            section,
            "(2) summing the entries, Cauchy–Schwarz: ⟨∇f, p⟩ ≥ β||∇f||² + Σ_i F_i ∇f_i n_i − q_max ||∇f||·||b|| − G_max ||∇f||·||n|| (ALD: F = 1, G = W/τ)",
            "Cauchy–Schwarz",
            Numerical("async-convergence", ("||∇f||² + ⟨∇f, n⟩ − ⟨∇f, g̃ + |g̃| ⊙ W/τ⟩ ≤ ||∇f||·||b|| + (W_max/τ)||∇f||(||∇f|| + ||n|| + ||b||) (ALD: β = 1 − W_max/τ, q_max = 1 + W_max/τ, G_max = W_max/τ)",)),
            r"\langle \nabla f, p\rangle \ge \beta\|\nabla f\|^2 + \textstyle\sum_i F_i \nabla f_i n_i - q_{\max}\|\nabla f\|\|b\| - G_{\max}\|\nabla f\|\|n\|",
            uses=("convergence/entry-inner-product",),
        ),
        Step(
            "convergence/young",
            section,
            "(3) Young with weight β/2: x·y ≤ (β/2) x² + y²/(2β)",
            "Young",
            Decided((Implication(le(grad_norm * young_weight, beta / 2 * grad_norm**2 + young_weight**2 / (2 * beta))),)),
        ),
        Step(
            "convergence/square-split",
            section,
            "(3) (u + v)² ≤ 2u² + 2v²",
            "Cauchy–Schwarz",
            Decided((Implication(le((u + v) ** 2, 2 * u**2 + 2 * v**2)),)),
        ),
        Step(
            "convergence/entry-update-norm",
            section,
            "(4) per entry (g F + |g| G)² ≤ q_max² g², so ||p||² ≤ q_max² ||g̃||²",
            "algebra",
            Decided((Implication(le(response_update(g) ** 2, q_max**2 * g**2), device[:2]),)),
            uses=("device/min-max",),
        ),
        Step(
            "convergence/three-term-split",
            section,
            "(4) (u + v + z)² ≤ 3 (u² + v² + z²)",
            "Cauchy–Schwarz",
            Decided((Implication(le((u + v + z) ** 2, 3 * (u**2 + v**2 + z**2))),)),
        ),
        Step(
            "convergence/second-moment",
            section,
            "(4) g̃ = ∇f + n + b, so ||g̃||² ≤ (||∇f|| + ||n|| + ||b||)² ≤ 3 (||∇f||² + ||n||² + ||b||²)",
            "triangle inequality",
            Numerical("async-convergence", ("||g̃_k||² ≤ 3 (||∇f(W^{(k)})||² + ||n_k||² + ||b_k||²)",)),
            r"\|\tilde g\|^2 \le 3\left(\|\nabla f\|^2 + \|n\|^2 + \|b\|^2\right)",
            uses=("convergence/three-term-split",),
        ),
        Step(
            "convergence/step-size",
            section,
            "(5) α ≤ β/(6 L q_max²) ⇒ (3L/2) α² q_max² ≤ αβ/4",
            "step-size condition",
            Decided((Implication(le(sp.Rational(3, 2) * L * alpha**2 * q_max**2, alpha * beta / 4), (STEP_SIZE,)),)),
        ),
        Step(
            "convergence/telescoping",
            section,
            "(6) Σ_{k<K} (E f(W^{(k)}) − E f(W^{(k+1)})) = f(W_0) − E f(W^{(K)})",
            "telescoping",
            Algebraic((Identity(sp.Sum(f_expected(k) - f_expected(k + 1), (k, 0, K - 1)), f_expected(0) - f_expected(K)),)),
        ),
    ]


def remainder(variance: sp.Expr, bias_square: sp.Expr) -> sp.Expr:
    """R = α(q_max² α²c_D² + G_max² σ²)/β + (3L/2) α² q_max² (σ² + α²c_D²), written with a
    variance per update and a squared bias bound (α²c_D², or 0 without delay)."""
    return alpha * (q_max**2 * bias_square + G_max**2 * variance) / beta + sp.Rational(3, 2) * L * alpha**2 * q_max**2 * (variance + bias_square)


def _chain(prefix: str, section: str, variance: sp.Expr, delayed: bool, theorem: C.Theorem) -> list[Step]:
    """Steps (2)–(6) of MODEL.md §5 for one theorem: the asynchronous one (bias ||b|| ≤ α c_D,
    variance σ²) or the synchronous one (no bias, variance σ²/B), ending in an identity with
    the theorem's stated right side."""
    noise_level = sp.sqrt(variance)
    bias = alpha * c_D if delayed else sp.Integer(0)
    bias_square = bias**2
    R = remainder(variance, bias_square)
    noise_text = "σ²" if variance == sigma**2 else "σ²/B"
    bias_hypotheses_mean = (
        (_hyp("E||b|| ≤ α c_D (A3, gradient-delay)", le(mean_bias_norm, bias)),)
        if delayed
        else (_hyp("b = 0: no delay, every operation of update k reads W^{(k)}", eq(mean_bias_norm, 0)),)
    )
    bias_hypotheses_square = (
        (_hyp("E||b||² ≤ α² c_D² (A3, gradient-delay)", le(mean_bias_square, bias_square)),)
        if delayed
        else (_hyp("b = 0: no delay", eq(mean_bias_square, 0)),)
    )
    noise_square = _hyp(f"E||n||² ≤ {noise_text} (A2)", le(mean_noise_square, variance))
    inner_lower = beta * grad_norm**2 - grad_norm * (q_max * bias + G_max * noise_level)
    inner_young = beta / 2 * grad_norm**2 - (q_max**2 * bias_square + G_max**2 * variance) / beta
    update_bound = 3 * q_max**2 * (grad_norm**2 + variance + bias_square)
    inner_hypothesis = _hyp(f"E⟨∇f, p⟩ ≥ {_text(inner_young)} ({prefix}/inner-product-young)", ge(inner, inner_young))
    update_hypothesis = _hyp(f"E||p||² ≤ {_text(update_bound)} ({prefix}/update-norm)", le(mean_update_square, update_bound))
    one_step = -alpha * beta / 4 * grad_norm**2 + R
    average = 4 * Delta_0 / (alpha * beta * K) + 4 * R / (alpha * beta)
    steps = [
        Step(
            f"{prefix}/noise-norm",
            section,
            f"E||n|| ≤ sqrt(E||n||²) ≤ sqrt({noise_text}) (Jensen, A2)",
            "Jensen",
            Decided((Implication(le(mean_noise_norm, noise_level), (_hyp("(E||n||)² ≤ E||n||² (Jensen)", le(mean_noise_norm**2, mean_noise_square)), noise_square)),)),
        ),
        Step(
            f"{prefix}/inner-product-bound",
            section,
            "(2) in expectation, E Σ F_i ∇f_i n_i = 0 (A2: F depends on W only), E||n|| ≤ σ and E||b|| ≤ α c_D: E⟨∇f, p⟩ ≥ β||∇f||² − ||∇f||(q_max α c_D + G_max σ)"
            + ("" if delayed else " with c_D = 0, σ → σ/sqrt(B)"),
            "algebra",
            Decided(
                (
                    Implication(
                        ge(inner, inner_lower),
                        (
                            _hyp("E⟨∇f, p⟩ ≥ β||∇f||² + E Σ F_i ∇f_i n_i − q_max ||∇f|| E||b|| − G_max ||∇f|| E||n|| (convergence/inner-product)", ge(inner, beta * grad_norm**2 + middle - q_max * grad_norm * mean_bias_norm - G_max * grad_norm * mean_noise_norm)),
                            _hyp("E Σ F_i ∇f_i n_i = 0 (A2)", eq(middle, 0)),
                            _hyp(f"E||n|| ≤ sqrt({noise_text}) ({prefix}/noise-norm)", le(mean_noise_norm, noise_level)),
                        )
                        + bias_hypotheses_mean,
                    ),
                )
            ),
            uses=("convergence/inner-product", f"{prefix}/noise-norm") + (("gradient-delay",) if delayed else ()),
        ),
        Step(
            f"{prefix}/inner-product-young",
            section,
            "(3) Young with weight β/2 and (x + y)² ≤ 2x² + 2y²: E⟨∇f, p⟩ ≥ (β/2)||∇f||² − (q_max² α² c_D² + G_max² σ²)/β" + ("" if delayed else " with c_D = 0, σ² → σ²/B"),
            "Young",
            Decided((Implication(ge(inner, inner_young), (_hyp(f"E⟨∇f, p⟩ ≥ {_text(inner_lower)} ({prefix}/inner-product-bound)", ge(inner, inner_lower)),)),)),
            uses=(f"{prefix}/inner-product-bound", "convergence/young", "convergence/square-split"),
        ),
        Step(
            f"{prefix}/update-norm",
            section,
            "(4) E||p||² ≤ q_max² E||g̃||² ≤ 3 q_max² (||∇f||² + σ² + α² c_D²)" + ("" if delayed else " with c_D = 0, σ² → σ²/B"),
            "algebra",
            Decided(
                (
                    Implication(
                        le(mean_update_square, update_bound),
                        (
                            _hyp("E||p||² ≤ q_max² E||g̃||² (convergence/entry-update-norm, summed)", le(mean_update_square, q_max**2 * mean_gradient_square)),
                            _hyp("E||g̃||² ≤ 3(||∇f||² + E||n||² + E||b||²) (convergence/second-moment)", le(mean_gradient_square, 3 * (grad_norm**2 + mean_noise_square + mean_bias_square))),
                            noise_square,
                        )
                        + bias_hypotheses_square,
                    ),
                )
            ),
            uses=("convergence/entry-update-norm", "convergence/second-moment") + (("gradient-delay",) if delayed else ()),
        ),
        Step(
            f"{prefix}/one-step",
            section,
            f"(5) E f(W⁺) − f(W) ≤ −(αβ/4)||∇f||² + R with R = {_text(R)}: the descent lemma with (3) and (4), the (3L/2)α²q_max²||∇f||² of (4) absorbed by the step-size condition",
            "step-size condition",
            Decided(
                (
                    Implication(
                        le(descent, one_step),
                        (
                            _hyp("E f(W⁺) − f(W) ≤ −α E⟨∇f, p⟩ + (L/2)α² E||p||² (convergence/descent-lemma)", le(descent, -alpha * inner + L / 2 * alpha**2 * mean_update_square)),
                            inner_hypothesis,
                            update_hypothesis,
                            STEP_SIZE,
                        ),
                    ),
                )
            ),
            latex_text=r"\mathbb{E}f(W^{+}) - f(W) \le -\frac{\alpha\beta}{4}\|\nabla f\|^{2} + " + _latex(R),
            uses=("convergence/descent-lemma", f"{prefix}/inner-product-young", f"{prefix}/update-norm", "convergence/step-size"),
        ),
        Step(
            f"{prefix}/sum",
            section,
            "(6) summing (αβ/4)E||∇f(W^{(k)})||² ≤ E f(W^{(k)}) − E f(W^{(k+1)}) + R over k < K, telescoping, E f(W^{(K)}) ≥ f*: (1/K) Σ_k E||∇f(W^{(k)})||² ≤ 4Δ_0/(αβK) + 4R/(αβ)",
            "telescoping",
            Decided(
                (
                    Implication(
                        le(sum_squares / K, average),
                        (
                            _hyp(f"(αβ/4) Σ_k E||∇f(W^{{(k)}})||² ≤ Σ_k (E f(W^{{(k)}}) − E f(W^{{(k+1)}})) + K·R ({prefix}/one-step, summed over k < K)", le(alpha * beta / 4 * sum_squares, telescoped + K * R)),
                            _hyp("Σ_k (E f(W^{(k)}) − E f(W^{(k+1)})) = f(W_0) − E f(W^{(K)}) (convergence/telescoping)", eq(telescoped, f_first - f_last)),
                            _hyp("E f(W^{(K)}) ≥ f* = inf f", ge(f_last, f_star)),
                            _hyp("Δ_0 = f(W_0) − f*", eq(Delta_0, f_first - f_star)),
                        ),
                    ),
                )
            ),
            uses=(f"{prefix}/one-step", "convergence/telescoping"),
        ),
        Step(
            f"{prefix}/average",
            section,
            f"4Δ_0/(αβK) + 4R/(αβ) is the right side of {theorem.id} as stated (theory.convergence)",
            "algebra",
            Algebraic((Identity(average, theorem.rhs),)),
            latex_text=r"\frac{4\Delta_0}{\alpha\beta K} + \frac{4R}{\alpha\beta} = " + _latex(theorem.rhs),
            uses=(f"{prefix}/sum",),
        ),
    ]
    return steps


def _asynchronous_steps() -> list[Step]:
    section = "§5 asynchronous theorem"
    return [
        Step(
            "async/noise",
            section,
            "(A2) with i.i.d. sampling E[n_k | past] = 0 and E[||n_k||² | past] ≤ σ² (one micro-batch per update)",
            "definition",
            Numerical("async-convergence", ("E||n_k||² = σ² for the injected noise (mean over updates and seeds)",)),
            r"\mathbb{E}[n_k \mid \text{past}] = 0,\quad \mathbb{E}[\|n_k\|^2 \mid \text{past}] \le \sigma^2",
        )
    ] + _chain("async", section, sigma**2, True, C.async_convergence())


def _synchronous_steps() -> list[Step]:
    section = "§5 synchronous theorem"
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
            Algebraic((Identity(sp.Sum(sigma**2, (micro_batch, 1, B)) / B**2, sigma**2 / B),)),
            uses=("sync/independence",),
        ),
    ] + _chain("sync", section, sigma**2 / B, False, C.sync_convergence())


# ----------------------------------------------------------------------------- §5 choice of α and complexity

variance_symbol = sp.Symbol("v", nonnegative=True)  # variance per update: σ² or σ²/B
LATEX_NAMES[variance_symbol] = r"v"


def _branch_hypotheses() -> dict[str, Hypothesis]:
    v = variance_symbol
    return {
        "cap": _hyp("α ≤ β/(6 L q_max²)", C.step_size_condition()),
        "sqrt": _hyp("α ≤ sqrt(Δ_0/(L q_max² v K)), i.e. α² L q_max² v K ≤ Δ_0 (void when v = 0: branch dropped)", le(alpha**2 * L * q_max**2 * v * K, Delta_0)),
        "cube": _hyp("α ≤ (βΔ_0/(q_max² c_D² K))^{1/3}, i.e. α³ q_max² c_D² K ≤ βΔ_0 (void when c_D = 0: branch dropped)", le(alpha**3 * q_max**2 * c_D**2 * K, beta * Delta_0)),
        "s": _hyp("s = sqrt(L Δ_0 v/K): s ≥ 0, s² K = L Δ_0 v", eq(sqrt_rate**2 * K, L * Delta_0 * variance_symbol)),
        "t": _hyp("t = (q_max c_D Δ_0/(β² K))^{1/3}: t ≥ 0, t³ β² K = q_max c_D Δ_0", eq(cube_rate**3 * beta**2 * K, q_max * c_D * Delta_0)),
        "beta-q": _hyp("β ≤ q_max (a minimum is at most a maximum)", le(beta, q_max)),
    }


def _choice_of_alpha_steps() -> list[Step]:
    section = "§5 choice of α"
    v = variance_symbol
    h = _branch_hypotheses()
    terms = C.rhs_terms(c_D, v)
    descent_term, noise_term, delay_term = terms["descent"], terms["noise"], terms["delay"]
    descent_bound = 4 * q_max * sqrt_rate / beta + 24 * L * q_max**2 * Delta_0 / (beta**2 * K) + 4 * cube_rate**2
    bound = 10 * q_max * sqrt_rate / beta + 24 * L * q_max**2 * Delta_0 / (beta**2 * K) + 9 * cube_rate**2
    rates = {sqrt_rate: sp.sqrt(L * Delta_0 * v / K), cube_rate: sp.cbrt(q_max * c_D * Delta_0 / (beta**2 * K))}
    return [
        Step(
            "choice-of-alpha/descent",
            section,
            "α = min of the branches equals one of them, and at each 4Δ_0/(αβK) ≤ 4q_max s/β + 24 L q_max² Δ_0/(β²K) + 4t² (s = sqrt(LΔ_0v/K), t = (q_max c_D Δ_0/(β²K))^{1/3})",
            "choice of α",
            Decided(
                (
                    Implication(le(descent_term, descent_bound), (_hyp("α = β/(6 L q_max²)", eq(alpha, C.step_size_bound())),)),
                    Implication(le(descent_term, descent_bound), (_hyp("α = sqrt(Δ_0/(L q_max² v K))", eq(alpha**2 * L * q_max**2 * v * K, Delta_0)), h["s"])),
                    Implication(le(descent_term, descent_bound), (_hyp("α = (βΔ_0/(q_max² c_D² K))^{1/3}", eq(alpha**3 * q_max**2 * c_D**2 * K, beta * Delta_0)), h["t"])),
                )
            ),
        ),
        Step(
            "choice-of-alpha/noise",
            section,
            "α ≤ sqrt(Δ_0/(L q_max² v K)) ⇒ 6Lα q_max² v/β ≤ 6 q_max s/β",
            "choice of α",
            Decided((Implication(le(noise_term, 6 * q_max * sqrt_rate / beta), (h["sqrt"], h["s"])),)),
        ),
        Step(
            "choice-of-alpha/delay",
            section,
            "α ≤ (βΔ_0/(q_max²c_D²K))^{1/3} and α ≤ β/(6Lq_max²), β ≤ q_max ⇒ α²c_D²q_max²(4/β² + 6Lα/β) ≤ 5t²",
            "choice of α",
            Decided((Implication(le(delay_term, 5 * cube_rate**2), (h["cube"], h["cap"], h["beta-q"], h["t"])),)),
        ),
        Step(
            "choice-of-alpha/vanishing",
            section,
            "at the chosen α the vanishing part (descent + noise + delay) ≤ 10 q_max s/β + 24 L q_max² Δ_0/(β²K) + 9t²",
            "choice of α",
            Decided(
                (
                    Implication(
                        le(descent_term + noise_term + delay_term, bound),
                        (
                            _hyp("descent ≤ 4q_max s/β + 24Lq_max²Δ_0/(β²K) + 4t² (choice-of-alpha/descent)", le(descent_term, descent_bound)),
                            _hyp("noise ≤ 6 q_max s/β (choice-of-alpha/noise)", le(noise_term, 6 * q_max * sqrt_rate / beta)),
                            _hyp("delay ≤ 5t² (choice-of-alpha/delay)", le(delay_term, 5 * cube_rate**2)),
                        ),
                    ),
                )
            ),
            uses=("choice-of-alpha/descent", "choice-of-alpha/noise", "choice-of-alpha/delay"),
        ),
        Step(
            "choice-of-alpha/bound",
            section,
            "with s and t written out, the bound is MODEL.md's 10 q_max sqrt(LΔ_0σ²/K)/β + 24 L q_max² Δ_0/(β²K) + 9 (q_max c_D Δ_0)^{2/3}/(β^{4/3} K^{2/3}) (v = σ²; v = σ²/B, c_D = 0 synchronous)",
            "algebra",
            Algebraic(
                (
                    Identity(bound.xreplace(rates).xreplace({v: sigma**2}), C.vanishing_bound(c_D, sigma**2)),
                    Identity(bound.xreplace(rates).xreplace({v: sigma**2 / B, c_D: 0}), C.vanishing_bound(0, sigma**2 / B)),
                )
            ),
            uses=("choice-of-alpha/vanishing",),
        ),
        Step(
            "choice-of-alpha/paper-delay",
            section,
            "the paper's form (σ > 0, first two branches only): α ≤ sqrt(Δ_0/(Lq_max²σ²K)), α ≤ β/(6Lq_max²), β ≤ q_max ⇒ delay ≤ 5 c_D² Δ_0/(L σ² β² K)",
            "choice of α",
            Decided(
                (
                    Implication(
                        le(C.rhs_terms(c_D, sigma**2)["delay"], C.paper_delay_bound()),
                        (
                            _hyp("α² L q_max² σ² K ≤ Δ_0", le(alpha**2 * L * q_max**2 * sigma**2 * K, Delta_0)),
                            h["cap"],
                            h["beta-q"],
                            _hyp("σ > 0", sp.StrictGreaterThan(sigma, 0)),
                        ),
                    ),
                )
            ),
        ),
    ]


def _complexity_steps() -> list[Step]:
    from theory import complexity as X

    section = "§5 complexity"
    a, b, c = coefficient_a, coefficient_b, coefficient_c
    eps = S.epsilon.symbol
    schedule_a = 10 * q_max * sp.sqrt(L * Delta_0 * sigma**2) / beta
    schedule_b = 24 * L * q_max**2 * Delta_0 / beta**2
    schedule_b_paper = schedule_b + 5 * c_D**2 * Delta_0 / (L * sigma**2 * beta**2)
    schedule_c = 9 * (q_max * c_D * Delta_0) ** sp.Rational(2, 3) / beta ** sp.Rational(4, 3)
    three_quarters = sp.Rational(3, 4) * eps
    return [
        Step(
            "complexity/two-term",
            section,
            "K ≥ a²/ε² + 2b/ε ⇒ a K^{-1/2} + b K^{-1} ≤ ε (a, b ≥ 0)",
            "algebra",
            Decided(
                (
                    Implication(
                        le(a / root_K + b / K, eps),
                        (_hyp("sqrt_K² = K", eq(root_K**2, K)), _hyp("K ≥ a²/ε² + 2b/ε", ge(K, a**2 / eps**2 + 2 * b / eps))),
                    ),
                )
            ),
        ),
        Step(
            "complexity/three-term",
            section,
            "K ≥ (4c/ε)^{3/2} ⇒ c K^{-2/3} ≤ ε/4 (c ≥ 0); with the two-term step at 3ε/4, K ≥ 16a²/(9ε²) + 8b/(3ε) + (4c/ε)^{3/2} gives a K^{-1/2} + b K^{-1} + c K^{-2/3} ≤ ε",
            "algebra",
            Decided(
                (
                    Implication(
                        le(c / cube_root_K**2, eps / 4),
                        (_hyp("cbrt_K³ = K", eq(cube_root_K**3, K)), _hyp("K² ≥ (4c/ε)³, i.e. K ≥ (4c/ε)^{3/2}", ge(K**2 * eps**3, 64 * c**3))),
                    ),
                )
            ),
            uses=("complexity/two-term",),
        ),
        Step(
            "complexity/forms",
            section,
            "K(ε) of theory.complexity is that inversion of the proved bounds: fixed σ > 0 (ap) a²/ε² + 2b/ε with b = (24Lq_max²Δ_0 + 5c_D²Δ_0/(Lσ²))/β²; uniform (ap) 16a²/(9ε²) + 8b/(3ε) + (4c/ε)^{3/2}",
            "algebra",
            Algebraic(
                (
                    Identity(X.complexity_form("ap", "fixed-sigma").iterations.xreplace({X.epsilon: eps}), schedule_a**2 / eps**2 + 2 * schedule_b_paper / eps),
                    Identity(
                        X.complexity_form("ap", "uniform").iterations.xreplace({X.epsilon: eps}),
                        schedule_a**2 / three_quarters**2 + 2 * schedule_b / three_quarters + (4 * schedule_c / eps) ** sp.Rational(3, 2),
                    ),
                )
            ),
            uses=("complexity/two-term", "complexity/three-term", "choice-of-alpha/bound", "choice-of-alpha/paper-delay"),
        ),
    ]


def _digital_steps() -> list[Step]:
    section = "§5 digital SGD"
    return [
        Step(
            "digital/limit",
            section,
            "β = q_max = 1, G_max = 0: the right sides become digital SGD's, and the asymptotic floor vanishes",
            "algebra",
            Algebraic(
                (
                    Identity(C.async_convergence().rhs.xreplace(C.DIGITAL), 4 * Delta_0 / (alpha * K) + 6 * L * alpha * sigma**2 + alpha**2 * c_D**2 * (4 + 6 * L * alpha)),
                    Identity(C.sync_convergence().rhs.xreplace(C.DIGITAL), 4 * Delta_0 / (alpha * K) + 6 * L * alpha * sigma**2 / B),
                    Identity(C.asymptotic_floor().xreplace(C.DIGITAL), sp.Integer(0)),
                )
            ),
            r"\mathrm{rhs}\big|_{\beta = q_{\max} = 1,\ G_{\max} = 0} = \frac{4\Delta_{0}}{\alpha K} + 6L\alpha\sigma^{2} + \alpha^{2}c_D^{2}(4 + 6L\alpha)",
            uses=("device/ald-digital-limit",),
        ),
    ]


@lru_cache(maxsize=None)
def ledger() -> tuple[Step, ...]:
    """Every step of MODEL.md's proof sketches: §2, §4, then §5."""
    return tuple(
        _device_steps()
        + _bounded_signal_steps()
        + _signal_stability_steps()
        + _objective_smoothness_steps()
        + _analog_increment_steps()
        + _box_invariance_steps()
        + _signal_delay_steps()
        + _gradient_delay_steps()
        + _shared_convergence_steps()
        + _asynchronous_steps()
        + _synchronous_steps()
        + _choice_of_alpha_steps()
        + _complexity_steps()
        + _digital_steps()
    )


@lru_cache(maxsize=None)
def _verified_ledger(timeout_ms: int) -> tuple[StepVerdict, ...]:
    return tuple(verify_step(step, timeout_ms) for step in ledger())


def verify_ledger(steps: Sequence[Step] | None = None, *, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> tuple[StepVerdict, ...]:
    """Verify every step (default: the whole ledger, cached): 'proved' | 'identity' | 'numerical' | 'unproved' each."""
    if steps is None:
        return _verified_ledger(int(timeout_ms))
    return tuple(verify_step(step, timeout_ms) for step in steps)


def counts(verdicts: Sequence[StepVerdict]) -> dict[str, int]:
    """How many steps have each of STATUSES."""
    return {status: sum(verdict.status == status for verdict in verdicts) for status in STATUSES}


# ----------------------------------------------------------------------------- mutants


def _mutant(name: str, statement: str, justification: str, *obligations: Implication) -> Step:
    return Step(f"mutant/{name}", "mutants (deliberately false)", statement, justification, Decided(tuple(obligations)))


@lru_cache(maxsize=None)
def mutants() -> tuple[Step, ...]:
    """Deliberately false versions of ledger steps; z3 must refute each (answer 'sat', with a counterexample)."""
    h = _branch_hypotheses()
    y = sp.Symbol("y", real=True)
    device = _entry_device()
    entry_gradient = entry_grad + entry_noise + entry_bias
    terms = C.rhs_terms(c_D, variance_symbol)
    a, b = coefficient_a, coefficient_b
    eps = S.epsilon.symbol
    R = remainder(sigma**2, alpha**2 * c_D**2)
    one_step = next(step for step in ledger() if step.id == "async/one-step").verification.obligations[0]
    return (
        _mutant("young-weight", "x·y ≤ (β/4) x² + y²/(2β): Young with the wrong weight", "Young", Implication(le(grad_norm * y, beta / 4 * grad_norm**2 + y**2 / (2 * beta)))),
        _mutant("square-split", "(u + v)² ≤ u² + v²: the factor 2 dropped", "Cauchy–Schwarz", Implication(le((u + v) ** 2, u**2 + v**2))),
        _mutant("three-term-split", "(u + v + z)² ≤ 2 (u² + v² + z²): 3 replaced by 2", "Cauchy–Schwarz", Implication(le((u + v + z) ** 2, 2 * (u**2 + v**2 + z**2)))),
        _mutant("absorption", "α ≤ β/(6Lq_max²) ⇒ (3L/2)α²q_max² ≤ αβ/8: too small an absorption", "step-size condition", Implication(le(sp.Rational(3, 2) * L * alpha**2 * q_max**2, alpha * beta / 8), (STEP_SIZE, h["beta-q"]))),
        _mutant(
            "absorption-condition",
            "α ≤ β/(6Lq_max) ⇒ (3L/2)α²q_max² ≤ αβ/4: the condition with q_max instead of q_max²",
            "step-size condition",
            Implication(le(sp.Rational(3, 2) * L * alpha**2 * q_max**2, alpha * beta / 4), (_hyp("α ≤ β/(6 L q_max)", le(alpha, beta / (6 * L * q_max))), h["beta-q"])),
        ),
        _mutant(
            "entry-inner-product",
            "∇f_i p_i ≥ β∇f_i² + F_i∇f_i n_i − q_max|∇f_i||b_i|: the G_max|∇f_i||n_i| term dropped",
            "algebra",
            Implication(ge(entry_grad * response_update(entry_gradient), beta * entry_grad**2 + entry_F * entry_grad * entry_noise - q_max * sp.Abs(entry_grad) * sp.Abs(entry_bias)), device),
        ),
        _mutant("one-step", "the one-step bound with −(αβ/2)||∇f||² instead of −(αβ/4)||∇f||²", "step-size condition", Implication(le(descent, -alpha * beta / 2 * grad_norm**2 + R), one_step.hypotheses + (h["beta-q"],))),
        _mutant("noise-branch", "α ≤ sqrt(Δ_0/(Lq_max²vK)) ⇒ noise ≤ 5 q_max s/β: 6 replaced by 5", "choice of α", Implication(le(terms["noise"], 5 * q_max * sqrt_rate / beta), (h["sqrt"], h["s"]))),
        _mutant("delay-branch", "the delay term ≤ 4t²: 5 replaced by 4", "choice of α", Implication(le(terms["delay"], 4 * cube_rate**2), (h["cube"], h["cap"], h["beta-q"], h["t"]))),
        _mutant(
            "paper-delay",
            "the paper's delay bound with 4 instead of 5",
            "choice of α",
            Implication(
                le(C.rhs_terms(c_D, sigma**2)["delay"], 4 * c_D**2 * Delta_0 / (L * sigma**2 * beta**2 * K)),
                (_hyp("α² L q_max² σ² K ≤ Δ_0", le(alpha**2 * L * q_max**2 * sigma**2 * K, Delta_0)), h["cap"], h["beta-q"], _hyp("σ > 0", sp.StrictGreaterThan(sigma, 0))),
            ),
        ),
        _mutant(
            "two-term",
            "K ≥ a²/ε² + b/ε ⇒ a K^{-1/2} + b K^{-1} ≤ ε: 2b replaced by b",
            "algebra",
            Implication(le(a / root_K + b / K, eps), (_hyp("sqrt_K² = K", eq(root_K**2, K)), _hyp("K ≥ a²/ε² + b/ε", ge(K, a**2 / eps**2 + b / eps)))),
        ),
        _mutant("box-invariance", "|w| ≤ τ ⇒ |w⁺| ≤ τ without α|g| ≤ τ", "algebra", Implication(le(sp.Abs(ald_update(w, g)), tau), (_hyp("|w| ≤ τ", le(sp.Abs(w), tau)),))),
    )


@lru_cache(maxsize=None)
def _verified_mutants(timeout_ms: int) -> tuple[StepVerdict, ...]:
    return tuple(verify_step(step, timeout_ms) for step in mutants())


def verify_mutants(*, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> tuple[StepVerdict, ...]:
    """Every mutant with z3's verdict: each must be 'unproved' with z3 answer 'sat' (refuted)."""
    return _verified_mutants(int(timeout_ms))

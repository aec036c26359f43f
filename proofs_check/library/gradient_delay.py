"""Gradient delay (MODEL.md §4): the applied stale gradient is within α c_D of the gradient at
the reference point.

`||g̃_k − ∇f(W^{(k)};ξ_k)||_F ≤ ||Γ(u^f, u^b)|| ≤ α c_D` with the measured increments over
the forward and backward delays d^f, d^b as gaps (their hypotheses `||W_m − W^f_m||_2 ≤ u^f_m`,
`||W_m − W^b_m||_2 ≤ u^b_m` are parts too), and `c_D = q_max ||Γ(d^f ⊙ G_vec, d^b ⊙ G_vec)||`
(the worst case; q_max the device's constant, ALD 1 + W_max/τ).
"""

from __future__ import annotations

from proofs_check.library.base import Evaluation, FalseVariant, Part
from proofs_check.library.context import Context, amax, asum, maximum
from proofs_check.library.delays import DelayLemma, DelaySetup
from proofs_check.library.variants import BACKWARD_DELAY_IGNORED, DELAY_IGNORED, WITHOUT_CURVATURE
from theory import symbols as S
from theory.statements import Statement, StatementPart, gradient_delay_constant

STATEMENT = Statement(
    paper_label="lemma:gradient-delay",
    title="the applied stale gradient is within α c_D of the gradient at the reference point",
    hypotheses=("W^f_m = W_m^{(k − d^f_m)}, W^b_m = W_m^{(k − d^b_m)}", "every version within ω and ||·||_inf ≤ W_max < τ", "||g̃_i||_F ≤ G"),
    parts=(
        StatementPart(
            "||g̃_k − ∇f(W^{(k)};ξ_k)||_F ≤ α c_D",
            r"\|\tilde g_k - \nabla f(W^{(k)};\xi_k)\|_F",
            lambda M: (S.alpha.symbol * gradient_delay_constant(M),),
            False,
        ),
    ),
    headline="||g̃_k − ∇f(W^{(k)};ξ_k)||_F ≤ α c_D",
)


class GradientDelay(DelayLemma):
    """||g̃_k − ∇f(W^{(k)};ξ_k)||_F ≤ ||Γ(u^f, u^b)|| ≤ α c_D, c_D = q_max||Γ(d^f⊙G, d^b⊙G)||."""

    id = "gradient-delay"
    statement = STATEMENT
    builtin = True
    micro_batch = True
    false_variants = (
        FalseVariant("delay ignored", "||g̃ − ∇f||_F bounded with d = 0", model=DELAY_IGNORED),
        FalseVariant("backward delay ignored", "||g̃ − ∇f||_F bounded with d^b = 0 (only d^f, as in ap)", model=BACKWARD_DELAY_IGNORED),
        FalseVariant("exponent off by one", "||g̃ − ∇f||_F ≤ α² c_D", rhs="bound*alpha"),
        FalseVariant("S_φ omitted", "c_D from a Γ without S_φ", model=WITHOUT_CURVATURE, only=("γ_m", "Γ(u^f, u^b)", "α c_D")),
    )

    def evaluate_at(self, c: Context) -> Evaluation:
        setup = DelaySetup(c)
        window, omega, X, G_ell, signal = setup.window, setup.omega, setup.X, setup.G_ell, setup.signal
        ar, layers, instance = c.ar, c.instance.layers, c.instance
        d_f, d_b = window.forward_delays, window.backward_delays
        if instance.gradient is not None:
            applied = c.weights(instance.gradient)
        else:
            applied = c.micro_batch_gradient(window.stale(d_f), window.stale(d_b))
        exact = c.micro_batch_gradient(window.current, window.current)
        stale_forward, stale_backward = window.stale(d_f), window.stale(d_b)
        d_f, d_b = setup.rhs_forward_delays, setup.rhs_backward_delays
        differences = [ar.norm(a - e, (-2, -1))[..., None] for a, e in zip(applied, exact)]
        lhs = ar.sqrt(sum(d * d for d in differences))
        u_f = window.increments(d_f)[..., None, :]
        u_b = window.increments(d_b)[..., None, :]
        gamma = c.stability(omega, X, G_ell, u_f, u_b).gamma
        gamma_worst = c.stability(omega, X, G_ell, d_f[..., None, :] * signal.G_layers, d_b[..., None, :] * signal.G_layers).gamma
        c_D = setup.q_max * ar.norm(gamma_worst, -1)
        alpha = c.scalar(instance.alpha)
        measured_bound = ar.norm(gamma, -1)
        parts = []
        for m in range(layers):
            forward_gap, backward_gap = c.spectral_norms((window.current[m] - stale_forward[m], window.current[m] - stale_backward[m]))
            parts.append(Part("||W_m − W^f_m||_2 ≤ u^f_m (increments over d^f_m)", forward_gap[..., None], u_f[..., 0, m][..., None], m + 1))
            parts.append(Part("||W_m − W^b_m||_2 ≤ u^b_m (increments over d^b_m)", backward_gap[..., None], u_b[..., 0, m][..., None], m + 1))
        parts += [Part("||g̃_m − ∇_{W_m} f||_F ≤ γ_m (measured u)", differences[m], gamma[..., m], m + 1) for m in range(layers)]
        headline = Part("||g̃_k − ∇f(W^{(k)};ξ_k)||_F ≤ α c_D", lhs, alpha * c_D)
        parts += [
            Part("||g̃_k − ∇f(W^{(k)};ξ_k)||_F ≤ ||Γ(u^f, u^b)||", lhs, measured_bound),
            Part("||Γ(u^f, u^b)|| ≤ α c_D", measured_bound, alpha * c_D),
            headline,
        ]
        symbols = c.bound_symbols(omega, X, setup.Y, G_ell, signal, lambda: c.smoothness(omega, X, G_ell), headline.rhs)
        symbols["W_max"] = 0 * X + setup.W_max
        symbols["D"] = 0 * X + amax(maximum(d_f, d_b), axis=-1)[..., None]
        symbols["u_f"] = 0 * X + asum(u_f, axis=-1)
        symbols["u_b"] = 0 * X + asum(u_b, axis=-1)
        values = c.statement_values(omega, X, G_ell, W_max=setup.W_max, q_max=setup.q_max, d_f=d_f[..., None, :], d_b=d_b[..., None, :])
        return Evaluation(self.id, parts, headline, symbols, values)


LEMMA = GradientDelay()

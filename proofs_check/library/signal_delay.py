"""Signal delay (MODEL.md §4): stale signals of the asynchronous pipeline stay within the
signal-stability bounds.

With `W^f_m = W_m^{(k − d^f_m)}`, `W^b_m = W_m^{(k − d^b_m)}` and
`u_m ≤ Σ_{i=k−d_m}^{k−1} ||W_m^{(i+1)} − W_m^{(i)}||_F ≤ α q_max G_m d_m` for each direction
(q_max the device's constant: ALD 1 + W_max/τ), the stale forward signals obey
`||z̃_m − z_m(W^{(k)})|| ≤ ζ_m`, `||ã_m − a_m(W^{(k)})|| ≤ e_m`, and the stale backward
signals (forward with W^f, backward MVMs with W^b: `pipedream`, `2bw` have d^b > 0)
`||δ̃_m − δ_m(W^{(k)})|| ≤ ε_m` (the signal-stability recursion), with the measured
increments and with the worst case.
"""

from __future__ import annotations

import sympy as sp

from proofs_check.library.base import Evaluation, FalseVariant, Part
from proofs_check.library.context import Context, amax, asum, maximum
from proofs_check.library.delays import DelayLemma, DelaySetup
from proofs_check.library.variants import BACKWARD_DELAY_IGNORED, DELAY_IGNORED
from theory.constants import symbolic_constants as constants
from theory.statements import Statement, StatementPart, worst_case_gaps

STATEMENT = Statement(
    paper_label="lemma:signal-delay",
    title="stale signals of the asynchronous pipeline stay within the signal-stability bounds",
    hypotheses=(
        "W^f_m = W_m^{(k − d^f_m)}, W^b_m = W_m^{(k − d^b_m)}", "every version within ω and ||·||_inf ≤ W_max < τ", "||g̃_i||_F ≤ G",
    ),
    parts=(
        StatementPart(
            "||z̃_m − z_m|| ≤ ζ_m (worst-case u^f)",
            r"\|\tilde z_m - z_m(W^{(k)})\|",
            lambda M: tuple(sp.sympify(z).subs(worst_case_gaps(M)) for z in constants(M).zeta),
            True,
        ),
        StatementPart(
            "||ã_m − a_m|| ≤ e_m (worst-case u^f)",
            r"\|\tilde a_m - a_m(W^{(k)})\|",
            lambda M: tuple(sp.sympify(e).subs(worst_case_gaps(M)) for e in constants(M).e[:-1]) or (sp.Integer(0),),
            True,
        ),
        StatementPart(
            "||δ̃_m − δ_m|| ≤ ε_m (worst-case u^f, u^b)",
            r"\|\tilde\delta_m - \delta_m(W^{(k)})\|",
            lambda M: tuple(sp.sympify(eps).subs(worst_case_gaps(M)) for eps in constants(M).eps),
            True,
        ),
    ),
    headline="||z̃_M − z_M|| ≤ ζ_M (worst case)",
)


class SignalDelay(DelayLemma):
    """Stale signals: ||ã_m − a_m|| ≤ e_m and ||δ̃_m − δ_m|| ≤ ε_m with the gaps u^f, u^b from the
    measured increments over d^f, d^b and from the worst case α q_max G_m d_m."""

    id = "signal-delay"
    statement = STATEMENT
    builtin = True
    false_variants = (
        FalseVariant("delay ignored", "stale signals bounded with d^f = d^b = 0", model=DELAY_IGNORED),
        FalseVariant("backward delay ignored", "stale signals bounded with d^b = 0 (the backward MVMs taken as current, as in ap)", model=BACKWARD_DELAY_IGNORED),
        FalseVariant("dropped term", "ζ_M without the device factor (1 + W_max/τ)", rhs="bound/(1 + W_max/tau)"),
        FalseVariant("missing factor", "ζ_M/2 (a factor 2 missing)", rhs="bound/2"),
    )

    def evaluate_at(self, c: Context) -> Evaluation:
        setup = DelaySetup(c)
        window, omega = setup.window, setup.omega
        ar, layers = c.ar, c.instance.layers
        d_f, d_b = window.forward_delays, window.backward_delays
        stale_forward, stale_backward = window.stale(d_f), window.stale(d_b)
        rhs_f, rhs_b = setup.rhs_forward_delays, setup.rhs_backward_delays
        measured_f = window.increments(rhs_f)[..., None, :]
        measured_b = window.increments(rhs_b)[..., None, :]
        worst_f = setup.per_step[..., None] * setup.signal.G_layers * rhs_f[..., None, :]
        worst_b = setup.per_step[..., None] * setup.signal.G_layers * rhs_b[..., None, :]
        zero_b = 0 * measured_f
        X = c.per_sample_X()
        forward_measured = c.stability(omega, X, setup.G_ell, measured_f, zero_b)
        forward_worst = c.stability(omega, X, setup.G_ell, worst_f, zero_b)
        both_measured = c.stability(omega, X, setup.G_ell, measured_f, measured_b)
        both_worst = c.stability(omega, X, setup.G_ell, worst_f, worst_b)
        fresh, fresh_deltas = c.passes(window.current, window.current)
        stale_pass, stale_deltas = c.passes(stale_forward, stale_backward)
        parts = []
        for m in range(layers):
            forward_gap, backward_gap = c.spectral_norms((window.current[m] - stale_forward[m], window.current[m] - stale_backward[m]))
            parts.append(Part("||W_m − W^f_m||_2 ≤ Σ increments over d^f_m", forward_gap[..., None], measured_f[..., 0, m][..., None], m + 1))
            parts.append(Part("Σ increments over d^f_m ≤ α q_max G_m d^f_m", measured_f[..., 0, m][..., None], worst_f[..., 0, m][..., None], m + 1))
            parts.append(Part("||W_m − W^b_m||_2 ≤ Σ increments over d^b_m", backward_gap[..., None], measured_b[..., 0, m][..., None], m + 1))
            parts.append(Part("Σ increments over d^b_m ≤ α q_max G_m d^b_m", measured_b[..., 0, m][..., None], worst_b[..., 0, m][..., None], m + 1))
        for m in range(layers):
            gap = ar.norm(fresh.pre_activations[m] - stale_pass.pre_activations[m], -1)
            parts.append(Part("||z̃_m − z_m|| ≤ ζ_m (measured u^f)", gap, forward_measured.zeta[..., m], m + 1))
            parts.append(Part("||z̃_m − z_m|| ≤ ζ_m (worst-case u^f)", gap, forward_worst.zeta[..., m], m + 1))
        for m in range(1, layers):
            gap = ar.norm(fresh.layer_inputs[m] - stale_pass.layer_inputs[m], -1)
            parts.append(Part("||ã_m − a_m|| ≤ e_m (measured u^f)", gap, forward_measured.e[..., m - 1], m))
            parts.append(Part("||ã_m − a_m|| ≤ e_m (worst-case u^f)", gap, forward_worst.e[..., m - 1], m))
        for m in range(layers):
            gap = ar.norm(fresh_deltas[m] - stale_deltas[m], -1)
            parts.append(Part("||δ̃_m − δ_m|| ≤ ε_m (measured u^f, u^b)", gap, both_measured.eps[..., m], m + 1))
            parts.append(Part("||δ̃_m − δ_m|| ≤ ε_m (worst-case u^f, u^b)", gap, both_worst.eps[..., m], m + 1))
        last = next(p for p in parts if p.name == "||z̃_m − z_m|| ≤ ζ_m (worst-case u^f)" and p.layer == layers)
        headline = Part("||z̃_M − z_M|| ≤ ζ_M (worst case)", last.lhs, last.rhs, layers)
        symbols = c.bound_symbols(omega, X, setup.Y, setup.G_ell, setup.signal, lambda: c.smoothness(omega, setup.X, setup.G_ell), headline.rhs)
        symbols["W_max"] = 0 * X + setup.W_max
        symbols["D"] = 0 * X + amax(maximum(d_f, d_b), axis=-1)[..., None]
        symbols["u_f"] = 0 * X + asum(measured_f, axis=-1)
        symbols["u_b"] = 0 * X + asum(measured_b, axis=-1)
        values = c.statement_values(
            omega, X, setup.G_ell, W_max=setup.W_max, q_max=setup.q_max, d_f=rhs_f[..., None, :], d_b=rhs_b[..., None, :]
        )
        return Evaluation(self.id, parts, headline, symbols, values)


LEMMA = SignalDelay()

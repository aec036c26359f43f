"""Signal delay (MODEL.md §4): stale forward signals of the asynchronous pipeline stay within e_m.

With `W^f_m = W_m^{(k − d^f_m)}` and `u^f_m ≤ Σ_{i=k−d^f_m}^{k−1} ||W_m^{(i+1)} − W_m^{(i)}||_F
≤ α(1 + W_max/τ) G_m d^f_m`, the stale signals obey `||z̃_m − z_m(W^{(k)})|| ≤ ζ_m` and
`||ã_m − a_m(W^{(k)})|| ≤ e_m` (the signal-stability recursion), with the measured
increments and with the worst case.
"""

from __future__ import annotations

import sympy as sp

from proofs_check.library.base import Evaluation, FalseVariant, Part
from proofs_check.library.context import Context, amax, asum
from proofs_check.library.delays import DelayLemma, DelaySetup
from proofs_check.library.variants import DELAY_IGNORED
from theory.constants import symbolic_constants as constants
from theory.statements import Statement, StatementPart, worst_case_forward_gaps

STATEMENT = Statement(
    paper_label="lemma:signal-delay",
    title="stale forward signals of the asynchronous pipeline stay within e_m",
    hypotheses=("W^f_m = W_m^{(k − d^f_m)}", "every version within ω and ||·||_inf ≤ W_max < τ", "||g̃_i||_F ≤ G"),
    parts=(
        StatementPart(
            "||z̃_m − z_m|| ≤ ζ_m (worst-case u^f)",
            r"\|\tilde z_m - z_m(W^{(k)})\|",
            lambda M: tuple(sp.sympify(z).subs(worst_case_forward_gaps(M)) for z in constants(M).zeta),
            True,
        ),
        StatementPart(
            "||ã_m − a_m|| ≤ e_m (worst-case u^f)",
            r"\|\tilde a_m - a_m(W^{(k)})\|",
            lambda M: tuple(sp.sympify(e).subs(worst_case_forward_gaps(M)) for e in constants(M).e[:-1]) or (sp.Integer(0),),
            True,
        ),
    ),
    headline="||z̃_M − z_M|| ≤ ζ_M (worst case)",
)


class SignalDelay(DelayLemma):
    """Stale forward signals: ||ã_m − a_m(W^{(k)})|| ≤ e_m with u^f from the measured increments and the worst case."""

    id = "signal-delay"
    statement = STATEMENT
    builtin = True
    false_variants = (
        FalseVariant("delay ignored", "stale signals bounded with d^f = 0", model=DELAY_IGNORED),
        FalseVariant("dropped term", "ζ_M without the device factor (1 + W_max/τ)", rhs="bound/(1 + W_max/tau)"),
        FalseVariant("missing factor", "ζ_M/2 (a factor 2 missing)", rhs="bound/2"),
    )

    def evaluate_at(self, c: Context) -> Evaluation:
        setup = DelaySetup(c)
        window, omega = setup.window, setup.omega
        ar, layers = c.ar, c.instance.layers
        d_f = window.forward_delays
        stale = window.stale(d_f)
        rhs_delays = 0 * d_f if c.model.ignore_delays else d_f
        measured = window.increments(rhs_delays)[..., None, :]
        worst = setup.per_step[..., None] * setup.signal.G_layers * rhs_delays[..., None, :]
        zero_b = 0 * measured
        X = c.per_sample_X()
        e_measured = c.stability(omega, X, setup.G_ell, measured, zero_b)
        e_worst = c.stability(omega, X, setup.G_ell, worst, zero_b)
        fresh = c.forward(window.current)
        stale_pass = c.forward(stale)
        parts = []
        for m in range(layers):
            gap = ar.spectral_norm(window.current[m] - stale[m])[..., None]
            parts.append(Part("||W_m − W^f_m||_2 ≤ Σ increments", gap, measured[..., 0, m][..., None], m + 1))
            parts.append(Part("Σ increments ≤ α(1 + W_max/τ) G_m d^f_m", measured[..., 0, m][..., None], worst[..., 0, m][..., None], m + 1))
        for m in range(layers):
            gap = ar.norm(fresh.pre_activations[m] - stale_pass.pre_activations[m], -1)
            parts.append(Part("||z̃_m − z_m|| ≤ ζ_m (measured u^f)", gap, e_measured.zeta[..., m], m + 1))
            parts.append(Part("||z̃_m − z_m|| ≤ ζ_m (worst-case u^f)", gap, e_worst.zeta[..., m], m + 1))
        for m in range(1, layers):
            gap = ar.norm(fresh.layer_inputs[m] - stale_pass.layer_inputs[m], -1)
            parts.append(Part("||ã_m − a_m|| ≤ e_m (measured u^f)", gap, e_measured.e[..., m - 1], m))
            parts.append(Part("||ã_m − a_m|| ≤ e_m (worst-case u^f)", gap, e_worst.e[..., m - 1], m))
        last = next(p for p in parts if p.name == "||z̃_m − z_m|| ≤ ζ_m (worst-case u^f)" and p.layer == layers)
        headline = Part("||z̃_M − z_M|| ≤ ζ_M (worst case)", last.lhs, last.rhs, layers)
        symbols = c.bound_symbols(omega, X, setup.Y, setup.G_ell, setup.signal, c.smoothness(omega, setup.X, setup.G_ell), headline.rhs)
        symbols["W_max"] = 0 * X + setup.W_max
        symbols["D"] = 0 * X + amax(d_f, axis=-1)[..., None]
        symbols["u_f"] = 0 * X + asum(measured, axis=-1)
        values = c.statement_values(omega, X, setup.G_ell, W_max=setup.W_max, d_f=rhs_delays[..., None, :])
        return Evaluation(self.id, parts, headline, symbols, values)


LEMMA = SignalDelay()

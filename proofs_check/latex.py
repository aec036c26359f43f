"""LaTeX tables (booktabs) for papers: lemma checks, constants, complexity, theorems, variants."""

from __future__ import annotations

import math
from typing import Sequence

import sympy as sp

from theory import complexity as theory_complexity
from theory import schedules as closed_forms
from theory import symbols as S

_SPECIAL = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\^{}", "\\": r"\textbackslash{}"}


_UNICODE = {
    "φ": r"$\phi$", "ω": r"$\omega$", "τ": r"$\tau$", "α": r"$\alpha$", "β": r"$\beta$", "γ": r"$\gamma$",
    "Γ": r"$\Gamma$", "δ": r"$\delta$", "Δ": r"$\Delta$", "ε": r"$\varepsilon$", "ζ": r"$\zeta$", "σ": r"$\sigma$",
    "ξ": r"$\xi$", "ℓ": r"$\ell$", "∇": r"$\nabla$", "≤": r"$\le$", "−": "-", "⊙": r"$\odot$", "²": r"$^2$",
    "⁺": r"$^+$", "⁰": r"$^0$", "¹": r"$^1$", "×": r"$\times$", "→": r"$\to$", "…": r"\dots{}",
}


def escape(text: str) -> str:
    """Text-mode LaTeX for a string (ASCII, plus the Greek letters and symbols of MODEL.md)."""
    pieces = []
    for character in text:
        if character in _SPECIAL:
            pieces.append(_SPECIAL[character])
        elif character in _UNICODE:
            pieces.append(_UNICODE[character])
        elif ord(character) < 128:
            pieces.append(character)
        else:
            raise ValueError(f"no LaTeX for {character!r} in {text!r}")
    return "".join(pieces)


def number(value: float | None, digits: int = 4) -> str:
    """A number in math mode with `digits` significant digits ('--' for missing, NaN shown as such)."""
    if value is None:
        return "--"
    if isinstance(value, float) and math.isnan(value):
        return r"\textsc{nan}"
    if isinstance(value, float) and math.isinf(value):
        return r"$\infty$"
    if isinstance(value, int):
        return f"{value:,}".replace(",", "{,}")
    text = f"{value:.{digits}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return f"${mantissa} \\times 10^{{{int(exponent)}}}$"
    return f"${text}$"


def table(header: Sequence[str], rows: Sequence[Sequence[str]], caption: str, label: str, align: str | None = None) -> str:
    """A booktabs table; cells are LaTeX already."""
    align = align or "l" * len(header)
    lines = [
        r"\begin{table}[ht]",
        r"\centering",
        f"\\caption{{{caption}}}",
        f"\\label{{{label}}}",
        f"\\begin{{tabular}}{{{align}}}",
        r"\toprule",
        " & ".join(header) + r" \\",
        r"\midrule",
    ]
    lines += [" & ".join(row) + r" \\" for row in rows]
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}", ""]
    return "\n".join(lines)


def lemma_table(rows: Sequence[dict]) -> str:
    """lemma | paper label | samples | max ratio | median ratio | status."""
    body = [
        [
            rf"\texttt{{{escape(row['id'])}}}",
            rf"\texttt{{{escape(row['paper_label'])}}}" if row.get("paper_label") else "this project",
            number(int(row["samples"])),
            number(row["max_ratio"]),
            number(row["median_ratio"]),
            escape(row["status"]),
        ]
        for row in rows
    ]
    return table(
        ["lemma", "paper label", "samples", "max ratio", "median ratio", "status"],
        body,
        r"Lemma checks: largest and median $\mathrm{lhs}/\mathrm{rhs}$ over simulator traces and adversarial search (holds: every ratio $\le 1$ within $10^{-9}$).",
        "tab:lemma-checks",
        "llrrrl",
    )


def constants_table(rows: Sequence[dict]) -> str:
    """Measured bounded-signal and smoothness constants per built-in network."""
    body = []
    for row in rows:
        body.append(
            [
                number(int(row["M"])),
                escape("-".join(map(str, row["dims"]))),
                escape(row["activation"]),
                escape(row["loss"]),
                "$(" + ", ".join(f"{w:.3g}" for w in row["omega"]) + ")$",
                number(row["X"], 3),
                number(row["G"], 4),
                number(row["L"], 4),
            ]
        )
    return table(
        ["$M$", "dims", r"$\phi$", r"$\ell$", r"$\omega$", "$X$", "$G$", "$L$"],
        body,
        r"Constants of MODEL.md \S4 with $\omega_m$ measured on the built-in traces (largest $\|W_m^{(k)}\|_2$) and $X$, $Y$ the largest data norms.",
        "tab:constants",
        "rlllrrrr",
    )


def complexity_table(stages: int = 4, mini_batch: int = 4) -> str:
    """WOP, SP, AP as the paper tabulates them: density, iteration and clock-cycle complexity, speed-up."""
    body = []
    for schedule, name in (("wop", "WOP (no pipeline)"), ("sp", "SP (synchronous)"), ("ap", "AP (asynchronous)")):
        result = theory_complexity.iteration_complexity(schedule)
        exponents = sorted(set(result.leading_exponents))
        iterations = " + ".join(rf"\varepsilon^{{{int(e)}}}" for e in exponents)
        clock = theory_complexity.clock_cycles(schedule)
        clock_order = _order_in_epsilon(clock, S.epsilon.symbol)
        density = closed_forms.asymptotic_density(schedule)
        speed_up = closed_forms.speed_up(schedule)
        values = {closed_forms.M: stages, closed_forms.B: mini_batch}
        body.append(
            [
                escape(name),
                f"${sp.latex(density)}$",
                f"$O({iterations})$",
                f"${clock_order}$",
                f"${sp.latex(speed_up)}$",
                number(float(sp.nsimplify(speed_up.subs(values))), 3),
            ]
        )
    return table(
        ["schedule", "density", "iterations", "clock cycles", "speed-up", f"($M={stages}$, $B={mini_batch}$)"],
        body,
        r"Computation density, iteration complexity $K(\varepsilon)$, clock cycles to $\varepsilon$ and speed-up over one device (MODEL.md \S3, \S5; AP as $J \to \infty$).",
        "tab:complexity",
        "lccccr",
    )


def _order_in_epsilon(expression: sp.Expr, epsilon: sp.Symbol) -> str:
    """O(...) of a sum of powers of ε, keeping each power's factors in M and B."""
    expression = sp.expand(expression)
    by_power: dict[sp.Expr, sp.Expr] = {}
    for term in sp.Add.make_args(expression):
        coefficient, rest = term.as_independent(epsilon)
        power = sp.degree(rest.subs(epsilon, 1 / sp.Symbol("t")), sp.Symbol("t")) if rest != 1 else 0
        by_power[power] = by_power.get(power, 0) + coefficient
    shown = []
    for power in sorted(by_power, reverse=True):
        factors = sp.Mul.make_args(sp.factor(by_power[power]))
        structural = sp.Mul(*[f for f in factors if f.free_symbols & {closed_forms.M, closed_forms.B}])
        prefix = "" if structural == 1 else sp.latex(structural)
        shown.append(f"{prefix}\\varepsilon^{{-{power}}}" if power else (prefix or "1"))
    return "O(" + " + ".join(shown) + ")"


def theorem_table(rows: Sequence[dict]) -> str:
    """theorem | lhs | rhs | status."""
    body = [[rf"\texttt{{{escape(row['id'])}}}", number(row.get("lhs")), number(row.get("rhs")), escape(row["status"])] for row in rows]
    return table(
        ["theorem", "lhs", "rhs", "status"],
        body,
        r"Theorem checks: measured left side (mean over seeds) against the right side with measured constants.",
        "tab:theorems",
        "lrrl",
    )


def variants_table(rows: Sequence[dict]) -> str:
    """False variant | lemma | kind | refuted by | ratio."""
    body = [
        [
            escape(row["ascii_name"]),
            rf"\texttt{{{escape(row['lemma'])}}}",
            escape(row["kind"]),
            escape(row["refuted_by"] or "not refuted"),
            number(row["ratio"], 3),
        ]
        for row in rows
    ]
    return table(
        ["false variant", "lemma", "kind", "refuted by", "ratio"],
        body,
        "Falsification power: deliberately false variants of the lemmas and how the engine refuted them.",
        "tab:falsification",
        "lllll",
    )

"""LaTeX tables (booktabs) for papers: lemma checks, constants, complexity, theorems, variants."""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Sequence

import sympy as sp

from theory import complexity as theory_complexity
from theory import schedules as closed_forms
from theory import symbols as S

_SPECIAL = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\^{}", "\\": r"\textbackslash{}", "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}"}


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


PREAMBLE = (r"\usepackage{booktabs}", r"\usepackage{amsmath}", r"\usepackage{array}")
"""The packages the generated tables need (booktabs from latex-recommended, the others from latex-base)."""


def number(value: float | None, digits: int = 4) -> str:
    """A number in math mode with `digits` significant digits ('--' for missing, NaN shown as such)."""
    if value is None:
        return "--"
    if isinstance(value, float) and math.isnan(value):
        return r"\textsc{nan}"
    if isinstance(value, float) and math.isinf(value):
        return r"$\infty$" if value > 0 else r"$-\infty$"
    if isinstance(value, int):
        return f"{value:,}".replace(",", "{,}")
    return f"${_scientific(value, digits)}$"


def _scientific(value: float, digits: int) -> str:
    text = f"{value:.{digits}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return f"{mantissa} \\times 10^{{{int(exponent)}}}"
    return text


NEAR_ONE = 1e-3
"""Ratios closer to 1 than this print as 1 ± their distance to 1."""


def ratio(value: float | None, digits: int = 4) -> str:
    """An lhs/rhs ratio whose rounding never hides a verdict: a ratio closer to 1 than 10^-3
    prints as $1 + d$ or $1 - d$ (d to 2 significant digits, never 0), so 1.0006 is never "1"
    and 0.9999999 never "1"; exactly 1 prints as 1; otherwise `digits` significant digits, or
    more where fewer would round onto or across 1."""
    if value is None or not math.isfinite(value):
        return number(value)
    if value == 1.0:
        return "$1$"
    distance = value - 1.0
    if abs(distance) < NEAR_ONE:
        return f"$1 {'+' if distance > 0 else '-'} {_scientific(abs(distance), 2)}$"
    while digits < 17 and _side_of_one(float(f"{value:.{digits}g}")) != _side_of_one(value):
        digits += 1  # so few digits would round onto or across 1: show more
    return number(float(value), digits)


_MATH = {
    "α": r"\alpha", "β": r"\beta", "γ": r"\gamma", "Γ": r"\Gamma", "δ": r"\delta", "Δ": r"\Delta", "ε": r"\varepsilon",
    "ζ": r"\zeta", "θ": r"\theta", "σ": r"\sigma", "τ": r"\tau", "φ": r"\phi", "ω": r"\omega", "ξ": r"\xi", "ℓ": r"\ell",
    "∇": r"\nabla", "Σ": r"\sum", "≤": r"\le", "≥": r"\ge", "−": "-", "–": "-", "·": r"\cdot", "×": r"\times", "⊙": r"\odot",
    "∞": r"\infty", "→": r"\to", "↦": r"\mapsto", "∝": r"\propto", "≫": r"\gg", "∈": r"\in", "±": r"\pm", "⟨": r"\langle",
    "⟩": r"\rangle", "…": r"\dots", "²": "^{2}", "¹": "^{1}", "⁰": "^{0}", "⁺": "^{+}", "⁻": "^{-}", "₂": "_{2}",
    "|": "|", "{": "{", "}": "}", "%": r"\%", "&": r"\&", "#": r"\#", "$": r"\$", "~": r"\sim",
}
_OPERATOR_SUBSCRIPTS = {"max": r"\max", "min": r"\min", "inf": r"\infty"}
_OPERATORS = {"max": r"\max", "min": r"\min", "log": r"\log", "exp": r"\exp", "sqrt": r"\sqrt"}
_WORD = re.compile(r"[A-Za-z]{2,}(?:'[A-Za-z]+)*|a(?![_^A-Za-z\u0303])")


def _side_of_one(value: float) -> int:
    return (value > 1) - (value < 1)


def notation(text: str) -> str:
    """MODEL.md's Unicode notation (e.g. "||∇f||_F ≤ G/ω_max (a factor ω missing)") as LaTeX
    for text mode: formulas in $...$ (Greek letters and symbols as commands, `g̃` as
    \\tilde{g}, multi-letter subscripts braced, `_max` as \\max), runs of English words as
    text between them, so a table cell can break its lines there."""
    text = unicodedata.normalize("NFD", text.replace("||", "‖"))
    pieces: list[tuple[str, str]] = []  # ("math" | "text", LaTeX)
    index = 0
    while index < len(text):
        character = text[index]
        previous = text[index - 1] if index else ""
        match = _WORD.match(text, index)
        if match and not (previous and (previous in "_^\\" or previous.isalpha() or previous.isdigit())):
            word = match.group(0)
            index = match.end()
            if word in _OPERATORS and not text[index:index + 1].isspace():
                pieces.append(("math", _OPERATORS[word] + " "))
                continue
            # the word, then the spaces and numbers that lead to the next word of the run
            gap = re.match(r" +(?:\d+ +)?(?=[A-Za-z]{2,}|a )", text[index:])
            if gap:
                word += gap.group(0)
                index += gap.end()
            pieces.append(("text", escape(word)))
            continue
        if character == "_" and index + 1 < len(text) and re.match(r"[A-Za-z]{2,}", text[index + 1:]):
            name = re.match(r"[A-Za-z]{2,}", text[index + 1:]).group(0)
            pieces.append(("math", "_{" + _OPERATOR_SUBSCRIPTS.get(name, r"\mathrm{" + name + "}") + "}"))
            index += 1 + len(name)
            continue
        if character == "\u0303" and pieces and pieces[-1][0] == "math":  # combining tilde: on the previous letter
            pieces[-1] = ("math", r"\tilde{" + pieces[-1][1] + "}")
        elif character == "‖":
            pieces.append(("math", r"\|"))
        elif character in _MATH:
            command = _MATH[character]
            pieces.append(("math", command + (" " if command.startswith("\\") and command[-1].isalpha() else "")))
        elif character in " (),.:;":
            pieces.append(("neutral", character))
        elif ord(character) < 128:
            pieces.append(("math", character))
        else:
            raise ValueError(f"no LaTeX for {character!r} in {text!r}")
        index += 1
    segments: list[list] = []  # [kind, LaTeX]; neutral pieces join the segment before them
    for position, (kind, latex_text) in enumerate(pieces):
        if kind == "neutral":  # "(" opens what follows; anything else continues what precedes
            following = next((k for k, _ in pieces[position + 1:] if k != "neutral"), "text")
            kind = following if latex_text == "(" else (segments[-1][0] if segments else following)
        spaced_parenthesis = latex_text == "(" and position > 0 and pieces[position - 1][1] == " "
        if segments and segments[-1][0] == kind and not spaced_parenthesis:
            segments[-1][1] += latex_text
        else:
            segments.append([kind, latex_text])
    output = []
    for kind, latex_text in segments:
        if kind == "text":
            output.append(latex_text)
            continue
        core = latex_text.strip()
        lead = latex_text[: len(latex_text) - len(latex_text.lstrip())]
        trail = latex_text[len(latex_text.rstrip()):]
        output.append(("" if not lead else " ") + "$" + core + "$" + (" " if trail else ""))
    return re.sub(r" {2,}", " ", "".join(output)).strip()


def table(
    header: Sequence[str],
    rows: Sequence[Sequence[str] | str],
    caption: str,
    label: str,
    align: str | None = None,
    size: str | None = None,
    column_separation: str | None = None,
    row_stretch: float | None = None,
) -> str:
    """A booktabs table; cells are LaTeX already. A row given as a string is a group heading
    spanning every column; `size` is a font size command for the table (e.g. "small"),
    `column_separation` a \\tabcolsep (e.g. "4pt"), `row_stretch` an \\arraystretch (for fractions)."""
    align = align or "l" * len(header)
    lines = [r"\begin{table}[ht]", r"\centering"]
    if size:
        lines.append(f"\\{size}")
    if column_separation:
        lines.append(f"\\setlength{{\\tabcolsep}}{{{column_separation}}}")
    if row_stretch:
        lines.append(f"\\renewcommand{{\\arraystretch}}{{{row_stretch}}}")
    lines += [
        f"\\caption{{{caption}}}",
        f"\\label{{{label}}}",
        f"\\begin{{tabular}}{{{align}}}",
        r"\toprule",
        " & ".join(header) + r" \\",
        r"\midrule",
    ]
    for index, row in enumerate(rows):
        if isinstance(row, str):
            if index:
                lines.append(r"\addlinespace")
            lines.append(f"\\multicolumn{{{len(header)}}}{{@{{}}l}}{{{row}}} \\\\")
        else:
            lines.append(" & ".join(row) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}", ""]
    return "\n".join(lines)


def stacked(*cells: str) -> str:
    """Several lines in one cell (a nested tabular: no package needed), the later ones in \\footnotesize."""
    lines = [cells[0]] + [r"\footnotesize " + cell for cell in cells[1:] if cell]
    return r"\begin{tabular}[t]{@{}l@{}}" + r" \\ ".join(lines) + r"\end{tabular}"


def head(*lines: str) -> str:
    """A column heading over several lines (centred, aligned at the bottom)."""
    return r"\begin{tabular}[b]{@{}c@{}}" + r" \\ ".join(lines) + r"\end{tabular}"


def over(first: str, second: str, align: str = "r") -> str:
    """Two values in one cell, the second under the first in \\footnotesize (e.g. a mean over its ± std)."""
    return rf"\begin{{tabular}}[t]{{@{{}}{align}@{{}}}}{first} \\ \footnotesize {second}\end{{tabular}}"


def _label_text(label: str | None) -> str:
    if not label:
        return ""
    return rf"\texttt{{{escape(label.removeprefix('lemma:'))}}}"


def lemma_table(rows: Sequence[dict]) -> str:
    """lemma (and its paper label) | samples | max ratio | median ratio | status."""
    body = [
        [
            stacked(rf"\texttt{{{escape(row['id'])}}}", _label_text(row.get("paper_label")) or (r"\textit{this project}" if row.get("builtin", True) else r"\textit{user lemma}")),
            number(int(row["samples"])),
            ratio(row["max_ratio"]),
            ratio(row["median_ratio"], 3),
            escape(row["status"]),
        ]
        for row in rows
    ]
    return table(
        ["lemma (paper label)", "samples", "max ratio", "median ratio", "status"],
        body,
        r"Lemma checks: largest and median $\mathrm{lhs}/\mathrm{rhs}$ over simulator traces and adversarial search "
        r"(holds: every ratio $\le 1$ within $10^{-9}$; a ratio within $10^{-3}$ of 1 is shown as $1 \pm d$). "
        r"Paper labels are \texttt{lemma:}\emph{label}.",
        "tab:lemma-checks",
        "lrrrl",
        size="small",
    )


_LOSS_ABBREVIATIONS = {"squared": "sq.", "cross-entropy": "CE"}


def constants_table(rows: Sequence[dict]) -> str:
    """Measured bounded-signal and smoothness constants per built-in network."""
    body = []
    for row in rows:
        body.append(
            [
                escape("-".join(map(str, row["dims"]))),
                escape(row["activation"]),
                escape(_LOSS_ABBREVIATIONS.get(row["loss"], row["loss"])),
                "$(" + ", ".join(f"{w:.2f}" for w in row["omega"]) + ")$",
                number(row["X"], 3),
                number(row["G"], 4),
                number(row["L"], 4),
            ]
        )
    return table(
        [r"$d_0$-\dots-$d_M$", r"$\phi$", r"$\ell$", r"$(\omega_1, \dots, \omega_M)$", "$X$", "$G$", "$L$"],
        body,
        r"Constants of MODEL.md \S4 with $\omega_m$ measured on the built-in traces (largest $\|W_m^{(k)}\|_2$) and $X$ the largest input norm "
        r"(loss $\ell$: sq.\ squared, CE cross-entropy).",
        "tab:constants",
        "lllllrr",
        size="small",
    )


def complexity_table(stages: int = 4, mini_batch: int = 4) -> str:
    """WOP, SP, AP as the paper tabulates them: density, iteration and clock-cycle complexity, speed-up."""
    body = []
    for schedule, name in (("wop", "WOP"), ("sp", "SP"), ("ap", "AP")):
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
        ["schedule", "density", "iterations", "clock cycles", "speed-up", stacked("speed-up at", f"$M={stages}$, $B={mini_batch}$")],
        body,
        r"Computation density, iteration complexity $K(\varepsilon)$, clock cycles to $\varepsilon$ and speed-up over one device (MODEL.md \S3, \S5): "
        r"WOP model parallel without pipeline, SP synchronous pipeline, AP asynchronous pipeline (as $J \to \infty$).",
        "tab:complexity",
        "lccccr",
        size="small",
        row_stretch=1.4,
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
    body = [
        [rf"\texttt{{{escape(row['id'])}}}", number(row.get("lhs")), number(row.get("rhs")), ratio(row.get("critical_scale"), 3), escape(row["status"])]
        for row in rows
    ]
    return table(
        ["theorem", "lhs", "rhs", "lhs/rhs", "status"],
        body,
        r"Theorem checks: measured left side (mean over seeds) against the right side with measured constants, and lhs/rhs at the worst $K$ (critical scale).",
        "tab:theorems",
        "lrrrl",
    )


def _theorem_expression(expression: str) -> str:
    """A theorem variant's right side (a sympy expression in ASCII names) as LaTeX math."""
    names = set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", expression))
    symbols = {name: sp.Symbol(name) for name in names}
    parsed = sp.parse_expr(expression, local_dict=symbols)
    spelled = {}
    for name, symbol in symbols.items():
        base, _, subscript = name.partition("_")
        base = sp.latex(sp.Symbol(base)) if base != "bound" else r"\mathrm{bound}"
        if subscript:
            subscript = _OPERATOR_SUBSCRIPTS.get(subscript, subscript if len(subscript) == 1 or subscript.isdigit() else rf"\mathrm{{{subscript}}}")
            base += f"_{{{subscript}}}"
        spelled[symbol] = base
    return sp.latex(parsed, symbol_names=spelled)


FALSIFICATION_ROWS_PER_TABLE = 16
"""Rows (lemma headings and variants) of one falsification table, so that it fits a page."""

THEOREM_LHS = r"\frac{1}{K}\sum_{k<K}\|\nabla f(W^{(k)})\|^2"
"""The left side of the convergence theorems (MODEL.md §5)."""


def variants_table(lemma_variants: Sequence[dict], theorem_variants: Sequence[dict] = ()) -> str:
    """Every deliberately false variant, grouped by lemma, then (a second table, so that each
    fits a page) by theorem: the false inequality (its kind, then its formula), how it was
    refuted (on a simulator trace, by adversarial search, or by simulation at some K) and
    the largest lhs/rhs found."""
    columns = r">{\raggedright\arraybackslash}p{0.6\textwidth}lr"
    caption = (
        "Falsification power: deliberately false variants of the lemmas, how the engine refuted each "
        "(on a simulator trace or by adversarial search) and the largest "
        r"$\mathrm{lhs}/\mathrm{rhs}$ it found (above 1: refuted; a ratio within $10^{-3}$ of 1 is shown as $1 \pm d$)."
    )
    chunks: list[list] = [[]]
    for lemma in dict.fromkeys(row["lemma"] for row in lemma_variants):
        rows = [row for row in lemma_variants if row["lemma"] == lemma]
        if chunks[-1] and len(chunks[-1]) + 1 + len(rows) > FALSIFICATION_ROWS_PER_TABLE:
            chunks.append([])  # a new table, so that each fits a page
        chunks[-1].append(rf"\texttt{{{escape(lemma)}}}")
        for row in rows:
            refuted_by = {"trace": "trace", "adversarial search": "search"}.get(row["refuted_by"], row["refuted_by"]) if row["refuted"] else "not refuted"
            chunks[-1].append([rf"\emph{{{notation(row['kind'])}}}: {notation(row['name'])}", escape(refuted_by), ratio(row["ratio"], 3)])
    tables = []
    for index, body in enumerate(chunks):
        tables.append(
            table(
                ["false inequality", "refuted by", "ratio"],
                body,
                caption if index == 0 else f"Falsification power on the lemmas (continued, part {index + 1} of {len(chunks)}).",
                "tab:falsification" if index == 0 else f"tab:falsification-{index + 1}",
                columns,
                size="small",
            )
        )
    text = "\n".join(tables)
    if not theorem_variants:
        return text
    body = []
    for theorem in dict.fromkeys(row["theorem"] for row in theorem_variants):
        body.append(rf"\texttt{{{escape(theorem)}}}")
        for row in (row for row in theorem_variants if row["theorem"] == theorem):
            how = stacked("simulation", f"$K={row['K']}$") if row["refuted"] else ("not tried" if row.get("not_tried") else "not refuted")
            body.append([rf"\emph{{{escape(row['name'])}}}: $\mathrm{{lhs}} \le {_theorem_expression(row['expression'])}$", how, ratio(row["ratio"], 3)])
    return text + "\n" + table(
        ["false inequality", "refuted by", "ratio"],
        body,
        r"Falsification power on the convergence theorems: deliberately false right sides for "
        rf"$\mathrm{{lhs}} = {THEOREM_LHS}$ (MODEL.md \S5), whether simulation over seeds refuted each (at the $K$ given) "
        r"and the largest $\mathrm{lhs}/\mathrm{rhs}$ over the sweep of $K$.",
        "tab:falsification-theorems",
        columns,
        size="small",
    )

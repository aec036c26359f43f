"""Outputs a researcher can put in a paper: every generated table fits a default `article`
page, ratios are never rounded onto 1, the falsification table names the false
inequalities, every figure exists as a one-page PDF and a PNG, witnesses state lhs, rhs,
ratio, layer, constants and instance, and every result file carries its provenance."""

from __future__ import annotations

import io
import json
import math
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

from proofs_check import latex
from proofs_check.cli import build_parser, main
from proofs_check.figures import ratio_bins, right_closed_counts
from proofs_check.instances import Network, load_instance
from proofs_check.provenance import KEY_PACKAGES, command_line, git_commit, package_versions, provenance
from proofs_check.witness import NETWORK, examine, saved_statement, witness_bytes

ROOT = Path(__file__).resolve().parents[2]
RUN_FIGURES = ("ratio_distributions", "schedule_wop", "schedule_sp", "schedule_ap")
pdflatex = pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is installed by .ci/run")


# ----------------------------------------------------------------------------- tables fit a page


def compile_tables(tables: list[Path], directory: Path) -> tuple[int, str]:
    """Compile the tables in one default `article` (the preamble the tables need); the exit
    code and the log."""
    document = "\n".join(
        [r"\documentclass{article}", *latex.PREAMBLE, r"\begin{document}"] + [rf"\input{{{table.as_posix()}}}" + "\n\\clearpage" for table in tables] + [r"\end{document}"]
    )
    (directory / "tables.tex").write_text(document)
    result = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "tables.tex"], cwd=directory, capture_output=True, text=True, timeout=180)
    return result.returncode, (directory / "tables.log").read_text(errors="replace")


def layout_problems(log: str) -> list[str]:
    """LaTeX errors, overfull boxes wider than 1 pt and floats taller than a page in a pdflatex log."""
    problems = [line for line in log.splitlines() if line.startswith("! ") or "Float too large for page" in line]
    for match in re.finditer(r"Overfull \\hbox \(([\d.]+)pt too wide\)[^\n]*", log):
        if float(match.group(1)) > 1.0:
            problems.append(match.group(0))
    return problems


@pdflatex
def test_every_generated_table_fits_a_default_article(quick_run_outputs, figure4_outputs, rates_outputs, devices_outputs, tmp_path):
    tables = sorted((quick_run_outputs[1] / "tables").glob("*.tex"))
    tables += sorted(figure4_outputs[1].glob("*.tex")) + sorted(rates_outputs[1].glob("*.tex")) + sorted(devices_outputs[1].glob("*.tex"))
    assert len(tables) == 5 + 4 + 3 + 1
    code, log = compile_tables(tables, tmp_path)
    assert code == 0 and layout_problems(log) == [], layout_problems(log)
    assert (tmp_path / "tables.pdf").stat().st_size > 1000


@pdflatex
def test_the_layout_check_catches_a_table_too_wide_for_the_page(tmp_path):
    wide = latex.table(["a", "b"], [["x" * 60, "y" * 60]], "A table wider than the page.", "tab:wide")
    (tmp_path / "wide.tex").write_text(wide)
    code, log = compile_tables([tmp_path / "wide.tex"], tmp_path)
    assert code == 0
    assert any("Overfull" in problem for problem in layout_problems(log))


# ----------------------------------------------------------------------------- rounding never hides a verdict


def printed_value(text: str) -> float:
    """The number a ratio cell shows ("$1 + 5.9 \\times 10^{-4}$" is 1.00059)."""
    body = text.strip("$").replace(r" \times 10^", "e").replace("{", "").replace("}", "")
    match = re.fullmatch(r"1 ([+-]) (\S+)", body)
    if match:
        return 1 + (1 if match.group(1) == "+" else -1) * float(match.group(2))
    return float(body)


def same_side_of_one(value: float, text: str) -> bool:
    shown = printed_value(text)
    return (shown > 1) == (value > 1) and (shown < 1) == (value < 1)


@pytest.mark.parametrize("value", [1.0006, 1 + 1e-10, 1 + 5e-16, 0.9999999999997, 0.99951, 1.0009999, 1.001, 0.999, 1.0, 17.1, 3.4e10, 7.2e-5, 0.5])
def test_a_ratio_is_never_rounded_across_or_onto_one(value):
    assert same_side_of_one(value, latex.ratio(value)), latex.ratio(value)
    assert same_side_of_one(value, latex.ratio(value, 2)), latex.ratio(value, 2)


def test_the_side_check_catches_plain_rounding():
    assert latex.number(1.0006, 3) == "$1$"
    assert not same_side_of_one(1.0006, latex.number(1.0006, 3))


def test_missing_and_non_finite_ratios_print_as_such():
    assert latex.ratio(None) == "--"
    assert "nan" in latex.ratio(math.nan)
    assert latex.ratio(math.inf) == r"$\infty$"


# ----------------------------------------------------------------------------- the falsification table


def test_the_falsification_table_names_every_false_inequality(quick_run_outputs):
    _, out, report = quick_run_outputs
    text = (out / "tables" / "falsification.tex").read_text()
    falsification = report["falsification"]
    assert r"S\_" not in text and r"\_$" not in text  # MODEL.md's S_φ is math, not an escaped underscore
    for variant in falsification["variants"]:
        assert latex.notation(variant["name"]) in text, variant["name"]
        assert latex.ratio(variant["ratio"], 3) in text
    for variant in falsification["theorem_variant_list"]:
        assert latex.escape(variant["name"]) in text
    refuted = [row for row in falsification["variants"] if row["refuted"]]
    assert text.count(" & trace & ") + text.count(" & search & ") == len(refuted)


def test_notation_turns_model_symbols_into_math():
    assert latex.notation("S_φ omitted") == r"$S_\phi$ omitted"
    assert latex.notation("||∇f||_F ≤ G/ω_max (a factor ω missing)") == r"$\|\nabla f\|_F \le G/\omega _{\max}$ (a factor $\omega$ missing)"
    assert latex.notation("||g̃ − ∇f||_F") == r"$\|\tilde{g} - \nabla f\|_F$"
    with pytest.raises(ValueError, match="no LaTeX"):
        latex.notation("∮")


# ----------------------------------------------------------------------------- figures


def test_ratio_bins_have_the_bound_as_an_edge_and_count_ratio_one_left_of_it():
    logs = np.array([-3.7, -1e-14, 0.0, 0.0, 2e-10, 0.31])
    edges = ratio_bins(logs)
    assert 0.0 in edges or np.min(np.abs(edges)) < 1e-12
    assert not np.any((edges[:-1] < 0) & (edges[1:] > 0))  # no bin straddles the bound
    counts = right_closed_counts(logs, edges)
    zero = int(np.argmin(np.abs(edges)))
    assert counts[:zero].sum() == 4 and counts[zero:].sum() == 2  # ratios ≤ 1 left of the line
    assert counts.sum() == logs.size


def test_the_straddle_check_catches_numpy_default_bins():
    _, edges = np.histogram(np.array([-3.7, 0.0, 0.31]), bins=50)
    assert np.any((edges[:-1] < 0) & (edges[1:] > 0))


def pdf_pages(path: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(path, strict=True).pages)


def test_every_figure_is_a_one_page_pdf_and_a_png(quick_run_outputs, figure4_outputs, rates_outputs, devices_outputs):
    stems = [quick_run_outputs[1] / "figures" / name for name in RUN_FIGURES] + [figure4_outputs[1] / "figure4", rates_outputs[1] / "rates", devices_outputs[1] / "devices"]
    for stem in stems:
        assert stem.with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", stem
        assert pdf_pages(stem.with_suffix(".pdf")) == 1, stem
    from pypdf import PdfReader

    for name in RUN_FIGURES:  # paper sizes: at most two columns wide (6.9 in)
        box = PdfReader(quick_run_outputs[1] / "figures" / f"{name}.pdf").pages[0].mediabox
        assert float(box.width) <= 6.9 * 72 + 1, (name, float(box.width) / 72)


def figure_layout_problems(figure) -> list[str]:
    """What a reader of the printed figure would see go wrong: a panel (its axes with
    everything drawn for it: title, labels, tick labels, legend, annotations) or a figure
    legend or text reaching outside the figure, a panel's legend reaching outside its axes,
    or two panels on top of each other. Drawn once with the Agg renderer; 1 px slack."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    renderer = canvas.get_renderer()
    page = figure.bbox.padded(1.0)

    def inside(box, frame) -> bool:
        return box.x0 >= frame.x0 and box.y0 >= frame.y0 and box.x1 <= frame.x1 and box.y1 <= frame.y1

    problems = []
    panels = []
    for axes in figure.axes:
        name = axes.get_title() or axes.get_ylabel() or f"axes {len(panels)}"
        box = axes.get_tightbbox(renderer)
        if box is None:  # an axes turned off: nothing drawn
            continue
        panels.append((name, box))
        if not inside(box, page):
            problems.append(f"panel {name!r} reaches outside the figure")
        legend = axes.get_legend()
        if legend is not None and not inside(legend.get_window_extent(renderer), axes.bbox.padded(1.0)):
            problems.append(f"the legend of panel {name!r} reaches outside its axes")
    for artist in [*figure.legends, *figure.texts]:
        if artist.get_visible() and not inside(artist.get_window_extent(renderer), page):
            problems.append(f"figure {type(artist).__name__.lower()} reaches outside the figure")
    for index, (name, box) in enumerate(panels):
        problems += [f"panels {name!r} and {other!r} overlap" for other, other_box in panels[index + 1 :] if box.overlaps(other_box)]
    return problems


def _paper_figures(figure4_summary, rates_summary, devices_summary):
    from proofs_check.experiments.devices import devices_figure
    from proofs_check.experiments.figure4 import figure4_figure
    from proofs_check.experiments.rates import rates_figure
    from proofs_check.figures import main_job_schedule_grid, ratio_distributions
    from proofs_check.library import REGISTRY

    rng = np.random.default_rng(0)
    ratios = {lemma.id: rng.uniform(0.0, 1.0, 50) ** 3 for lemma in REGISTRY}
    yield "ratio_distributions", ratio_distributions(ratios, {lemma_id: "holds" for lemma_id in ratios})
    for name in ("wop", "sp", "ap"):
        yield f"schedule_{name}", main_job_schedule_grid(name)
    yield "figure4", figure4_figure(figure4_summary)
    yield "rates", rates_figure(rates_summary)
    yield "devices", devices_figure(devices_summary)


def test_every_figure_fits_its_page_with_nothing_clipped_or_overlapping(figure4_outputs, rates_outputs, devices_outputs):
    for name, figure in _paper_figures(figure4_outputs[2], rates_outputs[2], devices_outputs[2]):
        width, _ = figure.get_size_inches()
        assert width <= 6.9 + 1e-9, (name, width)  # paper sizes: at most two columns wide
        assert figure_layout_problems(figure) == [], name


def test_the_figure_layout_check_catches_clipped_and_overlapping_texts():
    from matplotlib.figure import Figure

    figure = Figure(figsize=(3.3, 2.0))  # no layout engine: the panels' labels collide
    left, right = figure.subplots(1, 2)
    left.set_title("a title far too long for half of a single column, running off the page")
    right.set_ylabel("a label on the left panel")
    right.plot([0, 1], [0, 1], label="a legend entry much wider than its axes")
    right.legend()
    figure.legend(["a figure legend"], loc=(0.9, 0.9))
    problems = figure_layout_problems(figure)
    assert any("panel 'a title far too long" in problem and "outside the figure" in problem for problem in problems)
    assert any("overlap" in problem for problem in problems)
    assert any("legend of panel" in problem for problem in problems)
    assert any("figure legend reaches outside" in problem for problem in problems)


def test_the_pdf_reader_rejects_a_truncated_figure(quick_run_outputs, tmp_path):
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    data = (quick_run_outputs[1] / "figures" / "schedule_ap.pdf").read_bytes()
    with pytest.raises((PdfReadError, ValueError, KeyError)):
        PdfReader(io.BytesIO(data[: len(data) // 3]), strict=True).pages[0].mediabox


def test_schedule_figure_accepts_pdf(tmp_path, capsys):
    target = tmp_path / "grid.pdf"
    assert main(["schedule", "--schedule", "ap", "--stages", "3", "--micro-batches", "5", "--figure", str(target)]) == 0
    capsys.readouterr()
    assert pdf_pages(target) == 1


# ----------------------------------------------------------------------------- witnesses a referee can read


def _witness_instance():
    rng = np.random.default_rng(3)
    weights = (rng.uniform(-1, 1, (3, 2)), rng.uniform(-1, 1, (2, 3)))
    network = Network("tanh", "squared", weights, rng.uniform(-1, 1, (1, 2)), rng.uniform(-1, 1, (1, 2)))
    return network.instance("bounded-signal", alpha=0.1, tau=2.0)


def test_a_witness_states_lhs_rhs_ratio_layer_constants_and_instance(tmp_path):
    from proofs_check.claims import candidate_claim

    instance = _witness_instance()
    claim = candidate_claim("bounded-signal", "bound/100")
    statement = examine(instance, claim)
    assert statement.status == "violated" and statement.layer is None and statement.where == NETWORK
    assert statement.lhs > statement.rhs > 0
    assert statement.ratio == pytest.approx(statement.lhs / (statement.rhs + 1e-12), rel=1e-12)
    assert statement.rhs == pytest.approx(statement.constants["bound"] / 100, rel=1e-12)
    assert statement.instance["M"] == 2 and statement.instance["widths"] == [2, 3, 2]
    assert (statement.instance["activation"], statement.instance["loss"], statement.instance["alpha"], statement.instance["tau"]) == ("tanh", "squared", 0.1, 2.0)
    text = "\n".join(statement.lines())
    for fragment in ("lhs = ", "rhs = ", "lhs/rhs = ", "bound = ", "M = 2", "widths 2-3-2", "α = 0.1", "τ = 2", NETWORK):
        assert fragment in text, fragment
    path = tmp_path / "witness.npz"
    path.write_bytes(witness_bytes(instance, statement))
    assert saved_statement(path)["lhs"] == statement.lhs
    reloaded = load_instance(path)
    assert all(np.array_equal(a, b) for a, b in zip(reloaded.weights, instance.weights))


def test_an_own_bound_that_holds_is_not_reported_as_broken():
    statement = examine(_witness_instance())
    assert statement.status == "holds" and statement.ratio <= 1 + 1e-9
    assert statement.lines()[1].startswith("closest to breaking")


def test_replay_prints_the_statement_and_never_layer_none(tmp_path, capsys):
    from proofs_check.claims import candidate_claim

    instance = _witness_instance()
    path = tmp_path / "witness.npz"
    path.write_bytes(witness_bytes(instance, examine(instance, candidate_claim("bounded-signal", "bound/100"))))
    assert main(["replay", str(path), "--rhs", "bound/100"]) == 1
    out = capsys.readouterr().out
    assert "lhs = " in out and "rhs = " in out and "constants in the right side: bound = " in out
    assert main(["replay", str(path)]) == 0
    out = capsys.readouterr().out
    assert "None" not in out and NETWORK in out
    assert main(["replay", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["statement"]["instance"]["widths"] == [2, 3, 2]


# ----------------------------------------------------------------------------- provenance


PROVENANCE_KEYS = {"version", "python", "packages", "seed", "command", "commit"}


def test_key_packages_are_the_runtime_dependencies_of_pyproject():
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {re.split(r"[<>=!~ \[]", requirement, maxsplit=1)[0] for requirement in dependencies}
    assert names == set(KEY_PACKAGES)


def test_provenance_names_versions_seed_command_and_commit():
    record = provenance(7, "python -m proofs_check run --seed 7")
    assert set(record) == PROVENANCE_KEYS
    assert record["seed"] == 7 and record["command"].endswith("--seed 7")
    assert record["python"] == ".".join(map(str, sys.version_info[:3]))
    assert record["packages"] == package_versions() and record["packages"]["numpy"] == np.__version__
    assert record["packages"]["z3-solver"] is not None
    assert package_versions(("no-such-distribution-here",)) == {"no-such-distribution-here": None}


def test_the_commit_is_the_checkout_head_and_null_outside_a_checkout(tmp_path):
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True)
    if head.returncode == 0:
        assert git_commit(ROOT) == head.stdout.strip()
    assert git_commit(tmp_path) is None


def test_the_command_line_reproduces_the_parsed_invocation():
    parser = build_parser()
    for argv in (["run", "--quick", "--seed", "3", "--out", "x y"], ["experiment", "rates", "--quick", "--out", "o"], ["experiment", "figure4", "--seeds", "2"]):
        arguments = parser.parse_args(argv)
        line = command_line(arguments)
        import shlex

        words = shlex.split(line)
        assert words[:3] == ["python", "-m", "proofs_check"]
        assert vars(parser.parse_args(words[3:])) == vars(arguments), line


def test_report_and_experiment_json_carry_provenance(quick_run_outputs, figure4_outputs, rates_outputs, devices_outputs):
    records = [quick_run_outputs[2]["provenance"], figure4_outputs[2]["provenance"], rates_outputs[2]["provenance"], devices_outputs[2]["provenance"]]
    for record, command in zip(records, ("run", "experiment figure4", "experiment rates")):
        assert set(record) == PROVENANCE_KEYS
        assert record["seed"] == 0 and record["command"].startswith(f"python -m proofs_check {command} ")
        assert set(KEY_PACKAGES) <= set(record["packages"])
        assert record["commit"] is None or re.fullmatch(r"[0-9a-f]{40}", record["commit"])

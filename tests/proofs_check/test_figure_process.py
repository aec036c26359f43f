"""Figures drawn by the helper process (`proofs_check.figure_process`): the same bytes as
in-process, errors surfacing in the caller's process, and nothing lost when the helper dies."""

from __future__ import annotations

import signal

import numpy as np
import pytest

from proofs_check.figure_process import FigureDrawing, draw
from proofs_check.report import schedule_figures

RATIOS = (
    {"bounded-signal": np.array([0.2, 0.5, 0.97]), "box-invariance": np.array([1e-3, 0.4]), "gradient-delay": np.zeros(0)},
    {"bounded-signal": "holds", "box-invariance": "holds", "gradient-delay": "holds"},
)
"""Arguments of a small ratio-distribution figure."""


def _recipes():
    return schedule_figures() + [("ratio_distributions", "proofs_check.figures:ratio_distributions", RATIOS)]


def _draw_all(drawing: FigureDrawing) -> dict[str, dict[str, bytes]]:
    with drawing:
        for stem, builder, arguments in _recipes():
            drawing.submit(stem, builder, *arguments)
        return drawing.drawn()


def test_the_helper_draws_the_bytes_drawn_in_process():
    helper = FigureDrawing(helper=True)
    assert helper.in_helper
    beside = _draw_all(helper)
    alone = _draw_all(FigureDrawing(helper=False))
    assert list(beside) == [stem for stem, _, _ in _recipes()] == list(alone)
    for stem in alone:
        assert set(alone[stem]) == {"png", "pdf"}
        assert beside[stem] == alone[stem], stem
    assert alone["schedule_ap"]["png"].startswith(b"\x89PNG") and alone["schedule_ap"]["pdf"].startswith(b"%PDF")


def test_a_figure_the_helper_cannot_draw_fails_with_its_own_error():
    for builder, arguments, error in [
        ("proofs_check.figures:main_job_schedule_grid", ("no-such-schedule",), ValueError),
        ("proofs_check.no_such_module:figure", (), ModuleNotFoundError),
    ]:
        with FigureDrawing(helper=True) as drawing:
            drawing.submit("bad", builder, *arguments)
            drawing.submit("good", "proofs_check.figures:main_job_schedule_grid", "ap")
            with pytest.raises(error):
                drawing.drawn()


def test_figures_of_a_killed_helper_are_drawn_in_process():
    with FigureDrawing(helper=True) as drawing:
        for stem, builder, arguments in schedule_figures():
            drawing.submit(stem, builder, *arguments)
        drawing._process.kill()
        drawn = drawing.drawn()
    assert drawn == {stem: draw(builder, arguments) for stem, builder, arguments in schedule_figures()}


def test_the_helper_ignores_sigint_and_ends_with_the_drawing():
    with FigureDrawing(helper=True) as drawing:
        process = drawing._process
        stem, builder, arguments = schedule_figures()[0]
        drawing.submit(stem, builder, *arguments)
        process.send_signal(signal.SIGINT)
        drawn = drawing.drawn()
    assert drawn[stem] == draw(builder, arguments)
    assert process.returncode == 0
    with FigureDrawing(helper=True) as drawing:
        process = drawing._process
        drawing.submit(stem, builder, *arguments)
    assert process.returncode is not None  # leaving the context ends the helper


def test_a_figure_is_submitted_once():
    with FigureDrawing(helper=False) as drawing:
        drawing.submit("x", "proofs_check.figures:main_job_schedule_grid", "ap")
        with pytest.raises(ValueError, match="already submitted"):
            drawing.submit("x", "proofs_check.figures:main_job_schedule_grid", "sp")

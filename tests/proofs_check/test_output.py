"""The terminal table printer and the JSON encoder of proofs_check.output."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pytest

from proofs_check.output import MISSING, Column, format_table, json_text, print_table

NUMBER = Column("value", "right", ".3g")


def test_widths_come_from_the_widest_cell_header_included():
    lines = format_table(["name", Column("n", "right")], [("a", 1), ("bb", 12345)]).splitlines()
    assert lines == [
        "name      n",
        "----  -----",
        "a         1",
        "bb    12345",
    ]


def test_text_is_left_aligned_and_numbers_right_aligned():
    header, rule, short, long = format_table([Column("key"), NUMBER, "note"], [("x", 1.5, "t"), ("longer", 1234.0, "text")]).splitlines()
    assert short.startswith("x       ") and long.startswith("longer  ")
    assert header.index("value") + len("value") == short.index("1.5") + len("1.5") == long.index("1.23e+03") + len("1.23e+03")
    assert short.index("t") == long.index("text") == header.index("note")
    assert rule.split() == ["------", "--------", "----"]


def test_a_column_format_applies_to_numbers_only():
    text = format_table([Column("x", "right", ".2f")], [(1,), (np.float64(2.25),), (np.int64(3),), ("n/a",), (True,)])
    assert text.splitlines()[2:] == ["1.00", "2.25", "3.00", " n/a", "True"]


@pytest.mark.parametrize(("value", "marker"), [(None, MISSING), (math.nan, "nan"), (np.float32("nan"), "nan"), (math.inf, "inf"), (-np.inf, "-inf")])
def test_missing_and_non_finite_cells_print_a_fixed_marker_whatever_the_format(value, marker):
    for column in (Column("v"), Column("v", "right", "+.3e")):
        assert format_table([column], [(value,)]).splitlines()[2].strip() == marker


def test_unicode_counts_one_column_per_character():
    lines = format_table(["symbol", NUMBER], [("τ ≤ ∇", 1), ("ab", 2)]).splitlines()
    assert len({len(line) for line in lines}) == 1
    assert lines[2] == "τ ≤ ∇       1"


def test_an_empty_table_prints_its_headers_and_rule():
    assert format_table(["a", NUMBER], []) == "a  value\n-  -----"


def test_trailing_spaces_are_dropped():
    assert all(line == line.rstrip() for line in format_table(["a", "b"], [("long text", ""), ("", "x")]).splitlines())


def test_a_row_of_the_wrong_length_is_rejected():
    with pytest.raises(ValueError, match="2 cells for 3 columns"):
        format_table(["a", "b", "c"], [(1, 2)])


def test_an_unknown_alignment_is_rejected():
    with pytest.raises(ValueError, match="align"):
        Column("x", "center")


def test_print_table_writes_the_title_then_the_table(capsys):
    stream = io.StringIO()
    print_table(["a"], [("x",)], title="the title", stream=stream)
    assert stream.getvalue() == "the title\na\n-\nx\n"
    print_table(["a"], [])
    assert capsys.readouterr().out == "a\n-\n"


def test_json_text_turns_nan_and_inf_into_null():
    value = {"nan": math.nan, "inf": math.inf, "ninf": -np.inf, "array": np.array([1.0, np.nan, np.inf]), "scalar": np.float32("nan")}
    assert json.loads(json_text(value)) == {"nan": None, "inf": None, "ninf": None, "array": [1.0, None, None], "scalar": None}
    assert "NaN" not in json_text(value) and "Infinity" not in json_text(value)


def test_json_text_keeps_every_plain_json_value():
    value = {"s": "τ ≤ 1", "i": 3, "f": 0.1, "b": True, "n": None, "l": [1, [2.5, "x"]], "d": {"k": False}, "e": [], "o": {}}
    assert json.loads(json_text(value)) == value
    numpy_value = {"i": np.int64(7), "f": np.float64(0.25), "b": np.bool_(False), "a": np.arange(3), "t": (1, 2)}
    assert json.loads(json_text(numpy_value)) == {"i": 7, "f": 0.25, "b": False, "a": [0, 1, 2], "t": [1, 2]}

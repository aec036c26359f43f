"""Side effects at the command-line edge: atomic file writes, JSON, terminal tables, progress bars."""

from __future__ import annotations

import io
import json
import math
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence, TextIO

import numpy as np
from tqdm import tqdm


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()
"""Mode of written files: what open() would give (mkstemp alone creates them 0600)."""


def _atomic_write_bytes(path: Path, payload: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(temporary, _FILE_MODE)
        with os.fdopen(handle, "wb") as stream:
            stream.write(payload)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def to_jsonable(value: Any) -> Any:
    """Plain JSON types from numpy scalars and arrays; non-finite floats become null."""
    if isinstance(value, dict):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(item) for item in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def json_text(value: Any) -> str:
    """Strict JSON (no NaN or Infinity tokens)."""
    return json.dumps(to_jsonable(value), indent=2, allow_nan=False)


def write_json(path: Path, value: Any) -> None:
    """Write `value` as JSON to `path` through a temporary file and a rename."""
    _atomic_write_bytes(Path(path), (json_text(value) + "\n").encode())


def write_text(path: Path, text: str) -> None:
    """Write text to `path` through a temporary file and a rename."""
    _atomic_write_bytes(Path(path), text.encode())


def write_bytes(path: Path, payload: bytes) -> None:
    """Write bytes to `path` through a temporary file and a rename."""
    _atomic_write_bytes(Path(path), payload)


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write an .npz archive to `path` through a temporary file and a rename."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    _atomic_write_bytes(Path(path), buffer.getvalue())


FIGURE_DPI = 300
"""Resolution of every written raster figure (dots per inch)."""
FIGURE_FORMATS = ("png", "pdf")
"""Figure files the toolkit writes: PNG (raster, 300 dpi) and PDF (vector); the suffix decides."""


def figure_bytes(figure, kind: str) -> bytes:
    """A matplotlib figure saved as `kind` (one of FIGURE_FORMATS; ValueError for any other),
    without a time stamp or software tag: the same figure gives the same bytes on every run."""
    if kind not in FIGURE_FORMATS:
        raise ValueError(f"a figure is written as {' or '.join(FIGURE_FORMATS)}, not .{kind}")
    buffer = io.BytesIO()
    metadata = {"CreationDate": None} if kind == "pdf" else {"Software": None}
    # Every figure is laid out by constrained layout at its declared size (a column width):
    # no "tight" bounding box, which would draw the figure twice and change its width.
    figure.savefig(buffer, format=kind, dpi=FIGURE_DPI, metadata=metadata)
    return buffer.getvalue()


def figure_formats_bytes(figure) -> dict[str, bytes]:
    """The figure in every format of FIGURE_FORMATS, laid out once: the layout engine
    (constrained layout) places the axes for the first format, and the others reuse those
    positions instead of measuring every label again (the layout is most of a save's time).
    The figure's layout engine is restored afterwards."""
    engine = figure.get_layout_engine()
    formats = {}
    try:
        for index, kind in enumerate(FIGURE_FORMATS):
            formats[kind] = figure_bytes(figure, kind)
            if index == 0 and engine is not None:
                figure.set_layout_engine("none")
    finally:
        figure.set_layout_engine(engine)
    return formats


def write_figure(path: Path, figure) -> None:
    """Save a matplotlib figure through a temporary file and a rename, as PNG or PDF by the
    path's suffix (ValueError for any other)."""
    kind = Path(path).suffix.lower().lstrip(".")
    if kind not in FIGURE_FORMATS:
        raise ValueError(f"a figure is written as {' or '.join(FIGURE_FORMATS)}, not {path}")
    _atomic_write_bytes(Path(path), figure_bytes(figure, kind))


def write_figure_files(stem: Path, formats: dict[str, bytes]) -> None:
    """Write a figure's bytes by format (`figure_formats_bytes`) as `stem`.png, `stem`.pdf."""
    for kind, payload in formats.items():
        _atomic_write_bytes(stem.with_name(f"{stem.name}.{kind}"), payload)


def write_figure_formats(stem: Path, figure) -> None:
    """Write a figure in every format of FIGURE_FORMATS (`stem`.png, `stem`.pdf), laid out once."""
    write_figure_files(stem, figure_formats_bytes(figure))


def progress_bar(description: str) -> Callable[[Iterable, int], Iterable]:
    """A tqdm wrapper on stderr, silent when stderr is not a terminal."""

    def wrap(iterable: Iterable, total: int) -> Iterable:
        return tqdm(iterable, total=total, desc=description, file=sys.stderr, disable=not sys.stderr.isatty(), leave=False)

    return wrap


def print_json(value: Any) -> None:
    """One JSON object on stdout."""
    print(json_text(value))


MISSING = "--"
"""How a table prints a None cell (NaN and ±inf print as nan, inf, -inf)."""


@dataclass(frozen=True)
class Column:
    """A table column: its header, its alignment ("left" for text, "right" for numbers) and
    the format spec of its numeric cells (e.g. ".6g"; "" is str). Other cells print as str."""

    header: str
    align: str = "left"
    format: str = ""

    def __post_init__(self) -> None:
        if self.align not in ("left", "right"):
            raise ValueError(f"align must be 'left' or 'right', got {self.align!r}")


def _cell(value: Any, spec: str) -> str:
    if value is None:
        return MISSING
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        return str(value)
    if not math.isfinite(value):
        return "nan" if math.isnan(value) else "inf" if value > 0 else "-inf"
    return format(value, spec)


def format_table(columns: Sequence[Column | str], rows: Iterable[Sequence[Any]]) -> str:
    """The table as text: the headers, a rule of dashes, then one line per row.

    A plain string column is a left-aligned text column. Each column is as wide as its
    widest cell, header included (one position per character); columns are two spaces
    apart and trailing spaces are dropped.
    """
    columns = [Column(column) if isinstance(column, str) else column for column in columns]
    lines = [[column.header for column in columns]]
    for row in rows:
        if len(row) != len(columns):
            raise ValueError(f"a row has {len(row)} cells for {len(columns)} columns: {row!r}")
        lines.append([_cell(value, column.format) for value, column in zip(row, columns)])
    widths = [max(len(line[index]) for line in lines) for index in range(len(columns))]
    lines.insert(1, ["-" * width for width in widths])
    return "\n".join(
        "  ".join(text.ljust(width) if column.align == "left" else text.rjust(width) for text, width, column in zip(line, widths, columns)).rstrip()
        for line in lines
    )


def print_table(columns: Sequence[Column | str], rows: Iterable[Sequence[Any]], *, title: str | None = None, stream: TextIO | None = None) -> None:
    """Print format_table(columns, rows) to `stream` (default stdout), after `title` if given."""
    stream = sys.stdout if stream is None else stream
    if title is not None:
        print(title, file=stream)
    print(format_table(columns, rows), file=stream)

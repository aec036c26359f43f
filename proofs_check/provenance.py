"""Provenance of a result file: which version, Python, packages, seed and command produced it.

`provenance(seed, command)` is the one place that builds the `provenance` object of
`report.json` and of every experiment JSON (CONTRACT.md): the toolkit's version, the Python
version, the versions of the packages the toolkit depends on, the seed, the command line and
the git commit of the source tree when it is a git checkout (else null).
"""

from __future__ import annotations

import argparse
import platform
import shlex
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from proofs_check._version import __version__

KEY_PACKAGES = ("numpy", "scipy", "sympy", "matplotlib", "mpmath", "tqdm", "scikit-learn", "hypothesis", "z3-solver", "dask", "threadpoolctl")
"""Distributions whose versions a result records: the runtime dependencies of pyproject.toml."""

SOURCE_ROOT = Path(__file__).resolve().parents[1]
"""The directory holding the `proofs_check` package (a git checkout's root when run from one)."""


def package_versions(names: tuple[str, ...] = KEY_PACKAGES) -> dict[str, str | None]:
    """Installed version of each distribution (None when it is not installed)."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    return versions


def git_commit(root: Path = SOURCE_ROOT) -> str | None:
    """The commit checked out at `root` when it is a git work tree (None otherwise, or without git)."""
    try:
        completed = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--verify", "HEAD"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = completed.stdout.strip()
    if completed.returncode != 0 or len(commit) not in (40, 64) or any(c not in "0123456789abcdef" for c in commit):
        return None
    return commit


def command_line(arguments: argparse.Namespace, positional: tuple[str, ...] = ("command", "experiment")) -> str:
    """The command line that reproduces a parsed invocation, every option spelled out
    (defaults included): `python -m proofs_check run --out results --seed 0 --quick`."""
    values = vars(arguments)
    words = ["python", "-m", "proofs_check"] + [str(values[name]) for name in positional if values.get(name) is not None]
    for name, value in values.items():
        if name in positional or value is None or value is False:
            continue
        flag = "--" + name.replace("_", "-")
        if value is True:
            words.append(flag)
        elif isinstance(value, (list, tuple)):
            for item in value:
                words += [flag, str(item)]
        else:
            words += [flag, str(value)]
    return shlex.join(words)


def provenance(seed: int | None, command: str | None) -> dict:
    """The `provenance` object of CONTRACT.md: version, python, packages, seed, command, commit."""
    return {
        "version": __version__,
        "python": platform.python_version(),
        "packages": package_versions(),
        "seed": seed,
        "command": command,
        "commit": git_commit(),
    }

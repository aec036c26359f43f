"""The registry of lemmas: the seven of MODEL.md §4, and the ones users register.

Users add lemmas with `register_lemma` (from a script), `--plugin FILE.py` (a file that
registers lemmas when imported) or the entry-point group `proofs_check.lemmas` (an
installed package whose entry points name a lemma, or a list of lemmas).
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Iterable, Iterator

from proofs_check.library import analog_increment, bounded_signal, box_invariance, gradient_delay, objective_smoothness
from proofs_check.library import signal_delay, signal_stability
from proofs_check.library.base import Lemma

ENTRY_POINT_GROUP = "proofs_check.lemmas"

BUILTIN: tuple[Lemma, ...] = tuple(
    module.LEMMA
    for module in (bounded_signal, signal_stability, objective_smoothness, analog_increment, box_invariance, signal_delay, gradient_delay)
)
"""The lemmas of MODEL.md §4, in its order."""


class RegistryError(ValueError):
    """A lemma that cannot be registered or found, or a plugin that cannot be loaded."""


class Registry:
    """Lemmas by id, in registration order (the built-ins first)."""

    def __init__(self, lemmas: Iterable[Lemma] = ()) -> None:
        self._lemmas: dict[str, Lemma] = {}
        self._entry_points_loaded = False
        for lemma in lemmas:
            self.register(lemma)

    def register(self, lemma: Lemma) -> Lemma:
        """Add a lemma; an id already taken by another lemma is an error."""
        if not isinstance(lemma, Lemma):
            raise RegistryError(f"register_lemma needs a Lemma (e.g. proofs_check.UserLemma), got {type(lemma).__name__}")
        existing = self._lemmas.get(lemma.id)
        if existing is not None and existing is not lemma:
            raise RegistryError(f"lemma id {lemma.id!r} is already registered ({existing!r}); choose another id")
        self._lemmas[lemma.id] = lemma
        return lemma

    def get(self, lemma: "str | Lemma") -> Lemma:
        """The lemma itself, or the registered lemma with that id."""
        if isinstance(lemma, Lemma):
            return lemma
        self.load_entry_points()
        try:
            return self._lemmas[lemma]
        except KeyError:
            raise RegistryError(f"unknown lemma {lemma!r}; registered: {', '.join(self._lemmas)}") from None

    def ids(self) -> tuple[str, ...]:
        self.load_entry_points()
        return tuple(self._lemmas)

    def __iter__(self) -> Iterator[Lemma]:
        self.load_entry_points()
        return iter(tuple(self._lemmas.values()))

    def load_entry_points(self, refresh: bool = False) -> None:
        """Register the lemmas of installed packages (group `proofs_check.lemmas`), once
        (again with `refresh`, for packages installed since)."""
        if self._entry_points_loaded and not refresh:
            return
        self._entry_points_loaded = True
        for point in entry_points(group=ENTRY_POINT_GROUP):
            try:
                loaded = point.load()
            except Exception as error:
                raise RegistryError(f"entry point {point.name!r} ({point.value}) of group {ENTRY_POINT_GROUP} failed to load: {type(error).__name__}: {error}") from None
            for lemma in loaded if isinstance(loaded, (list, tuple)) else (loaded,):
                if self._lemmas.get(getattr(lemma, "id", None)) is not lemma:
                    self.register(lemma)

    def load_plugin(self, path: Path) -> None:
        """Import a user's file; the lemmas it registers join the registry."""
        path = Path(path)
        if not path.is_file():
            raise RegistryError(f"--plugin: no such file {path}")
        name = f"proofs_check_plugin_{abs(hash(str(path.resolve())))}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise RegistryError(f"--plugin: {path} is not a Python file")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except RegistryError as error:
            raise RegistryError(f"--plugin: {path}: {error}") from None
        except Exception as error:
            raise RegistryError(f"--plugin: {path} raised {type(error).__name__}: {error}") from None
        finally:
            sys.modules.pop(name, None)

    @contextlib.contextmanager
    def scope(self) -> Iterator["Registry"]:
        """Registrations made inside the block are undone at its end (one command's plugins)."""
        saved, loaded = dict(self._lemmas), self._entry_points_loaded
        try:
            yield self
        finally:
            self._lemmas, self._entry_points_loaded = saved, loaded


REGISTRY = Registry(BUILTIN)
"""The registry the commands and the public API use."""


def register_lemma(lemma: Lemma) -> Lemma:
    """Register a lemma (returns it, so it can decorate or be assigned)."""
    return REGISTRY.register(lemma)


def get_lemma(lemma: "str | Lemma") -> Lemma:
    """A lemma object from an id (or the object itself)."""
    return REGISTRY.get(lemma)


def lemma_ids() -> tuple[str, ...]:
    """The registered lemma ids, built-ins first."""
    return REGISTRY.ids()

"""proofs_check: verify the convergence theory of pipeline-parallel analog in-memory training.

Check a lemma's bound, or your own, against simulator traces and adversarial search::

    import proofs_check
    result = proofs_check.check_bound("bounded-signal", "bound/omega_max", budget=1)
    result.status            # 'violated': the factor ω_max is missing
    result.witness.save("w.npz")

Define a lemma of your own with `UserLemma` and `register_lemma`; draw the project's
objects in your property tests from `proofs_check.strategies`. The manual is docs/index.md.
"""

from proofs_check._version import __version__

_PUBLIC = {
    "proofs_check.api": ("CheckResult", "ReplayResult", "TightnessResult", "Witness", "check_bound", "check_theorem", "replay", "tightness", "verify"),
    "proofs_check.instances": ("Instance", "load_instance"),
    "proofs_check.library": ("BOUND_SYMBOLS", "Context", "FalseVariant", "Lemma", "UserLemma", "get_lemma", "register_lemma"),
}
"""Where each public name lives; loaded on first use (the command line's entry point imports
this package before numpy, so that Ctrl-C during the imports is handled: proofs_check._entry)."""
_HOME = {name: module for module, names in _PUBLIC.items() for name in names}

__all__ = [
    "BOUND_SYMBOLS",
    "CheckResult",
    "Context",
    "FalseVariant",
    "Instance",
    "Lemma",
    "ReplayResult",
    "TightnessResult",
    "UserLemma",
    "Witness",
    "__version__",
    "check_bound",
    "check_theorem",
    "get_lemma",
    "lemmas",
    "load_instance",
    "register_lemma",
    "replay",
    "strategies",
    "tightness",
    "verify",
]


def __getattr__(name: str):
    import importlib

    if name in _HOME:
        value = getattr(importlib.import_module(_HOME[name]), name)
    elif name == "lemmas":  # CONTRACT: proofs_check.lemmas()
        value = importlib.import_module("proofs_check.library").lemma_ids
    elif name == "strategies":  # imports hypothesis: on first use only
        value = importlib.import_module("proofs_check.strategies")
    else:
        raise AttributeError(f"module 'proofs_check' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

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
from proofs_check.api import CheckResult, ReplayResult, TightnessResult, Witness, check_bound, check_theorem, replay, tightness, verify
from proofs_check.instances import Instance, load_instance
from proofs_check.library import BOUND_SYMBOLS, Context, FalseVariant, Lemma, UserLemma, get_lemma, register_lemma
from proofs_check.library import lemma_ids as lemmas  # noqa: F401 (CONTRACT: proofs_check.lemmas())

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
    # `proofs_check.strategies` imports hypothesis: load it on first use only.
    if name == "strategies":
        import importlib

        return importlib.import_module("proofs_check.strategies")
    raise AttributeError(f"module 'proofs_check' has no attribute {name!r}")

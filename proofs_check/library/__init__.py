"""The lemmas: one module per lemma of MODEL.md §4, the base class, user lemmas, the registry.

A lemma is one object (`Lemma`) holding its statement, evaluator, instances, search space,
assumption checks and false variants; `REGISTRY` lists them and everything else iterates
over it.
"""

from proofs_check.library.base import BOUND_SYMBOLS, Evaluation, FalseVariant, Lemma, Part, Structure
from proofs_check.library.context import EXACT, ConstantsModel, Context
from proofs_check.library.registry import BUILTIN, REGISTRY, Registry, RegistryError, get_lemma, lemma_ids, register_lemma
from proofs_check.library.user import UserLemma

__all__ = [
    "BOUND_SYMBOLS", "BUILTIN", "EXACT", "REGISTRY", "ConstantsModel", "Context", "Evaluation", "FalseVariant", "Lemma",
    "Part", "Registry", "RegistryError", "Structure", "UserLemma", "get_lemma", "lemma_ids", "register_lemma",
]

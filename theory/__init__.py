"""Symbolic half of the toolkit: MODEL.md's constants, lemmas, theorems, schedule closed
forms, complexities and the proof-step ledger, in sympy."""

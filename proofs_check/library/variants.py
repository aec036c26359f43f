"""Modified recursions that false variants of several lemmas share (each one is wrong)."""

from __future__ import annotations

import numpy as np

from proofs_check.library.context import ConstantsModel
from theory import constants as theory_constants


def _stability_without_curvature(omega, X, L_phi, S_phi, L_ell, G_ell, u_f, u_b, sqrt=np.sqrt):
    """ε_m with its S_φ ω_{m+1} Δ_{m+1} ζ_m term dropped."""
    return theory_constants.stability_constants(omega, X, L_phi, 0 * S_phi, L_ell, G_ell, u_f, u_b, sqrt=sqrt)


def _stability_without_activation_gap(omega, X, L_phi, S_phi, L_ell, G_ell, u_f, u_b, sqrt=np.sqrt):
    """γ_m = A_{m−1} ε_m with the Δ_m e_{m−1} term dropped."""
    exact = theory_constants.stability_constants(omega, X, L_phi, S_phi, L_ell, G_ell, u_f, u_b, sqrt=sqrt)
    signal = theory_constants.signal_constants(omega, X, L_phi, G_ell, sqrt=sqrt)
    return theory_constants.StabilityConstants(exact.zeta, exact.e, exact.eps, signal.A * exact.eps)


WITHOUT_CURVATURE = ConstantsModel("S_φ omitted from ε_m", stability=_stability_without_curvature)
WITHOUT_ACTIVATION_GAP = ConstantsModel("Δ_m e_{m−1} dropped from γ_m", stability=_stability_without_activation_gap)
DELAY_IGNORED = ConstantsModel("delays taken as 0", ignore_delays=True)
BACKWARD_DELAY_IGNORED = ConstantsModel("backward delays taken as 0", ignore_backward_delays=True)
STEP_FACTOR_ONE = ConstantsModel("q_max replaced by 1", step_factor=lambda constants: 1 + 0 * constants.q_max)
STEP_FACTOR_BETA = ConstantsModel("q_max replaced by β", step_factor=lambda constants: constants.beta)

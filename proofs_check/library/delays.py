"""What the two delay lemmas share: the window of versions an asynchronous update saw.

A delay instance carries, per layer, the versions W_m^{(k−n+1)}..W_m^{(k)} (its `history`)
and the delays d^f, d^b (measured on traces: `pipedream` and `2bw` have d^b > 0); the
reference point W^{(k)} is the last version. Its adversarial instances are stale-gradient
histories (proofs_check.histories) from drawn initial weights, with drawn forward and
backward delays. The worst-case gaps use the device's q_max (`Device.constants`).
"""

from __future__ import annotations

import numpy as np

from numerics.activations import ACTIVATIONS
from numerics.devices import device_for_bound
from numerics.losses import LOSSES
from proofs_check.histories import stale_history
from proofs_check.instances import Instance
from proofs_check.library.base import Lemma, rows_within_box
from proofs_check.library.context import Context, amax, asum, maximum

Array = np.ndarray


class DelayWindow:
    """Stale versions and measured increments of a delay instance's history."""

    def __init__(self, c: Context) -> None:
        instance = c.instance
        self.context = c
        self.history = tuple(c.converted(h) for h in instance.history)
        self.current = c.shared("current versions", self.history, lambda: tuple(h[..., -1, :, :] for h in self.history))
        self.forward_delays = np.asarray(instance.forward_delays, dtype=np.int64)
        backward = instance.backward_delays if instance.backward_delays is not None else np.zeros_like(self.forward_delays)
        self.backward_delays = np.asarray(backward, dtype=np.int64)
        self.step_norms = [c.shared("step norms", (h,), lambda h=h: c.ar.norm(np.diff(h, axis=-3), (-2, -1))) for h in self.history]
        self.length = self.history[0].shape[-3]

    def stale(self, delays: Array) -> tuple[Array, ...]:
        """W_m^{(k − d_m)} per layer (delays [batch..., M])."""
        def compute():
            chosen = []
            for m, h in enumerate(self.history):
                index = self.length - 1 - delays[..., m]
                chosen.append(np.take_along_axis(h, index[..., None, None, None], axis=-3)[..., 0, :, :])
            return tuple(chosen)

        return self.context.shared("stale versions", (delays, *self.history), compute)

    def increments(self, delays: Array) -> Array:
        """Σ_{i=k−d_m}^{k−1} ||W_m^{(i+1)} − W_m^{(i)}||_F per layer, [batch..., M]."""
        sums = []
        for m, steps in enumerate(self.step_norms):
            positions = np.arange(self.length - 1)
            mask = positions >= (self.length - 1 - delays[..., m][..., None])
            sums.append(asum(np.where(mask, steps, 0 * steps), axis=-1))
        return np.stack(sums, -1)


class DelaySetup:
    """Context (reference point: the window's last version), window, ω over the history, and the
    bounds: X, Y (micro-batch or instance), W_max, G_ℓ, the signal constants, the device
    constants and the step α q_max (ALD: α(1 + W_max/τ))."""

    def __init__(self, c: Context) -> None:
        instance = c.instance
        self.window = window = DelayWindow(c)
        c.W = window.current
        if instance.omega is not None:
            self.omega = c.omega()
        else:
            self.omega = np.stack([amax(c.spectral_norm(h), axis=-1) for h in window.history], -1)[..., None, :]
        self.X, self.Y = c.micro_batch_X(), c.micro_batch_Y()
        if instance.W_max is not None:
            self.W_max = c.scalar(instance.W_max)
        else:
            W_max = None
            for h in window.history:
                value = amax(np.abs(h), axis=(-3, -2, -1))
                W_max = value if W_max is None else maximum(W_max, value)
            self.W_max = W_max[..., None]
        self.G_ell = c.G_ell(self.omega, self.X, self.Y)
        self.signal = c.signal(self.omega, self.X, self.G_ell)
        self.device_constants = c.device_constants(self.W_max)
        """β, q_max, G_max of the instance's device on the box |w| ≤ W_max (Device.constants)."""
        self.q_max = c.model.step_factor(self.device_constants)
        """The step factor of one update: q_max (ALD: 1 + W_max/τ), or a false variant's."""
        self.per_step = c.scalar(instance.alpha) * self.q_max
        """α q_max: the most one update moves a layer per unit of ||g̃_m||_F (analog increment)."""
        d_f, d_b = window.forward_delays, window.backward_delays
        if c.model.ignore_delays:
            d_f, d_b = 0 * d_f, 0 * d_b
        if c.model.ignore_backward_delays:
            d_b = 0 * d_b
        self.rhs_forward_delays, self.rhs_backward_delays = d_f, d_b
        """The delays the right sides use: the measured ones (a false variant may zero them)."""


class DelayLemma(Lemma):
    """A lemma about the window of versions an asynchronous update saw."""

    micro_batch = False
    delay_window = True
    backward_delay_window = True

    def assumptions_hold(self, instance: Instance):
        """Every version of the window inside the box: ||W^{(i)}||_inf ≤ W_max < τ."""
        return rows_within_box(instance, instance.history, strict=True)

    def from_trace(self, view) -> Instance | None:
        """The window of versions of every update, with the measured delays d^f, d^b and
        trace-level bounds (None for a device whose update is random given g: pulsed)."""
        if not view.deterministic_device:
            return None
        bounds = view.bounds
        return Instance(
            self.id,
            weights=view.current,
            gradient=view.applied,
            omega=bounds["omega"],
            X=bounds["X"],
            Y=bounds["Y"],
            W_max=bounds["W_max"],
            **view.delay_window,
            **view.common,
        )

    def build_search_instance(self, structure, weights, parts, common) -> Instance:
        """A stale-gradient history of `window` updates from the drawn weights."""
        s = structure
        device = device_for_bound(s.tau)
        inputs, targets = common["inputs"], common["targets"]
        backward = s.backward_delays or (0,) * s.layers
        history = stale_history(weights, inputs, targets, ACTIVATIONS[s.activation], LOSSES[s.loss], device, s.alpha, s.window, s.delays, backward)
        rows = (inputs.shape[0], s.layers)
        return Instance(
            self.id,
            weights=tuple(h[:, -1] for h in history),
            history=history,
            forward_delays=np.broadcast_to(np.array(s.delays, dtype=np.int64), rows).copy(),
            backward_delays=np.broadcast_to(np.array(backward, dtype=np.int64), rows).copy(),
            **common,
        )


"""Weight histories for the delay lemmas: versions produced by stale-gradient updates.

`stale_history` runs K updates of one micro-batch in which layer m's forward pass reads
version i − min(i, d^f_m) (the asynchronous pipeline's rule with delays d^f) and the
backward MVMs version i − min(i, d^b_m) (d^b = 0 for `ap`, d^b = d^f for `pipedream`); every weight it reads is one of the versions it
returns, so bounds measured on the history are valid for every increment in it.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from numerics import network
from numerics.activations import Activation
from numerics.devices import Device
from numerics.losses import Loss

Array = np.ndarray


def stale_history(
    initial: Sequence[Array],
    inputs: Array,
    targets: Array,
    activation: Activation,
    loss: Loss,
    device: Device,
    learning_rate: float,
    updates: int,
    forward_delays: Sequence[int],
    backward_delays: Sequence[int] | None = None,
) -> tuple[Array, ...]:
    """Versions W_m^{(0..K)} per layer, stacked [..., K+1, d_m, d_{m−1}] (leading axes of
    `initial` and `inputs` are independent problems run together). The backward MVMs of
    update i read version i − min(i, d^b_m) (default d^b = 0: the current version)."""
    versions = [[np.array(w, dtype=float)] for w in initial]
    backward_delays = [0] * len(versions) if backward_delays is None else backward_delays
    for i in range(updates):
        stale = [layer[i - min(i, d)] for layer, d in zip(versions, forward_delays)]
        current = [layer[i] for layer in versions]
        backward = [layer[i - min(i, d)] for layer, d in zip(versions, backward_delays)]
        gradient = network.gradients(stale, inputs, targets, activation, loss, backward_weights=backward)
        for layer, w, g in zip(versions, current, gradient):
            layer.append(device.update(w, g, learning_rate))
    return tuple(np.stack(layer, axis=-3) for layer in versions)

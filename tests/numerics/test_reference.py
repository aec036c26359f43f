"""`simulate` against an independent implementation of MODEL.md §1–3 written here.

The reference below uses per-sample loops and the update-index view of MODEL §3 only:
nothing from numerics.training or numerics.schedules. For update k:

- AP (one micro-batch per update, micro-batch k): the forward pass at stage m reads
  W_m^{(k − min(k, M − m))}; the backward MVM W_m^T δ_m at stage m reads the current
  version W_m^{(k)}; layer m then applies the device update with that gradient alone.
- PipeDream (one micro-batch per update): forward and backward MVM at stage m both read
  the stashed W_m^{(k − min(k, M − m))}; layer m applies that gradient alone to W_m^{(k)}.
- single, WOP, SP, 1F1B: every stage reads W^{(k)}; the update applies the mean of the B
  micro-batch gradients of micro-batches kB .. kB + B − 1.
- 2BW (group k = micro-batches kB .. kB + B − 1): forward and backward read
  W^{(max(k − 1, 0))} at every stage; W^{(k+1)} is the device update of W^{(k)} with the
  group's mean gradient.

The reference loss of update k is the mean loss of the update's samples at W^{(k)}.
Devices: digital, ALD, and softbounds written entry by entry from MODEL §2's response
functions (`_softbounds_update`, not the F/G form the simulator evaluates).
Micro-batch j takes rows [j·b, (j+1)·b) mod N (cyclic, the default: `simulate` without
--sampling) or, with i.i.d. sampling, b rows drawn with replacement by
row j mod 1024 of `integers(0, N, size=(1024, b))` of the PCG64 generator of
SeedSequence(seed, spawn_key=(4, j // 1024)) (MODEL §3 and the "sampling" stream of
numerics.streams, written out here).
`simulate` runs through proofs_check.cli.main on --data/--init files without noise.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from proofs_check.cli import main

TOLERANCE = 1e-10


def _phi(name, z):
    if name == "tanh":
        return np.tanh(z)
    if name == "identity":
        return z.copy()
    return z / (1.0 + np.abs(z))


def _dphi(name, z):
    if name == "tanh":
        return 1.0 - np.tanh(z) ** 2
    if name == "identity":
        return np.ones_like(z)
    return 1.0 / (1.0 + np.abs(z)) ** 2


def _sample_loss(loss, z, y):
    if loss == "squared":
        return 0.5 * float(np.sum((z - y) ** 2))
    top = float(np.max(z))
    log_normaliser = top + math.log(float(np.sum(np.exp(z - top))))
    return log_normaliser - float(z[int(y)])


def _sample_output_gradient(loss, z, y):
    if loss == "squared":
        return z - y
    e = np.exp(z - np.max(z))
    p = e / np.sum(e)
    p[int(y)] -= 1.0
    return p


SAMPLING_SPAWN_KEY = 4  # the "sampling" stream


def _micro_batch_rows(j, b, n, sampling="cyclic", seed=0):
    if sampling == "iid":
        block, row = divmod(j, 1024)
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(SAMPLING_SPAWN_KEY, block))))
        return [int(r) for r in rng.integers(0, n, size=(1024, b))[row]]
    return [(j * b + i) % n for i in range(b)]


def _reference_gradient(forward_weights, backward_weights, x, y, rows, activation, loss):
    """Mean over the rows of δ_m a_{m-1}^T: forward with W^f, backward MVMs with W^b."""
    layers = len(forward_weights)
    total = [np.zeros_like(w) for w in forward_weights]
    for r in rows:
        a, z = [x[r]], []
        for m in range(layers):
            z.append(forward_weights[m] @ a[m])
            if m < layers - 1:
                a.append(_phi(activation, z[m]))
        delta = _sample_output_gradient(loss, z[-1], y[r])
        for m in range(layers - 1, -1, -1):
            total[m] += np.outer(delta, a[m])
            if m > 0:
                delta = _dphi(activation, z[m - 1]) * (backward_weights[m].T @ delta)
    return [t / len(rows) for t in total]


def _reference_mean_loss(weights, x, y, rows, activation, loss):
    values = []
    for r in rows:
        a = x[r]
        for m, w in enumerate(weights):
            z = w @ a
            a = _phi(activation, z) if m < len(weights) - 1 else z
        values.append(_sample_loss(loss, a, y[r]))
    return sum(values) / len(values)


def _device_update(device, tau, alpha, w, g):
    """device: "digital", "ald", or ("softbounds", p, γ₊, γ₋)."""
    if device == "digital":
        return w - alpha * g
    if isinstance(device, tuple):
        return _softbounds_update(tau, *device[1:], alpha, w, g)
    return w - alpha * g - (alpha / tau) * np.abs(g) * w


def _softbounds_update(tau, p, up, down, alpha, w, g):
    """MODEL §2 entry by entry: the desired increment Δ = −αg moves w up by Δ·γ₊(1 − w/τ)^p
    (Δ > 0) or down by |Δ|·γ₋(1 + w/τ)^p (Δ < 0), a negative base counting as 0; then clip."""
    result = np.empty_like(w)
    for index in np.ndindex(w.shape):
        desired = -alpha * g[index]
        if desired > 0:
            moved = w[index] + desired * up * max(1.0 - w[index] / tau, 0.0) ** p
        else:
            moved = w[index] + desired * down * max(1.0 + w[index] / tau, 0.0) ** p
        result[index] = min(max(moved, -tau), tau)
    return result


def reference_run(schedule, device, tau, alpha, updates, initial, x, y, activation, loss, b, B, stale_backward=False, sampling="cyclic", seed=0):
    """Final weights, per-update reference losses and the versions read, per MODEL §1–3.

    `stale_backward` (only for the negative control) makes the backward MVMs read the
    forward's stale weights instead of the current version. `sampling` "cyclic" or "iid"
    (rows drawn from `seed`)."""
    layers = len(initial)
    n = x.shape[0]
    history = [[w.copy()] for w in initial]  # history[m][k] = W_{m+1}^{(k)}
    losses, forward_read, backward_read = [], [], []
    for k in range(updates):
        point = [history[m][k] for m in range(layers)]
        if schedule in ("ap", "pipedream"):
            micro_batches = [k]
            forward_versions = [k - min(k, layers - (m + 1)) for m in range(layers)]
            backward_versions = forward_versions if schedule == "pipedream" or stale_backward else [k] * layers
        elif schedule == "2bw":
            micro_batches = list(range(k * B, (k + 1) * B))
            forward_versions = backward_versions = [max(k - 1, 0)] * layers
        else:
            micro_batches = list(range(k * B, (k + 1) * B))
            forward_versions = backward_versions = [k] * layers
        forward_read.append(forward_versions)
        backward_read.append(backward_versions)
        forward_weights = [history[m][v] for m, v in enumerate(forward_versions)]
        backward_weights = [history[m][v] for m, v in enumerate(backward_versions)]
        rows = [r for j in micro_batches for r in _micro_batch_rows(j, b, n, sampling, seed)]
        losses.append(_reference_mean_loss(point, x, y, rows, activation, loss))
        per_micro_batch = [
            _reference_gradient(forward_weights, backward_weights, x, y, _micro_batch_rows(j, b, n, sampling, seed), activation, loss)
            for j in micro_batches
        ]
        for m in range(layers):
            g = sum(grads[m] for grads in per_micro_batch) / len(per_micro_batch)
            history[m].append(_device_update(device, tau, alpha, history[m][k], g))
    return [h[-1] for h in history], np.array(losses), np.array(forward_read), np.array(backward_read)


DIMS = {1: (4, 3), 4: (3, 5, 4, 4, 3)}
ACTIVATION_OF = {("squared", 1): "identity", ("squared", 4): "tanh", ("cross-entropy", 1): "tanh", ("cross-entropy", 4): "softsign"}


@pytest.mark.parametrize("sampling", ["cyclic", "iid"])
@pytest.mark.parametrize("stages", [1, 4])
@pytest.mark.parametrize("loss", ["squared", "cross-entropy"])
@pytest.mark.parametrize("device", ["digital", "ald"])
@pytest.mark.parametrize("schedule", ["ap", "sp", "wop", "single", "1f1b", "pipedream", "2bw"])
def test_simulate_matches_independent_reference(tmp_path, capsys, schedule, device, loss, stages, sampling):
    """cyclic: `simulate` without --sampling (the default path); iid: --sampling iid --seed 13."""
    dims = DIMS[stages]
    activation = ACTIVATION_OF[(loss, stages)]
    rng = np.random.default_rng(20 + stages)
    initial = [0.9 * rng.standard_normal((dims[m + 1], dims[m])) / math.sqrt(dims[m]) for m in range(len(dims) - 1)]
    initial = [np.clip(w, -1.2, 1.2) for w in initial]
    samples = 11  # not a multiple of b: micro-batches wrap around modulo N
    x = rng.standard_normal((samples, dims[0]))
    y = rng.integers(0, dims[-1], size=samples) if loss == "cross-entropy" else rng.standard_normal((samples, dims[-1]))
    np.savez(tmp_path / "init.npz", **{f"W{m}": w for m, w in enumerate(initial, start=1)})
    np.savez(tmp_path / "data.npz", x=x, y=y)
    tau, alpha, updates, b, B = 1.5, 0.15, 7, 3, 2
    if schedule == "2bw":
        B = max(B, stages)  # 2bw needs B >= M
    seed = 13
    sampling_flags = ["--sampling", "iid", "--seed", str(seed)] if sampling == "iid" else []

    out = tmp_path / "out"
    code = main(
        [
            "simulate", "--schedule", schedule, "--device", device, *(["--tau", str(tau)] if device != "digital" else []), "--lr", str(alpha),
            "--updates", str(updates), "--activation", activation, "--loss", loss,
            "--micro-batch-size", str(b), "--mini-batch", str(B),
            "--data", str(tmp_path / "data.npz"), "--init", str(tmp_path / "init.npz"), "--out", str(out), "--json",
            *sampling_flags,
        ]
    )
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    with np.load(out / "trace.npz") as archive:
        trace = {key: archive[key] for key in archive.files}

    common = (schedule, device, tau, alpha, updates, initial, x, y, activation, loss, b, 1 if schedule in ("ap", "pipedream") else B)
    final, losses, forward_read, backward_read = reference_run(*common, sampling=sampling, seed=seed)
    assert printed["sampling"] == sampling
    if sampling == "iid":  # the rows matter: the cyclic reference is another run
        assert np.max(np.abs(reference_run(*common)[1] - losses)) > 1e3 * TOLERANCE
    for m, w in enumerate(final, start=1):
        np.testing.assert_allclose(trace[f"W{m}_final"], w, rtol=TOLERANCE, atol=TOLERANCE, err_msg=f"W{m}")
        # The run did something: the comparison is not between two copies of the initial weights.
        assert np.max(np.abs(w - initial[m - 1])) > 1e-3
    np.testing.assert_allclose(trace["loss"], losses, rtol=TOLERANCE, atol=TOLERANCE)
    np.testing.assert_array_equal(trace["fwd_version"], forward_read)
    np.testing.assert_array_equal(trace["bwd_version"], backward_read)
    update_index = np.arange(updates)[:, None]
    assert printed["fwd_delay_max"] == list(np.max(update_index - forward_read, axis=0))
    assert printed["bwd_delay_max"] == list(np.max(update_index - backward_read, axis=0))
    if (schedule == "pipedream" and stages > 1) or schedule == "2bw":
        assert max(printed["bwd_delay_max"]) > 0, "the backward passes read stale versions"
    assert printed["max_abs_weight"] >= max(float(np.max(np.abs(w))) for w in final)


def test_reference_detects_wrong_versions():
    """Negative control: the versions read matter far above the tolerance. AP and SP with
    B = 1 differ only in the forward staleness; AP with stale backward MVMs differs from AP
    (and equals PipeDream); 2BW differs from 1F1B with the same B only by reading the previous group's version."""
    dims = DIMS[4]
    rng = np.random.default_rng(5)
    initial = [rng.standard_normal((dims[m + 1], dims[m])) / math.sqrt(dims[m]) for m in range(len(dims) - 1)]
    x, y = rng.standard_normal((8, dims[0])), rng.standard_normal((8, dims[-1]))
    common = ("digital", None, 0.2, 6, initial, x, y, "tanh", "squared", 2, 1)
    ap = reference_run("ap", *common)[0]
    sp = reference_run("sp", *common)[0]
    stale = reference_run("ap", *common, stale_backward=True)[0]
    assert max(float(np.max(np.abs(a - s))) for a, s in zip(ap, sp)) > 1e3 * TOLERANCE
    assert max(float(np.max(np.abs(a - s))) for a, s in zip(ap, stale)) > 1e3 * TOLERANCE
    pipedream = reference_run("pipedream", *common)[0]
    assert max(float(np.max(np.abs(p - s))) for p, s in zip(pipedream, stale)) == 0.0
    grouped = common[:-1] + (4,)
    two_buffers = reference_run("2bw", *grouped)[0]
    flushed = reference_run("1f1b", *grouped)[0]
    assert max(float(np.max(np.abs(a - s))) for a, s in zip(two_buffers, flushed)) > 1e3 * TOLERANCE


SOFTBOUNDS = ("softbounds", 2.0, 1.2, 0.8)  # p, γ₊, γ₋: non-linear, asymmetric (symmetric point ≠ 0)


@pytest.mark.parametrize("loss", ["squared", "cross-entropy"])
@pytest.mark.parametrize("schedule", ["ap", "sp", "wop", "single", "1f1b", "pipedream", "2bw"])
def test_simulate_softbounds_matches_independent_reference(tmp_path, capsys, schedule, loss):
    """`simulate --device softbounds --exponent 2 --up 1.2 --down 0.8` on --data/--init, no
    noise, 4 stages: the final weights and losses of the per-sample reference to 1e-10; the
    ALD reference on the same inputs is far away (the device matters)."""
    dims = DIMS[4]
    activation = ACTIVATION_OF[(loss, 4)]
    rng = np.random.default_rng(31)
    initial = [np.clip(0.9 * rng.standard_normal((dims[m + 1], dims[m])) / math.sqrt(dims[m]), -1.2, 1.2) for m in range(len(dims) - 1)]
    samples = 11
    x = rng.standard_normal((samples, dims[0]))
    y = rng.integers(0, dims[-1], size=samples) if loss == "cross-entropy" else rng.standard_normal((samples, dims[-1]))
    np.savez(tmp_path / "init.npz", **{f"W{m}": w for m, w in enumerate(initial, start=1)})
    np.savez(tmp_path / "data.npz", x=x, y=y)
    tau, alpha, updates, b = 1.5, 0.15, 7, 3
    B = 4 if schedule == "2bw" else 2  # 2bw needs B >= M
    out = tmp_path / "out"
    _, p, up, down = SOFTBOUNDS
    code = main(
        [
            "simulate", "--schedule", schedule, "--device", "softbounds", "--tau", str(tau), "--exponent", str(p), "--up", str(up),
            "--down", str(down), "--lr", str(alpha), "--updates", str(updates), "--activation", activation, "--loss", loss,
            "--micro-batch-size", str(b), "--mini-batch", str(B),
            "--data", str(tmp_path / "data.npz"), "--init", str(tmp_path / "init.npz"), "--out", str(out), "--json",
        ]
    )
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["device"] == "softbounds"
    with np.load(out / "trace.npz") as archive:
        trace = {key: archive[key] for key in archive.files}
    common = (tau, alpha, updates, initial, x, y, activation, loss, b, 1 if schedule in ("ap", "pipedream") else B)
    final, losses, forward_read, backward_read = reference_run(schedule, SOFTBOUNDS, *common)
    for m, w in enumerate(final, start=1):
        np.testing.assert_allclose(trace[f"W{m}_final"], w, rtol=TOLERANCE, atol=TOLERANCE, err_msg=f"W{m}")
        assert np.max(np.abs(w - initial[m - 1])) > 1e-3
    np.testing.assert_allclose(trace["loss"], losses, rtol=TOLERANCE, atol=TOLERANCE)
    np.testing.assert_array_equal(trace["fwd_version"], forward_read)
    np.testing.assert_array_equal(trace["bwd_version"], backward_read)
    ald = reference_run(schedule, "ald", *common)[0]
    assert max(float(np.max(np.abs(a - w))) for a, w in zip(ald, final)) > 1e3 * TOLERANCE

"""A researcher's own lemma, true and false, through every path: the Python API, `--plugin`
and the entry-point group; the false one's witness replays; code that raises or returns NaN
is an error, never 'holds'."""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest

import proofs_check
from proofs_check.cli import main
from proofs_check.library import BUILTIN, REGISTRY, Registry, UserLemma

PLUGIN = textwrap.dedent(
    """
    import proofs_check

    def output_norm(c):
        return c.norm(c.forward().output)

    proofs_check.register_lemma(
        proofs_check.UserLemma("{id}", output_norm, "{rhs}", family="bounded-signal", quantity="||z_M||")
    )
    """
)
TRUE_RHS = "L_phi**(M - 1)*omega_prod*X"
FALSE_RHS = "omega_max*X"


def plugin(tmp_path, lemma_id: str, rhs: str):
    path = tmp_path / f"{lemma_id}.py"
    path.write_text(PLUGIN.format(id=lemma_id, rhs=rhs))
    return path


def output_norm(c):
    return c.norm(c.forward().output)


def test_python_api_true_and_false(tmp_path):
    true = UserLemma("api-true", output_norm, TRUE_RHS, quantity="||z_M||")
    false = UserLemma("api-false", output_norm, FALSE_RHS, quantity="||z_M||")
    assert proofs_check.tightness(true, budget=1).status == "holds"
    assert proofs_check.check_bound(true, "bound", budget=1).status == "holds"
    refuted = proofs_check.check_bound(false, "bound", budget=1)
    assert refuted.status == "violated" and refuted.witness is not None and refuted.max_ratio > 1
    path = refuted.witness.save(tmp_path / "w.npz")
    assert proofs_check.replay(path, lemma=false).status == "violated"
    # the witness names its lemma: once registered, replay finds it by id
    with REGISTRY.scope():
        proofs_check.register_lemma(false)
        replayed = proofs_check.replay(path)
        assert replayed.lemma == "api-false" and replayed.status == "violated"
        assert proofs_check.replay(path, rhs=TRUE_RHS).status == "holds"
    assert "api-false" not in proofs_check.lemmas()


@pytest.mark.parametrize("rhs, expected", [(TRUE_RHS, 0), (FALSE_RHS, 1)])
def test_plugin_on_bound_and_tightness(tmp_path, capsys, rhs, expected):
    lemma_id = "plugin-norm-true" if expected == 0 else "plugin-norm-false"
    path = plugin(tmp_path, lemma_id, rhs)
    witness = tmp_path / "witness.npz"
    code = main(["bound", "--lemma", lemma_id, "--rhs", "bound", "--budget", "1", "--plugin", str(path), "--witness", str(witness), "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == expected and result["lemma"] == lemma_id
    assert (result["status"] == "holds") == (expected == 0)
    assert main(["tightness", "--lemma", lemma_id, "--budget", "1", "--plugin", str(path), "--json"]) == expected
    capsys.readouterr()
    if expected == 1:
        assert main(["replay", str(witness), "--plugin", str(path)]) == 1
        assert "violated" in capsys.readouterr().out
        assert main(["replay", str(witness)]) == 2, "without the plugin the witness's lemma is unknown"
        assert "unknown lemma" in capsys.readouterr().err
    assert lemma_id not in proofs_check.lemmas(), "a command's plugins do not outlive it"


def test_plugin_errors_exit_2_with_one_line(tmp_path, capsys):
    broken = tmp_path / "broken.py"
    broken.write_text("raise RuntimeError('boom')\n")
    assert main(["bound", "--lemma", "bounded-signal", "--rhs", "G", "--plugin", str(broken)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--plugin" in err[0] and "boom" in err[0]
    assert main(["bound", "--lemma", "bounded-signal", "--rhs", "G", "--plugin", str(tmp_path / "missing.py")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["bound", "--lemma", "not-registered", "--rhs", "G"]) == 2
    assert "allowed: bounded-signal" in capsys.readouterr().err


def test_entry_point_group_registers_lemmas(tmp_path, monkeypatch, capsys):
    package = tmp_path / "site"
    package.mkdir()
    (package / "my_lemmas.py").write_text(PLUGIN.replace("proofs_check.register_lemma(", "LEMMA = (").format(id="ep-norm", rhs=FALSE_RHS))
    info = package / "my_lemmas-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: my-lemmas\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[proofs_check.lemmas]\nnorm = my_lemmas:LEMMA\n")
    monkeypatch.syspath_prepend(str(package))
    registry = Registry(BUILTIN)
    assert "ep-norm" in registry.ids()
    assert main(["bound", "--lemma", "ep-norm", "--rhs", "bound", "--budget", "1", "--witness", str(tmp_path / "w.npz")]) == 1
    assert "VIOLATED" in capsys.readouterr().out


@pytest.mark.parametrize(
    "lhs, reason",
    [(lambda c: c.norm(c.forward().output) * np.nan, "nan"), (lambda c: 1 / 0, "raised ZeroDivisionError")],
)
def test_user_code_that_raises_or_returns_nan_is_an_error(lhs, reason):
    lemma = UserLemma("broken", lhs, "X")
    result = proofs_check.check_bound(lemma, "bound", budget=0.2)
    assert result.status == "error"
    assert result.witness is not None and result.witness.status == "error"
    assert np.isnan(result.witness.ratio)
    assert result.witness.instance.lemma == "broken" and result.witness.instance.inputs.size > 0
    if reason != "nan":
        assert reason in result.witness.part


@pytest.mark.slow
def test_run_checks_plugin_lemmas(tmp_path, capsys):
    path = plugin(tmp_path, "run-norm", TRUE_RHS)
    assert main(["run", "--quick", "--out", str(tmp_path / "out"), "--plugin", str(path)]) == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    row = next(r for r in report["lemmas"] if r["id"] == "run-norm")
    assert row["status"] == "holds" and row["samples"] > 0 and row["builtin"] is False
    assert row["samples_by_source"].get("trace", 0) > 0

"""Issue 14: 'I trust this file' on a .skops model widens the serving image's allow-list, and the form asks
for trust exactly where the image's loader would refuse (gui/models/skops_trusted.txt mirrors it)."""

from __future__ import annotations

import importlib.util
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import skops.io
from sklearn.datasets import load_diabetes, load_digits

from gui.builder import Recipe, ValidationError, assemble_context, get_template, save_recipe
from gui.models import inspect_model
from tests.support import skops_trusted

ROOT = Path(__file__).resolve().parents[2]


def server_backends():
    spec = importlib.util.spec_from_file_location("_backends_under_test", ROOT / "dockerfiles/_serving/backends.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def clipped(folder: Path) -> Path:
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    x, y = load_diabetes(return_X_y=True)
    path = folder / "clipped.skops"
    skops.io.dump(make_pipeline(FunctionTransformer(np.clip, kw_args={"a_min": -0.5, "a_max": 0.5}), Ridge()).fit(x, y),
                  path)
    return path


def test_the_list_in_gui_models_is_what_skops_and_the_server_trust():
    text = (ROOT / "gui/models/skops_trusted.txt").read_text(encoding="utf-8")
    assert text == skops_trusted.file_text(), (
        "skops, scikit-learn, numpy or SciPy changed, or backends.SKOPS_TRUSTED did: remake the file with "
        ".venv/bin/python -m tests.support.skops_trusted > gui/models/skops_trusted.txt")


def test_the_form_asks_for_trust_exactly_where_the_image_would_refuse(tmp_path):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.svm import LinearSVC

    x, y = load_digits(return_X_y=True)
    x, y = x[:400], y[:400]
    allowed = set(server_backends().SKOPS_TRUSTED)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence warnings of the short fits
        models = {"calibrated": CalibratedClassifierCV(LinearSVC()), "hgb": HistGradientBoostingClassifier(max_iter=3),
                  "mlp": MLPClassifier(max_iter=5), "logistic": LogisticRegression(max_iter=50)}
        for name, m in models.items():
            skops.io.dump(m.fit(x, y), tmp_path / f"{name}.skops")
    paths = [*(tmp_path / f"{n}.skops" for n in models), clipped(tmp_path)]
    seen = {}
    for path in paths:
        refused = sorted(t for t in skops.io.get_untrusted_types(file=path) if t not in allowed)
        info = inspect_model(path)
        assert sorted(g.qualname for g in info.scan.offending) == refused, path.name
        assert info.needs_trust == bool(refused)
        seen[path.stem] = refused
    assert seen["calibrated"] == ["sklearn.calibration._CalibratedClassifier", "sklearn.calibration._SigmoidCalibration"]
    assert seen["clipped"] == ["numpy.clip"] and seen["hgb"] == seen["mlp"] == seen["logistic"] == []


def test_trusted_types_go_beside_a_skops_model_and_the_loader_reads_them(tmp_path, monkeypatch):
    t = get_template("sklearn-regression")
    model = clipped(tmp_path)
    ctx = assemble_context(t, {**t.defaults(), "model": str(model), "trusted_types": "numpy.clip"}, tmp_path / "ctx")
    trusted = ctx.directory / "model" / "skops-trusted.txt"
    assert trusted.read_text() == "numpy.clip\n" and "model/skops-trusted.txt" in ctx.files
    assert "skops-trusted" not in ctx.dockerfile  # the model folder's COPY takes it along

    backends = server_backends()
    monkeypatch.delenv("SKOPS_TRUSTED", raising=False)
    loaded = backends.load_skops(str(ctx.directory / "model" / "model.skops"))
    rows = load_diabetes().data[:3]
    assert np.allclose(loaded.predict(rows), skops.io.load(model, trusted=["numpy.clip"]).predict(rows))
    trusted.unlink()
    with pytest.raises(backends.UntrustedModel, match="numpy.clip"):
        backends.load_skops(str(ctx.directory / "model" / "model.skops"))

    with pytest.raises(ValidationError, match="trusted_types: 'numpy.clip\\(\\)' is not a dotted type name"):
        assemble_context(t, {**t.defaults(), "model": str(model), "trusted_types": ["numpy.clip()"]}, tmp_path / "c2")
    joblib_model = tmp_path / "m.joblib"
    joblib_model.write_bytes(b"\x80\x04N.")
    ctx = assemble_context(t, {**t.defaults(), "model": str(joblib_model), "trusted_types": "numpy.clip"},
                           tmp_path / "c3")
    assert not (ctx.directory / "model" / "skops-trusted.txt").exists()  # joblib has no allow-list to widen


def test_the_headless_build_with_trust_model_passes_the_refused_types(tmp_path, monkeypatch, capsys):
    import gui.builder
    import gui.engine
    from gui.cli import FAILED, main

    t = get_template("sklearn-regression")
    recipe = tmp_path / "r.toml"
    save_recipe(recipe, Recipe("sklearn-regression", {**t.defaults(), "model": str(clipped(tmp_path)), "tag": "x/y:1"}))
    monkeypatch.setattr(gui.engine, "resolve_engine", lambda *a: (_ for _ in ()).throw(AssertionError("engine")))
    assert main(["build", str(recipe)]) == FAILED
    out = json.loads(capsys.readouterr().out)
    assert out["untrusted"] == ["numpy.clip"] and "--trust-model" in out["error"]

    given = {}

    class Stop(Exception):
        pass

    def capture(template, values, folder, dockerfile=None):
        given.update(values)
        raise Stop

    monkeypatch.setattr(gui.engine, "resolve_engine", lambda *a: None)
    monkeypatch.setattr(gui.engine, "Engine", lambda endpoint: None)
    monkeypatch.setattr(gui.builder, "assemble_context", capture)
    with pytest.raises(Stop):
        main(["build", str(recipe), "--trust-model"])
    assert given["trusted_types"] == ["numpy.clip"]

"""gui.models.pickles: a static scan of real pickles and joblib files (nothing is unpickled)."""

from __future__ import annotations

import io
import json
import os
import pickle
import time

import joblib
import numpy as np
import pytest

from gui.models import scan_pickle, verdict
from gui.models.pickles import iter_scan
from tests.support.model_files import (
    TEST_ROWS,
    MarkerPayload,
    digits_classifier,
    save_joblib,
    save_malicious,
    save_pickle,
)


class Unlisted:
    """A class of this test module: not on the allow-list."""

    def __init__(self):
        self.x = 1


def test_scikit_learn_pickle_and_joblib_are_safe_and_describe_the_estimator(tmp_path):
    for path in (save_pickle(tmp_path), save_joblib(tmp_path)):
        report = scan_pickle(path)
        assert report.complete and report.safe, (report.problem, report.offending)
        names = {g.qualname for g in report.globals}
        assert "sklearn.svm._classes.SVC" in names
        assert report.facts == {"n_features_in_": 64, "is_classifier": True, "estimator": "sklearn.svm._classes.SVC"}
        assert report.risk() == ""
    assert scan_pickle(tmp_path / "digits.joblib").kind == "joblib"


def test_malicious_reduce_is_named_and_never_run(tmp_path):
    marker = tmp_path / "marker"
    path = save_malicious(tmp_path, marker)
    report = scan_pickle(path)
    assert not marker.exists()
    assert not report.safe
    bad = report.offending
    assert [(g.module, g.name, g.verdict, g.called) for g in bad] == [(os.system.__module__, "system", "dangerous", True)]
    assert f"it would run {os.system.__module__}.system" in report.risk()
    assert "evil" not in report.risk() and "model.pkl" in report.risk()


def test_a_global_after_a_joblib_array_is_found(tmp_path):
    """picklescan 1.0.5 stops at joblib's first raw array; this scan steps over it as joblib does."""
    marker = tmp_path / "marker"
    path = tmp_path / "m.joblib"
    joblib.dump({"weights": np.arange(10_000, dtype=np.float64), "names": np.array(["a", "bc"]),
                 "hook": MarkerPayload(marker)}, path)
    report = scan_pickle(path)
    assert report.complete, report.problem
    assert report.kind == "joblib"
    assert {g.qualname for g in report.offending} == {f"{os.system.__module__}.system"}
    assert not marker.exists()


def test_object_arrays_in_joblib_are_nested_pickles_and_scanned(tmp_path):
    path = tmp_path / "o.joblib"
    arr = np.empty(2, dtype=object)
    arr[0], arr[1] = Unlisted(), "text"
    joblib.dump({"a": np.ones((3, 4), dtype=np.float32), "o": arr, "b": np.zeros(5, dtype=np.int64)}, path)
    report = scan_pickle(path)
    assert report.complete, report.problem
    assert [(g.qualname, g.verdict) for g in report.offending] == [(f"{__name__}.Unlisted", "unknown")]


COMPRESSIONS = [(3, "zlib"), (("zlib", 3), "zlib"), (("gzip", 3), "gzip"), (("bz2", 3), "bz2"),
                (("xz", 3), "xz"), (("lzma", 3), "lzma"), (("lz4", 3), "lz4")]


@pytest.mark.parametrize(("compress", "kind"), COMPRESSIONS, ids=[k for _, k in COMPRESSIONS])
def test_compressed_joblib_is_scanned_through_its_compression(tmp_path, compress, kind):
    """joblib.dump(..., compress=3) writes zlib; each compression joblib offers is read as a stream."""
    from gui.models import inspect_model

    model = tmp_path / "digits.joblib"
    joblib.dump(digits_classifier(), model, compress=compress)
    assert joblib.load(model).score(*_digits_test()) > 0.9  # a real compressed model file
    report = scan_pickle(model)
    assert report.compression == kind
    assert report.complete and report.safe, report.problem
    assert report.facts == {"n_features_in_": 64, "is_classifier": True, "estimator": "sklearn.svm._classes.SVC"}
    info = inspect_model(model)
    assert info.template == "sklearn-image" and not info.needs_trust
    assert f"{kind}-compressed joblib file" in info.summary
    assert any("lz4" in h for h in info.hints) == (kind == "lz4")

    marker = tmp_path / "marker"
    bad = tmp_path / "bad.joblib"
    joblib.dump({"w": np.arange(10_000.0), "hook": MarkerPayload(marker)}, bad, compress=compress)
    report = scan_pickle(bad)
    assert report.complete, report.problem
    assert [(g.qualname, g.verdict) for g in report.offending] == [(f"{os.system.__module__}.system", "dangerous")]
    assert inspect_model(bad).needs_trust and not marker.exists()


@pytest.mark.parametrize(("compress", "kind"), COMPRESSIONS[1:], ids=[k for _, k in COMPRESSIONS[1:]])
def test_a_cut_or_damaged_compressed_joblib_gets_a_sentence(tmp_path, compress, kind):
    from gui.models import NotAModel, inspect_model

    whole = tmp_path / "whole.joblib"
    joblib.dump(digits_classifier(), whole, compress=compress)
    data = whole.read_bytes()
    cut = tmp_path / "cut.joblib"
    cut.write_bytes(data[: len(data) // 2])
    report = scan_pickle(cut)
    assert not report.complete and not report.safe
    assert report.problem.startswith(f"the {kind} data is cut short or damaged"), report.problem
    assert f"the scan could not read all of it (the {kind} data is cut short" in report.risk()

    head = tmp_path / "head.joblib"  # cut before the first global: not a model at all
    head.write_bytes(data[:12])
    with pytest.raises(NotAModel, match=rf"head.joblib is {kind}-compressed .*, but the {kind} data"):
        inspect_model(head)

    damaged = bytearray(data)
    for i in range(40, 72):
        damaged[i] ^= 0x5A
    bad = tmp_path / "damaged.joblib"
    bad.write_bytes(bytes(damaged))
    report = scan_pickle(bad)
    assert not report.complete and not report.safe
    assert f"the {kind} data" in report.problem


def test_an_lz4_model_brings_lz4_into_the_image_and_others_do_not(tmp_path):
    from gui.builder import assemble_context, get_template

    t = get_template("sklearn-image")
    for compress, wanted in ((("lz4", 3), True), (3, False), (0, False)):
        model = tmp_path / "digits.joblib"
        joblib.dump(digits_classifier(), model, compress=compress)
        ctx = assemble_context(t, {**t.defaults(), "model": str(model)}, tmp_path / f"ctx{compress}")
        requirements = (ctx.directory / "requirements.txt").read_text()
        assert ("lz4==" in requirements) == wanted, (compress, requirements)
    joblib.dump(digits_classifier(), model, compress=("lz4", 3))
    own = {**t.defaults(), "model": str(model), "packages": ["scikit-learn==1.9.1", "pillow==13.0.0", "lz4>=4"]}
    ctx = assemble_context(t, own, tmp_path / "own")
    assert "lz4==" not in (ctx.directory / "requirements.txt").read_text()  # the Packages' own lz4 is kept


def test_a_decompression_bomb_stops_at_the_limit(tmp_path, monkeypatch):
    """8 MiB of zeros in 8 KB: with the limit at 4 MiB the scan stops there and says so."""
    from gui.models import compressed

    path = tmp_path / "bomb.joblib"
    joblib.dump({"w": np.zeros(1 << 20)}, path, compress=("zlib", 9))
    assert path.stat().st_size < 64_000
    assert scan_pickle(path).safe  # under the real limit (4 GiB)
    monkeypatch.setattr(compressed, "DECOMPRESSED_LIMIT", 4 << 20)
    report = scan_pickle(path)
    assert not report.complete and not report.safe
    assert report.problem == "decompressed it is over 4 MiB, the most the scan reads (a decompression bomb?)"


def test_joblib_before_0_10_zfile_is_scanned(tmp_path):
    from joblib.numpy_pickle_compat import write_zfile

    path = tmp_path / "old.pkl"
    with open(path, "wb") as f:
        write_zfile(f, pickle.dumps({"hook": MarkerPayload(tmp_path / "m")}, protocol=2))
    report = scan_pickle(path)
    assert report.compression == "zf" and report.complete, report.problem
    assert [g.qualname for g in report.offending] == [f"{os.system.__module__}.system"]


def test_joblib_before_0_10_zfile_is_named_in_words(tmp_path):
    """'zf' is joblib's internal name: the summary and messages say what it is."""
    from joblib.numpy_pickle_compat import write_zfile

    from gui.models import NotAModel, inspect_model

    path = tmp_path / "old.pkl"
    with open(path, "wb") as f:
        write_zfile(f, pickle.dumps(digits_classifier(), protocol=2))
    info = inspect_model(path)
    assert info.summary.startswith("scikit-learn pickle compressed by an old joblib (before 0.10): "
                                   "sklearn.svm._classes.SVC"), info.summary
    head = tmp_path / "head.pkl"
    head.write_bytes(path.read_bytes()[:30])  # cut before the first global
    with pytest.raises(NotAModel) as caught:
        inspect_model(head)
    assert str(caught.value).startswith("head.pkl is compressed by an old joblib (before 0.10), but the zlib "
                                        "data is cut short or damaged")
    assert "zf" not in info.summary + str(caught.value)


def test_text_starting_with_a_compression_letter_is_not_taken_for_it(tmp_path):
    from gui.models import NotAModel, inspect_model
    from gui.models.compressed import compression

    for text in (b"x = 1\n", b"BZ is not bzip2\n", b"ZF nope"):
        assert compression(text) == ""
        path = tmp_path / "notes.joblib"
        path.write_bytes(text)
        with pytest.raises(NotAModel, match="is a text file"):
            inspect_model(path)


def _digits_test():
    from sklearn.datasets import load_digits

    d = load_digits()
    return d.data[TEST_ROWS.start:TEST_ROWS.stop], d.target[TEST_ROWS.start:TEST_ROWS.stop]


@pytest.mark.parametrize(
    ("module", "name", "expected"),
    [
        ("builtins", "eval", "dangerous"),
        ("builtins", "exec", "dangerous"),
        ("builtins", "getattr", "dangerous"),
        ("subprocess", "Popen", "dangerous"),
        ("numpy.testing._private.utils", "runstring", "dangerous"),
        ("numpy", "load", "dangerous"),
        ("numpy._core.multiarray", "_reconstruct", "safe"),
        ("sklearn.pipeline", "Pipeline", "safe"),
        ("scipy.sparse._csr", "csr_matrix", "safe"),
        ("builtins", "set", "safe"),
        ("collections", "OrderedDict", "safe"),
        ("mypackage.layers", "Custom", "unknown"),
        ("torch._utils", "_rebuild_tensor_v2", "unknown"),
    ],
)
def test_verdicts(module, name, expected):
    assert verdict(module, name) == expected


def test_stack_global_and_protocol_0_globals_are_seen(tmp_path):
    eval_call = b"\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00\x8c\x08builtins\x8c\x04eval\x93\x8c\x011\x85R."
    path = tmp_path / "stack.pkl"
    path.write_bytes(eval_call)
    report = scan_pickle(path)
    assert [(g.qualname, g.verdict, g.called) for g in report.globals] == [("builtins.eval", "dangerous", True)]
    path0 = tmp_path / "p0.pkl"
    path0.write_bytes(pickle.dumps(Unlisted(), protocol=0))
    assert [g.qualname for g in scan_pickle(path0).offending][-1].endswith("Unlisted")


def test_a_truncated_pickle_is_not_safe(tmp_path):
    full = save_pickle(tmp_path).read_bytes()
    path = tmp_path / "cut.pkl"
    path.write_bytes(full[: len(full) // 2])
    report = scan_pickle(path)
    assert not report.complete and not report.safe
    assert "could not read all of it" in report.risk()


def test_progress_rises_and_ends_with_the_report(tmp_path):
    path = tmp_path / "big.pkl"
    with open(path, "wb") as f:
        pickle.dump([np.arange(i, i + 100_000, dtype=np.float64) for i in range(40)], f, protocol=4)
    items = list(iter_scan(path))
    fractions = [i for i in items[:-1]]
    assert len(fractions) >= 10 and fractions == sorted(fractions) and all(0 <= f < 1 for f in fractions)
    assert items[-1].safe


def test_a_20_mb_pickle_scans_in_a_few_seconds(tmp_path):
    path = tmp_path / "20mb.pkl"
    buf = io.BytesIO()
    pickle.dump({f"layer{i}": np.random.default_rng(i).random(25_000) for i in range(100)}, buf, protocol=4)
    path.write_bytes(buf.getvalue())
    t0 = time.perf_counter()
    report = scan_pickle(path)
    assert report.safe and time.perf_counter() - t0 < 5


def test_the_headless_build_refuses_an_unsafe_model_before_the_engine(tmp_path, capsys, monkeypatch):
    from gui.builder import Recipe, get_template, save_recipe
    from gui.cli import FAILED, main

    marker = tmp_path / "marker"
    recipe = tmp_path / "r.toml"
    template = get_template("sklearn-image")
    model = save_malicious(tmp_path, marker, "digits.pkl")
    save_recipe(recipe, Recipe("sklearn-image", {**template.defaults(), "model": str(model), "tag": "x/y:1"}))
    monkeypatch.setattr("gui.engine.resolve_engine", lambda *a: (_ for _ in ()).throw(AssertionError("engine")))
    assert main(["build", str(recipe)]) == FAILED
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False and out["untrusted"] == [f"{os.system.__module__}.system"]
    assert "--trust-model" in out["error"] and not marker.exists()

"""onnx-tabular on the real engine: a scikit-learn regressor (diabetes) and classifier (iris) converted with
skl2onnx, with one input of all columns and with one input per column (as from a DataFrame; the regressor's
"sex" an int64 column), built, run and asked for every row of their data over studio-v1 and v2; their
answers match the original models'. A model whose width differs from the feature names, a column of strings
and Feature names that are not the column inputs' fail the build at its check step. The package layer is
kept as aics-cache/onnx-tabular (tests/support/templates.py); the per-column builds reuse it."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from gui.builder import get_template
from gui.builder.context import assemble_context
from gui.engine.build import BuildError, ImageBuild
from tests.support.model_files import column_model, save_column_onnx, save_table_onnx, table_model
from tests.support.templates import (
    COLD_BUILD_S,
    CREATED,
    build_template,
    cache_image,
    dependency_step,
    engine,
    http,
    run_container,
    wait_for,
)

pytestmark = pytest.mark.timeout(COLD_BUILD_S)
JSON = {"Content-Type": "application/json"}


def close(got, want) -> bool:
    """Within 1e-3 x max(1, |value|): the tolerance the sklearn templates' ONNX builds hold to (to_onnx.py)."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    return got.shape == want.shape and bool(np.all(np.abs(got - want) <= 1e-3 * np.maximum(1.0, np.abs(want))))


@pytest.fixture(scope="module", params=["regressor", "classifier", "regressor-columns", "classifier-columns"])
def server(request, docker_api, test_labels, tmp_path_factory):
    kind = request.param
    family, columns = kind.split("-")[0], kind.endswith("-columns")
    tmp = tmp_path_factory.mktemp(kind)
    model, rows, features, classes = column_model(family) if columns else table_model(family)
    path = save_column_onnx(tmp, family) if columns else save_table_onnx(tmp, family)
    values = {"model": str(path), "features": features, "name": kind,
              "task": "tabular-regression" if family == "regressor" else "tabular-classification"}
    if classes:
        (tmp / "labels.txt").write_text("".join(f"{c}\n" for c in classes))
        values["labels"] = str(tmp / "labels.txt")
    t = get_template("onnx-tabular")
    tag = f"aicstest-onnx-{kind}:{test_labels['ai-container-studio.test']}"
    packages = docker_api.inspect_image(cache_image("onnx-tabular"))["Id"] if columns else None
    build, _ = build_template(t, {**t.defaults(), **values}, tmp / "ctx", tag, test_labels)
    if columns:  # the same package layer as a graph of one input: no package is installed again
        assert docker_api.inspect_image(dependency_step(build).layer_id)["Id"] == packages
    started = time.monotonic()
    cid, ports = run_container(docker_api, tag, test_labels, f"aicstest-onnx-{kind}-{build.image_id[7:15]}",
                               ports={8080: 0})
    base = f"http://127.0.0.1:{ports[8080]}"
    try:
        wait_for(f"{base}/health", docker_api, cid)
        print(f"onnx-tabular {kind}: healthy {time.monotonic() - started:.2f} s after start, image "
              f"{docker_api.inspect_image(tag)['Size']} bytes")
        yield {"kind": family, "name": kind, "base": base, "tag": tag, "id": cid, "model": model, "rows": rows,
               "features": features, "classes": classes, "columns": columns}
    finally:
        docker_api.remove_container(cid, force=True)
        docker_api.remove_image(build.image_id, force=True)


def test_rows_by_studio_v1_and_v2_get_the_original_models_answers(server):
    base, model, rows, kind = server["base"], server["model"], server["rows"], server["kind"]
    status, body = http("POST", f"{base}/predict", json.dumps({"instances": rows.tolist()}).encode(), JSON)
    assert status == 200, body
    infer = {"id": "t1", "inputs": [{"name": "input", "datatype": "FP32", "shape": list(rows.shape),
                                     "data": rows.ravel().tolist()}]}
    status, out = http("POST", f"{base}/v2/models/{server['name']}/infer", json.dumps(infer).encode(), JSON)
    assert status == 200 and out["id"] == "t1", out
    outputs = {o["name"]: o for o in out["outputs"]}
    if kind == "regressor":
        want = model.predict(rows)
        assert close(body["predictions"], want), np.max(np.abs(np.asarray(body["predictions"]) - want))
        assert outputs["predictions"]["datatype"] == "FP64" and close(outputs["predictions"]["data"], want)
        return
    proba = model.predict_proba(rows)
    top2 = np.sort(proba, axis=1)[:, -2:]
    clear = top2[:, 1] - top2[:, 0] > 1e-3  # rows float32 rounding cannot tip to another class
    want = np.asarray(server["classes"])[model.predict(rows)]
    assert clear.mean() > 0.9
    assert (np.asarray(body["predictions"])[clear] == want[clear]).all(), body["predictions"]
    scores = np.asarray(outputs["scores"]["data"]).reshape(outputs["scores"]["shape"])
    assert scores.shape == proba.shape and np.abs(scores - proba).max() < 1e-4
    assert (np.asarray(outputs["label"]["data"])[clear] == want[clear]).all()


def test_metadata_says_rows_and_the_image_is_small_and_hardened(server, docker_api):
    base, kind = server["base"], server["kind"]
    meta = http("GET", f"{base}/metadata")[1]
    assert meta["input"] == {"kind": "tabular", "features": server["features"]}
    assert meta["framework"] == "onnx" and meta["labels"] == server["classes"]
    task = "tabular-regression" if kind == "regressor" else "tabular-classification"
    assert meta["task"] == task and set(meta["protocols"]) == {"studio-v1", "v2"}
    v2 = http("GET", f"{base}/v2/models/{server['name']}")[1]
    assert v2["inputs"] == [{"name": "input", "datatype": "FP32", "shape": [-1, len(server["features"])]}]
    info = docker_api.inspect_image(server["tag"])
    labels = info["Config"]["Labels"]
    assert labels["ai-container-studio.task"] == task and labels["ai-container-studio.template"] == "onnx-tabular"
    assert labels["ai-container-studio.protocol"] == "studio-v1"
    assert info["Config"]["User"] == "aics" and info["Config"]["Healthcheck"]["Test"][-1] == "health"
    assert all(row[0] != "root" for row in docker_api.top(server["id"])["Processes"])
    # ONNX Runtime and numpy only, and the command line answers rows too
    row = ",".join(map(str, server["rows"][0]))
    probe = "import importlib.util as u; print([m for m in ('PIL', 'sklearn', 'scipy') if u.find_spec(m)])"
    out = docker_api.exec_start(docker_api.exec_create(server["id"], ["python3", "-c", probe]))
    assert out.strip() == b"[]", out
    cli = docker_api.exec_create(server["id"], ["python3", "serving/cli.py", "predict", row])
    out, err = docker_api.exec_start(cli, demux=True)
    assert not err, err  # not even ONNX Runtime's telemetry warning (it is off: ORT_DISABLE_TELEMETRY)
    first = server["model"].predict(server["rows"][:1])[0]
    said = out.decode().strip()
    assert close(float(said), first) if kind == "regressor" else said == server["classes"][first], said


def test_bad_rows_are_refused_with_a_message(server):
    base, width = server["base"], len(server["features"])
    status, body = http("POST", f"{base}/predict", json.dumps({"instances": [[1.0] * (width + 1)]}).encode(), JSON)
    assert status == 400 and f"each row needs {width} values" in body["error"], body
    status, body = http("POST", f"{base}/predict", b'{"instances": [["a"]]}', JSON)
    assert status == 400 and "number" in body["error"], body
    status, body = http("POST", f"{base}/predict", b"\x89PNG", {"Content-Type": "image/png"})
    assert status == 415 and "rows of numbers" in body["error"], body
    if server["columns"] and server["kind"] == "regressor":  # "sex" is an int64 input
        row = [0.01] * width
        status, body = http("POST", f"{base}/predict", json.dumps({"instances": [row]}).encode(), JSON)
        assert status == 400 and "sex takes whole numbers (int64)" in body["error"], body


def _string_column_graph(path) -> None:
    """Two column inputs, "width" float and "city" string (a one-hot encoder's input), answering width."""
    from onnx import TensorProto, helper, save

    inputs = [helper.make_tensor_value_info("width", TensorProto.FLOAT, ["n", 1]),
              helper.make_tensor_value_info("city", TensorProto.STRING, ["n", 1])]
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 1])
    graph = helper.make_graph([helper.make_node("Identity", ["width"], ["y"])], "g", inputs, [y])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


@pytest.mark.parametrize("case", ["width", "string-column", "column-names"])
def test_feature_names_that_do_not_fit_the_graph_fail_the_build_at_its_check(test_labels, tmp_path, case):
    """Names as wide as the graph's row, or, for a graph of one input per column, its inputs' names; and
    only columns of numbers."""
    t = get_template("onnx-tabular")
    if case == "width":
        model, features = save_table_onnx(tmp_path, "regressor"), ["age", "bmi"]
        said = "Feature names lists 2 names, the model takes 10 values a row"
    elif case == "string-column":
        model, features = tmp_path / "city.onnx", []
        _string_column_graph(model)
        said = "the column city takes tensor(string) values, but rows hold numbers: only float, double and integer"
    else:
        model, features = save_column_onnx(tmp_path, "regressor"), ["age", "sex", "body mass"]
        said = "Feature names must be its inputs' names in order: age, sex, bmi, bp, s1"
    values = {**t.defaults(), "model": str(model), "features": features}
    ctx = assemble_context(t, values, tmp_path / "ctx")
    build = ImageBuild(engine(), ctx.directory, f"aicstest-onnx-width:{test_labels['ai-container-studio.test']}",
                       labels=test_labels, buildargs={"AICS_CREATED": CREATED})
    lines: list = []
    with pytest.raises(BuildError) as failed:
        lines.extend(build)
    assert not build.image_id
    text = "\n".join(line.text for line in lines) + "\n" + str(failed.value)
    assert said in text and "check_rows.py" in failed.value.instruction, text[-2000:]

"""The v2 and TensorFlow Serving clients against real third-party servers in containers.

MLServer (Open Inference Protocol v2) and KServe's Python model server (its v1 route answers like TensorFlow
Serving) each serve an sklearn digits classifier trained at image build time on rows 0-1499 of sklearn's
digits; rows 1500-1796 go to the servers as pictures and must come back >= 90 % right.

The servers, their images (kept as cache images ``aics-cache/<server>``) and fixtures live in
tests/support/predict_servers.py; the ui tests of the Predict page use the same ones.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from gui.engine import Engine, resolve_engine
from gui.predict import OpenInferenceClient, Overrides, PredictError, TFServingClient, find_targets
from tests.support.digits import WORDS, digit_picture, holdout_pictures
from tests.support.predict_servers import (  # noqa: F401  (the *_fixture names register fixtures)
    kserve_fixture,
    mlserver_fixture,
    report_fixture,
    start_server,
    wait_ready,
)
from tests.support.templates import COLD_BUILD_S

pytestmark = pytest.mark.timeout(COLD_BUILD_S)  # MLServer and KServe images may be built from nothing

# --- Open Inference Protocol v2 against MLServer -------------------------------------------------------


def test_v2_metadata_comes_from_mlserver(mlserver):
    meta = mlserver["client"].metadata()
    assert (meta.width, meta.height, meta.channels) == (8, 8, 1)
    assert meta.layout == "NHWC" and meta.input_name == "input" and meta.input_kind == "image"
    assert meta.outputs == ("predict_proba",)
    assert meta.name == "digits" and meta.protocol == "v2"


def test_v2_pictures_are_classified_by_mlserver(mlserver, report):
    pictures = holdout_pictures(mlserver["holdout"])
    assert len(pictures) == 297
    client = mlserver["client"]
    start = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        predictions = list(pool.map(lambda p: client.predict_image(p[0], top_k=3), pictures))
    seconds = time.perf_counter() - start
    right = sum(p.top_label == str(target) for p, (_, target) in zip(predictions, pictures, strict=True))
    report(
        f"[v2/MLServer] {right}/{len(pictures)} right, {len(pictures) / seconds:.0f} pictures/s (4 threads)"
    )
    assert right / len(pictures) >= 0.9
    for p in predictions:
        assert len(p.labels) == 3 and len(set(p.labels)) == 3
        assert list(p.scores) == sorted(p.scores, reverse=True)
        assert 0.0 <= p.scores[-1] <= p.scores[0] <= 1.0
        assert p.round_trip_ms > 0
        assert set(p.labels) <= {str(i) for i in range(10)}


def test_v2_labels_from_the_user_name_the_classes(mlserver):
    client = OpenInferenceClient(mlserver["url"], "digits", overrides=Overrides(labels=WORDS))
    holdout = mlserver["holdout"]
    picture = digit_picture(holdout["images"][0], 8, "PNG")
    prediction = client.predict_image(picture, top_k=10)
    client.close()
    assert prediction.top_label == WORDS[holdout["targets"][0]]
    assert sorted(prediction.labels) == sorted(WORDS)
    assert abs(sum(prediction.scores) - 1.0) < 1e-6  # predict_proba of all ten classes


def test_v2_rows_are_classified_by_mlserver(mlserver):
    holdout = mlserver["holdout"]
    rows = [[v / 16 for line in img for v in line] for img in holdout["images"]]
    labels = mlserver["client"].predict_rows(rows)
    assert len(labels) == len(rows)
    right = sum(label == str(t) for label, t in zip(labels, holdout["targets"], strict=True))
    assert right / len(rows) >= 0.9


def test_v2_server_error_is_said_plainly(mlserver):
    with pytest.raises(PredictError) as err:
        mlserver["client"].predict_rows([[0.1, 0.2, 0.3]])
    assert err.value.kind == "http" and err.value.status >= 400
    assert str(err.value).startswith(f"server answered {err.value.status}: ")
    assert "3 features" in str(err.value) and "Traceback" not in str(err.value)


def test_v2_unknown_model_is_said_plainly(mlserver):
    client = OpenInferenceClient(mlserver["url"], "no-such-model")
    with pytest.raises(PredictError) as err:
        client.metadata()
    client.close()
    assert err.value.status == 404 and "no-such-model" in str(err.value)


def test_v2_repository_index_lists_the_model(mlserver):
    assert "digits" in mlserver["client"].models()


def test_target_finder_sees_the_running_server_through_the_engine(mlserver):
    engine = Engine(resolve_engine())
    try:
        containers = engine.list_containers()
    finally:
        engine.close()
    mine = [c for c in containers if c.id == mlserver["id"]]
    assert mine, "the engine does not list the test container"
    # The container was given only the test label: the protocol and port labels come from its image.
    targets = [t for t in find_targets(containers) if t.container_id == mlserver["id"]]
    assert len(targets) == 1
    target = targets[0]
    assert (target.protocol, target.url, target.container_port) == ("v2", mlserver["url"], 8080)


def test_v2_stopped_container_is_said_plainly(docker_api, test_labels, unique_name, mlserver):
    cid, url = start_server(docker_api, mlserver["image"], unique_name("mlserver-stop"), dict(test_labels))
    try:
        client = OpenInferenceClient(url, "digits", timeout=20)
        wait_ready(docker_api, cid, client)
        picture = digit_picture(mlserver["holdout"]["images"][1], 8, "PNG")
        assert client.predict_image(picture).top_label == str(mlserver["holdout"]["targets"][1])
        docker_api.stop(cid, timeout=5)
        with pytest.raises(PredictError) as err:
            client.predict_image(picture)
        client.close()
    finally:
        docker_api.remove_container(cid, force=True, v=True)
    assert err.value.kind == "connection"
    assert str(err.value) == f"the server at {url} refused the connection: is the container running?"


# --- TensorFlow Serving REST against KServe's v1 route --------------------------------------------------


def test_tfserving_without_metadata_asks_for_the_input_size(kserve):
    client = TFServingClient(kserve["url"], "digits")
    meta = client.metadata()
    assert not meta.has_input_size and meta.name == "digits"
    with pytest.raises(PredictError) as err:
        client.predict_image(digit_picture(kserve["holdout"]["images"][0], 8, "PNG"))
    client.close()
    assert err.value.kind == "input" and "fill in width, height and channels" in str(err.value)


def test_tfserving_pictures_are_classified_by_kserve(kserve, report):
    overrides = Overrides(width=8, height=8, channels=1, scaling="0..1", labels=WORDS)
    client = TFServingClient(kserve["url"], "digits", overrides=overrides, timeout=20)
    pictures = holdout_pictures(kserve["holdout"])
    start = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        predictions = list(pool.map(lambda p: client.predict_image(p[0], top_k=2), pictures))
    seconds = time.perf_counter() - start
    client.close()
    right = sum(p.top_label == WORDS[t] for p, (_, t) in zip(predictions, pictures, strict=True))
    report(
        f"[TF Serving/KServe] {right}/{len(pictures)} right, {len(pictures) / seconds:.0f} pictures/s (4 threads)"
    )
    assert right / len(pictures) >= 0.9
    for p in predictions:
        assert len(p.labels) == 2 and p.scores[0] >= p.scores[1]


def test_tfserving_server_error_is_said_plainly(kserve):
    client = TFServingClient(kserve["url"], "digits")
    with pytest.raises(PredictError) as err:
        client.predict_rows([[0.0] * 64])
    client.close()
    assert err.value.kind == "http" and err.value.status == 400
    assert str(err.value) == "server answered 400: expected instances of shape [8, 8, 1], got [64]"


def test_tfserving_ready_and_unknown_model(kserve):
    client = TFServingClient(kserve["url"], "digits")
    assert client.ready() is True
    other = TFServingClient(kserve["url"], "no-such-model")
    assert other.ready() is False
    with pytest.raises(PredictError) as err:
        other.metadata()
    assert err.value.status == 404
    client.close()
    other.close()

"""Finding prediction targets among containers, and exporting results as CSV (no engine)."""

from __future__ import annotations

import csv
import io

from gui.engine.models import ContainerInfo, PortBinding
from gui.predict import PredictError, Prediction, find_targets, write_csv
from gui.predict.targets import host_url

STUDIO = {"ai-container-studio.protocol": "studio-v1", "ai-container-studio.task": "image-classification"}


def container(name, state="running", labels=None, ports=()):
    return ContainerInfo(
        id=f"id-{name}",
        name=name,
        image="img",
        state=state,
        status="",
        created=0.0,
        ports=tuple(ports),
        labels=tuple(sorted((labels or {}).items())),
    )


def test_running_labelled_containers_become_targets_with_their_host_port():
    found = find_targets(
        [
            container("b-web", ports=[PortBinding(80, "tcp", "0.0.0.0", 8000)]),
            container("a-digits", labels=STUDIO, ports=[PortBinding(8080, "tcp", "0.0.0.0", 49153)]),
            container("c-stopped", state="exited", labels=STUDIO),
            container(
                "d-custom",
                labels={"ai-container-studio.protocol": "v2", "ai-container-studio.port": "9000"},
                ports=[
                    PortBinding(8080, "tcp", "127.0.0.1", 1111),
                    PortBinding(9000, "tcp", "127.0.0.1", 2222),
                ],
            ),
        ]
    )
    assert [(t.name, t.protocol, t.url, t.container_port) for t in found] == [
        ("a-digits", "studio-v1", "http://127.0.0.1:49153", 8080),
        ("d-custom", "v2", "http://127.0.0.1:2222", 9000),
    ]
    assert (
        found[0].task == "image-classification" and found[0].usable and found[0].container_id == "id-a-digits"
    )


def test_unpublished_port_gives_a_target_that_says_why():
    (target,) = find_targets([container("x", labels=STUDIO, ports=[PortBinding(8080, "tcp")])])
    assert not target.usable and target.problem == "port 8080 is not published to the host"
    (bad,) = find_targets([container("y", labels={**STUDIO, "ai-container-studio.port": "http"})])
    assert not bad.usable and "not a port: 'http'" in bad.problem


def test_ipv4_binding_is_preferred_and_addresses_are_kept():
    ports = [PortBinding(8080, "tcp", "::", 5001), PortBinding(8080, "tcp", "0.0.0.0", 5000)]
    (target,) = find_targets([container("z", labels=STUDIO, ports=ports)])
    assert target.url == "http://127.0.0.1:5000"
    assert host_url("::", 5) == "http://127.0.0.1:5"
    assert host_url("192.168.1.5", 80) == "http://192.168.1.5:80"
    assert host_url("::1", 80) == "http://[::1]:80"


def test_csv_export_has_one_row_per_label_and_errors():
    ok = Prediction(labels=("7", "1"), scores=(0.93, 0.05), round_trip_ms=12.345)
    nameless = Prediction(labels=("cat",), scores=(None,), round_trip_ms=3.0)
    buf = io.StringIO()
    count = write_csv(
        buf, [("a.png", ok), ("b.png", PredictError("not a picture: x")), ("c,d.png", nameless)]
    )
    rows = list(csv.reader(io.StringIO(buf.getvalue())))
    assert count == 4
    assert rows == [
        ["file", "label", "score", "milliseconds", "error"],
        ["a.png", "7", "0.93", "12.3", ""],
        ["a.png", "1", "0.05", "12.3", ""],
        ["b.png", "", "", "", "not a picture: x"],
        ["c,d.png", "cat", "", "3.0", ""],
    ]


def test_csv_export_to_a_path(tmp_path):
    path = tmp_path / "results.csv"
    write_csv(path, [("√.png", Prediction(labels=("ü",), scores=(1.0,), round_trip_ms=1.0))])
    assert path.read_text(encoding="utf-8").splitlines()[1] == "√.png,ü,1,1.0,"

"""Template manifests, Dockerfile rendering, injection refusal, lint and build contexts (no engine)."""

from __future__ import annotations

import json
import re

import pytest

from gui.builder import (
    ValidationError,
    assemble_context,
    export_context,
    get_template,
    lint_dockerfile,
    lint_values,
    list_templates,
    render_dockerfile,
    run_settings,
    templates_root,
)
from gui.builder.templates import TemplateError, load_template

SERVING = ["sklearn-image", "sklearn-regression"]
EXPECTED = {"sklearn-image", "sklearn-regression", "python-app", "jupyter"}


def test_templates_are_found_beside_the_package():
    root = templates_root()
    assert (root / "_serving" / "server.py").is_file()
    names = {t.name for t in list_templates()}
    assert names >= EXPECTED
    assert "_serving" not in names


def test_templates_dir_can_be_overridden(tmp_path, monkeypatch):
    (tmp_path / "_serving").mkdir()
    monkeypatch.setenv("AICS_TEMPLATES_DIR", str(tmp_path))
    assert templates_root() == tmp_path
    assert list_templates() == []


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_manifest_keeps_run_fields_apart(name):
    t = get_template(name)
    build = {f.name for f in t.build_fields}
    run = {f.name for f in t.run_fields}
    assert not build & run
    assert {"base", "tag"} <= build
    assert not {"host_port", "token", "environment", "workdir"} & build
    assert "host_port" in run
    for f in t.build_fields:
        assert f.type != "secret", f"{name}: secret field {f.name} would go into a layer"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_defaults_render_for_the_classic_builder(name):
    t = get_template(name)
    text = render_dockerfile(t, t.defaults())
    assert text.startswith("#") and "\nFROM python:3.11-slim\n" in text
    assert "# syntax=" not in text and "--mount" not in text and "<<" not in text
    assert "--start-interval" not in text
    assert re.search(r"^USER (?!root)\S+", text, re.M)
    assert [w for w in lint_dockerfile(text) if w.severity == "error"] == []
    assert lint_values(t.defaults()) == []  # defaults are pinned


@pytest.mark.parametrize("name", SERVING)
def test_serving_images_carry_the_protocol(name):
    t = get_template(name)
    text = render_dockerfile(t, {**t.defaults(), "port": 9000})
    assert 'ai-container-studio.protocol="studio-v1"' in text
    assert f'ai-container-studio.task="{t.task}"' in text
    assert 'ai-container-studio.port="9000"' in text
    assert "org.opencontainers.image.title=" in text and "org.opencontainers.image.version=" in text
    assert "org.opencontainers.image.created=$AICS_CREATED" in text
    assert "EXPOSE 9000" in text and "AICS_PORT=9000" in text
    assert "HEALTHCHECK" in text and "health" in text
    # packages first: the requirements layer comes before the model and the server code
    assert text.index("pip install") < text.index("train_demo.py") < text.index("COPY serving/")


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize(
    "payload",
    [
        'x"\nRUN curl evil | sh\n#',
        "x\nRUN id",
        "x' && rm -rf / #",
        "x\r\nUSER root",
        "$(id)",
        "a`id`",
        "x\\\nRUN id",
    ],
)
def test_no_field_can_inject_an_instruction(name, payload):
    """Every string field, given an injection payload, is refused; nothing renders."""
    t = get_template(name)
    safe = render_dockerfile(t, t.defaults())
    tried = 0
    for f in t.build_fields:
        values = t.defaults()
        if f.type in ("int", "float", "port", "choice", "bool"):
            continue
        if f.type == "mapping":
            values[f.name] = {"KEY": payload}
        elif f.type in ("requirements", "names"):
            values[f.name] = [*(values[f.name] or []), payload]
        else:
            values[f.name] = payload
        tried += 1
        with pytest.raises(ValidationError) as info:
            render_dockerfile(t, values)
        assert f.name in info.value.errors
    assert tried >= 3
    assert "RUN id" not in safe and "curl evil" not in safe


def test_mapping_values_render_quoted(tmp_path):
    t = get_template("sklearn-image")
    text = render_dockerfile(
        t,
        {
            **t.defaults(),
            "labels_extra": {"com.example.team": "vision lab"},
            "build_args": {"MODE": "fast mode"},
        },
    )
    assert 'LABEL com.example.team="vision lab"' in text
    assert 'ARG MODE="fast mode"' in text


def test_unknown_fields_and_run_values_are_refused_by_render():
    t = get_template("jupyter")
    with pytest.raises(ValidationError) as info:
        render_dockerfile(t, {**t.defaults(), "token": "s3cret"})
    assert "token" in info.value.errors


def test_bad_manifest_is_reported(tmp_path):
    (tmp_path / "manifest.toml").write_text('[template]\nname = "x"\n[[build]]\nname = "a"\ntype = "nope"\n')
    (tmp_path / "Dockerfile.j2").write_text("FROM x\n")
    with pytest.raises(TemplateError, match="unknown type"):
        load_template(tmp_path)
    (tmp_path / "manifest.toml").write_text(
        '[template]\nname = "x"\n[[build]]\nname = "p"\ntype = "port"\ndefault = 0\n'
    )
    with pytest.raises(TemplateError, match="default of p"):
        load_template(tmp_path)
    (tmp_path / "manifest.toml").write_text("not toml [")
    with pytest.raises(TemplateError, match="TOML"):
        load_template(tmp_path)


def test_user_model_context(tmp_path):
    t = get_template("sklearn-image")
    model = tmp_path / "clf.skops"
    model.write_bytes(b"\x80\x04 pretend pickle: copied as bytes, never loaded")
    labels = tmp_path / "names.txt"
    labels.write_text("cat\ndog\n")
    values = {**t.defaults(), "model": str(model), "labels": str(labels), "width": 28, "height": 28}
    ctx = assemble_context(t, values, tmp_path / "ctx")
    d = ctx.directory
    assert (d / "model" / "model.skops").read_bytes() == model.read_bytes()
    assert (d / "model" / "labels.txt").read_text() == "cat\ndog\n"
    assert "skops==0.16.0" in (d / "requirements.txt").read_text().split()  # pinned: its trust API changed before
    assert "COPY model/ /opt/aics/model/" in ctx.dockerfile and "train_demo" not in ctx.dockerfile
    config = json.loads((d / "serving.json").read_text())
    assert config["model"] == "/opt/aics/model/model.skops"
    assert config["input"]["width"] == 28 and config["input"]["range"] == [0.0, 16.0]
    for name in ("server.py", "service.py", "backends.py", "pictures.py", "cli.py"):
        assert (d / "serving" / name).is_file()
    assert (d / ".dockerignore").is_file()
    assert "Dockerfile" in ctx.files and "serving/server.py" in ctx.files


def test_demo_context_and_hand_edited_dockerfile(tmp_path):
    t = get_template("sklearn-regression")
    ctx = assemble_context(t, t.defaults(), tmp_path / "a", dockerfile_text="FROM python:3.11-slim\n# mine\n")
    assert (ctx.directory / "Dockerfile").read_text() == "FROM python:3.11-slim\n# mine\n"
    assert (ctx.directory / "train_demo.py").is_file()
    assert (ctx.directory / "requirements.txt").read_text() == "scikit-learn==1.9.1\n"
    config = json.loads((ctx.directory / "serving.json").read_text())
    assert config["task"] == "tabular-regression" and config["model"] == "/opt/aics/model/model.joblib"


def test_export_refuses_a_non_empty_folder(tmp_path):
    t = get_template("sklearn-regression")
    (tmp_path / "keep.txt").write_text("x")
    with pytest.raises(FileExistsError):
        export_context(t, t.defaults(), tmp_path)
    out = export_context(t, t.defaults(), tmp_path, overwrite=True)
    assert (tmp_path / "Dockerfile").read_text() == out.dockerfile
    assert (tmp_path / "keep.txt").exists()


def test_run_settings_publish_and_never_touch_the_image():
    t = get_template("jupyter")
    rs = run_settings(t, t.defaults(), {"host_port": 0, "token": "tok'en", "environment": {"A": "1"}})
    assert rs.ports == {8888: 0}
    assert rs.environment == {"A": "1", "JUPYTER_TOKEN": "tok'en"}
    assert rs.host_ip == "127.0.0.1"
    assert "tok'en" not in render_dockerfile(t, t.defaults())
    with pytest.raises(ValidationError):
        run_settings(t, t.defaults(), {"host_port": 70000})


def test_lint_catches_what_the_engine_cannot_build():
    text = (
        "# syntax=docker/dockerfile:1\nFROM python\nADD http://x/y.tgz /y\nENV API_TOKEN=abc\n"
        "RUN --mount=type=cache,target=/root/.cache pip install numpy\n"
        "HEALTHCHECK --start-interval=1s CMD true\nCOPY . /app\nRUN pip install -r /app/req.txt\n"
    )
    messages = [(w.severity, w.message) for w in lint_dockerfile(text)]
    joined = " | ".join(m for _, m in messages)
    assert sum(1 for s, _ in messages if s == "error") == 3
    for needle in (
        "syntax=",
        "pin a tag",
        "ADD from a URL",
        "API_TOKEN",
        "--mount",
        "start-interval",
        "COPY . before pip",
        "runs as root",
        "--no-cache-dir",
    ):
        assert needle in joined, needle


def test_lint_values_warns_about_unpinned_packages():
    warnings = lint_values({"packages": ["numpy", "pillow==13.0.0"]})
    assert [w.field for w in warnings] == ["packages"] and "numpy" in warnings[0].message


def test_onnx_tabular_takes_its_task_from_the_form(tmp_path):
    t = get_template("onnx-tabular")
    model = tmp_path / "m.onnx"
    model.write_bytes(b"graph")
    values = {**t.defaults(), "model": str(model), "task": "tabular-classification", "features": "a, b, c"}
    text = render_dockerfile(t, values)
    assert 'ai-container-studio.task="tabular-classification"' in text
    assert 'ai-container-studio.template="onnx-tabular"' in text
    # the check step compares the graph's width (or its column inputs' names) with the names
    assert 'RUN python3 /opt/aics/check_rows.py /opt/aics/model/model.onnx "a" "b" "c"\n' in text
    assert [w for w in lint_dockerfile(text) if w.severity == "error"] == []
    ctx = assemble_context(t, values, tmp_path / "ctx")
    config = json.loads((ctx.directory / "serving.json").read_text())
    assert config["task"] == "tabular-classification" and config["input"] == {"kind": "tabular"}
    assert config["features"] == ["a", "b", "c"] and config["framework"] == "onnx"
    assert (ctx.directory / "requirements.txt").read_text() == "onnxruntime==1.32.0\nnumpy==2.4.6\n"
    assert t.check_build({**values, "task": "tabular-clustering"})[1].keys() == {"task"}

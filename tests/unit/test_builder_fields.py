"""Form value checks: image references, PEP 508 requirements, ports and injection refusal."""

from __future__ import annotations

import pytest

from gui.builder.fields import Field, check
from gui.builder.references import reference_error, requirement_error, split_reference


@pytest.mark.parametrize(
    "ref",
    [
        "python:3.11-slim",
        "myname/model",
        "registry.example.com:5000/team/model:1.0",
        "localhost/a_b__c-d.e:v1.2-rc.3",
        "python@sha256:" + "a" * 64,
        "[::1]:5000/x/y:z",
    ],
)
def test_valid_references(ref):
    assert reference_error(ref) is None


@pytest.mark.parametrize(
    "ref",
    [
        "",
        "MyName/model",
        "model:",
        "model:tag with space",
        "-leading/dash",
        "double//slash",
        "model:" + "t" * 129,
        "trailing-/x",
        "a" * 256,
        "x\nRUN rm -rf /",
    ],
)
def test_invalid_references(ref):
    assert reference_error(ref) is not None


def test_a_tag_takes_no_digest():
    digest = "x@sha256:" + "0" * 64
    assert reference_error(digest, allow_digest=True) is None
    assert "digest" in reference_error(digest, allow_digest=False)


def test_uppercase_repository_is_explained():
    assert "lowercase" in reference_error("Foo/bar:1")


def test_split_reference():
    assert split_reference("a/b:1") == ("a/b", "1")
    assert split_reference("host:5000/a/b") == ("host:5000/a/b", "latest")
    assert split_reference("host:5000/a/b:2") == ("host:5000/a/b", "2")


@pytest.mark.parametrize(
    "req",
    [
        "numpy",
        "scikit-learn==1.9.1",
        "pillow>=10,<14",
        "torch[cpu]~=2.3",
        'numpy; python_version < "3.12"',
        "pkg @ https://example.com/pkg-1.0-py3-none-any.whl",
    ],
)
def test_valid_requirements(req):
    assert requirement_error(req) is None


@pytest.mark.parametrize(
    "req",
    [
        "numpy\n--index-url http://evil",
        "-r other.txt",
        "--extra-index-url=http://x",
        "numpy==",
        "num py",
        "!!!",
        "numpy\rRUN id",
    ],
)
def test_invalid_requirements(req):
    assert requirement_error(req) is not None


def _field(**kw):
    return Field(name="f", **kw)


@pytest.mark.parametrize("kind", ["text", "name", "version", "image", "tag"])
@pytest.mark.parametrize("bad", ['a"b', "a'b", "a\nb", "a\\b", "a$b", "a`b", "a\rb"])
def test_every_text_field_refuses_injection_characters(kind, bad):
    _, err = check(_field(type=kind, default=""), bad)
    assert err is not None


def test_mapping_refuses_injection_in_keys_and_values():
    f = _field(type="mapping", default={})
    assert check(f, {"GOOD": "value ok"})[1] is None
    assert check(f, "A=1\nB=two words")[0] == {"A": "1", "B": "two words"}
    assert check(f, {"A": 'x"\nRUN id'})[1] is not None
    assert check(f, {"A\nRUN": "x"})[1] is not None
    assert check(f, {"1BAD": "x"})[1] is not None
    assert check(f, "NOEQUALS")[1] is not None


def test_requirements_field_splits_lines_and_needs_projects():
    f = _field(type="requirements", default=[], needs=("scikit-learn",))
    value, err = check(f, "scikit-learn==1.9.1\n# comment\n\npillow\n")
    assert err is None and value == ["scikit-learn==1.9.1", "pillow"]
    assert "needs scikit-learn" in check(f, ["pillow"])[1]
    assert check(f, ["Scikit_Learn"])[1] is None  # names are compared normalised
    assert check(f, ["scikit-learn\nRUN id"])[1] is not None


@pytest.mark.parametrize(
    ("value", "ok"),
    [(8080, True), ("443", True), (0, False), (65536, False), ("x", False), (True, False), (80.5, False)],
)
def test_port(value, ok):
    assert (check(_field(type="port", default=8080), value)[1] is None) is ok


def test_port_zero_when_allowed():
    assert check(_field(type="port", default=0, allow_zero=True), 0) == (0, None)


def test_numbers_and_choices():
    f = _field(type="int", default=1, min=1, max=10)
    assert check(f, "7") == (7, None)
    assert check(f, 11)[1] == "at most 10"
    assert check(_field(type="float", default=1.0), "nan")[1] is not None
    c = _field(type="choice", default=1, choices=(1, 3))
    assert check(c, "3") == (3, None)
    assert check(c, 2)[1] is not None


def test_file_field(tmp_path):
    f = _field(type="file", default="", extensions=(".joblib", ".pkl"))
    model = tmp_path / "m.joblib"
    model.write_bytes(b"not really a model; never loaded here")
    assert check(f, str(model)) == (str(model), None)
    assert check(f, "")[1] is None
    assert "no such file" in check(f, str(tmp_path / "missing.pkl"))[1]
    other = tmp_path / "m.txt"
    other.write_text("x")
    assert "expected" in check(f, str(other))[1]
    assert check(_field(type="file", default="", required=True), "")[1] == "required"


def test_secret_field_allows_quotes_but_not_line_breaks():
    f = _field(type="secret", default="")
    assert check(f, "a'b\"c$d")[1] is None
    assert check(f, "a\nb")[1] is not None

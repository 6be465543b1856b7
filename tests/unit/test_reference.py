"""Docker's image reference grammar, with messages that say what is wrong."""

from __future__ import annotations

import pytest

from gui.engine.reference import ImageReference, ReferenceError, check_tag, parse_reference

DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize("text, domain, path, tag, digest", [
    ("busybox", "docker.io", "library/busybox", None, None),
    ("busybox:1.36", "docker.io", "library/busybox", "1.36", None),
    ("user/app:v1", "docker.io", "user/app", "v1", None),
    ("docker.io/library/busybox:latest", "docker.io", "library/busybox", "latest", None),
    ("index.docker.io/user/app", "docker.io", "user/app", None, None),
    ("localhost/app", "localhost", "app", None, None),
    ("localhost:5000/team/model:v1", "localhost:5000", "team/model", "v1", None),
    ("127.0.0.1:5000/aicstest/bb:t1", "127.0.0.1:5000", "aicstest/bb", "t1", None),
    ("registry.example.com/a/b/c", "registry.example.com", "a/b/c", None, None),
    ("[::1]:5000/app:x", "[::1]:5000", "app", "x", None),
    ("Registry.Example.com/app", "Registry.Example.com", "app", None, None),
    ("my-registry:5000/my_app__x.y-z:V_1.0-rc", "my-registry:5000", "my_app__x.y-z", "V_1.0-rc", None),
    (f"busybox@{DIGEST}", "docker.io", "library/busybox", None, DIGEST),
    (f"ghcr.io/o/r:v1@{DIGEST}", "ghcr.io", "o/r", "v1", DIGEST),
    ("a---b", "docker.io", "library/a---b", None, None),
    ("  busybox:1  ", "docker.io", "library/busybox", "1", None),
])
def test_valid_references(text, domain, path, tag, digest):
    assert parse_reference(text) == ImageReference(domain, path, tag, digest)


@pytest.mark.parametrize("text, words", [
    ("", "Enter an image reference"),
    ("   ", "Enter an image reference"),
    ("MyImage", "must be lowercase"),
    ("user/MyImage:v1", "must be lowercase"),
    ("busybox:bad tag", "no spaces"),
    ("busybox:-x", "may not start with '-'"),
    ("busybox:.x", "may not start with '.'"),
    ("busybox:a!b", "contains '!'"),
    ("busybox:" + "a" * 129, "at most 128"),
    ("busybox:", "The tag is empty"),
    ("a//b", "empty part"),
    ("/busybox", "empty part"),
    ("busybox/", "empty part"),
    ("-busybox", "not a valid name part"),
    ("busybox_", "not a valid name part"),
    ("a___b", "not a valid name part"),
    ("a..b", "not a valid name part"),
    ("busybox@sha256:12", "not a valid digest"),
    ("busybox@md5", "not a valid digest"),
    ("-bad.host/app", "not a valid host name"),
    ("host.com:port/app", "port “port” is not a number"),
    (":v1", "repository name is missing"),
    ("0123456789abcdef" * 4, "is an image ID"),
    ("a" * 250 + "/" + "b" * 10, "longer than 255"),
])
def test_invalid_references_say_why(text, words):
    with pytest.raises(ReferenceError) as err:
        parse_reference(text)
    assert words in str(err.value)


def test_familiar_form_and_default_tag():
    ref = parse_reference("docker.io/library/busybox")
    assert ref.familiar_name == "busybox"
    assert str(ref) == "busybox"
    assert str(ref.with_default_tag()) == "busybox:latest"
    assert ref.name == "docker.io/library/busybox"
    assert str(parse_reference("user/app:v2")) == "user/app:v2"
    local = parse_reference("127.0.0.1:5000/team/model")
    assert str(local.with_default_tag()) == "127.0.0.1:5000/team/model:latest"
    assert local.registry == "127.0.0.1:5000"
    pinned = parse_reference(f"busybox@{DIGEST}")
    assert pinned.with_default_tag() is pinned and str(pinned) == f"busybox@{DIGEST}"


def test_check_tag_alone():
    assert check_tag("v1.0_rc-2") == "v1.0_rc-2"
    for bad in ("", "-a", "a b", "ä", "x" * 129):
        with pytest.raises(ReferenceError):
            check_tag(bad)

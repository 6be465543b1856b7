"""Where a container's published ports answer on this machine (no engine)."""

from __future__ import annotations

from types import SimpleNamespace

from gui.engine.models import ContainerInfo, PortBinding
from gui.engine.ports import host_url, published_url, published_urls


def container(*ports: PortBinding) -> ContainerInfo:
    return ContainerInfo(id="c" * 64, name="web", image="img", state="running", status="", created=0.0,
                         ports=ports)


def test_host_url_reaches_wildcard_bindings_through_loopback_and_brackets_ipv6():
    assert host_url("0.0.0.0", 8080) == "http://127.0.0.1:8080"
    assert host_url("", 80) == host_url("::", 80) == host_url("[::]", 80) == "http://127.0.0.1:80"
    assert host_url("192.168.1.5", 80) == "http://192.168.1.5:80"
    assert host_url("::1", 80) == host_url("[::1]", 80) == "http://[::1]:80"


def test_published_urls_lists_each_tcp_host_port_once_in_order():
    c = container(
        PortBinding(80, "tcp", "0.0.0.0", 8080),
        PortBinding(80, "tcp", "::", 8080),  # the IPv6 twin of the same binding
        PortBinding(443, "tcp", "127.0.0.1", 8443),
        PortBinding(53, "udp", "0.0.0.0", 5353),  # not a URL
        PortBinding(9000, "tcp"),  # exposed, not published
        PortBinding(22, "tcp", "fe80::1", 2222),
    )
    assert published_urls(c) == ["http://127.0.0.1:8080/", "http://127.0.0.1:8443/", "http://[fe80::1]:2222/"]
    assert published_urls(container()) == []


def test_published_url_of_one_container_port_prefers_ipv4_and_loopback():
    c = container(
        PortBinding(8080, "tcp", "::", 5001),
        PortBinding(8080, "tcp", "192.168.1.5", 5002),
        PortBinding(8080, "tcp", "0.0.0.0", 5000),
        PortBinding(9000, "tcp", "127.0.0.1", 6000),
    )
    assert published_url(c, 8080) == "http://127.0.0.1:5000"
    assert published_url(c, 9000) == "http://127.0.0.1:6000"
    assert published_url(c, 7000) == ""
    assert published_url(container(PortBinding(8080, "tcp", "::", 5001)), 8080) == "http://127.0.0.1:5001"


def test_any_record_with_the_same_names_works():
    port = SimpleNamespace(container_port=80, protocol=None, host_ip="10.0.0.2", host_port=8000)
    record = SimpleNamespace(ports=[port])
    assert published_urls(record) == ["http://10.0.0.2:8000/"]
    assert published_url(record, 80) == "http://10.0.0.2:8000"
    assert published_urls(SimpleNamespace()) == []

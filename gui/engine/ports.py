"""The URLs at which a container's published TCP ports answer on this machine.

One place for the rules (the Containers page's links, the predict targets): a binding on every
address (``0.0.0.0``, ``::``) is reached through loopback, an IPv6 address goes in brackets.
Works on ContainerInfo / PortBinding or any record with the same attribute names.
"""

from __future__ import annotations

ANY_HOST = ("", "0.0.0.0", "::", "[::]")  # a binding on every address of the host
LOOPBACK = "127.0.0.1"


def host_url(host_ip: str, host_port: int) -> str:
    """``http://host:port`` for a published port (a wildcard binding means loopback)."""
    if host_ip in ANY_HOST:
        host = LOOPBACK
    elif ":" in host_ip:
        host = f"[{host_ip.strip('[]')}]"
    else:
        host = host_ip
    return f"http://{host}:{host_port}"


def published_bindings(container, container_port: int | None = None) -> list:
    """The TCP bindings of ``container`` that have a host port, in its order; only those of
    ``container_port`` when given."""
    return [
        p
        for p in getattr(container, "ports", ()) or ()
        if p.host_port and (p.protocol or "tcp") == "tcp"
        and (container_port is None or p.container_port == container_port)
    ]


def published_urls(container) -> list[str]:
    """``http://host:port/`` for each published TCP port of ``container``, without repeats."""
    urls: list[str] = []
    for p in published_bindings(container):
        url = host_url(p.host_ip or "", p.host_port) + "/"
        if url not in urls:
            urls.append(url)
    return urls


def published_url(container, container_port: int) -> str:
    """``http://host:port`` where ``container_port`` answers on this machine; "" when it is not published.

    With several bindings an IPv4 one wins, and loopback or wildcard before a specific address.
    """
    bindings = published_bindings(container, container_port)
    if not bindings:
        return ""
    bindings.sort(key=lambda p: (":" in (p.host_ip or ""), (p.host_ip or "") not in ANY_HOST + (LOOPBACK,)))
    best = bindings[0]
    return host_url(best.host_ip or "", best.host_port)

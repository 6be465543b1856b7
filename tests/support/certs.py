"""Throwaway certificates made with openssl: a CA, a server certificate for 127.0.0.1, client certificates."""

from __future__ import annotations

import os
import subprocess


def _openssl(*args: str, cwd: str) -> None:
    done = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed: {done.stderr}")


def make_ca(folder: str, name: str = "ca") -> tuple[str, str]:
    """A self-signed CA: (certificate path, key path)."""
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN=aics test {name}",
             "-keyout", f"{name}-key.pem", "-out", f"{name}.pem", cwd=folder)
    return os.path.join(folder, f"{name}.pem"), os.path.join(folder, f"{name}-key.pem")


def make_cert(folder: str, name: str, ca: tuple[str, str], server: bool) -> tuple[str, str]:
    """A certificate signed by ``ca``: for the server 127.0.0.1 (IP SAN) or for a client."""
    ext = os.path.join(folder, f"{name}.ext")
    with open(ext, "w") as fh:
        if server:
            fh.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
        else:
            fh.write("extendedKeyUsage=clientAuth\n")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={'127.0.0.1' if server else name}",
             "-keyout", f"{name}-key.pem", "-out", f"{name}.csr", cwd=folder)
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", ca[0], "-CAkey", ca[1], "-CAcreateserial",
             "-days", "2", "-extfile", ext, "-out", f"{name}.pem", cwd=folder)
    return os.path.join(folder, f"{name}.pem"), os.path.join(folder, f"{name}-key.pem")

"""Copy files and folders between the host and a container (`docker cp`), through tar archives.

Archives from the container are extracted safely: members with absolute paths, `..`, links
that point outside the target, and device files are refused before anything is written.
"""

from __future__ import annotations

import io
import os
import posixpath
import tarfile
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass

from gui.engine.client import Engine
from gui.engine.errors import EngineError


class UnsafeArchive(EngineError):
    def __init__(self, member: str, why: str):
        super().__init__(f"Refused to extract {member!r}: {why}.", "bad_request")
        self.member = member


@dataclass(frozen=True)
class CopyResult:
    files: int  # regular files copied
    bytes: int
    destination: str


def _explain(exc: EngineError, container_path: str) -> EngineError:
    text = str(exc)
    low = text.lower()
    if exc.kind == "not_found":
        if "no such container" in low:
            return EngineError("The container no longer exists.", "not_found", 404)
        return EngineError(f"{container_path} does not exist in the container.", "not_found", 404)
    if "permission denied" in low or "read-only" in low or exc.status == 403:
        return EngineError(f"Permission denied: cannot write to {container_path} in the container "
                           f"({text})", "permission_denied", exc.status)
    if "not a directory" in low:
        return EngineError(f"{container_path} in the container is not a folder.", "bad_request", exc.status)
    return exc


def build_archive(paths: Iterable[str]) -> tuple[bytes, int, int]:
    """A tar of the given host files and folders, each under its own name; (data, files, bytes)."""
    buf = io.BytesIO()
    files = size = 0
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for path in paths:
            path = os.path.abspath(path)
            if not os.path.lexists(path):
                raise EngineError(f"{path} does not exist.", "not_found")
            if not os.access(path, os.R_OK):
                raise EngineError(f"Permission denied: cannot read {path}.", "permission_denied")
            tar.add(path, arcname=os.path.basename(path.rstrip(os.sep)) or "root")
        for m in tar.getmembers():
            if m.isfile():
                files += 1
                size += m.size
    return buf.getvalue(), files, size


def copy_to_container(engine: Engine, container_id: str, host_paths: Iterable[str], container_dir: str) -> CopyResult:
    """Copy host files/folders into the folder ``container_dir`` (which must exist) of the container."""
    data, files, size = build_archive(list(host_paths))
    try:
        engine.call(lambda api: api.put_archive(container_id, container_dir, data))
    except EngineError as exc:
        raise _explain(exc, container_dir) from None
    return CopyResult(files, size, container_dir)


def working_dir(engine: Engine, container_id: str) -> str:
    """The container's working directory ("/" when its image sets none)."""
    try:
        info = engine.call(lambda api: api.inspect_container(container_id))
    except EngineError as exc:
        raise _explain(exc, "") from None
    return (info.get("Config") or {}).get("WorkingDir") or "/"


def check_member(member: tarfile.TarInfo, dest: str) -> None:
    """Raise UnsafeArchive unless ``member`` stays inside ``dest`` and is a plain file, folder or link."""
    name = member.name
    if name.startswith(("/", "\\")) or os.path.isabs(name) or (len(name) > 1 and name[1] == ":"):
        raise UnsafeArchive(name, "absolute path")
    parts = name.replace("\\", "/").split("/")
    if ".." in parts:
        raise UnsafeArchive(name, "path goes up with '..'")
    if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
        raise UnsafeArchive(name, "device, fifo or other special file")
    target = os.path.realpath(os.path.join(dest, name))
    if os.path.commonpath([target, dest]) != dest:
        raise UnsafeArchive(name, "path leaves the destination folder")
    if member.issym() or member.islnk():
        link = member.linkname
        if member.issym():
            link = posixpath.join(posixpath.dirname(name), link)
        if link.startswith("/") or ".." in posixpath.normpath(link).split("/"):
            raise UnsafeArchive(name, f"link points outside the destination ({member.linkname})")


def extract_archive(fileobj, dest: str) -> tuple[int, int]:
    """Check every member first, then extract into ``dest``; returns (files, bytes)."""
    dest = os.path.realpath(dest)
    with tarfile.open(fileobj=fileobj, mode="r:*") as tar:
        members = tar.getmembers()
        for m in members:
            check_member(m, dest)
        for m in members:
            m.mode = (m.mode or 0o644) & 0o777  # no setuid/setgid bits from the container
        if hasattr(tarfile, "tar_filter"):  # Python >= 3.11.4 checks again
            tar.extractall(dest, members=members, filter="tar")
        else:
            tar.extractall(dest, members=members)
    files = sum(1 for m in members if m.isfile())
    return files, sum(m.size for m in members if m.isfile())


def copy_from_container(engine: Engine, container_id: str, container_path: str, host_dir: str) -> CopyResult:
    """Copy a file or folder of the container into the existing host folder ``host_dir``."""
    if not os.path.isdir(host_dir):
        raise EngineError(f"{host_dir} is not a folder on this computer.", "not_found")
    if not os.access(host_dir, os.W_OK):
        raise EngineError(f"Permission denied: cannot write to {host_dir}.", "permission_denied")
    with tempfile.TemporaryFile() as spool:
        try:
            def fetch(api) -> None:
                stream, _stat = api.get_archive(container_id, container_path)
                for chunk in stream:
                    spool.write(chunk)

            engine.call(fetch)
        except EngineError as exc:
            raise _explain(exc, container_path) from None
        spool.seek(0)
        files, size = extract_archive(spool, host_dir)
    name = posixpath.basename(container_path.rstrip("/")) or "root"
    return CopyResult(files, size, os.path.join(host_dir, name))

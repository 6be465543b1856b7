"""Volumes: list, create, remove, prune, and their files (browse, download, upload) through a helper container.

A volume's files are reached with the engine's own API, never by reading the engine's data root (which
is on another machine for a remote engine, and root-only on this one): a short-lived helper container
mounts the volume, lists it with ``stat``, and the archive API copies files in and out of it. The helper
is made from an image that already exists locally (nothing is pulled), carries ``HELPER_LABEL`` and is
removed afterwards.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import re
import tempfile
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from gui.engine.client import Engine
from gui.engine.errors import EngineError
from gui.engine.files import CopyResult, extract_archive

HELPER_LABEL = "ai-container-studio.helper"
MOUNT = "/volume"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
# Local images tried for the helper, best first: small ones with a shell and `stat`.
HELPER_PREFERENCE = ("busybox", "alpine", "debian", "ubuntu", "python")
LIST_LIMIT = 20_000


@dataclass(frozen=True)
class VolumeInfo:
    name: str
    driver: str
    mountpoint: str
    created: str
    labels: tuple[tuple[str, str], ...] = ()
    scope: str = "local"

    @property
    def key(self) -> str:
        return self.name


@dataclass(frozen=True)
class VolumeUsage:
    """What ``docker system df -v`` says of one volume: its size (-1: unknown) and how many containers use it."""

    name: str
    size: int
    ref_count: int


@dataclass(frozen=True)
class VolumeEntry:
    """One file or folder inside a volume."""

    name: str
    path: str  # inside the volume, "/"-separated, no leading slash
    kind: str  # "file" | "folder" | "link" | "other"
    size: int
    modified: float


def volume_name_error(name: str) -> str | None:
    """Why ``name`` cannot name a volume (None: it can). An empty name lets the engine choose one."""
    if not name:
        return None
    if len(name) < 2 or not _NAME.match(name):
        return ("a volume name has at least two characters: letters, digits, '_', '.' or '-', "
                "starting with a letter or digit")
    return None


def _volume(raw: dict) -> VolumeInfo:
    return VolumeInfo(
        name=raw.get("Name", ""),
        driver=raw.get("Driver", ""),
        mountpoint=raw.get("Mountpoint", ""),
        created=raw.get("CreatedAt", "") or "",
        labels=tuple(sorted((raw.get("Labels") or {}).items())),
        scope=raw.get("Scope", "local") or "local",
    )


def list_volumes(engine: Engine) -> list[VolumeInfo]:
    data = engine.call(lambda api: api.volumes())
    return sorted((_volume(v) for v in (data or {}).get("Volumes") or []), key=lambda v: v.name)


def volume_users(engine: Engine) -> dict[str, list[str]]:
    """Volume name -> names of the containers (running or not) that mount it; the studio's own helper
    containers (an open browser) do not count."""
    users: dict[str, list[str]] = {}
    for c in engine.call(lambda api: api.containers(all=True)):
        if HELPER_LABEL in (c.get("Labels") or {}):
            continue
        name = ((c.get("Names") or ["?"])[0]).lstrip("/")
        for m in c.get("Mounts") or []:
            if m.get("Type") == "volume" and m.get("Name"):
                users.setdefault(m["Name"], []).append(name)
    return users


def volume_usage(engine: Engine) -> dict[str, VolumeUsage]:
    """Sizes of every volume (the engine's costly disk-usage call: ask once, on demand)."""
    data = engine.call(lambda api: api.df())
    out = {}
    for v in data.get("Volumes") or []:
        usage = v.get("UsageData") or {}
        out[v["Name"]] = VolumeUsage(v["Name"], int(usage.get("Size", -1)), int(usage.get("RefCount", 0)))
    return out


def create_volume(engine: Engine, name: str = "", driver: str = "local",
                  labels: dict[str, str] | None = None) -> VolumeInfo:
    problem = volume_name_error(name)
    if problem:
        raise EngineError(f"Invalid volume name {name!r}: {problem}.", "bad_request", 400)
    existing = {v.name for v in list_volumes(engine)} if name else set()
    if name in existing:
        raise EngineError(f"A volume named {name} already exists.", "conflict", 409)
    raw = engine.call(lambda api: api.create_volume(name or None, driver=driver or "local", labels=labels or None))
    return _volume(raw)


def remove_volume(engine: Engine, name: str) -> None:
    """Remove a volume; refused in words, naming the containers, while any container uses it."""
    users = volume_users(engine).get(name)
    if users:
        raise EngineError(f"Volume {name} is in use by {', '.join(sorted(users))}: remove "
                          f"{'that container' if len(users) == 1 else 'those containers'} first.", "conflict", 409)
    _remove_helpers(engine, name)
    try:
        engine.call(lambda api: api.remove_volume(name))
    except EngineError as exc:
        if exc.kind == "not_found":
            raise EngineError(f"Volume {name} no longer exists.", "not_found", 404) from None
        if exc.status == 409:
            raise EngineError(f"Volume {name} is in use by a container: {exc}", "conflict", 409) from None
        raise


def _remove_helpers(engine: Engine, volume: str) -> None:
    """The studio's own helper containers on ``volume`` (a browser left open) must not keep it."""
    helpers = engine.call(lambda api: api.containers(all=True, filters={"label": HELPER_LABEL, "volume": volume}))
    for c in helpers:
        with contextlib.suppress(EngineError):
            engine.call(lambda api, cid=c["Id"]: api.remove_container(cid, force=True))


def unused_volumes(engine: Engine) -> list[VolumeUsage]:
    """What ``prune`` would remove: volumes no container uses, with their sizes (to show before asking)."""
    users = volume_users(engine)
    usage = volume_usage(engine)
    return [usage.get(v.name, VolumeUsage(v.name, -1, 0)) for v in list_volumes(engine) if v.name not in users]


def prune_volumes(engine: Engine, names: Iterable[str]) -> tuple[list[str], int]:
    """Remove the named unused volumes (exactly what was shown to the user); (removed, bytes freed)."""
    usage = volume_usage(engine)
    users = volume_users(engine)
    removed, freed = [], 0
    for name in names:
        if name in users:
            continue  # in use since the list was shown: keep it
        _remove_helpers(engine, name)
        with contextlib.suppress(EngineError):
            engine.call(lambda api, n=name: api.remove_volume(n))
            removed.append(name)
            freed += max(0, usage.get(name, VolumeUsage(name, 0, 0)).size)
    return removed, freed


# -- files inside a volume ------------------------------------------------------------------------------


def helper_image(engine: Engine) -> str:
    """A local image to run the helper from: one whose name says it has a shell, else any local image."""
    images = engine.call(lambda api: api.images())
    refs = [t for img in images for t in (img.get("RepoTags") or []) if t and not t.startswith("<none>")]
    for want in HELPER_PREFERENCE:
        for ref in refs:
            if want in ref.rsplit("/", 1)[-1].split(":")[0]:
                return ref
    if refs:
        return refs[0]
    raise EngineError("No local image to run the helper container from: build or load any image first "
                      "(the studio pulls nothing).", "not_found")


def _clean(path: str) -> str:
    """A path inside the volume, normalised, never leaving it."""
    norm = posixpath.normpath("/" + (path or "").replace("\\", "/")).lstrip("/")
    return "" if norm == "." else norm


@contextlib.contextmanager
def helper(engine: Engine, volume: str, read_only: bool = True) -> Iterator[str]:
    """A created (not started) helper container with ``volume`` at /volume; removed on exit."""
    image = helper_image(engine)

    def create(api):
        host = api.create_host_config(binds={volume: {"bind": MOUNT, "mode": "ro" if read_only else "rw"}})
        return api.create_container(image, command=["sh"], host_config=host, labels={HELPER_LABEL: "volume"},
                                    working_dir=MOUNT, entrypoint=[])["Id"]

    cid = engine.call(create)
    try:
        yield cid
    finally:
        with contextlib.suppress(EngineError):
            engine.call(lambda api: api.remove_container(cid, force=True, v=False))


_LIST_SCRIPT = (
    # One line per entry: type, size, mtime, name. `stat -c` is in coreutils and busybox alike. One `stat`
    # for the whole folder (a process per file took 2.7 s for 10,000 files); a pattern that matches
    # nothing stays as it is and stat's complaint about it is dropped.
    'cd "$1" || exit 3; stat -c "%F|%s|%Y|%n" -- * .[!.]* ..?* 2>/dev/null | head -n "$2"; exit 0'
)


def start_browser_helper(engine: Engine, volume: str) -> str:
    """A helper container that keeps running with ``volume`` mounted (read-write) while a browser is open:
    listing a folder is then one exec (tens of ms) instead of a container's life (half a second).
    The caller removes it (``stop_browser_helper``)."""
    image = helper_image(engine)

    def run(api) -> str:
        host = api.create_host_config(binds={volume: {"bind": MOUNT, "mode": "rw"}}, auto_remove=False)
        cid = api.create_container(image, command=["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"],
                                   host_config=host, labels={HELPER_LABEL: "volume-browser"}, entrypoint=[],
                                   working_dir=MOUNT)["Id"]
        try:
            api.start(cid)
        except Exception:
            with contextlib.suppress(Exception):
                api.remove_container(cid, force=True)
            raise
        return cid

    return engine.call(run)


def stop_browser_helper(engine: Engine, helper_id: str) -> None:
    with contextlib.suppress(EngineError):
        engine.call(lambda api: api.remove_container(helper_id, force=True))


class BrowserHelper:
    """The helper container of one open browser. ``start`` (a worker thread) and ``close`` (the window
    closing) may come in either order: a helper that starts after its window closed is removed at once,
    instead of running on with nothing left to remove it."""

    def __init__(self, engine: Engine, volume: str):
        self.engine = engine
        self.volume = volume
        self.id = ""
        self._closed = False
        self._lock = threading.Lock()

    def start(self) -> str:
        """Start the helper; its id, or "" when the window closed meanwhile (the helper is then gone)."""
        cid = start_browser_helper(self.engine, self.volume)
        with self._lock:
            if not self._closed:
                self.id = cid
                return cid
        stop_browser_helper(self.engine, cid)
        return ""

    def close(self) -> None:
        """Remove the helper (blocks on the engine: call it off the UI thread); later starts remove theirs."""
        with self._lock:
            self._closed, cid, self.id = True, self.id, ""
        if cid:
            stop_browser_helper(self.engine, cid)


def list_volume(engine: Engine, volume: str, path: str = "", limit: int = LIST_LIMIT,
                helper_id: str = "") -> list[VolumeEntry]:
    """The files and folders in ``path`` of ``volume``, folders first, each with its size; through the
    running ``helper_id`` when given (one exec), else a one-shot helper container."""
    rel = _clean(path)
    if helper_id:
        def run_exec(api):
            ex = api.exec_create(helper_id, ["sh", "-c", _LIST_SCRIPT, "sh", posixpath.join(MOUNT, rel), str(limit)],
                                 stdout=True, stderr=True)
            out, err = api.exec_start(ex["Id"], demux=True)
            return api.exec_inspect(ex["Id"]).get("ExitCode", 1), (out or b"").decode("utf-8", "replace"), \
                (err or b"").decode("utf-8", "replace")

        return _entries(volume, rel, *engine.call(run_exec))
    image = helper_image(engine)

    def run(api):
        host = api.create_host_config(binds={volume: {"bind": MOUNT, "mode": "ro"}})
        cid = api.create_container(image, command=["sh", "-c", _LIST_SCRIPT, "sh", posixpath.join(MOUNT, rel),
                                                   str(limit)],
                                   host_config=host, labels={HELPER_LABEL: "volume"}, entrypoint=[])["Id"]
        try:
            api.start(cid)
            code = api.wait(cid, timeout=120).get("StatusCode", 1)
            out = api.logs(cid, stdout=True, stderr=False).decode("utf-8", "replace")
            err = api.logs(cid, stdout=False, stderr=True).decode("utf-8", "replace")
        finally:
            with contextlib.suppress(Exception):
                api.remove_container(cid, force=True)
        return code, out, err

    return _entries(volume, rel, *engine.call(run))


def _entries(volume: str, rel: str, code: int, out: str, err: str) -> list[VolumeEntry]:
    if code == 3:
        raise EngineError(f"/{rel} is not a folder in volume {volume}.", "not_found", 404)
    if code != 0:
        raise EngineError(f"Could not list volume {volume}: {err.strip() or f'exit code {code}'}", "api")
    entries = []
    for line in out.splitlines():
        kind, _, rest = line.partition("|")
        size, _, rest = rest.partition("|")
        mtime, _, name = rest.partition("|")
        if not name:
            continue
        k = "folder" if "directory" in kind else "link" if "link" in kind else \
            "file" if "file" in kind else "other"
        entries.append(VolumeEntry(name, posixpath.join(rel, name) if rel else name, k,
                                   int(size or 0) if k == "file" else 0, float(mtime or 0)))
    entries.sort(key=lambda e: (e.kind != "folder", e.name.lower()))
    return entries


def download_from_volume(engine: Engine, volume: str, path: str, host_dir: str) -> CopyResult:
    """Copy a file or folder of the volume into the existing host folder ``host_dir`` (streamed to disk)."""
    rel = _clean(path)
    if not os.path.isdir(host_dir):
        raise EngineError(f"{host_dir} is not a folder on this computer.", "not_found")
    with helper(engine, volume) as cid, tempfile.TemporaryFile() as spool:
        def fetch(api) -> None:
            stream, _stat = api.get_archive(cid, posixpath.join(MOUNT, rel))
            for chunk in stream:
                spool.write(chunk)

        try:
            engine.call(fetch)
        except EngineError as exc:
            if exc.kind == "not_found":
                raise EngineError(f"/{rel} does not exist in volume {volume}.", "not_found", 404) from None
            raise
        spool.seek(0)
        files, size = extract_archive(spool, host_dir)
    name = posixpath.basename(rel) or volume
    return CopyResult(files, size, os.path.join(host_dir, name))


def upload_to_volume(engine: Engine, volume: str, host_paths: Iterable[str], path: str = "") -> CopyResult:
    """Copy host files and folders into folder ``path`` of the volume; the archive is spooled on disk,
    never held in memory, so a big file costs no more than a small one."""
    import tarfile

    rel = _clean(path)
    files = size = 0
    with tempfile.TemporaryFile() as spool:
        with tarfile.open(fileobj=spool, mode="w") as tar:
            for p in host_paths:
                p = os.path.abspath(p)
                if not os.path.lexists(p):
                    raise EngineError(f"{p} does not exist.", "not_found")
                if not os.access(p, os.R_OK):
                    raise EngineError(f"Permission denied: cannot read {p}.", "permission_denied")
                tar.add(p, arcname=os.path.basename(p.rstrip(os.sep)) or "root")
        spool.seek(0)
        with tarfile.open(fileobj=spool, mode="r") as tar:
            for m in tar.getmembers():
                if m.isfile():
                    files += 1
                    size += m.size
        spool.seek(0)
        with helper(engine, volume, read_only=False) as cid:
            try:
                engine.call(lambda api: api.put_archive(cid, posixpath.join(MOUNT, rel), spool))
            except EngineError as exc:
                if exc.kind == "not_found":
                    raise EngineError(f"/{rel} is not a folder in volume {volume}.", "not_found", 404) from None
                raise
    return CopyResult(files, size, f"{volume}:/{rel}")

"""Disk space the engine uses (`docker system df -v`) and the clean-ups that give it back.

Every clean-up comes in two calls: ``*_candidates`` says exactly what would go and how much it frees (to
show before asking), and ``clean`` removes exactly those items, so nothing the user did not see goes.
"""

from __future__ import annotations

import contextlib
import shutil
from dataclasses import dataclass

from gui.engine.client import Engine
from gui.engine.errors import EngineError

CATEGORIES = ("images", "containers", "volumes", "build cache")


@dataclass(frozen=True)
class DiskItem:
    """One thing that takes space: an image, a container's writable layer, a volume or a build-cache entry."""

    category: str
    id: str
    name: str
    size: int  # bytes it alone takes (an image: its unique size, not the layers it shares)
    shared: int = 0  # bytes shared with other images (images only)
    in_use: bool = False


@dataclass(frozen=True)
class DiskUsage:
    items: tuple[DiskItem, ...]
    data_root_total: int = 0  # size of the file system that holds the engine's data (0: unknown)
    data_root_free: int = 0
    layers_size: int = 0  # every image layer counted once (the engine's LayersSize); 0: add up the items

    def total(self, category: str) -> int:
        if category == "images" and self.layers_size:
            return self.layers_size  # shared layers once, as `docker system df` counts them
        return sum(i.size for i in self.items if i.category == category)

    def reclaimable(self, category: str) -> int:
        return sum(i.size for i in self.items if i.category == category and not i.in_use)

    def biggest(self, n: int = 20) -> list[DiskItem]:
        return sorted(self.items, key=lambda i: i.size, reverse=True)[:n]


def _image_name(img: dict) -> str:
    tags = [t for t in (img.get("RepoTags") or []) if t and t != "<none>:<none>"]
    return tags[0] if tags else f"<none> {img.get('Id', '')[7:19]}"


def disk_usage(engine: Engine) -> DiskUsage:
    """What ``docker system df -v`` reports, as items (the engine's costly call: ask on demand)."""
    data = engine.call(lambda api: api.df())
    items: list[DiskItem] = []
    for img in data.get("Images") or []:
        size, shared = int(img.get("Size") or 0), max(0, int(img.get("SharedSize") or 0))
        items.append(DiskItem("images", img.get("Id", ""), _image_name(img), max(0, size - shared), shared,
                              int(img.get("Containers") or 0) > 0))
    for c in data.get("Containers") or []:
        name = ((c.get("Names") or ["?"])[0]).lstrip("/")
        items.append(DiskItem("containers", c.get("Id", ""), name, int(c.get("SizeRw") or 0),
                              in_use=c.get("State") in ("running", "paused", "restarting")))
    for v in data.get("Volumes") or []:
        usage = v.get("UsageData") or {}
        items.append(DiskItem("volumes", v.get("Name", ""), v.get("Name", ""), max(0, int(usage.get("Size") or 0)),
                              in_use=int(usage.get("RefCount") or 0) > 0))
    for b in data.get("BuildCache") or []:
        items.append(DiskItem("build cache", b.get("ID", ""), (b.get("Description") or b.get("Type") or "")[:80],
                              int(b.get("Size") or 0), in_use=bool(b.get("InUse"))))
    total, free = data_root_space(engine) or (0, 0)
    return DiskUsage(tuple(items), total, free, int(data.get("LayersSize") or 0))


def data_root_space(engine: Engine) -> tuple[int, int] | None:
    """(total, free) bytes of the file system holding the engine's data, when the engine runs on this
    computer and its data root can be seen from here (None otherwise). Cheap: no disk-usage walk."""
    if not engine.url.startswith("unix://"):
        return None
    with contextlib.suppress(EngineError):
        root = engine.call(lambda api: api.info()).get("DockerRootDir")
        if root:
            with contextlib.suppress(OSError):
                du = shutil.disk_usage(root)
                return du.total, du.free
    return None


@dataclass(frozen=True)
class CleanUp:
    """One clean-up: what goes, and how much it frees."""

    kind: str  # "dangling images" | "stopped containers" | "unused volumes" | "build cache"
    items: tuple[DiskItem, ...]

    @property
    def frees(self) -> int:
        return sum(i.size for i in self.items)


def candidates(usage: DiskUsage, kind: str, dangling_ids: set[str] | None = None) -> CleanUp:
    """What ``kind`` of clean-up would remove, from a disk-usage reading."""
    if kind == "dangling images":
        chosen = [i for i in usage.items if i.category == "images" and i.name.startswith("<none>")
                  and not i.in_use and (dangling_ids is None or i.id in dangling_ids)]
    elif kind == "stopped containers":
        chosen = [i for i in usage.items if i.category == "containers" and not i.in_use]
    elif kind == "unused volumes":
        chosen = [i for i in usage.items if i.category == "volumes" and not i.in_use]
    elif kind == "build cache":
        chosen = [i for i in usage.items if i.category == "build cache" and not i.in_use]
    else:
        raise ValueError(f"unknown clean-up {kind!r}")
    return CleanUp(kind, tuple(sorted(chosen, key=lambda i: i.size, reverse=True)))


def clean(engine: Engine, cleanup: CleanUp) -> tuple[int, int, list[str]]:
    """Remove exactly the items of ``cleanup``; (removed, bytes freed, problems in words)."""
    removed = freed = 0
    problems: list[str] = []
    if cleanup.kind == "build cache":
        data = engine.call(lambda api: api.prune_builds())
        return len(data.get("CachesDeleted") or []), int(data.get("SpaceReclaimed") or 0), []
    for item in cleanup.items:
        try:
            if cleanup.kind == "dangling images":
                engine.call(lambda api, i=item: api.remove_image(i.id, noprune=False))
            elif cleanup.kind == "stopped containers":
                engine.call(lambda api, i=item: api.remove_container(i.id, v=False))
            elif cleanup.kind == "unused volumes":
                engine.call(lambda api, i=item: api.remove_volume(i.id))
        except EngineError as exc:
            if exc.kind != "not_found":
                problems.append(f"{item.name}: {exc}")
            continue
        removed += 1
        freed += item.size
    return removed, freed, problems


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"

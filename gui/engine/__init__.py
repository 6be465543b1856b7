"""Engine layer: the only code that talks to Docker. Free of Qt; plain data out, EngineError on failure."""

from gui.engine.client import Engine, container_info, image_rows
from gui.engine.endpoint import EngineTarget, resolve_engine
from gui.engine.errors import EngineError, ErrorKind, translate
from gui.engine.events import EventFollower
from gui.engine.models import ContainerInfo, EngineEvent, EngineInfo, ImageInfo, PortBinding

__all__ = [
    "ContainerInfo",
    "Engine",
    "EngineError",
    "ErrorKind",
    "EngineEvent",
    "EngineInfo",
    "EngineTarget",
    "EventFollower",
    "ImageInfo",
    "PortBinding",
    "container_info",
    "image_rows",
    "resolve_engine",
    "translate",
]

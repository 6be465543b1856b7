"""One running copy per user and display: a second launch asks the first to raise its window, then exits.

A second launch with ``--engine URL`` sends the URL along (``activate {"engine": URL}``): the running
window switches to that engine instead of ignoring it."""

from __future__ import annotations

import getpass
import hashlib
import json
import os

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from gui import APP_ID

ACTIVATE = b"activate\n"
ACK = b"ok\n"
TIMEOUT_MS = 1500


def server_name(env: dict[str, str] | None = None) -> str:
    """The local socket name: one per user and per display (a window can only be raised on its own)."""
    env = os.environ if env is None else env
    try:
        user = getpass.getuser()
    except Exception:
        user = str(os.getuid()) if hasattr(os, "getuid") else "user"
    display = env.get("WAYLAND_DISPLAY") or env.get("DISPLAY") or ""
    digest = hashlib.sha1(f"{user}|{display}".encode()).hexdigest()[:12]
    return f"{APP_ID}-{digest}"


def activate_message(engine: str | None = None) -> bytes:
    """What a later launch sends: ``activate`` and, when it was given ``--engine``, that engine."""
    if not engine:
        return ACTIVATE
    return ACTIVATE.strip() + b" " + json.dumps({"engine": engine}).encode() + b"\n"


def parse_activate(line: bytes) -> dict | None:
    """The request in one line from a later launch (``{}`` for a plain activate), None if it is not one."""
    word, _, rest = line.strip().partition(b" ")
    if word != ACTIVATE.strip():
        return None
    try:
        request = json.loads(rest) if rest else {}
    except ValueError:
        return {}
    return request if isinstance(request, dict) else {}


def ask_running_instance(name: str, timeout_ms: int = TIMEOUT_MS, engine: str | None = None) -> bool:
    """True when a running copy answered and was asked to raise its window (and use ``engine``)."""
    sock = QLocalSocket()
    sock.connectToServer(name)
    if not sock.waitForConnected(timeout_ms):
        return False
    sock.write(activate_message(engine))
    sock.waitForBytesWritten(timeout_ms)  # False when the write already went out: that is fine
    reply = b""
    while len(reply) < len(ACK) and sock.waitForReadyRead(timeout_ms):
        reply += bytes(sock.readAll().data())
    sock.disconnectFromServer()
    return reply.startswith(ACK)


class SingleInstance(QObject):
    """Listens for later launches; `activationRequested` fires when one asks for the window, then
    `engineRequested(url)` when that launch named an engine."""

    activationRequested = Signal()
    engineRequested = Signal(str)

    def __init__(self, name: str | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.name = name or server_name()
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self.server.newConnection.connect(self._on_new_connection)
        self._clients: set[QLocalSocket] = set()
        self._buffers: dict[QLocalSocket, bytes] = {}

    def claim(self, engine: str | None = None) -> bool:
        """Become the running copy. False when another copy answered (it was asked to show itself,
        and to switch to ``engine`` when one is given)."""
        if ask_running_instance(self.name, engine=engine):
            return False
        if not self.server.listen(self.name):
            # A socket left by a copy that crashed: nobody answered on it, so take it over.
            QLocalServer.removeServer(self.name)
            if not self.server.listen(self.name):
                return True  # run without single-instance rather than not at all
        return True

    def close(self) -> None:
        for sock in list(self._clients):
            sock.abort()
        self._clients.clear()
        self.server.close()

    def _on_new_connection(self) -> None:
        while self.server.hasPendingConnections():
            sock = self.server.nextPendingConnection()
            self._clients.add(sock)
            sock.readyRead.connect(self._on_ready_read)
            sock.disconnected.connect(self._on_disconnected)
            if sock.bytesAvailable():
                self._answer(sock)

    def _on_ready_read(self) -> None:
        sock = self.sender()
        if sock in self._clients:
            self._answer(sock)

    def _on_disconnected(self) -> None:
        sock = self.sender()
        if sock in self._clients:
            self._clients.discard(sock)
            self._buffers.pop(sock, None)
            sock.deleteLater()

    def _answer(self, sock: QLocalSocket) -> None:
        data = self._buffers.pop(sock, b"") + bytes(sock.readAll().data())
        if b"\n" not in data:
            self._buffers[sock] = data  # the rest of the line is still on its way
            return
        request = parse_activate(data.split(b"\n", 1)[0])
        if request is None:
            return
        sock.write(ACK)
        sock.flush()
        self.activationRequested.emit()
        engine = request.get("engine")
        if isinstance(engine, str) and engine:
            self.engineRequested.emit(engine)


def raise_window(window) -> None:
    """Bring `window` to the front, restoring it when minimized."""
    if window.isMinimized():
        window.setWindowState(window.windowState() & ~Qt.WindowState.WindowMinimized)
    window.show()
    window.raise_()
    window.activateWindow()

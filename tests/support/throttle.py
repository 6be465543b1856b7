"""A slow TCP proxy on 127.0.0.1: makes a registry transfer last long enough to cancel it."""

from __future__ import annotations

import socket
import threading
import time

from tests.support.servers import free_port


class ThrottledProxy:
    """Forwards 127.0.0.1:<port> to ``target`` at about ``rate`` bytes per second each way."""

    def __init__(self, target: tuple[str, int], rate: int = 100_000):
        self.target = target
        self.rate = rate
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._lock = threading.Lock()
        self._open = 0
        self.connections = 0
        self._closed = threading.Event()
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True, name="throttle-accept").start()

    @property
    def open_connections(self) -> int:
        with self._lock:
            return self._open

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open += 1
                self.connections += 1
                self._sockets += [client, upstream]
            done = threading.Event()
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b, done), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, done: threading.Event) -> None:
        try:
            while not self._closed.is_set():
                data = src.recv(8192)
                if not data:
                    break
                dst.sendall(data)
                time.sleep(len(data) / self.rate)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            if not done.is_set():
                done.set()
                with self._lock:
                    self._open -= 1

    def close(self) -> None:
        self._closed.set()
        self._listener.close()
        with self._lock:
            sockets = list(self._sockets)
        for s in sockets:
            try:
                s.close()
            except OSError:
                pass

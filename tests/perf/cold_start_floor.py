"""The floor for bench_cold_start: the least a PySide6 program can do to show the same lists.

A bare window with a QTableView of the engine's containers (shown) and a model of its images (not
shown), filled from the same two list calls the app makes (`GET /containers/json?all=1` and
`GET /images/json`, through docker-py, in parallel threads while the window is built). Prints
``loaded <s> images=<n> containers=<n>`` once the containers view's viewport has painted with its
rows in the model and the images model holds the engine's images, then exits: the same report and
the same stopping point as ``python -m gui --quit-when-loaded``.

    python tests/perf/cold_start_floor.py --engine unix:///var/run/docker.sock
"""

from __future__ import annotations

import time

_START = time.perf_counter()

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402

import docker  # noqa: E402
from PySide6.QtCore import QAbstractTableModel, QCoreApplication, QEvent, QModelIndex, QObject, Qt, Signal  # noqa: E402
from PySide6.QtWidgets import QApplication, QMainWindow, QTableView  # noqa: E402


class Rows(QAbstractTableModel):
    def __init__(self, columns):
        super().__init__()
        self.columns = columns
        self.rows: list[dict] = []

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008, N802
        return len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008, N802
        return len(self.columns)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.columns[section][0]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole:
            return self.columns[index.column()][1](self.rows[index.row()])
        return None

    def fill(self, rows: list[dict]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()


class Lists(QObject):
    arrived = Signal(str, object)


class PaintedReport(QObject):
    """Prints the report after the first paint of ``viewport`` once both lists are in."""

    def __init__(self, viewport, ready):
        super().__init__(viewport)
        self.viewport, self.ready, self.inside = viewport, ready, False
        viewport.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        if obj is not self.viewport or event.type() != QEvent.Type.Paint or self.inside:
            return False
        self.inside = True
        try:
            QCoreApplication.sendEvent(obj, event)
        finally:
            self.inside = False
        report = self.ready()
        if report:
            sys.stdout.write(f"loaded {time.perf_counter() - _START:.3f}s {report}\n")
            sys.stdout.flush()
            QApplication.instance().quit()
        return True


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--engine", required=True)
    args = ap.parse_args()
    lists = Lists()
    results: dict[str, list] = {}

    def read(kind: str) -> None:
        api = docker.APIClient(base_url=args.engine, version="auto", timeout=60)
        rows = api.containers(all=True) if kind == "containers" else api.images()
        lists.arrived.emit(kind, rows)

    containers = Rows([("Name", lambda r: (r.get("Names") or ["?"])[0].lstrip("/")),
                       ("Image", lambda r: r.get("Image", "")), ("State", lambda r: r.get("State", "")),
                       ("Status", lambda r: r.get("Status", ""))])
    images = Rows([("Repository:Tag", lambda r: ", ".join(r.get("RepoTags") or ["<none>"])),
                   ("Size", lambda r: r.get("Size", 0))])

    def on_arrived(kind: str, rows: list) -> None:
        (containers if kind == "containers" else images).fill(rows)
        results[kind] = rows
        if len(results) == 2 and view is not None:
            view.viewport().update()  # the images may come last, and they change nothing on screen

    view = None
    lists.arrived.connect(on_arrived, Qt.ConnectionType.QueuedConnection)  # before any answer can come
    for kind in ("containers", "images"):
        threading.Thread(target=read, args=(kind,), daemon=True).start()
    app = QApplication(sys.argv[:1])
    win = QMainWindow()
    view = QTableView(win)
    view.setModel(containers)
    win.setCentralWidget(view)
    win.resize(1280, 860)

    def ready() -> str:
        if len(results) < 2:
            return ""
        return f"images={images.rowCount()} containers={containers.rowCount()}"

    PaintedReport(view.viewport(), ready)
    win.show()
    app.exec()
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()

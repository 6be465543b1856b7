"""StatsView: live CPU, memory and network of one container as sparklines.

When the engine goes away or stops answering (killed, frozen) the view says so and opens the stream
again, less and less often, until samples come again (as the log view follows on)."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from gui.engine import ContainerInfo, Engine
from gui.engine.stats import StatsEnded, StatsFollower, StatsSample
from gui.qt.common.sparkline import Sparkline
from gui.qt.common.style import set_role
from gui.qt.common.tasks import Stream, unless_bug


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


ENGINE_RETRY_MS = (1000, 10_000)  # first and longest wait before the stream opens again while the engine is away


class StatsView(QWidget):
    """Follows the stats of ``container`` while the view is shown; one stream, closed when the view
    is hidden or closed, or when the container stops (the engine would keep sending zeros)."""

    def __init__(self, engine: Engine, container: ContainerInfo, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("statsView")
        self.setWindowTitle(f"Stats: {container.name}")
        self.engine = engine
        self.container = container
        self.samples: list[StatsSample] = []
        self._worker: Stream | None = None
        self._last_worker: Stream | None = None
        self._follower: StatsFollower | None = None
        self.engine_away = False  # the last stream ended with the engine gone or frozen: it opens again
        self._engine_retry = QTimer(self, singleShot=True, interval=ENGINE_RETRY_MS[0])
        self._engine_retry.timeout.connect(self.start)
        self.cpu = Sparkline("CPU", "spark-cpu")
        self.cpu.setObjectName("statsCpu")
        self.memory = Sparkline("Memory", "spark-memory")
        self.memory.setObjectName("statsMemory")
        self.net = Sparkline("Network", "spark-network")
        self.net.setObjectName("statsNetwork")
        self.state = QLabel("Waiting for the first sample…", self, objectName="statsState", wordWrap=True)
        self.error = QLabel(self, objectName="statsError", wordWrap=True)
        set_role(self.error, "error")
        self.error.hide()
        layout = QVBoxLayout(self)
        for w in (self.cpu, self.memory, self.net, self.state, self.error):
            layout.addWidget(w)
        layout.addStretch(1)

    @property
    def worker(self) -> Stream | None:
        """The running stream's worker, else the one stopped last (its thread may still be ending)."""
        return self._worker or self._last_worker

    def set_container(self, container: ContainerInfo) -> None:
        """Show another container: the old stream closes, a new one opens (when shown)."""
        self.stop()
        self.container = container
        self.samples.clear()
        for plot in (self.cpu, self.memory, self.net):
            plot.clear()
        self.setWindowTitle(f"Stats: {container.name}")
        if self.isVisible():
            self.start()

    def start(self) -> None:
        if self._worker is not None and self._worker.is_alive():
            return
        self._engine_retry.stop()
        self.error.hide()
        if not self.engine_away:  # else the view keeps saying the engine is away until a sample comes
            self.state.setText("Waiting for the first sample…")
        self._follower = StatsFollower(self.engine, self.container.id)
        self._worker = Stream(self, self._follower, f"stats-{self.container.name}")
        self._worker.item.connect(self._on_item)
        self._worker.failed.connect(unless_bug(self._on_failed, self._on_stopped))
        self._worker.start()

    def stop(self) -> None:
        """Close the stream; its thread ends on its own and emits nothing more. Returns at once."""
        self._engine_retry.stop()
        if self._worker is not None:
            self._worker.stop()
            self._last_worker, self._worker = self._worker, None

    def showEvent(self, event):
        super().showEvent(event)
        self.start()

    def hideEvent(self, event):
        self.stop()
        super().hideEvent(event)

    def closeEvent(self, event):
        self.stop()
        super().closeEvent(event)

    def _on_item(self, item) -> None:
        if isinstance(item, StatsSample):
            self.samples.append(item)
            del self.samples[:-600]
            self.cpu.add(item.cpu_percent, f"{item.cpu_percent:.1f} %")
            limit = f" / {human_bytes(item.memory_limit)}" if item.memory_limit else ""
            self.memory.add(item.memory_usage, f"{human_bytes(item.memory_usage)}{limit}")
            self.net.add(item.net_rx_rate + item.net_tx_rate,
                         f"↓ {human_bytes(item.net_rx_rate)}/s  ↑ {human_bytes(item.net_tx_rate)}/s")
            self.state.setText(f"Live: {self.container.name}")
            self.state.setToolTip("")
            self.engine_away = False
        elif isinstance(item, StatsEnded):
            self.stop()
            if item.engine_lost:  # open the stream again, less and less often, until samples come
                wait = self._engine_retry.interval() * 2 if self.engine_away else ENGINE_RETRY_MS[0]
                self._engine_retry.setInterval(min(wait, ENGINE_RETRY_MS[1]))
                self.engine_away = True
                self.state.setText(item.message)
                self.state.setToolTip("The stats follow on when the engine answers again")
                self._engine_retry.start()
            else:
                self.engine_away = False
                self.state.setText(f"Stopped: {item.message}")

    def _on_failed(self, exc) -> None:
        self.error.setText(str(exc))
        self.error.show()
        self._on_stopped()

    def _on_stopped(self) -> None:
        self.state.setText("Stopped")

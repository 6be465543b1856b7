"""File > Preferences: theme, the default memory limit of new containers and the disk warning's threshold
(kept in QSettings)."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
)

from gui.qt.common import preferences


class PreferencesDialog(QDialog):
    """OK saves the choices and applies the theme at once; Cancel changes nothing."""

    diskWarnChanged = Signal(int)  # a new threshold (percent): the status bar's warning checks again

    def __init__(self, parent=None, settings: QSettings | None = None):
        super().__init__(parent)
        self.settings = settings or QSettings()
        self.setObjectName("preferencesDialog")
        self.setWindowTitle("Preferences")
        self.theme = QComboBox(self)
        self.theme.setObjectName("prefTheme")
        for name in preferences.THEMES:
            self.theme.addItem("Follow the system" if name == "system" else name.capitalize(), name)
        self.theme.setCurrentIndex(preferences.THEMES.index(preferences.theme(self.settings)))
        self.memory = QSpinBox(self)
        self.memory.setObjectName("prefMemory")
        self.memory.setRange(0, 1024 * 1024)
        self.memory.setSingleStep(256)
        self.memory.setSuffix(" MB")
        self.memory.setSpecialValueText("half of the engine's memory")
        self.memory.setValue(preferences.memory_limit_mb(self.settings))
        self.disk_warn = QSpinBox(self)
        self.disk_warn.setObjectName("prefDiskWarn")
        self.disk_warn.setRange(1, 100)
        self.disk_warn.setSuffix(" %")
        self.disk_warn.setValue(preferences.disk_warn_percent(self.settings))
        self.disk_warn.setToolTip("The status bar warns when the engine's disk is fuller than this")
        note = QLabel("The Run dialog starts with this memory limit; you can change it there for "
                      "each container.", self)
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Theme", self.theme)
        form.addRow("Default memory limit", self.memory)
        form.addRow("Warn when the engine's disk is over", self.disk_warn)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)

    def accept(self) -> None:
        old_theme = preferences.theme(self.settings)
        chosen = self.theme.currentData()
        preferences.save(chosen, self.memory.value(), self.settings)
        if self.disk_warn.value() != preferences.disk_warn_percent(self.settings):
            preferences.save_disk_warn_percent(self.disk_warn.value(), self.settings)
            self.diskWarnChanged.emit(self.disk_warn.value())
        if chosen != old_theme:
            preferences.use_theme(QApplication.instance(), chosen)
        super().accept()

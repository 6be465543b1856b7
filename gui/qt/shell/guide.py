"""Help > Guide: what each page does, where the app keeps its files, and how to get a model in."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout

from gui import APP_NAME
from gui.paths import state_dir


def guide_html() -> str:
    return f"""
<h2>{APP_NAME} in five minutes</h2>
<h3>The pages</h3>
<ul>
<li><b>Containers</b> (Ctrl+1): every container of the engine, live. Start, stop, restart, remove; open its
logs, stats, a shell (Exec), copy files in and out. Click a port to open it in the browser. A Jupyter
container has a <i>Jupyter</i> tool: its token (masked, with Copy) and <i>Open JupyterLab</i>.</li>
<li><b>Images</b> (Ctrl+2): the engine's images. Run one (the Run dialog sets ports, folders, environment,
a memory and process limit), tag, push, pull, remove, see its history.</li>
<li><b>Build</b> (Ctrl+3): make an image from a template (a scikit-learn or TensorFlow model server, a
Jupyter notebook server, a Python app): fill the form, watch the Dockerfile, build, then Run.</li>
<li><b>Predict</b> (Ctrl+4): send pictures, tables or JSON to a running model server and see the answers.</li>
</ul>
<h3>Getting a model in</h3>
<ol>
<li>Save your trained model as a file: scikit-learn with <code>joblib.dump</code> or skops (<code>.joblib</code>,
<code>.skops</code>), TensorFlow as a SavedModel folder, <code>.keras</code> or <code>.tflite</code>.</li>
<li>On <b>Build</b>, choose the template for its kind and pick the model file. The file is copied into the
image; nothing is uploaded anywhere: the engine builds it.</li>
<li>Build, then <b>Run</b>: the server listens on 127.0.0.1 on the port shown in the Containers list.</li>
<li>On <b>Predict</b>, choose the container and send it data.</li>
</ol>
<h3>Where files go</h3>
<ul>
<li>Images and containers live in the Docker Engine you are connected to (Engine, at the bottom left).</li>
<li>Settings (window size, engines used, Preferences): the app's settings file
(on Linux <code>~/.config/ai-container-studio/</code>).</li>
<li>Build history and crash reports: <code>{state_dir()}</code>.</li>
<li>Recipes (a build form saved with <i>Save recipe</i>) go where you save them; secrets such as a Jupyter
token are never written to a recipe or an image: they are passed when the container starts.</li>
</ul>
"""


class GuideDialog(QDialog):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("guideDialog")
        self.setWindowTitle(f"{APP_NAME} guide")
        self.resize(640, 560)
        self.text = QTextBrowser(self)
        self.text.setObjectName("guideText")
        self.text.setOpenExternalLinks(True)
        self.text.setHtml(guide_html())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)

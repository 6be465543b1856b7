"""Entry script of the PyInstaller bundle: the same start-up as `ai-container-studio` and `python -m gui`."""

from gui.app import run

if __name__ == "__main__":
    run()

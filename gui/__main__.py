"""`python -m gui` starts the app."""

from gui.app import run

run()

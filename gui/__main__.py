"""`python -m gui` starts the app.

Everything is under the guard: picture helper processes (gui.predict.helper) import this module as
``__mp_main__`` when they start, and must neither open a window nor load Qt.
"""

if __name__ == "__main__":
    from gui.app import run

    run()

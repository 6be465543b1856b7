"""Entry script of the PyInstaller bundle: the same start-up as `ai-container-studio` and `python -m gui`.

``freeze_support()`` first: the picture helpers (gui.predict.helper) start a fork server by running this
executable with ``-c "from multiprocessing.forkserver import main; ..."``; PyInstaller's hook runs that
and exits instead of opening a second window. The app's import is under the guard for the same reason.
"""

import multiprocessing

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from gui.app import run

    run()

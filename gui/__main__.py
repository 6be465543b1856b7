"""`python -m gui` starts the app."""

from gui.app import main

raise SystemExit(main())

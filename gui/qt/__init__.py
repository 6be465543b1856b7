"""The Qt user interface. Talks to gui.engine (and later gui.builder, gui.predict) through plain data."""

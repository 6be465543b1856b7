"""The window around the pages: main window, engine session, engine switcher, start-up helpers."""

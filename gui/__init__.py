"""AI Container Studio: build and manage AI containers on a Docker Engine."""

__version__ = "0.1.0"
APP_NAME = "AI Container Studio"
APP_ID = "ai-container-studio"

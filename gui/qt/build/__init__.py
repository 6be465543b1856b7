"""The Build page: template form, Dockerfile preview, build log, history."""

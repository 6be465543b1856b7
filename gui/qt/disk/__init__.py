"""The Disk space page: what the engine stores and the clean-ups that free it."""

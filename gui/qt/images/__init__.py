"""The Images page: list, run, tag, remove, pull/push, registry log-in."""

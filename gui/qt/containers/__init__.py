"""The Containers page and its tools (logs, stats, inspect, exec, copy files)."""

"""The Volumes page: live list, create, remove, prune, sizes, and a file browser for each volume."""

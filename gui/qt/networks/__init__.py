"""The Networks page: list, create, remove, connect and disconnect containers."""

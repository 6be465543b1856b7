"""What several pages use: background tasks, feedback dialogs, table models, list page, log lines, style."""

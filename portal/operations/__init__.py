"""Running the portal as an operator: backups that restore, request ids, logs and metrics."""

"""Questions to clients and prepare-by-client questionnaires."""

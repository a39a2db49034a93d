"""Documents shared between a practice and its clients: file storage, records and downloads."""

"""Models of the certificates feature."""

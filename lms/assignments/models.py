"""Models of the assignments feature."""

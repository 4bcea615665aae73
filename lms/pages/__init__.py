"""The landing page, the dashboard shell and the health check: the pages that belong to no one feature."""

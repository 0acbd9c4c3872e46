"""ingest component (see DESIGN.md)."""

"""ingest component (docs/architecture.md)."""

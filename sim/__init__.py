"""sim component (docs/architecture.md)."""

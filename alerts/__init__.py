"""alerts component (docs/architecture.md)."""

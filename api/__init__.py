"""api component (docs/architecture.md)."""

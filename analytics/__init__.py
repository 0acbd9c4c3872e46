"""analytics component (docs/architecture.md)."""

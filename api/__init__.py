"""api component (see DESIGN.md)."""

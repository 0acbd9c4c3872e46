"""alerts component (see DESIGN.md)."""

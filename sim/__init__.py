"""sim component (see DESIGN.md)."""

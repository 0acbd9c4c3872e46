"""analytics component (see DESIGN.md)."""

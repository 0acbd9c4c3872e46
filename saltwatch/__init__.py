"""Command line and composition roots."""

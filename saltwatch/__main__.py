"""``python -m saltwatch``: the command line (how ``ingest --workers`` starts its members)."""

from saltwatch.cli import app

app()

"""saltwatch: the command line."""
def main() -> None:
    pass

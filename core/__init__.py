"""The SaltWatch kernel: settings, domain types, topics, codec, units, registry, QC, clock.

Nothing here performs network I/O and nothing runs at import.
"""

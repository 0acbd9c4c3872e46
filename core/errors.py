"""Error classes, classified where they enter the system.

- ``RetryableError``: a passing fault (connection refused, timeout, 5xx); retry with backoff.
- ``FatalError``: retrying cannot help (authentication refused, misconfiguration).
- ``BadInputError``: the caller's or the device's mistake; never retried.
"""

from __future__ import annotations


class SaltWatchError(Exception):
    """Base class of every error SaltWatch raises on purpose."""


class ConfigError(SaltWatchError):
    """Settings or a registry file are invalid; the message names what is wrong and where."""


class RetryableError(SaltWatchError):
    """A passing fault of an external system; the same call may succeed later."""


class FatalError(SaltWatchError):
    """A fault that retrying cannot mend (e.g. credentials refused)."""


class AuthError(FatalError):
    """An external system refused our credentials."""


class BadInputError(SaltWatchError):
    """Input from a device or a caller that can never become valid."""

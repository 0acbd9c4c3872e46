"""Which member of ``saltwatch ingest --workers N`` handles which device.

Every member holds a plain, persistent subscription to all device topics, and handles the
messages of the devices it owns (the CRC-32 of the device id, modulo N); the others it
acknowledges at once, unread. A shared subscription would spread the load without the extra
copies, but Mosquitto 2.0 does not restore shared subscriptions when it restarts: what devices
publish between the broker's start and the members' return reaches no one (docs/operations.md).
Plain subscriptions are kept with the sessions, so each member's session holds every message
published while it was away, and the one that owns the device reads it.

When the fleet's size changes, a device may move to a member whose session did not exist while
the fleet was down. For ``RESIZE_GRACE_S`` after such a start, every member also handles the
devices it owned in the fleet before (their messages are in its session); the members' claims
(ingest/claims.py) make the overlap harmless: the second copy of a reading is a repeat.
"""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass

RESIZE_GRACE_S = 900.0  # after a resize, members also read the devices they held before


def owner(device: bytes, members: int) -> int:
    """The member (0 … members − 1) that handles ``device`` in a fleet of ``members``."""
    return zlib.crc32(device) % members


def member_client_id(client_id: str, member: int) -> str:
    """Member 0 keeps the single process's client id (and so its session: switching from one
    process to ``--workers N`` loses nothing it held); the others add ``-<member>``."""
    return client_id if member == 0 else f"{client_id}-{member}"[:64]


@dataclass(frozen=True, slots=True)
class Partition:
    member: int
    members: int
    before: int = 0  # the fleet's size before it was resized (0: not resized)
    before_until: float = 0.0  # time.monotonic() until which ``before`` still counts

    def owns(self, device: bytes) -> bool:
        """True when this member handles ``device``'s messages (the id, as in the topic)."""
        crc = zlib.crc32(device)
        if crc % self.members == self.member:
            return True
        return (
            self.before > 0
            and crc % self.before == self.member
            and time.monotonic() < self.before_until
        )

"""Where a phone on the same network reaches the dashboard: the machine's own IPv4 addresses
when the API is bound beyond loopback, and the warning that tokens then cross the network in
plain HTTP (docs/deploy.md says how to put SaltWatch behind TLS)."""

from __future__ import annotations

import contextlib
import fcntl
import io
import ipaddress
import socket
import struct

_SIOCGIFADDR = 0x8915  # Linux: an interface's IPv4 address


def lan_addresses() -> list[str]:
    """The machine's IPv4 addresses other than loopback, one per interface that has one."""
    found: list[str] = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        for _, name in socket.if_nameindex():
            with contextlib.suppress(OSError):  # an interface without an IPv4 address
                packed = fcntl.ioctl(
                    probe.fileno(), _SIOCGIFADDR, struct.pack("256s", name[:15].encode())
                )
                address = socket.inet_ntoa(packed[20:24])
                if not ipaddress.ip_address(address).is_loopback and address not in found:
                    found.append(address)
    return found


def reach_lines(bind: str, path: str) -> list[str]:
    """Banner lines for a server bound to ``bind`` (host:port): the addresses a phone opens
    ``path`` at, and the plain-HTTP warning; none when bound to loopback only."""
    host, _, port = bind.rpartition(":")
    host = host.strip("[]")
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 - what the user asked for
        hosts = lan_addresses()
    elif ipaddress.ip_address(host).is_loopback:
        return []
    else:
        hosts = [host]
    lines = [
        f"  on a phone      http://{h}:{port}{path}  (same network, sign-in once)" for h in hosts
    ]
    if hosts:  # the first address as a QR code, for the phone's camera
        import segno  # noqa: PLC0415 - only when bound beyond loopback

        out = io.StringIO()
        segno.make(f"http://{hosts[0]}:{port}{path}", error="m").terminal(out=out, compact=True)
        lines += ["  " + row for row in out.getvalue().splitlines()]
    lines.append(
        "  WARNING: tokens cross this network in plain HTTP; beyond a network you trust, put "
        "SaltWatch behind TLS (docs/deploy.md)"
    )
    return lines

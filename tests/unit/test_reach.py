"""The demo's banner for a phone (saltwatch/reach.py): the machine's addresses and the warning
when bound beyond loopback, nothing when bound to loopback."""

from __future__ import annotations

import ipaddress

from saltwatch.reach import lan_addresses, reach_lines


def test_loopback_binds_print_nothing_for_a_phone() -> None:
    assert reach_lines("127.0.0.1:8000", "/") == []
    assert reach_lines("[::1]:8000", "/") == []


def test_a_bind_beyond_loopback_prints_each_address_and_the_plain_http_warning() -> None:
    lines = reach_lines("0.0.0.0:8123", "/#token=t")
    for address in lan_addresses():
        assert (
            f"  on a phone      http://{address}:8123/#token=t  (same network, sign-in once)"
            in lines
        )
    assert "plain HTTP" in lines[-1] and "TLS" in lines[-1]
    qr = [line for line in reach_lines("10.1.2.3:80", "/") if "█" in line]
    assert len(qr) > 10  # the link as a QR code, for the phone's camera
    assert reach_lines("10.1.2.3:80", "/")[0] == (
        "  on a phone      http://10.1.2.3:80/  (same network, sign-in once)"
    )


def test_the_addresses_are_the_machines_own_and_never_loopback() -> None:
    for address in lan_addresses():
        assert not ipaddress.ip_address(address).is_loopback


def test_plain_http_beyond_loopback_is_warned_of_at_start() -> None:
    from saltwatch.api.server import plain_http_warning  # noqa: PLC0415

    assert plain_http_warning("127.0.0.1:8000", tls=False) is None
    assert plain_http_warning("0.0.0.0:8000", tls=True) is None
    warning = plain_http_warning("0.0.0.0:8000", tls=False)
    assert warning is not None and "plain HTTP" in warning and "api.tls_cert" in warning
    assert plain_http_warning("192.168.1.20:8000", tls=False) is not None

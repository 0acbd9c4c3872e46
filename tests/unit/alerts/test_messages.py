"""What alerts say of where (alerts/messages.py): the station and its zone, once."""

from __future__ import annotations

from saltwatch.alerts.messages import texts
from saltwatch.alerts.model import Alert, Event
from saltwatch.core.registry import load_registry

T0 = 1_710_226_800 * 10**9


def firing(device: str, zone: str) -> Event:
    alert = Alert(
        "a", f"salinity-river:{device}", "salinity-river", "salinity", device, zone, "critical",
        "firing", 4.12, 4.0, "‰", T0, T0,
    )  # fmt: skip
    return Event(alert, "firing", T0)


def test_a_zone_the_station_name_already_gives_is_not_said_twice() -> None:
    registry = load_registry()
    vi, en = texts(firing("lac-hong", "phuong-my-tho"), registry)
    assert vi.startswith("Mặn tại Vườn hoa Lạc Hồng (Mỹ Tho) 4,12‰") and "Phường" not in vi
    assert "(Phường Mỹ Tho)" not in en
    vi, _ = texts(firing("vam-kenh", "xa-tan-dong"), registry)
    assert vi.startswith("Mặn tại Vàm Kênh (Xã Tân Đông) 4,12‰")

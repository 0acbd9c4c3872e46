"""What alerts say of where (alerts/messages.py): the station and its zone, once."""

from __future__ import annotations

from saltwatch.alerts.messages import texts
from saltwatch.alerts.model import Alert, Event, Fingerprint
from saltwatch.core.registry import load_registry

T0 = 1_710_226_800 * 10**9


def firing(device: str, zone: str) -> Event:
    alert = Alert(
        "a", Fingerprint("salinity-river", device), "salinity-river", "salinity", device, zone,
        "critical", "firing", 4.12, 4.0, "‰", T0, T0,
    )  # fmt: skip
    return Event(alert, "firing", T0)


def test_a_zone_the_station_name_already_gives_is_not_said_twice() -> None:
    registry = load_registry()
    vi, en = texts(firing("lac-hong", "phuong-my-tho"), registry)
    assert vi.startswith("Mặn tại Vườn hoa Lạc Hồng (Mỹ Tho) 4,12‰") and "Phường" not in vi
    assert "(Phường Mỹ Tho)" not in en
    vi, _ = texts(firing("vam-kenh", "xa-tan-dong"), registry)
    assert vi.startswith("Mặn tại Vàm Kênh (Xã Tân Đông) 4,12‰")


def test_a_gate_open_to_salt_names_the_structure_and_asks_to_close_it() -> None:
    alert = Alert(
        "b", Fingerprint("structure-open-salty", "cong-xuan-hoa"), "structure-open-salty",
        "structure", None,
        "xa-binh-ninh", "critical", "firing", 1.35, 1.0, "‰", T0, T0,
    )  # fmt: skip
    vi, en = texts(Event(alert, "firing", T0), load_registry())
    assert vi.startswith("Cống Xuân Hòa đang mở") and "1,35‰" in vi and "cần đóng" in vi
    assert en.startswith("Cống Xuân Hòa stands open") and "limit 1‰" in en
    vi, en = texts(Event(alert, "resolved", T0), load_registry())
    assert vi.startswith("Đã hết công trình mở khi nước mặn tại Cống Xuân Hòa")


def test_a_planned_opening_in_salt_says_when_and_how_salty() -> None:
    alert = Alert(
        "c", Fingerprint("opening-unsafe", "cong-xuan-hoa", "a1b2c3d4e5f6"), "opening-unsafe",
        "structure", None,
        "xa-binh-ninh", "warning", "firing", 1.6, 1.0, "‰", T0, T0,
    )  # fmt: skip
    vi, en = texts(Event(alert, "firing", T0), load_registry())
    assert vi.startswith("Lịch mở Cống Xuân Hòa lúc ") and "1,6‰" in vi
    assert en.startswith("The opening of Cống Xuân Hòa planned for ") and "limit 1‰" in en

"""An issued bulletin is not changed silently (GET /api/v1/reports/daily): issued the first
time it is asked for after its day, kept as issued, a late reading makes a numbered revision
beside it, and a day not yet over says it is provisional."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from saltwatch.api.app import create_app
from saltwatch.core.clock import FakeClock
from saltwatch.core.errors import RetryableError
from saltwatch.core.registry import load_registry
from saltwatch.core.settings import ApiToken, Settings
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading
from saltwatch.storage.alert_sqlite import SqliteAlertStore
from saltwatch.storage.bulletin_sqlite import SqliteIssuedBulletins
from saltwatch.storage.sqlite import SqliteReadingStore
from tests.alert_tools import api_context

pytestmark = pytest.mark.integration

H = 3600 * 10**9
DAY_BEFORE = 1_710_090_000 * 10**9  # 2024-03-11 00:00 in Vietnam
NOW = DAY_BEFORE + 41 * H  # 2024-03-12 17:00
TOKEN = "v" * 32
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class Store(SqliteReadingStore):
    """The SQLite store, which a test can tell to answer as a store that is away."""

    away = False

    def query(self, *args: Any, **kwargs: Any) -> list[Reading]:
        if self.away:
            raise RetryableError("the store is away (as the test says)")
        return super().query(*args, **kwargs)


def salinity(at_ns: int, ppt: float) -> Reading:
    return Reading(
        TopicKind.SALINITY, "xuan-hoa", at_ns, {"salinity_ppt": ppt}, zone="xa-binh-ninh"
    )


def test_a_bulletin_is_kept_as_issued_and_a_late_reading_makes_a_marked_revision(
    tmp_path: Path,
) -> None:
    settings = Settings(api={"tokens": [ApiToken(role="viewer", token=TOKEN)]})
    store = Store(tmp_path / "r.db")
    state = SqliteAlertStore(tmp_path / "state.db")
    issued = SqliteIssuedBulletins(tmp_path / "state.db")
    clock = FakeClock(NOW)
    store.write([salinity(DAY_BEFORE + h * H, 0.3 + 0.01 * h) for h in range(24)])
    ctx = api_context(settings, load_registry(), store, state, clock=clock, issued=issued)
    url = "/api/v1/reports/daily?date=2024-03-11&format=markdown&lang=en"
    with TestClient(create_app(ctx)) as client:
        first = client.get(url, headers=AUTH).text
        assert "**Issued at 17:00 12/03/2024.**" in first
        assert "| Cống Xuân Hòa |" in first and "| 0.53 |" in first  # the day's maximum
        clock.set(NOW + 2 * H)
        assert client.get(url, headers=AUTH).text == first  # the same figures: the same issue
        # a late reading of that day, higher than any before
        store.write([salinity(DAY_BEFORE + 20 * H + 30 * 60 * 10**9, 0.91)])
        clock.set(NOW + 3 * H)
        revised = client.get(url, headers=AUTH).text
        assert "**Revision 1, issued at 20:00 12/03/2024: the day's figures changed" in revised
        assert "| 0.91 |" in revised and "| 0.53 |" not in revised
        kept = client.get(url + "&version=1", headers=AUTH)
        assert kept.status_code == 200 and kept.text == first  # the first issue, as it was
        # each issue at a link of its own, to open on a phone, reload and forward: no token
        link = client.get(url, headers=AUTH).headers["content-location"]
        assert link.startswith("/bulletins/") and link != kept.headers["content-location"]
        page = client.get(link)  # HTML, with the link to its PDF
        assert page.status_code == 200 and "Revision 1" in page.text
        assert 'class="pdf" href="' in page.text and "width=device-width" in page.text
        assert client.get(link + ".md").text == revised
        pdf = client.get(link + ".pdf")
        assert pdf.headers["content-type"] == "application/pdf"
        pages = PdfReader(io.BytesIO(pdf.content)).pages
        text = " ".join(" ".join(p.extract_text() for p in pages).split())  # cells wrap lines
        assert "Saltwater intrusion bulletin for" in text and "Cống Xuân Hòa" in text
        assert "0.91" in text and "Revision 1" in text and "Download the PDF" not in text
        assert client.get("/bulletins/" + "0" * 32).status_code == 404
        assert client.get("/bulletins/not-a-link").status_code == 422
        assert client.get(url + "&version=3", headers=AUTH).status_code == 404
        # the Vietnamese bulletin is a bulletin of its own, issued when first asked for
        vi = client.get("/api/v1/reports/daily?date=2024-03-11&format=markdown", headers=AUTH)
        assert "**Phát hành lúc 20:00 12/03/2024.**" in vi.text
        # the day in progress: provisional, with the time of its figures
        today = client.get(
            "/api/v1/reports/daily?date=2024-03-12&format=markdown&lang=en", headers=AUTH
        ).text
        assert "Provisional, not issued: readings up to 20:00 12/03/2024" in today
        # the store away: the bulletin as last issued, not an error
        store.away = True
        clock.set(NOW + 4 * H)
        assert client.get(url, headers=AUTH).text == revised
    store.close()
    issued.close()
    state.close()

"""One catalogue per language (core/catalogue.py, config/text/<lang>.toml), read by the alert
messages, the bulletins and the dashboard."""

from __future__ import annotations

import re
import string
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from saltwatch.core.catalogue import LANGS, catalogue, words
from saltwatch.core.errors import ConfigError

STATIC = Path(__file__).resolve().parents[3] / "api" / "static"


def texts(table: Mapping[str, Any], path: str = "") -> Iterator[tuple[str, str]]:
    for key, value in table.items():
        if isinstance(value, Mapping):
            yield from texts(value, f"{path}{key}.")
        else:
            yield f"{path}{key}", value


def fields(text: str) -> set[str]:
    """The fields a text fills in, a language's own (``sev_vi``, ``sev_en``) named alike."""
    named = {f for _, f, _, _ in string.Formatter().parse(text) if f}
    return {re.sub(r"_(vi|en)$", "_<lang>", f) for f in named}


def test_every_language_says_everything_with_the_same_fields() -> None:
    vi, en = (dict(texts(catalogue(lang))) for lang in LANGS)
    assert vi.keys() == en.keys()
    assert len(vi) > 300
    for key, text in vi.items():
        assert fields(text) == fields(en[key]), key
        if not key.startswith("dashboard.refusals."):  # empty there: the reason as it is
            assert text.strip() and en[key].strip(), key


def test_every_word_the_dashboard_asks_for_is_in_the_catalogue() -> None:
    script = (STATIC / "app.js").read_text(encoding="utf-8")
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    asked = set(re.findall(r'\bt\("([A-Za-z_]+)"\)', script))
    asked |= set(re.findall(r'data-t="([A-Za-z_]+)"', page))
    sections = set(re.findall(r't_in\("([a-z]+)"', script))
    assert len(asked) > 60 and sections == {"severity", "actions", "rules"}
    for lang in LANGS:
        dashboard = catalogue(lang)["dashboard"]
        assert asked <= {k for k, v in dashboard.items() if isinstance(v, str)}, lang
        assert all(isinstance(dashboard[s], Mapping) for s in sections)
        assert dashboard["severity"].keys() == {"info", "warning", "critical"}


def test_a_missing_language_or_section_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="language"):
        catalogue("fr")
    with pytest.raises(ConfigError, match=r"no section 'alerts\.nowhere'"):
        words("vi", "alerts.nowhere")


def test_the_dashboard_loads_its_words_from_the_api(tmp_path: Path) -> None:
    from saltwatch.api.app import create_app  # noqa: PLC0415
    from saltwatch.core.registry import load_registry  # noqa: PLC0415
    from saltwatch.core.settings import Settings  # noqa: PLC0415
    from saltwatch.storage.alert_sqlite import SqliteAlertStore  # noqa: PLC0415
    from saltwatch.storage.sqlite import SqliteReadingStore  # noqa: PLC0415
    from tests.alert_tools import api_context  # noqa: PLC0415

    ctx = api_context(
        Settings(),
        load_registry(),
        SqliteReadingStore(tmp_path / "r.db"),
        SqliteAlertStore(tmp_path / "s.db"),
    )
    with TestClient(create_app(ctx)) as client:
        vi = client.get("/api/v1/text/vi")  # no token: the sign-in page needs the words
        assert vi.status_code == 200
        assert vi.json()["severity"]["critical"] == "NGUY HIỂM"
        assert vi.json()["logout"] == "Đăng xuất"
        assert client.get("/api/v1/text/en").json()["logout"] == "Sign out"
        assert client.get("/api/v1/text/fr").status_code == 422

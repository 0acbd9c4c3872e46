"""The daily bulletin's chart: each station's hourly maximum salinity over the last 7 days
against its critical level, as a PNG (matplotlib, imported when a bulletin is first drawn)."""

from __future__ import annotations

import io
import math
from datetime import datetime
from typing import Any

from saltwatch.core.catalogue import Lang
from saltwatch.core.qc import good_value
from saltwatch.core.store import ReadingStore
from saltwatch.core.timeutil import NS_PER_S, VN_TZ
from saltwatch.core.topics import TopicKind

CHART_WORDS = {  # (y axis, title)
    "vi": ("Độ mặn lớn nhất mỗi giờ (‰)", "Độ mặn 7 ngày qua (nét đứt: ngưỡng nguy hiểm)"),
    "en": ("Hourly maximum salinity (‰)", "Salinity, last 7 days (dashed: critical levels)"),
}


def chart_png(
    store: ReadingStore, stations: list[tuple[str, str, float]], end_ns: int, lang: Lang = "vi"
) -> bytes:
    """Hourly maxima of the last 7 days (good readings only, as everywhere in the bulletin), one
    line per station (id, name, critical level), the first six's critical levels dashed."""
    import matplotlib  # noqa: PLC0415 - heavy: only for bulletins

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    start = end_ns - 7 * 86400 * NS_PER_S
    fig, ax = plt.subplots(figsize=(10, 4.5), dpi=100)
    try:
        for i, (device, name, critical) in enumerate(stations[:10]):
            hourly: dict[int, float] = {}
            for r in store.query(TopicKind.SALINITY, device, start, end_ns, 20_000):
                value = good_value(r, "salinity_ppt")
                if value is not None:
                    hour = r.ts_ns // (3600 * NS_PER_S)
                    hourly[hour] = max(value, hourly.get(hour, -math.inf))
            if not hourly:
                continue
            hours = sorted(hourly)
            times: Any = [datetime.fromtimestamp(h * 3600, VN_TZ) for h in hours]
            values = [hourly[h] for h in hours]
            (line,) = ax.plot(times, values, lw=1.2, label=name)
            if i < 6:
                ax.axhline(critical, color=line.get_color(), ls="--", lw=0.7, alpha=0.6)
        ax.set_yscale("symlog", linthresh=1.0)
        ylabel, title = CHART_WORDS[lang]
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=7, ncol=2, loc="upper left")
        fig.autofmt_xdate()
        out = io.BytesIO()
        fig.savefig(out, format="png", bbox_inches="tight")
        return out.getvalue()
    finally:
        plt.close(fig)

"""What alerts say, in Vietnamese and English: the texts alerts/messages.py fills in."""

from __future__ import annotations

SEVERITY_VI = {"info": "thông tin", "warning": "cảnh báo", "critical": "nguy hiểm"}
SEVERITY_EN = {"info": "info", "warning": "warning", "critical": "critical"}

#: rule family → (Vietnamese, English) text for a firing alert
FIRING: dict[str, tuple[str, str]] = {
    "salinity": (
        "Mặn tại {where} {value}{unit} — vượt ngưỡng {sev_vi} {threshold}{unit} từ {since}.",
        "Salinity at {where} {value}{unit}, above the {sev_en} level {threshold}{unit} since "
        "{since}.",
    ),
    "salinity-tidal-day": (
        "Độ mặn lớn nhất trong ngày triều tại {where} là {value}{unit}, vượt ngưỡng "
        "{threshold}{unit} ({sev_vi}).",
        "The tidal-day maximum salinity at {where} is {value}{unit}, above {threshold}{unit} "
        "({sev_en}).",
    ),
    "salinity-rise": (
        "Độ mặn tại {where} tăng nhanh: {value}{unit}.",
        "Salinity at {where} is rising fast: {value}{unit}.",
    ),
    "nodata": (
        "Mất dữ liệu từ {where} đã {value} phút.",
        "No data from {where} for {value} minutes.",
    ),
    "quality-flatline": (
        "Cảm biến tại {where} có thể bị kẹt (giá trị không đổi).",
        "The sensor at {where} may be stuck (a flat line).",
    ),
    "quality-spikes": (
        "Cảm biến tại {where} cho nhiều giá trị bất thường.",
        "The sensor at {where} reports repeated spikes.",
    ),
    "well-fault": ("Giếng {where} báo lỗi bơm.", "Well {where} reports a pump fault."),
    "well-stopped": (
        "Giếng {where} ngừng bơm trong giờ vận hành.",
        "Well {where} stopped during its scheduled hours.",
    ),
    "well-level-low": (
        "Mực nước giếng {where} xuống {value} m.",
        "The water level in well {where} fell to {value} m.",
    ),
    "well-salinity": (
        "{where}: nước mặn {value}{unit}, vượt giới hạn sinh hoạt.",
        "{where}: the water has {value}{unit}, above the domestic limit.",
    ),
    "structure-open-salty": (
        "{where} đang mở trong khi trạm canh đo độ mặn {value}{unit}, vượt giới hạn "
        "{threshold}{unit} của công trình: cần đóng.",
        "{where} stands open while its guard station reads {value}{unit}, above the structure's "
        "limit {threshold}{unit}: close it.",
    ),
    "opening-unsafe": (
        "Lịch mở {where} lúc {since}: dự báo độ mặn tại trạm canh lên {value}{unit}, vượt giới "
        "hạn {threshold}{unit}.",
        "The opening of {where} planned for {since}: the forecast puts its guard station at "
        "{value}{unit}, above the limit {threshold}{unit}.",
    ),
    "tap-tank-low": (
        "Bồn chứa của vòi nước {where} còn {value}%.",
        "The tank of tap {where} is down to {value}%.",
    ),
    "tap-no-flow": (
        "Vòi nước {where} mở nhưng không có nước.",
        "Tap {where} is open but gives no water.",
    ),
    "saltfront-risk": (
        "Cấp độ rủi ro do xâm nhập mặn (tham khảo) cấp {level} trên {river}, {basis_vi}: ranh "
        "mặn {line} vào sâu {threshold} km tính từ cửa sông. Cấp độ chính thức do cơ quan có "
        "thẩm quyền công bố.",
        "Indicative saltwater-intrusion risk level {level} on the {river}, {basis_en}: the "
        "{line} line reached {threshold} km from the mouth. The official level is declared by "
        "the authorities.",
    ),
    "saltfront-risk-declared": (
        "Cấp độ rủi ro do xâm nhập mặn cấp {level} trên {river}, theo công bố đã được ghi nhận "
        "trong SaltWatch.",
        "Saltwater-intrusion risk level {level} on the {river}, as declared and recorded in "
        "SaltWatch.",
    ),
    "forecast-exceedance": (
        "Dự báo: độ mặn tại {where} lên tới {threshold}‰ sau khoảng {value} giờ nữa.",
        "Forecast: salinity at {where} reaches {threshold}‰ in about {value} hours.",
    ),
    "outlook-exceedance": (
        "Dự báo tuần: đỉnh mặn tại {where} lên tới {threshold}‰ sau {value} ngày ({odds_vi}).",
        "Week-ahead outlook: the daily peak at {where} reaches {threshold}‰ in {value} day(s) "
        "({odds_en}).",
    ),
    "outlook-structure": (
        "Dự báo tuần: đỉnh mặn tại trạm canh {where} lên tới giới hạn {threshold}‰ của "
        "{structure} sau {value} ngày ({odds_vi}): chuẩn bị đóng cống, tích nước trước.",
        "Week-ahead outlook: the daily peak at {where}, the guard station of {structure}, "
        "reaches its limit {threshold}‰ in {value} day(s) ({odds_en}): plan to close it and "
        "store water before.",
    ),
    "outlook-risk": (
        "Dự báo tuần: cấp độ rủi ro do xâm nhập mặn (tham khảo) trên {river} có thể lên cấp "
        "{level} (ranh {line}) sau {threshold} ngày, cao hơn cấp hiện nay ({odds_vi}).",
        "Week-ahead outlook: the indicative saltwater-intrusion risk level on the {river} may "
        "rise to level {level} ({line} line) in {threshold} day(s), above today's ({odds_en}).",
    ),
    "broker-disconnected": (
        "SaltWatch mất kết nối với máy chủ MQTT từ {since}: không nhận được số liệu của thiết "
        "bị; cảnh báo mất dữ liệu tạm dừng cho đến khi kết nối lại.",
        "SaltWatch lost its MQTT broker at {since}: no readings arrive; device no-data alerts "
        "are held back until it reconnects.",
    ),
    "broker-session-lost": (
        "Phiên MQTT của SaltWatch bị mất hoặc bị chiếm lúc {since}: số liệu máy chủ MQTT giữ cho "
        "SaltWatch có thể đã mất; kiểm tra tài khoản và mã kết nối (client id).",
        "SaltWatch's MQTT session was lost or taken over at {since}: readings the broker held for "
        "it may be lost; check the logins and client ids.",
    ),
    "alert-state-unsaved": (
        "SaltWatch không lưu được trạng thái cảnh báo từ {since} (đĩa đầy?): cảnh báo mới sẽ được "
        "gửi khi lưu lại được; hãy giải phóng chỗ trống.",
        "SaltWatch cannot save its alert state since {since} (a full disk?): new alerts go out "
        "once it can; free some space.",
    ),
    "store-down": (
        "Không ghi được vào cơ sở dữ liệu từ {since}; số liệu được giữ tạm trên đĩa, không mất.",
        "The reading store takes no writes since {since}; readings wait on disk, none is lost.",
    ),
    "spool-growing": (
        "Số liệu chờ ghi trên đĩa đang tăng ({value} lô) từ {since}.",
        "Readings waiting on disk keep growing ({value} batches) since {since}.",
    ),
    "ingest-stalled": (
        "Tiếp nhận số liệu bị đình trệ từ {since}: {value} tin nhắn đang chờ; cảnh báo mất dữ "
        "liệu tạm dừng.",
        "Ingest has stalled since {since}: {value} messages wait; device no-data alerts are "
        "held back.",
    ),
    "forecast-stale": (
        "Dự báo độ mặn không được cập nhật trong {value} giờ.",
        "Salinity forecasts have not been updated for {value} hours.",
    ),
    "source-stale": (
        "Không nhận được số liệu từ nguồn {subject} trong {value} giờ.",
        "No readings from the source {subject} for {value} hours.",
    ),
    "notifier-failing": (
        "Không gửi được thông báo qua kênh {subject} từ {since}.",
        "Notifications to {subject} have been failing since {since}.",
    ),
    "intake-window": (
        "Có thể lấy nước tại {where}: dự báo độ mặn dưới {threshold}‰ trong {value} giờ, "
        "từ {start}.",
        "Intake window at {where}: salinity forecast below {threshold}‰ for {value} hours "
        "from {start}.",
    ),
    "saltfront-advance": (
        "Ranh mặn 4‰ trên {river} tiến sâu thêm {value} km trong một ngày "
        "(ngưỡng {threshold} km/ngày).",
        "The 4‰ line on the {river} moved {value} km inland in one day "
        "(alert above {threshold} km/day).",
    ),
}
#: an open salinity alert as a screen shows it: the value now and the highest since it opened,
#: each with its time, and whether the value now is above the level (family, above) → texts
OPEN_NOW: dict[tuple[str, bool], tuple[str, str]] = {
    ("salinity", True): (
        "{where}: {now}{unit} lúc {now_at}, trên ngưỡng {sev_vi} {threshold}{unit} (từ {since}; "
        "cao nhất {peak}{unit} lúc {peak_at}).",
        "{where}: {now}{unit} at {now_at}, above the {sev_en} level {threshold}{unit} (since "
        "{since}; highest {peak}{unit} at {peak_at}).",
    ),
    ("salinity", False): (
        "{where}: {now}{unit} lúc {now_at}, đã xuống dưới ngưỡng {sev_vi} {threshold}{unit} "
        "(vượt từ {since}; cao nhất {peak}{unit} lúc {peak_at}); cảnh báo kết thúc khi độ mặn ổn "
        "định dưới ngưỡng.",
        "{where}: {now}{unit} at {now_at}, back below the {sev_en} level {threshold}{unit} "
        "(above it since {since}; highest {peak}{unit} at {peak_at}); the alert ends once it "
        "stays below.",
    ),
    ("salinity-tidal-day", True): (
        "{where}: {now}{unit} lúc {now_at}; ngày triều này vượt ngưỡng {sev_vi} {threshold}{unit} "
        "(cao nhất {peak}{unit} lúc {peak_at}).",
        "{where}: {now}{unit} at {now_at}; this tidal day is above the {sev_en} level "
        "{threshold}{unit} (highest {peak}{unit} at {peak_at}).",
    ),
    ("salinity-tidal-day", False): (
        "{where}: {now}{unit} lúc {now_at}, dưới ngưỡng lúc này; trong ngày triều đã vượt ngưỡng "
        "{sev_vi} {threshold}{unit} (cao nhất {peak}{unit} lúc {peak_at}).",
        "{where}: {now}{unit} at {now_at}, below the level for now; this tidal day went above the "
        "{sev_en} level {threshold}{unit} (highest {peak}{unit} at {peak_at}).",
    ),
}
#: what ended, as a noun phrase, for the resolved message (its firing text speaks in the present)
ENDED: dict[str, tuple[str, str]] = {
    "salinity": ("độ mặn vượt ngưỡng", "salinity above its threshold"),
    "salinity-tidal-day": ("độ mặn ngày triều vượt ngưỡng", "tidal-day salinity above threshold"),
    "salinity-rise": ("độ mặn tăng nhanh", "fast-rising salinity"),
    "nodata": ("mất dữ liệu", "missing data"),
    "quality-flatline": ("cảm biến bị kẹt", "a stuck sensor"),
    "quality-spikes": ("giá trị bất thường", "repeated spikes"),
    "well-fault": ("lỗi bơm", "a pump fault"),
    "well-stopped": ("giếng ngừng bơm", "a stopped well"),
    "well-level-low": ("mực nước giếng thấp", "a low well level"),
    "well-salinity": ("nước giếng mặn", "salty well water"),
    "tap-tank-low": ("bồn chứa gần cạn", "a low tank"),
    "tap-no-flow": ("vòi không có nước", "a tap without water"),
    "structure-open-salty": ("công trình mở khi nước mặn", "a gate open to salty water"),
    "opening-unsafe": ("lịch mở cống rơi vào lúc mặn", "a planned opening in salty water"),
    "saltfront-risk": (
        "cấp độ rủi ro xâm nhập mặn trên {river}",
        "the saltwater-intrusion risk level on the {river}",
    ),
    "saltfront-advance": (
        "ranh mặn tiến nhanh trên {river}",
        "a fast-moving salt front on the {river}",
    ),
    "forecast-exceedance": ("dự báo độ mặn vượt ngưỡng", "the forecast exceedance"),
    "outlook-exceedance": ("dự báo tuần độ mặn vượt ngưỡng", "the week-ahead exceedance"),
    "outlook-structure": (
        "dự báo tuần mặn vượt giới hạn công trình",
        "the week-ahead exceedance of a structure's limit",
    ),
    "outlook-risk": (
        "dự báo tuần cấp độ rủi ro tăng trên {river}",
        "the week-ahead rise of the risk level on the {river}",
    ),
    "intake-window": ("cửa sổ lấy nước", "the intake window"),
    "broker-disconnected": ("mất kết nối MQTT", "the lost MQTT connection"),
    "broker-session-lost": ("mất phiên MQTT", "the lost MQTT session"),
    "alert-state-unsaved": (
        "lỗi lưu trạng thái cảnh báo ({value} lượt thay đổi đã chờ, nay được lưu và gửi)",
        "the unsaved alert state ({value} sets of alert changes waited and go out now)",
    ),
    "store-down": ("lỗi ghi cơ sở dữ liệu", "the unreachable reading store"),
    "spool-growing": ("số liệu chờ ghi tăng", "the growing spool"),
    "ingest-stalled": ("tiếp nhận số liệu đình trệ", "the stalled ingest"),
    "forecast-stale": ("dự báo cũ", "stale forecasts"),
    "notifier-failing": ("lỗi gửi thông báo qua {subject}", "failing notifications to {subject}"),
    "source-stale": ("mất số liệu từ nguồn {subject}", "no readings from the source {subject}"),
}
#: a notification about a group of no-data alerts (docs/interface.md): how many, and which
GROUP_NODATA = (
    "Mất dữ liệu từ {count} thiết bị tại {zone}: {names}.",
    "No data from {count} devices in {zone}: {names}.",
)
GROUP_NODATA_RESOLVED = (
    "Đã có lại dữ liệu từ {count} thiết bị tại {zone}: {names}.",
    "Data is back from {count} devices in {zone}: {names}.",
)
RESOLVED = ("Đã hết {what_vi} tại {where}.", "Resolved: {what_en} at {where}.")
NOW = (" Hiện tại: {value}{unit}.", " Now {value}{unit}.")
ACKED = ("{by} đã xác nhận cảnh báo tại {where}.", "{by} acknowledged the alert at {where}.")


#: how the risk level was come by (its alert's unit reads ``level:<line>:<basis>``)
BASIS: dict[str, tuple[str, str]] = {
    "observed": ("tính từ số liệu quan trắc", "computed from measurements"),
    "forecast": ("tính từ dự báo 48 giờ", "computed from the 48 h forecast"),
    "outlook-likely": ("tính từ dự báo tuần", "computed from the week-ahead outlook"),
    "outlook-possible": ("tính từ dự báo tuần", "computed from the week-ahead outlook"),
}
LINES = {"4ppt": "4‰", "1ppt": "1‰"}
#: how sure a warning ahead is (its unit ends in ``likely`` or ``possible``)
ODDS: dict[str, tuple[str, str]] = {
    "likely": (
        "khả năng cao: cả khoảng dự báo đều vượt",
        "likely: the whole forecast range is above",
    ),
    "possible": (
        "có thể: dự báo vượt, khoảng dự báo còn dưới",
        "possible: the forecast is above, its range reaches below",
    ),
}

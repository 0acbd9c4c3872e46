"""Where a process's Python time went, by kind of work, from py-spy's raw stacks
(``bench.ingest_throughput --profile DIR`` writes them, sampling the thread holding the GIL).

    python -m bench.profile_shares DIR/*.txt

Each sample counts for the innermost frame that names a kind of work below; what names none is
"other". Prints one column per file.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

#: (kind of work, pattern over one frame "function (file:line)"), innermost match wins
KINDS: list[tuple[str, re.Pattern[str]]] = [
    ("acknowledgements", re.compile(r"ack_many|puback|\back \(|_send_puback|_packet_queue")),
    ("line protocol", re.compile(r"LineFormatter|to_line|line_protocol")),
    ("HTTP to the store", re.compile(r"httpx/|httpcore/|h11/|InfluxReadingStore\._request")),
    ("QC", re.compile(r"core/qc\.py")),
    ("JSON decoding and validation", re.compile(r"core/codec\.py|core/judge\.py|orjson")),
    ("device liveness", re.compile(r"ingest/devices\.py")),
    ("MQTT packet reading", re.compile(r"paho/|ingest/mqtt\.py|ingest/wire\.py")),
    ("alerts", re.compile(r"alerts/")),
    ("ingest bookkeeping", re.compile(r"ingest/|prometheus_client/|queue\.py|threading\.py")),
]


def shares(path: Path) -> tuple[int, dict[str, float]]:
    counts: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit():
            continue
        frames = stack.split(";")
        kind = "other"
        for frame in reversed(frames):
            match = next((k for k, pattern in KINDS if pattern.search(frame)), None)
            if match is not None:
                kind = match
                break
        counts[kind] = counts.get(kind, 0) + int(n)
        total += int(n)
    return total, {k: v / max(total, 1) for k, v in counts.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args()
    results = [(f, *shares(f)) for f in args.files]
    names = [k for k, _ in KINDS] + ["other"]
    width = max(len(f.stem) for f in args.files)
    print(f"{'':<30}" + "".join(f" {f.stem[:width]:>{width}}" for f in args.files))
    for name in names:
        print(f"{name:<30}" + "".join(f" {s.get(name, 0.0):>{width}.1%}" for _, _, s in results))
    print(f"{'samples':<30}" + "".join(f" {t:>{width}}" for _, t, _ in results))


if __name__ == "__main__":
    main()

"""Baseline for bench/ingest_throughput.py: the minimal paho → InfluxDB /write script.

No validation, no QC, paho acknowledges on receipt (before anything is stored): the shape of the
scripts people write first. Run by the benchmark as its own process.
"""

from __future__ import annotations

import json
import sys
import threading
import time

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion


def main() -> None:
    host, port, topic, influx, db = (
        sys.argv[1],
        int(sys.argv[2]),
        sys.argv[3],
        sys.argv[4],
        sys.argv[5],
    )
    lines: list[str] = []
    lock = threading.Lock()
    http = httpx.Client(base_url=influx, timeout=30)

    def on_message(client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        data = json.loads(msg.payload)
        station = msg.topic.rsplit("/", 1)[1]
        line = (
            f"salinity,station={station} salinity_ppt={float(data['salinity_ppt'])},"
            f"qc=0i {int(data['ts'] * 1e9)}"
        )
        with lock:
            lines.append(line)

    def flusher() -> None:
        while True:
            time.sleep(0.2)
            with lock:
                batch, lines[:] = list(lines), []
            for i in range(0, len(batch), 5000):
                http.post("/write", params={"db": db}, content="\n".join(batch[i : i + 5000]))

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="baseline", clean_session=False)
    client.on_message = on_message

    def on_connect(c: mqtt.Client, u: object, f: object, rc: object, p: object) -> None:
        c.subscribe(topic, 1)
        print("connected", flush=True)

    client.on_connect = on_connect
    client.connect(host, port, 120)
    threading.Thread(target=flusher, daemon=True).start()
    client.loop_forever()


if __name__ == "__main__":
    main()

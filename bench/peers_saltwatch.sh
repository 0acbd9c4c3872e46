#!/bin/bash
# `saltwatch ingest` as a contestant of the ingest race in ../shared/peers (run_throughput.sh cmd):
# the harness exports MQTT_PORT, INFLUX_URL and DB; SALTWATCH is the saltwatch executable, WORK a
# folder for the spool and the state, WORKERS the number of ingest processes (default 1).
# exec: the harness freezes (SIGSTOP) and measures this very process.
set -eu
export SALTWATCH_MQTT__URL="mqtt://127.0.0.1:${MQTT_PORT}"
export SALTWATCH_MQTT__CLIENT_ID="saltwatch-race"
export SALTWATCH_STORE__URL="influxdb://127.0.0.1:${INFLUX_URL##*:}/${DB}"
export SALTWATCH_INGEST__ACCEPT_UNKNOWN=true   # the race's stations are not in the registry
export SALTWATCH_INGEST__MAX_BACKFILL=2000d    # its readings are time-stamped in March 2024
export SALTWATCH_INGEST__SPOOL_PATH="${WORK}/spool"
export SALTWATCH_STATE__PATH="${WORK}/state.db"
exec "${SALTWATCH}" ingest --workers "${WORKERS:-1}"

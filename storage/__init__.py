"""Ports (Protocols) and adapters: readings on InfluxDB or SQLite; alert state on SQLite."""

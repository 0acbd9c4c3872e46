"""How SaltWatch reaches an MQTT broker: one module for ingest, the alert publisher and the
simulator (docs/architecture.md)."""

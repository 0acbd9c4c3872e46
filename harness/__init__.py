"""What the tests and the benchmarks share: real mosquitto and influxd servers started on free
loopback ports with their own folders, MQTT clients that publish and collect, and generated
registries. Not part of the product (the wheel does not carry it)."""

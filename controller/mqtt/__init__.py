"""The controller's MQTT side: the managed mosquitto, the one client, plan publishing and ingestion."""

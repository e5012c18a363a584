"""Live delivery: the alert bus (Kafka or in-memory) and the websocket fan-out."""

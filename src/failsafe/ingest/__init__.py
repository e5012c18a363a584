"""The stream side: event schema v1, the screening pipeline, Kafka and in-process event sources."""

"""The stream fixtures `env` and `worker` (tests.fixtures.streams) for every ingest test."""

from tests.fixtures.streams import env, worker

__all__ = ["env", "worker"]

"""The matching engine: pure Python, no I/O, no web, database or Kafka imports."""

from failsafe.matching.score import DEFAULT_THRESHOLD, Params, compare_names

__all__ = ["DEFAULT_THRESHOLD", "Params", "compare_names"]

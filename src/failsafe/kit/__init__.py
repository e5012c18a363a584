"""Shared infrastructure for the domains: app state, dependencies, Kafka helpers."""

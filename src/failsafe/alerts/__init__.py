"""Alerts: routing to bureaus, severity, persistence, the lifecycle, the alert API."""

"""The audit log: who changed or read what, when (ids and field names only, no personal data)."""

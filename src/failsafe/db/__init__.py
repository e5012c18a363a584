"""Database access: engine, declarative base, sessions, and the commit-ordered counters."""

"""failsafe: real-time watchlist tracking."""

__version__ = "0.1.0"

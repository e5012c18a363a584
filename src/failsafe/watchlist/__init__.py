"""The watchlist: entries (notices on persons), their versions, the analysts' API, bulk import."""

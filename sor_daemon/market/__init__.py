"""Market data for the algorithms and the router: live books and trades, OHLCV history."""

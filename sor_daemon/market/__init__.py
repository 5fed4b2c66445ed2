"""Market data: quotes (and later interval volume) for the algorithms and the router."""

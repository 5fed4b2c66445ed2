"""Clients for CoinAPI's REST APIs (EMS account, market data), in their documented shapes."""

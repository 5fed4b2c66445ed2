"""HTTP and WebSocket on one port: REST under /v1/sor, the feed at /v1/sor/ws."""

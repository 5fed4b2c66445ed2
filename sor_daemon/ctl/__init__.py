"""``sorctl``, the operator's command-line client for a running sor-daemon.

It talks to the daemon only through its public REST API and WebSocket feed, so it works against
any daemon that speaks the SOR protocol, local or remote.
"""

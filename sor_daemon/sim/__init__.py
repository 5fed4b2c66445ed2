"""The bundled EMS and market simulator: CoinAPI's EMS and market data over FIX 4.4 and REST.

A desk rehearses against it and the tests run the daemon against it over real FIX. Modules, one
purpose each:

- ``settings``: ``SimulatorSettings`` and the market parameters (``data/simulator.toml``).
- ``market``: the seeded price walk per underlying and the books of every venue.
- ``profile``: the intraday volume profile (how busy the market is at a moment).
- ``tape``: every trade printed (background and the EMS's own fills), one-second buckets.
- ``matching``: a limit order against one side of a book (pure functions).
- ``orders``: the order model and the request and report values.
- ``validation``: a NewOrderSingle's fields checked against the dialect and the grids.
- ``ledger``: balances, positions and what each order executed.
- ``exchange``: ``SimulatedExchange``, the sans-IO venue that ties them together behind a lock.
- ``fixcodec``: the EMS dialect's messages to and from those values.
- ``faults``: the fault modes for recovery tests, switchable at run time.
- ``acceptor``: the EMS's quickfix Application and acceptor.
- ``mdmessages``: the market-data request and answer values.
- ``mdrequests``: a MarketDataRequest checked against the dialect and the instruments.
- ``depth``: a book cut to a depth, and the level changes between two cuts.
- ``subscriptions``: ``MarketDataDesk``, who subscribed to what and what each is sent.
- ``mdcodec``: the market-data dialect's messages to and from those values.
- ``mdacceptor``: the market-data quickfix Application and acceptor.
- ``ohlcv``: the tape's buckets aggregated into CoinAPI's periods, and the query checks.
- ``ticker``: the thread that steps the market on the wall clock.
- ``http``: the Starlette app (account, quotes, OHLCV, executions, subscriptions, faults).
- ``service``: ``serve_simulator``, the Trio entry point.
"""

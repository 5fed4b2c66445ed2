"""The bundled EMS and market simulator: CoinAPI's EMS over FIX 4.4 and REST, with a market.

A desk rehearses against it and the tests run the daemon against it over real FIX. Modules, one
purpose each:

- ``settings``: ``SimulatorSettings`` and the market parameters (``data/simulator.toml``).
- ``market``: the seeded price walk per underlying and the books of every venue.
- ``matching``: a limit order against one side of a book (pure functions).
- ``orders``: the order model and the request and report values.
- ``validation``: a NewOrderSingle's fields checked against the dialect and the grids.
- ``ledger``: balances, positions and what each order executed.
- ``exchange``: ``SimulatedExchange``, the sans-IO venue that ties them together behind a lock.
- ``fixcodec``: the dialect's messages to and from those values.
- ``faults``: the fault modes for recovery tests, switchable at run time.
- ``acceptor``: the quickfix Application and acceptor.
- ``ticker``: the thread that steps the market on the wall clock.
- ``http``: the Starlette app (balances, positions, orders, quotes, executions, faults).
- ``service``: ``serve_simulator``, the Trio entry point.
"""

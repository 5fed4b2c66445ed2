"""The sans-IO core: smart orders, algorithms, routing and instruments. No clocks, no sockets."""

"""Benchmarks: the daemon measured against the limits of its own parts, in the same run.

Each module here is one benchmark with a ``run(workdir, smoke=...)`` that starts real processes
(the daemon, the simulator, clients over loopback), measures a baseline and the daemon in the same
run, and returns an ``Outcome``. ``python -m bench`` runs them (``make bench``); see
``bench/RESULTS.md`` for the figures and what was changed to win them.
"""

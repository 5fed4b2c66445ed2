"""Tests of the bundled EMS and market simulator (``sor_daemon.sim``)."""

"""sor-daemon: a smart order router that runs next to an EMS and speaks FIX 4.4 to it."""

__version__ = "0.1.0"

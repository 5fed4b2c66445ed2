"""The wire: every message of the SOR protocol as attrs classes, and the one codec for them."""

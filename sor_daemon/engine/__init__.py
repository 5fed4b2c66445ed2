"""The Trio engine: one task per smart order, commands in through channels, events out."""

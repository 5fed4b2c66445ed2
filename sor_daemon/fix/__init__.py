"""quickfix at the edge: the EMS session, its dialect and the bridge into Trio."""

"""Running the daemon as a service: systemd notify, config reload, metrics and health."""

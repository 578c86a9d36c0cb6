"""Risk warnings: rules, alerts, the notification outbox, channels and colour codes."""

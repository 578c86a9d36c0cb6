"""`creditgov worker`: the hot loop (warning rules and outbox delivery) and the
periodic jobs (APScheduler with a job store in the database)."""

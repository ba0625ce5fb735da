"""Getting messages out: the outbox, the dispatcher, templates, channels and responses."""

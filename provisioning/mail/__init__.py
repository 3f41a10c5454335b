"""Email: templates with plain-text and HTML parts, the durable outbox, and the SMTP sender."""

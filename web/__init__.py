"""What every HTTP edge shares: request ids, access logs and metrics, 503 while the database is
down (``observability``), and the launch session the LTI tool issues and the UI reads (``session``)."""

"""Background jobs: the queue adapters (in-process thread or RQ), the runner, and the worker."""

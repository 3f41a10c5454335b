"""Background jobs: the queue adapters (in-process thread or RQ), the runner, the worker, the
sweep for lost work, and ``bootstrap``, which builds the Runtime a process runs on."""

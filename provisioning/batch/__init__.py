"""Batch actions on selected people (deactivate, reactivate, delete, change role or language,
invite, notify, tasks, certificates, share, export) and group messages, each run as a chunked,
resumable Operation: ``actions`` selects and runs, ``steps`` says what each action does to a chunk."""

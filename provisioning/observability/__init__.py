"""Operations: structured logs with a request id, Prometheus metrics, rate limits per token.

This package's ``context``, ``logs``, ``metrics`` and ``ratelimit`` modules are Flask-free
(services and the job runner use them); ``web`` wires them into the Flask app.
"""

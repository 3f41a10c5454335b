"""Operations: structured logs with a request id, Prometheus metrics, rate limits per token.

Flask-free (services and the job runner use them); ``web.observability`` wires them into the
Flask app.
"""

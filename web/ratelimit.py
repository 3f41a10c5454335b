"""The RateLimit-Policy and RateLimit header fields (draft-ietf-httpapi-ratelimit-headers-10 §4, §5)
on every response to a rate-limited token: the client sees its quota (RATE_LIMIT_PER_MINUTE requests a
minute, a SCIM Bulk counting its weight) and what is left of it, and can pace an initial load instead of
running into 429s (issue 18 #5).  The API and SCIM edges count a request with :func:`count`."""

from __future__ import annotations

from flask import Flask, Response, g

from provisioning.observability import ratelimit

POLICY = "per-token"  # the one quota policy: a fixed one-minute window per API token


def init_app(app: Flask) -> None:
    app.after_request(_advertise)


def count(rt, token_id: int, scope: str, cost: int = 1, weight: int = 1) -> tuple[str, int] | None:
    """Count the request against the token's limit and remember what is left for the response's header
    fields; beyond the limit, the 429's message and its Retry-After seconds (RFC 6585 §4)."""
    verdict, refused = ratelimit.refusal(rt, token_id, scope, cost, weight)
    if verdict is not None:
        g.rate_limit = verdict
    return None if refused is None or verdict is None else (refused, verdict.retry_after)


def _advertise(response: Response) -> Response:
    verdict = g.get("rate_limit")
    if verdict is not None:
        # Structured fields (RFC 8941): q the quota and w the window in seconds; r what remains and t the
        # seconds until the window resets.
        response.headers["RateLimit-Policy"] = f'"{POLICY}";q={verdict.limit};w={ratelimit.WINDOW_SECONDS}'
        response.headers["RateLimit"] = f'"{POLICY}";r={verdict.remaining};t={verdict.retry_after}'
    return response

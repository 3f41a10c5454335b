import hmac
import os


class _Client:
    is_anonymous = False
    is_authenticated = True


class BearerTokenMiddleware:
    """Authenticates ``Authorization: Bearer <PEER_TOKEN>`` (django-scim2 leaves authentication to the project)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.token = os.environ["PEER_TOKEN"].encode()

    def __call__(self, request):
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        ok = scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), self.token)
        request.user = _Client() if ok else _Anonymous()
        return self.get_response(request)


class _Anonymous:
    is_anonymous = True
    is_authenticated = False

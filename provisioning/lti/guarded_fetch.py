"""HTTP requests to URLs a stranger gave us, made safe against server-side request forgery.

LTI Dynamic Registration (IMS LTI-DR 1.0 §3.3-3.5) has the tool fetch the ``openid_configuration``
URL from the registration request and POST to the ``registration_endpoint`` that document names:
both URLs come from whoever opens the invite link.  Without care that makes the service a proxy
into its own network (cloud metadata at 169.254.169.254, databases on loopback, the intranet) and,
through distinguishable errors, a port scanner.  So (OWASP SSRF Prevention Cheat Sheet):

- only http(s) URLs without user info;
- every address the host name resolves to must be allowed (:func:`address_allowed`), and the
  socket connects to those very addresses (one DNS lookup, made here, not a second one in
  urllib3), then checks the peer it is connected to, so DNS rebinding can't swap in another
  address between the check and the connection;
- redirects are followed by hand (GET only, a few hops), each hop through the same check;
- a connect and read timeout, an overall deadline and a size cap on the body;
- no proxies from the environment (the proxy, not the target, would be the peer checked).

Every failure is a :class:`FetchRefused` whose reason is for the log only: callers answer with one
generic message, so the outcome (refused, closed port, timeout, status) is not revealed.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util.connection import allowed_gai_family

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 5.0
TOTAL_SECONDS = 10.0
MAX_BYTES = 1024 * 1024  # a platform's configuration or registration answer is a few kilobytes
MAX_REDIRECTS = 3
_IP = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchRefused(Exception):
    """The URL was not fetched, or its answer was not usable; ``str()`` is the reason, for the log only."""


def normalise_host(host: str) -> str:
    """A host name or IP literal as compared with an allow-list: lower case, no brackets or trailing dot."""
    return host.strip().strip("[]").rstrip(".").lower()


NEVER, PRIVATE, PUBLIC = "never", "private", "public"


def _kind(ip: _IP) -> str:
    """NEVER (link-local: the cloud metadata service; multicast, unspecified, reserved), PRIVATE
    (loopback, private, shared, documentation ...: anything not globally routable) or PUBLIC."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return _kind(ip.ipv4_mapped)  # ::ffff:127.0.0.1 is 127.0.0.1
    if ip.is_loopback:
        return PRIVATE
    if ip.is_link_local or ip.is_multicast or ip.is_unspecified:
        return NEVER
    if isinstance(ip, ipaddress.IPv6Address):  # 6to4 and Teredo carry an IPv4 address the packets reach
        inner = [_kind(a) for a in (ip.sixtofour, *(ip.teredo or ())) if a is not None]
        for kind in (NEVER, PRIVATE):
            if kind in inner:
                return kind
    if ip.is_global:
        return PUBLIC
    return NEVER if ip.is_reserved else PRIVATE


def address_allowed(address: str, *, host_allowed: bool) -> bool:
    """May the service connect to ``address``?  A public (globally routable) address always; a
    private or loopback one only for a host on the allow-list; link-local (the cloud metadata
    service), multicast, unspecified and reserved addresses never."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 scope id ("fe80::1%eth0") goes
    except ValueError:
        return False
    kind = _kind(ip)
    return kind == PUBLIC or (kind == PRIVATE and host_allowed)


@dataclass(frozen=True)
class UrlPolicy:
    """Which URLs may be fetched: public ones, and those whose host is in ``allowed_hosts``
    (an on-premise LMS on a private or loopback address; an operator's explicit choice)."""

    allowed_hosts: frozenset[str] = frozenset()

    @classmethod
    def allowing(cls, hosts: Iterable[str]) -> UrlPolicy:
        return cls(frozenset(normalise_host(h) for h in hosts if h and h.strip()))

    def host_allowed(self, host: str) -> bool:
        return normalise_host(host) in self.allowed_hosts

    def check_url(self, url: str) -> None:
        parts = urlsplit(url or "")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchRefused(f"not an http(s) URL: {_for_log(url)}")
        if parts.username is not None or parts.password is not None:
            raise FetchRefused(f"a URL with user info: {_for_log(url)}")
        try:
            parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
        except ValueError as exc:
            raise FetchRefused(f"a URL with a bad port: {_for_log(url)}") from exc

    def check_resolves(self, url: str) -> None:
        """The URL is well formed and every address its host resolves to is allowed (no connection)."""
        self.check_url(url)
        parts = urlsplit(url)
        host = parts.hostname or ""
        _resolve(host, parts.port or (443 if parts.scheme == "https" else 80), self)


def _for_log(url: str | None) -> str:
    """The URL without its query and fragment (they may carry tokens), shortened."""
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}{parts.path}"[:300]


def _resolve(host: str, port: int, policy: UrlPolicy) -> list[tuple[Any, ...]]:
    """getaddrinfo for the host, refused unless every address is allowed."""
    try:
        infos = socket.getaddrinfo(normalise_host(host), port, allowed_gai_family(), socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise FetchRefused(f"{host!r} does not resolve: {exc}") from exc
    allowed = policy.host_allowed(host)
    refused = sorted({str(info[4][0]) for info in infos if not address_allowed(str(info[4][0]), host_allowed=allowed)})
    if not infos or refused:
        raise FetchRefused(f"{host!r} resolves to an address that is not allowed: {', '.join(refused) or 'none'}")
    return infos


def _connect(conn: HTTPConnection, policy: UrlPolicy) -> socket.socket:
    """Connect to an allowed address of ``conn.host`` and check the peer actually connected to."""
    infos = _resolve(conn.host, conn.port or 80, policy)
    timeout = conn.timeout if isinstance(conn.timeout, (int, float)) else CONNECT_TIMEOUT
    last: OSError | None = None
    for family, kind, proto, _name, sockaddr in infos:
        sock = socket.socket(family, kind, proto)
        try:
            for option in conn.socket_options or ():
                sock.setsockopt(*option)
            sock.settimeout(timeout)
            sock.connect(sockaddr)
            peer = str(sock.getpeername()[0])
            if not address_allowed(peer, host_allowed=policy.host_allowed(conn.host)):
                raise FetchRefused(f"connected to {peer}, which is not allowed")
            return sock
        except OSError as exc:
            sock.close()
            last = exc
        except FetchRefused:
            sock.close()
            raise
    raise FetchRefused(f"could not connect to {conn.host}:{conn.port}: {last}")


def _session(policy: UrlPolicy) -> requests.Session:
    """A requests session whose every connection goes through :func:`_connect` with ``policy``."""

    class GuardedHTTPConnection(HTTPConnection):
        def _new_conn(self) -> socket.socket:
            return _connect(self, policy)

    class GuardedHTTPSConnection(HTTPSConnection):
        def _new_conn(self) -> socket.socket:
            return _connect(self, policy)

    class GuardedHTTPPool(HTTPConnectionPool):
        ConnectionCls = GuardedHTTPConnection

    class GuardedHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = GuardedHTTPSConnection

    class GuardedAdapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": GuardedHTTPPool, "https": GuardedHTTPSPool}

    session = requests.Session()
    session.trust_env = False  # no HTTP(S)_PROXY: the proxy would be the peer we check
    adapter = GuardedAdapter(max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _read_capped(resp: requests.Response, deadline: float) -> bytes:
    declared = resp.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_BYTES:
        raise FetchRefused(f"the answer declares {declared} bytes: larger than {MAX_BYTES} bytes")
    body = bytearray()
    for chunk in resp.iter_content(16384):
        body += chunk
        if len(body) > MAX_BYTES:
            raise FetchRefused(f"the answer is larger than {MAX_BYTES} bytes")
        if time.monotonic() > deadline:
            raise FetchRefused(f"the answer took longer than {TOTAL_SECONDS} s")
    return bytes(body)


def request_json(
    policy: UrlPolicy,
    method: str,
    url: str,
    *,
    body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    """The JSON answer (2xx) of a GET (redirects followed, each checked) or POST (no redirects)."""
    deadline = time.monotonic() + TOTAL_SECONDS
    with _session(policy) as session:
        for _hop in range(MAX_REDIRECTS + 1):
            policy.check_url(url)
            try:
                with session.request(
                    method,
                    url,
                    json=body,
                    headers=headers,
                    timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
                    stream=True,
                    allow_redirects=False,
                ) as resp:
                    if resp.is_redirect and method == "GET" and resp.headers.get("Location"):
                        url = urljoin(url, resp.headers["Location"])
                        continue
                    if not 200 <= resp.status_code < 300:
                        raise FetchRefused(f"{method} {_for_log(url)} answered HTTP {resp.status_code}")
                    content = _read_capped(resp, deadline)
            except requests.RequestException as exc:
                raise FetchRefused(f"{method} {_for_log(url)} failed: {type(exc).__name__}: {exc}") from exc
            try:
                return json.loads(content)
            except ValueError as exc:
                raise FetchRefused(f"{method} {_for_log(url)} did not answer JSON") from exc
    raise FetchRefused(f"more than {MAX_REDIRECTS} redirects from {_for_log(url)}")

"""An independent LTI 1.3 platform (lti1p3platform from PyPI) served on loopback for our tool.

lti1p3platform signs the launches, issues access tokens and answers NRPS; this module is only
the Flask glue around it: its JWKS, token endpoint and paged membership endpoint on a werkzeug
server thread, so our tool fetches real keys and rosters over HTTP (the ``platform`` fixture,
tests/conftest.py, serves one for the test client).  The test plays the
browser between the two: it follows the tool's redirect and posts the platform's form.
"""

from __future__ import annotations

import threading
import time
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jwt
from flask import Flask, jsonify, request
from jwcrypto.jwk import JWK
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.membership import Context
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request, TRequest
from lti1p3platform.service_connector import NamesRoleProvisioningService
from werkzeug.serving import make_server

from provisioning.activity import Actor
from provisioning.lti import registration_invites
from provisioning.lti import registrations as lti_registrations

TOOL = "http://localhost"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
ADMINISTRATOR = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"
TA = "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"

CLAIM_LAUNCH_PRESENTATION = "https://purl.imsglobal.org/spec/lti/claim/launch_presentation"


def new_private_pem() -> str:
    return JWK.generate(kty="RSA", size=2048).export_to_pem(private_key=True, password=None).decode()


class _Req(Request):
    def build_metadata(self, req: Any) -> TRequest:
        args = {k: (int(v) if k in ("page", "limit") and v.isdigit() else v) for k, v in req["get"].items()}
        return {
            "method": req.get("method", "GET"),
            "form_data": req.get("form", {}),
            "get_data": args,
            "headers": req.get("headers", {}),
            "content_type": None,
            "path": "",
            "json": None,
        }


class _Conf(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, **kwargs: Any) -> None:
        self._registration = kwargs["registration"]

    def get_registration_by_params(self, **kwargs: Any) -> Registration:
        return self._registration


class _Login(OIDCLoginAbstract):
    def set_lti_message_hint(self, **kwargs: Any) -> None:
        self._lti_message_hint = kwargs["hint"]

    def get_redirect(self, url: str) -> str:
        return url


class _Launch(LTIAdvantageMessageLaunchAbstract):
    def render_launch_form(self, launch_data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return launch_data


class _Nrps(NamesRoleProvisioningService):
    def __init__(self, platform: Platform, req: Request, url: str) -> None:
        super().__init__(req, platform.conf, url)
        self.platform = platform

    def get_member_data_page(
        self, page: int = 1, limit: int | None = None, since: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        members = self.platform.differences if since else self.platform.members
        limit = limit or len(members) or 1
        chunk = members[(page - 1) * limit : page * limit]
        return {"content": [dict(m) for m in chunk], "has_next": page * limit < len(members)}

    def get_context_by_id(self) -> Context:
        return Context(id=self.platform.context_id, label="C1", title="Course One")


class Platform:
    """One platform registration (issuer, client_id, deployment) with its own key and roster."""

    def __init__(self, tool_jwks) -> None:
        self.private_pem = new_private_pem()
        self.published: list[str] = [self.private_pem]
        self.tool_jwks = tool_jwks
        self.client_id = "tool-client-1"
        self.deployment_id = "deployment-1"
        self.context_id = "course-101"
        self.context_title: str | None = "Course One"  # None: the context claim has no title
        self.context_label: str | None = "C1"
        self.locale: str | None = None  # the launch_presentation claim's locale (LTI 1.3 §5.4.4); None: no claim
        self.members: list[dict[str, Any]] = []
        self.differences: list[dict[str, Any]] = []
        self.page_size = 3
        self.link_style = "unquoted"
        self.jwks_requests = 0
        self.token_requests = 0
        self.member_requests = 0
        self.registrations: list[dict[str, Any]] = []
        self.requests: list[str] = []  # every path asked for, in order
        self.config_issuer: str | None = None
        self.config_overrides: dict[str, Any] = {}  # values of the OpenID configuration to replace
        self.app = self._glue()
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.conf = _Conf(registration=self._registration())

    # -- the platform's side ------------------------------------------------------------------

    @property
    def issuer(self) -> str:
        return self.url

    @property
    def memberships_url(self) -> str:
        # Mixed case on purpose: the tool must keep the URL's case when it follows links.
        return f"{self.url}/NRPS/Contexts/{self.context_id}/Memberships"

    def _registration(self) -> Registration:
        reg = (
            Registration()
            .set_iss(self.issuer)
            .set_client_id(self.client_id)
            .set_deployment_id(self.deployment_id)
            .set_oidc_login_url(f"{TOOL}/lti/login")
            .set_launch_url(f"{TOOL}/lti/launch")
            .set_platform_private_key(self.private_pem)
            .set_platform_public_key(JWK.from_pem(self.private_pem.encode()).export_to_pem().decode())
        )
        return reg

    def rotate_signing_key(self, *, publish: bool) -> None:
        """Sign with a new key; publish it in the JWKS now or later (platforms rotate hourly)."""
        self.private_pem = new_private_pem()
        self.conf._registration.set_platform_private_key(self.private_pem)
        self.conf._registration.set_platform_public_key(
            JWK.from_pem(self.private_pem.encode()).export_to_pem().decode()
        )
        if publish:
            self.publish_current_key()

    def publish_current_key(self) -> None:
        self.published.append(self.private_pem)

    @property
    def kid(self) -> str:
        return Registration.get_jwk(self.private_pem)["kid"]

    def _glue(self) -> Flask:
        app = Flask("platform")

        @app.before_request
        def count():
            self.requests.append(request.path)

        @app.get("/jwks")
        def jwks():
            self.jwks_requests += 1
            return jsonify({"keys": [Registration.get_jwk(pem) for pem in self.published]})

        @app.post("/token")
        def token():
            self.token_requests += 1
            # The platform verifies our client assertion against our real JWKS.
            self.conf._registration.set_tool_key_set(self.tool_jwks())
            try:
                return jsonify(self.conf.get_access_token(request.form.to_dict()))
            except Exception as exc:  # noqa: BLE001 - the platform refuses, as a real one would
                return jsonify({"error": "invalid_client", "error_description": str(exc)}), 401

        @app.get("/NRPS/Contexts/<context_id>/Memberships")
        def memberships(context_id):
            self.member_requests += 1
            args = request.args.to_dict()
            if "since" not in args:
                args.setdefault("limit", str(self.page_size))
            service = _Nrps(self, _Req({"get": args, "headers": dict(request.headers)}), self.memberships_url)
            resp = service.handle_get_members()
            if resp.code != 200:
                return jsonify({"error": resp.message}), resp.code
            body = dict(resp.result)
            headers = {}
            links = []
            if body.pop("next", None):
                next_url = f"{self.memberships_url}?limit={args['limit']}&page={int(args.get('page', 1)) + 1}"
                links.append(self._link(next_url, "next"))
            elif "since" not in args:
                links.append(self._link(f"{self.memberships_url}?since=1", "differences"))
            if links:
                headers["link" if self.link_style == "lower-header" else "Link"] = ", ".join(links)
            return jsonify(body), 200, {**headers, "Content-Type": resp.media_type}

        @app.get("/.well-known/openid-configuration")
        def openid_configuration():
            # LTI Dynamic Registration 1.0 §3.3: the platform's OpenID configuration.
            return jsonify(
                {
                    "issuer": self.config_issuer or self.issuer,
                    "authorization_endpoint": f"{self.url}/auth",
                    "token_endpoint": f"{self.url}/token",
                    "jwks_uri": f"{self.url}/jwks",
                    "registration_endpoint": f"{self.url}/register",
                    **self.config_overrides,
                }
            )

        @app.get("/redirect")
        def redirect_to():
            # What a hostile "platform" does to reach what it may not name directly.
            return "", 302, {"Location": request.args["to"]}

        @app.get("/big")
        def big():
            if request.args.get("stream"):  # no Content-Length: the size shows only while reading
                chunks = ['{"padding": "', *(["x" * 65536] * 32), '"}']
                return app.response_class(iter(chunks), mimetype="application/json")
            return '{"padding": "' + "x" * (2 * 1024 * 1024) + '"}', 200, {"Content-Type": "application/json"}

        @app.get("/trickle")
        def trickle():
            def drip():  # a byte at a time: each read is quick, the whole never ends
                yield "{"
                for _ in range(100):
                    time.sleep(0.2)
                    yield " "

            return app.response_class(drip(), mimetype="application/json")

        @app.get("/hang")
        def hang():
            time.sleep(float(request.args.get("seconds", "3")))
            return jsonify({})

        @app.post("/register")
        def dynamic_registration():
            if request.headers.get("Authorization") != "Bearer reg-token-1":
                return jsonify({"error": "unauthorized"}), 401
            self.registrations.append(request.get_json())
            return jsonify(
                {
                    **request.get_json(),
                    "client_id": "dyn-client-1",
                    "https://purl.imsglobal.org/spec/lti-tool-configuration": {
                        **request.get_json()["https://purl.imsglobal.org/spec/lti-tool-configuration"],
                        "deployment_id": "dyn-deployment-1",
                    },
                }
            )

        return app

    def _link(self, url: str, rel: str) -> str:
        return f'<{url}>; rel="{rel}"' if self.link_style == "quoted" else f"<{url}>; rel={rel}"

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)

    # -- the browser's part -------------------------------------------------------------------

    def login_url(self, user_id: str) -> str:
        login = _Login(None, self.conf)
        login.set_lti_message_hint(hint="resource-link-1")
        return login.prepare_preflight_url(user_id)

    def launch_message(
        self,
        auth_query: dict[str, str],
        *,
        sub: str,
        roles: list[str],
        email: str | None,
        name: str = "Pat Doe",
        nrps: bool = True,
    ) -> dict[str, Any]:
        """The launch message lti1p3platform builds in answer to the tool's authentication request."""
        launch = self._launch(auth_query, sub=sub, roles=roles, email=email, name=name, nrps=nrps)
        launch._registration = self.conf.get_registration()
        message, _state = launch.get_launch_data()
        return message

    def _launch(self, auth_query, *, sub, roles, email, name, nrps) -> _Launch:
        launch = _Launch(_Req({"get": auth_query}), self.conf)
        launch.set_user_data(sub, roles, full_name=name, email_address=email)
        launch.set_resource_link_claim("resource-link-1", title="Groups")
        launch.set_launch_context_claim(
            self.context_id, context_title=self.context_title, context_label=self.context_label
        )
        if nrps:
            launch.set_nrps(self.memberships_url)
        if self.locale is not None:
            launch.set_launch_presentation_claim(document_target="iframe")
            launch.lti_claim_launch_presentation[CLAIM_LAUNCH_PRESENTATION]["locale"] = self.locale
        return launch

    def answer(
        self,
        auth_query: dict[str, str],
        *,
        sub: str,
        roles: list[str],
        email: str | None,
        name: str = "Pat Doe",
        nrps: bool = True,
    ) -> dict[str, str]:
        """The platform's signed form post (id_token, state) for the tool's authentication request."""
        data = self._launch(auth_query, sub=sub, roles=roles, email=email, name=name, nrps=nrps).lti_launch()
        return {"id_token": data["id_token"], "state": data["state"]}

    def sign(
        self,
        message: dict[str, Any],
        *,
        key: str | None = None,
        kid: str | None = None,
        algorithm: str = "RS256",
        lifetime: int | None = 300,
    ) -> str:
        """Sign a (possibly tampered) launch message the way the platform would."""
        body = dict(message)
        if lifetime is not None:
            body.update(iat=int(time.time()), exp=int(time.time()) + lifetime)
        headers = {"kid": kid or self.kid}
        if algorithm == "none":
            return jwt.encode(body, None, algorithm="none", headers=headers)
        return jwt.encode(body, key or self.private_pem, algorithm=algorithm, headers=headers)


def invite_token(rt, tenant_ref, **options: Any) -> str:
    """A new registration invite's token (``invite`` of the link the CLI prints); options as issue_invite's."""
    url = registration_invites.issue_invite(rt, tenant_ref, **options)
    return dict(parse_qsl(urlsplit(url).query))["invite"]


def dynamic_registration(client, invite: str, openid_configuration: str, registration_token: str = "reg-token-1"):
    """The platform opens the tool's registration link in the admin's browser (IMS LTI-DR 1.0 §3.3)."""
    query = {"invite": invite, "openid_configuration": openid_configuration, "registration_token": registration_token}
    return client.get("/lti/register", query_string=query)


def register_platform(rt, tenant_ref, platform: Platform, deployments: tuple[str, ...] | None = None):
    return lti_registrations.register_platform(
        rt,
        tenant_ref,
        issuer=platform.issuer,
        client_id=platform.client_id,
        auth_login_url=f"{platform.url}/auth",
        auth_token_url=f"{platform.url}/token",
        key_set_url=f"{platform.url}/jwks",
        deployment_ids=(platform.deployment_id,) if deployments is None else deployments,
        actor=Actor("test", "cli"),
    )


def start_login(client, platform: Platform, user_id: str = "user-1") -> dict[str, str]:
    """The browser follows the platform's login initiation to the tool; returns the tool's auth request."""
    url = urlsplit(platform.login_url(user_id))
    resp = client.get(f"{url.path}?{url.query}")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    location = urlsplit(resp.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{platform.url}/auth"
    return dict(parse_qsl(location.query))


def launch(
    client,
    platform: Platform,
    *,
    sub: str = "user-1",
    roles: list[str] | None = None,
    email: str | None = "pat@example.edu",
    name: str = "Pat Doe",
    nrps: bool = True,
):
    auth = start_login(client, platform, sub)
    form = platform.answer(auth, sub=sub, roles=roles or [INSTRUCTOR], email=email, name=name, nrps=nrps)
    return client.post("/lti/launch", data=form)

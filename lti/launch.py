"""OIDC login initiation and the launch, over pylti1p3 with a stricter validation chain.

Stricter than pylti1p3's defaults (LTI 1.3 §5.1.3 and the IMS Security Framework §5.1.3):
the nonce is single-use and must be one we issued for this state; ``exp`` is required;
``aud`` must contain our client_id and ``azp``, when present, must be it; only RS256; a
small clock-skew leeway; the platform's JWKS is cached and fetched again on an unknown kid.
Every failure raises a :class:`~lti.errors.LaunchRefused` subclass, never a bare Exception.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from pylti1p3.contrib.flask import (
    FlaskCookieService,
    FlaskMessageLaunch,
    FlaskOIDCLogin,
)
from pylti1p3.exception import LtiException, OIDCException
from pylti1p3.launch_data_storage.base import LaunchDataStorage
from pylti1p3.session import SessionService
from sqlalchemy.exc import SQLAlchemyError

from lti import platform_storage
from lti.errors import (
    CookiesBlocked,
    InvalidIdToken,
    InvalidLaunchRequest,
    LaunchRefused,
    ReplayedLaunch,
    StorageMismatch,
    UnknownDeployment,
    UnknownPlatform,
)
from lti.toolconf import AmbiguousClient, DbToolConf
from provisioning.lti import launch as lti_launch
from provisioning.lti import registrations as lti_registrations
from provisioning.runtime import Runtime

LEEWAY_SECONDS = 60
LOGIN_PARAMS = ("iss", "login_hint", "target_link_uri", "lti_message_hint", "lti_deployment_id", "client_id")
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "nonce"]


class _RequestStorage(LaunchDataStorage):
    """pylti1p3 wants somewhere to put nonces and launch data; ours live in the database instead."""

    def __init__(self) -> None:
        super().__init__()
        self._values: dict[str, Any] = {}

    def get_session_cookie_name(self) -> None:
        return None

    def can_set_keys_expiration(self) -> bool:
        return False

    def get_value(self, key: str) -> Any:
        return self._values.get(key)

    def set_value(self, key: str, value: Any, exp: int | None = None) -> None:
        self._values[key] = value

    def check_value(self, key: str) -> bool:
        return key in self._values


def _session_service(request) -> SessionService:
    service = SessionService(request)
    service.set_data_storage(_RequestStorage())
    return service


class ToolCookieService(FlaskCookieService):
    """pylti1p3's cookies, plus ``Partitioned`` (CHIPS) so they survive inside an LMS iframe."""

    def update_response(self, response) -> None:
        secure = bool(self._request.is_secure())
        for key, data in self._cookie_data_to_set.items():
            # SameSite=None needs Secure; browsers then keep a Partitioned cookie per top-level site.
            response.set_cookie(
                key,
                data["value"],
                max_age=data["exp"],
                path="/",
                httponly=True,
                secure=secure,
                samesite="None" if secure else "Lax",
                partitioned=secure,
            )


class ToolOIDCLogin(FlaskOIDCLogin):
    """Third-party initiated login (LTI 1.3 §5.1.1): find the registration, redirect to the platform."""

    def __init__(self, rt: Runtime, request, tool_conf: DbToolConf) -> None:
        self.cookies = ToolCookieService(request)
        super().__init__(request, tool_conf, session_service=_session_service(request), cookie_service=self.cookies)
        self.rt = rt

    def validate_oidc_login(self):
        try:
            return super().validate_oidc_login()
        except AmbiguousClient as exc:
            raise InvalidLaunchRequest(
                f"The LMS {exc} has several registrations here and did not send "
                "client_id, so the service cannot tell which one this is."
            ) from exc
        except OIDCException as exc:
            if "registration" in str(exc).lower():
                raise UnknownPlatform(
                    _unknown_platform_reason(self._get_request_param("iss"), self._get_request_param("client_id"))
                ) from exc
            raise InvalidLaunchRequest(f"The login request is missing a parameter: {exc}.") from exc

    def start(self, launch_url: str) -> str:
        """Record the login (state, nonce) and return the platform's authorization URL."""
        url = self.get_redirect_object(launch_url).get_redirect_url()
        query = parse_qs(urlsplit(url).query)
        tool_conf: DbToolConf = self._tool_config
        reg_id = tool_conf.registration_id(self._registration.get_issuer(), self._registration.get_client_id())
        params = {k: self._get_request_param(k) for k in LOGIN_PARAMS if self._get_request_param(k)}
        if self.storage_target():
            params[platform_storage.PARAM] = self.storage_target()
        lti_launch.begin_login(self.rt, reg_id, query["state"][0], query["nonce"][0], params)
        self.state, self.nonce = query["state"][0], query["nonce"][0]
        return url

    def storage_target(self) -> str | None:
        """The LMS frame offering platform storage (lti_storage_target), unless this is the new-window retry."""
        target = self._get_request_param(platform_storage.PARAM)
        if self._get_request_param("lti1p3_new_window") or not platform_storage.valid_target(target):
            return None
        return target

    def storage_page(self, auth_url: str) -> dict[str, str] | None:
        """What the login page needs to put state and nonce in the LMS's storage, or None without storage."""
        target = self.storage_target()
        origin = platform_storage.platform_origin(self._registration.get_auth_login_url())
        if not target or not origin:
            return None
        secret = self.rt.settings.secret_key
        return {
            "mode": "login",
            "target": target,
            "platform_origin": origin,
            "auth_url": auth_url,
            "state_key": platform_storage.storage_key("state", self.state),
            "state_value": platform_storage.storage_value(secret, "state", self.state),
            "nonce_key": platform_storage.storage_key("nonce", self.nonce),
            "nonce_value": platform_storage.storage_value(secret, "nonce", self.nonce),
        }


def _new_window_url(login_params: dict[str, str]) -> str:
    """The login again, in a top-level window where the tool's cookies are first-party."""
    params = {k: v for k, v in login_params.items() if k != platform_storage.PARAM}
    return f"login?{urlencode({**params, 'lti1p3_new_window': '1'})}"


def _unknown_platform_reason(iss: str | None, client_id: str | None) -> str:
    who = f"issuer {iss!r}" + (f" with client id {client_id!r}" if client_id else "")
    return f"No registration matches {who}. Ask the service's administrator to register this LMS."


class ToolMessageLaunch(FlaskMessageLaunch):
    """The launch (LTI 1.3 §5.1.2) validated by our chain; see the module docstring."""

    def __init__(self, rt: Runtime, request, tool_conf: DbToolConf) -> None:
        self.cookies = ToolCookieService(request)
        super().__init__(request, tool_conf, session_service=_session_service(request), cookie_service=self.cookies)
        self.rt = rt
        self.registration_id: int | None = None

    def validate(self) -> ToolMessageLaunch:
        self._validated = True
        try:
            return (
                self.validate_state()
                .validate_jwt_format()
                .validate_registration()
                .validate_jwt_signature()
                .validate_nonce()
                .validate_deployment()
                .validate_message()
            )
        except LaunchRefused:
            self._validated = False
            raise
        except LtiException as exc:  # a pylti1p3 check we kept (format, message claims)
            self._validated = False
            raise InvalidLaunchRequest(str(exc)) from exc

    @property
    def claims(self) -> dict[str, Any]:
        return dict(self._get_jwt_body())

    def validate_state(self) -> ToolMessageLaunch:
        state = self._get_request_param("state")
        if not state:
            raise InvalidLaunchRequest("The launch has no state parameter.")
        if not self._get_request_param("id_token"):
            raise InvalidLaunchRequest("The launch has no id_token.")
        if self.cookies.get_cookie(state) == state:
            return self
        pending = lti_launch.pending_login(self.rt, state)
        if pending is None:
            raise InvalidLaunchRequest("The launch's state is unknown or expired. Start again from the LMS.")
        new_window_url = _new_window_url(pending.params)
        if (
            pending.params.get(platform_storage.PARAM)
            and self._get_request_param(platform_storage.STATE_FIELD) is not None
        ):
            # LTI OIDC Login with Client Side postMessages v0.1: without the cookie, the state read
            # back from the platform's storage must be the one this login stored there.
            if platform_storage.proves_login(
                self.rt.settings.secret_key,
                state,
                pending.nonce,
                self._get_request_param(platform_storage.STATE_FIELD),
                self._get_request_param(platform_storage.NONCE_FIELD),
            ):
                return self
            raise StorageMismatch(
                "The login data your LMS kept for this launch does not match it, so the launch "
                "may not have started in this browser. Launch the tool again from the LMS, or open "
                "it in a new window.",
                new_window_url=new_window_url,
            )
        # The state is ours but the browser did not send its cookie back: third-party cookies
        # are blocked in the iframe (and the LMS's storage, if offered, did not answer).
        # Restarting the login in a top-level window works.
        raise CookiesBlocked(
            "Your browser did not send back the cookie set a moment ago, which happens "
            "when it blocks cookies inside the LMS page. Open the tool in a new window "
            "to continue.",
            new_window_url=new_window_url,
        )

    def platform_storage_check(self) -> dict[str, str] | None:
        """The page that reads the login back from the LMS's storage, when the launch needs it.

        That is: no state cookie came back, the login stored its state in the platform
        (lti_storage_target), and the launch does not carry what the page read yet.
        """
        state = self._get_request_param("state")
        if not state or not self._get_request_param("id_token") or self.cookies.get_cookie(state) == state:
            return None
        if self._get_request_param(platform_storage.STATE_FIELD) is not None or self._get_request_param(
            platform_storage.FAILED_FIELD
        ):
            return None
        pending = lti_launch.pending_login(self.rt, state)
        target = pending.params.get(platform_storage.PARAM) if pending else None
        origin = platform_storage.platform_origin(pending.auth_login_url) if pending else None
        if not target or not origin:
            return None
        return {
            "mode": "launch",
            "target": target,
            "platform_origin": origin,
            "state_key": platform_storage.storage_key("state", state),
            "nonce_key": platform_storage.storage_key("nonce", pending.nonce),
            "id_token": self._get_request_param("id_token"),
            "state": state,
        }

    def get_client_id(self) -> str:
        body = self._jwt.get("body", {})
        aud, azp = body.get("aud"), body.get("azp")
        if azp:
            return azp
        if isinstance(aud, str):
            return aud
        if isinstance(aud, list) and len(aud) == 1:
            return aud[0]
        # OIDC Core §3.1.3.7 step 4: several audiences need an azp naming the intended client.
        raise InvalidIdToken("The id_token has several audiences and no azp claim naming our client id.")

    def validate_registration(self) -> ToolMessageLaunch:
        body = self._jwt.get("body", {})
        iss = body.get("iss")
        if not iss or not isinstance(iss, str):
            raise InvalidIdToken("The id_token has no issuer (iss).")
        client_id = self.get_client_id()
        conf: DbToolConf = self._tool_config
        try:
            found = conf.find_registration_by_params(iss, client_id)
        except AmbiguousClient as exc:  # cannot happen with a client_id; kept for completeness
            raise UnknownPlatform(_unknown_platform_reason(iss, client_id)) from exc
        except SQLAlchemyError:
            raise  # an outage is not an unknown platform
        except Exception as exc:  # pylti1p3 ToolConfs signal an unknown issuer with a plain Exception
            raise UnknownPlatform(_unknown_platform_reason(iss, client_id)) from exc
        if found is None:
            raise UnknownPlatform(_unknown_platform_reason(iss, client_id))
        self._registration = found
        self.registration_id = conf.registration_id(iss, client_id)
        return self

    def validate_jwt_signature(self) -> ToolMessageLaunch:
        header = self._jwt.get("header", {})
        alg, kid = header.get("alg"), header.get("kid")
        if alg != "RS256":
            raise InvalidIdToken(f"The id_token is signed with {alg!r}; only RS256 is accepted.")
        if not kid:
            raise InvalidIdToken("The id_token header has no kid, so its signing key cannot be found.")
        try:
            jwk = lti_registrations.platform_key(self.rt, self.registration_id, kid)
        except lti_registrations.PlatformUnavailable as exc:
            raise InvalidIdToken(f"The LMS's public keys could not be fetched ({exc}).") from exc
        if jwk is None:
            raise InvalidIdToken(f"The LMS's key set has no key with kid {kid!r}.")
        if jwk.get("kty") != "RSA" or jwk.get("alg", "RS256") != "RS256":
            raise InvalidIdToken(f"The LMS's key {kid!r} is not an RS256 key.")
        client_id = self._registration.get_client_id()
        try:
            key = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(jwk))
            jwt.decode(
                self._get_id_token(),
                key,
                algorithms=["RS256"],
                audience=client_id,
                issuer=self._registration.get_issuer(),
                leeway=LEEWAY_SECONDS,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidIdToken("The id_token has expired. Launch the tool again from the LMS.") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise InvalidIdToken(f"The id_token lacks the required {exc.claim!r} claim.") from exc
        except jwt.InvalidAudienceError as exc:
            raise InvalidIdToken(
                f"The id_token's audience (aud) does not contain our client id {client_id!r}."
            ) from exc
        except jwt.ImmatureSignatureError as exc:
            raise InvalidIdToken("The id_token was issued in the future; check the LMS's clock.") from exc
        except jwt.InvalidSignatureError as exc:
            raise InvalidIdToken("The id_token's signature does not match the LMS's key.") from exc
        except (jwt.InvalidTokenError, ValueError, TypeError) as exc:
            raise InvalidIdToken(f"The id_token is invalid: {type(exc).__name__}.") from exc
        azp = self._jwt["body"].get("azp")
        if azp is not None and azp != client_id:
            raise InvalidIdToken(f"The id_token's authorized party (azp) {azp!r} is not our client id.")
        return self

    def validate_nonce(self) -> ToolMessageLaunch:
        nonce = self._jwt["body"].get("nonce")
        outcome = lti_launch.consume_nonce(self.rt, self.registration_id, self._get_request_param("state"), nonce)
        if outcome == "replayed":
            raise ReplayedLaunch("This id_token (its nonce) was already used. Launch the tool again from the LMS.")
        if outcome == "expired":
            raise InvalidIdToken("The login took too long. Launch the tool again from the LMS.")
        if outcome != "ok":
            raise InvalidIdToken("The id_token's nonce was not issued by this service for this login.")
        return self

    def validate_deployment(self) -> ToolMessageLaunch:
        deployment_id = self._jwt["body"].get("https://purl.imsglobal.org/spec/lti/claim/deployment_id")
        if not deployment_id:
            raise InvalidLaunchRequest("The id_token has no deployment_id claim.")
        try:
            return super().validate_deployment()
        except LtiException as exc:
            raise UnknownDeployment(
                f"Deployment {deployment_id!r} of this LMS is not registered. Ask the "
                "service's administrator to add it."
            ) from exc

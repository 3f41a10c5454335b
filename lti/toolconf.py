"""pylti1p3's ToolConf over our database: registrations per tenant, several client_ids per issuer."""

from __future__ import annotations

from typing import Any

from pylti1p3.deployment import Deployment
from pylti1p3.registration import Registration
from pylti1p3.tool_config import ToolConfAbstract

from provisioning.lti import keys as lti_keys
from provisioning.lti import registrations as lti_registrations
from provisioning.runtime import Runtime


class AmbiguousClient(LookupError):
    """The issuer has several registrations and the request did not say which client_id."""


class DbToolConf(ToolConfAbstract):
    """Every issuer is treated as "many client_ids" (pylti1p3's recommended mode)."""

    def __init__(self, rt: Runtime) -> None:
        super().__init__()
        self.rt = rt
        # pylti1p3 keeps issuers_relation_types on the class; ours never consults it.
        self.issuers_relation_types = {}
        self.registration_ids: dict[tuple[str, str], int] = {}

    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def find_registration_by_issuer(self, iss: str, *args: Any, **kwargs: Any) -> Registration | None:
        return self.find_registration_by_params(iss, None)

    def find_registration_by_params(
        self, iss: str, client_id: str | None, *args: Any, **kwargs: Any
    ) -> Registration | None:
        """The registration for (iss, client_id); without client_id only if the issuer has exactly one."""
        rows = lti_registrations.find_registrations(self.rt, iss, client_id)
        if not rows:
            return None
        if len(rows) > 1:
            raise AmbiguousClient(iss)
        row = rows[0]
        self.registration_ids[(row.issuer, row.client_id)] = row.id
        key = lti_keys.current_key(self.rt)
        reg = (
            Registration()
            .set_issuer(row.issuer)
            .set_client_id(row.client_id)
            .set_auth_login_url(row.auth_login_url)
            .set_auth_token_url(row.auth_token_url)
            .set_key_set_url(row.key_set_url)
            .set_tool_private_key(key.private_pem)
        )
        if row.auth_audience:
            reg.set_auth_audience(row.auth_audience)
        return reg

    def registration_id(self, iss: str, client_id: str) -> int | None:
        if (iss, client_id) not in self.registration_ids:
            self.find_registration_by_params(iss, client_id)
        return self.registration_ids.get((iss, client_id))

    def find_deployment(self, iss: str, deployment_id: str) -> Deployment | None:
        return None  # one-client mode is never used (check_iss_has_one_client is False)

    def find_deployment_by_params(
        self, iss: str, deployment_id: str, client_id: str, *args: Any, **kwargs: Any
    ) -> Deployment | None:
        reg_id = self.registration_id(iss, client_id)
        if reg_id is None:
            return None
        found = lti_registrations.accept_deployment(self.rt, reg_id, deployment_id)
        return Deployment().set_deployment_id(found.deployment_id) if found is not None else None

    def get_jwks(self, iss: str | None = None, client_id: str | None = None, **kwargs: Any) -> dict:
        return lti_keys.published_jwks(self.rt)

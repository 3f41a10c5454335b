"""scim2-server as the `scim2-server` command builds it (in-memory storage, static bearer token),
loaded with the benchmark's users and group, for gunicorn: ``gunicorn --preload scim2_server_app:application``.

Runs in the peer's own virtual environment (bench/.peers/scim2-server), never in ours.
Environment: PEER_USERS, PEER_MEMBERS (the group's members are users 1..PEER_MEMBERS), PEER_TOKEN.
Identifiers are sequential ("1", "2", ...), through the documented ``generate_id`` override, so
the load generator can name users without listing them; the group is the next id.
"""

import datetime
import itertools
import os
import sys
import time

from scim2_models import Email, Group, GroupMember, Meta, Name, ScimProvider, User
from scim2_server.memory import InMemoryStorage
from scim2_server.service import ScimService
from scim2_server.testserver.application import (
    BEARER_TOKEN_SCHEME,
    BearerTokenApplication,
)
from scim2_server.utils import (
    load_default_resource_types,
    load_default_schemas,
    load_default_service_provider_config,
)


class SequentialIdStorage(InMemoryStorage):
    def __init__(self) -> None:
        super().__init__()
        self.ids = itertools.count(1)

    def generate_id(self, resource_type, resource) -> str:
        return str(next(self.ids))


def build():
    config = load_default_service_provider_config()
    config.authentication_schemes = [*(config.authentication_schemes or []), BEARER_TOKEN_SCHEME]
    resource_types = load_default_resource_types()
    provider = ScimProvider.from_discovery(load_default_schemas().values(), resource_types.values(), config=config)
    storage = SequentialIdStorage()
    users, members = int(os.environ["PEER_USERS"]), int(os.environ["PEER_MEMBERS"])
    started = time.monotonic()
    now = datetime.datetime.now(datetime.UTC)

    def meta(kind: str, i: int) -> Meta:
        return Meta(resource_type=kind, created=now, last_modified=now, version=f'W/"{i}"')

    resources = []
    for i in range(1, users + 1):
        domain = "y.example.org" if i % 4 == 0 else "example.com"
        resources.append(
            User(
                id=str(i),
                meta=meta("User", i),
                user_name=f"idp-{i}",
                active=True,
                name=Name(given_name=f"Given{i}", family_name=f"Family{i}"),
                display_name=f"Given{i} Family{i}",
                emails=[Email(value=f"idp-{i}@{domain}", primary=True)],
            )
        )
    resources.append(
        Group(
            id=str(users + 1),
            meta=meta("Group", users + 1),
            display_name="IdP group",
            members=[GroupMember(value=str(i), type="User") for i in range(1, members + 1)],
        )
    )
    # The storage's documented bulk setter indexes them as create() would (ids and versions go on).
    storage.resources = resources
    storage.ids = itertools.count(users + 2)
    storage.versions = itertools.count(users + 2)
    print(
        f"scim2-server peer: {users} users, a group of {members} loaded in {time.monotonic() - started:.1f} s",
        file=sys.stderr,
        flush=True,
    )
    return BearerTokenApplication(
        storage, provider, service=ScimService(provider), bearer_tokens=[os.environ["PEER_TOKEN"]]
    )


application = build()

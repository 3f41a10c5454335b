"""How a join link's token is made: an itsdangerous-signed "tenant_user_send-number" (with the group
for a group invitation).  Reading and using one is provisioning/services/join_links.py's; making one
lives here, below the mail package, because the outbox signs an invitation's link when it sends it
(provisioning/mail/outbox.py): the link is good for INVITATION_LINK_DAYS from the sending, not from
the queueing, and a bulk add of 100,000 people signs nothing while it queues their emails.
"""

from __future__ import annotations

from collections.abc import Callable

from itsdangerous import TimestampSigner

from provisioning.runtime import Runtime

SALT = "invitation-join-link"


def signer(rt: Runtime) -> TimestampSigner:
    # A signed "tenant_user_send" string rather than a serialized object: a bulk add signs 100,000 links,
    # and itsdangerous' serializer (JSON, zlib, a signer per token) costs six times the signer alone.
    return TimestampSigner(rt.settings.secret_key, salt=SALT)


def join_links(rt: Runtime, tenant_id: int) -> Callable[[int, int], str]:
    """``link(user_id, sent_count)``: the URL of the join link of the ``sent_count``-th sending of the
    user's invitation (one signer for a whole batch of invitations)."""
    sign, base = signer(rt).sign, f"{rt.settings.public_base_url}/join/"

    def link(user_id: int, sent_count: int) -> str:
        return base + sign(f"{tenant_id}_{user_id}_{sent_count}").decode()

    return link


def join_link(rt: Runtime, tenant_id: int, user_id: int, sent_count: int) -> str:
    """The URL of the join link of the ``sent_count``-th sending of the user's invitation."""
    return join_links(rt, tenant_id)(user_id, sent_count)


def group_join_link(rt: Runtime, tenant_id: int, group_id: int, user_id: int, sent_count: int) -> str:
    """The URL of the join link of the ``sent_count``-th sending of the user's invitation to a group."""
    token = signer(rt).sign(f"{tenant_id}_{user_id}_{sent_count}_{group_id}").decode()
    return f"{rt.settings.public_base_url}/join/{token}"

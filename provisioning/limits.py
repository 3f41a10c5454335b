"""How much work one request may ask for (issue 15 #10): one place for each bound, read by every edge
that enforces it and by /ServiceProviderConfig, which advertises it.

Chosen so the largest request allowed stays under a few seconds on a two-core machine with PostgreSQL
(measured with ``python -m bench request_bounds``; figures in bench/README.md): a server thread is not held
for longer, and an identity provider's HTTP timeout is never reached.
"""

from __future__ import annotations

import math

# Members one request may name: the admin API's user_ids/emails, and a SCIM group's POST, PUT or PATCH
# (all its operations together).  Larger groups are built up by several requests (or an import).
MEMBERS_PER_REQUEST = 10_000

# New users one request may create: the unknown emails the admin API invites when adding
# members.  Each is a user, an invitation and an email in the outbox (15-50 ms apiece, by the machine's
# load); more go through a CSV import, a background job.
USERS_CREATED_PER_REQUEST = 50
# How often one person may be invited to one group (a manager can't mail someone again and again).
GROUP_INVITATION_SENDS = 5

# SCIM Bulk (RFC 7644 §3.7.4), advertised as bulk.maxOperations and bulk.maxPayloadSize.  Every
# operation may create a user, so the same bound.
BULK_MAX_OPERATIONS = USERS_CREATED_PER_REQUEST
BULK_MAX_PAYLOAD_SIZE = 1024 * 1024

# SCIM lists (GET /Groups, .search): a group with more members than this is listed without its
# ``members``.  RFC 7643 §7 returns members by default, so this is a documented departure, for lists
# only: GET /Groups/{id} stays complete, and Group schema's members description in /Schemas says so.
LIST_MEMBERS_MAX = 1000

# Rate limiting: a Bulk request counts as one request per this many of its operations (rounded up),
# charged in full before any operation runs, so a Bulk is refused whole (429) or runs whole.
BULK_OPERATIONS_PER_REQUEST = 10


def bulk_cost(operations: int) -> int:
    """What a Bulk of ``operations`` operations counts against the per-token rate limit."""
    return max(1, math.ceil(operations / BULK_OPERATIONS_PER_REQUEST))

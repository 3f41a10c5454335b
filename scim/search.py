"""Reading SCIM list parameters (RFC 7644 §3.4.2) and translating the directory's refusals.

The queries themselves are the core's (:mod:`provisioning.services.directory`): filtered,
sorted and paged in SQL, scoped to the caller's tenant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from provisioning.filters.parser import InvalidFilter
from provisioning.filters.translate import Resource
from provisioning.runtime import Runtime
from provisioning.services import directory
from provisioning.services.directory import InvalidSortBy, ListQuery
from scim.errors import InvalidFilterError, InvalidValueError, ScimError
from scim.projection import parse_list


@dataclass
class Query:
    filter: str | None = None
    sort_by: str | None = None
    descending: bool = False
    start: int = 1
    count: int = 100
    attributes: list = field(default_factory=list)
    excluded: list = field(default_factory=list)


def parse_query(params: dict[str, Any], max_count: int, int_param) -> Query:
    """Read filter, sortBy, sortOrder, startIndex, count, attributes and excludedAttributes."""
    flt = params.get("filter")
    if flt is not None and not isinstance(flt, str):
        raise InvalidFilterError("filter must be a string.")
    sort_by = params.get("sortBy")
    if sort_by is not None and not isinstance(sort_by, str):
        raise InvalidValueError("sortBy must be a string.")
    order = params.get("sortOrder") or "ascending"
    if not isinstance(order, str) or order.lower() not in ("ascending", "descending"):
        raise InvalidValueError(f"sortOrder must be ascending or descending, got {order!r}.")
    start = int_param(params, "startIndex")
    count = int_param(params, "count")
    # RFC 7644 §3.4.2.4: startIndex < 1 is 1; a negative count is 0; we cap count at our maximum.
    return Query(
        filter=flt.strip() or None if flt else None,
        sort_by=sort_by or None,
        descending=order.lower() == "descending",
        start=max(start or 1, 1),
        count=max_count if count is None else min(max(count, 0), max_count),
        attributes=parse_list(params.get("attributes")),
        excluded=parse_list(params.get("excludedAttributes")),
    )


def search(rt: Runtime, resource: Resource, tenant_id: int, query: Query, with_related: bool, members_at_most: int):
    """:func:`provisioning.services.directory.search`, its refusals in SCIM form."""
    listing = ListQuery(query.filter, query.sort_by, query.descending, query.start, query.count)
    try:
        return directory.search(rt, resource, tenant_id, listing, with_related, members_at_most)
    except InvalidFilter as exc:
        where = f" (at position {exc.position})" if getattr(exc, "position", None) is not None else ""
        raise ScimError(
            f"{exc.message}{where}", status=400, scim_type=getattr(exc, "scim_type", None) or "invalidFilter"
        ) from None
    except InvalidSortBy as exc:
        raise InvalidValueError(f"sortBy: {exc.message}") from None

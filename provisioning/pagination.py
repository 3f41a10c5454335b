"""Page through a SELECT with the total counted in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")

DEFAULT_PER_PAGE = 50


@dataclass
class Page(Generic[T]):
    items: Sequence[T]
    total: int
    page: int
    per_page: int


def paginate(
    session: Session, stmt: Select[Any] | Select[Any, Any], page: int, per_page: int, *, scalars: bool = True
) -> Page[Any]:
    """Run ``stmt`` for one page; ``stmt`` must already carry a stable ORDER BY."""
    page = max(page, 1)
    per_page = max(per_page, 1)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    paged = stmt.limit(per_page).offset((page - 1) * per_page)
    rows = session.scalars(paged).all() if scalars else session.execute(paged).all()
    return Page(items=rows, total=total, page=page, per_page=per_page)

"""CSV exports written by background jobs, kept in chunks so memory stays flat."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from provisioning.models.base import Base


class ExportChunk(Base):
    """One chunk of a CSV export written by a batch job; the download streams them in order."""

    __tablename__ = "export_chunks"

    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    content: Mapped[str] = mapped_column(Text)

"""Writing and reading the audit log. Entries join the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from protolearn.accounts.schemas import AuditEntryOut
from protolearn.pagination import Page, count_rows
from protolearn.store.audit import AuditEntry

__all__ = ("list_entries", "record")


def record(
    session: AsyncSession,
    *,
    actor_id: int | None,
    action: str,
    object_type: str,
    object_id: int | None,
    address: str | None = None,
    **details: Any,
) -> None:
    session.add(
        AuditEntry(
            actor_id=actor_id,
            action=action,
            object_type=object_type,
            object_id=object_id,
            details=details,
            address=address,
        )
    )


async def list_entries(
    session: AsyncSession,
    *,
    page: int,
    page_size: int,
    action: str | None = None,
    actor_id: int | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
) -> Page[AuditEntryOut]:
    query = select(AuditEntry)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    if object_type is not None:
        query = query.where(AuditEntry.object_type == object_type)
    if object_id is not None:
        query = query.where(AuditEntry.object_id == object_id)
    total = await count_rows(session, query)
    rows = await session.scalars(
        query.order_by(AuditEntry.id.desc()).offset(Page.offset(page, page_size)).limit(page_size)
    )
    items = [
        AuditEntryOut(
            id=row.id,
            actor_id=row.actor_id,
            action=row.action,
            object_type=row.object_type,
            object_id=row.object_id,
            details=row.details,
            address=row.address,
            created_at=row.created_at,
        )
        for row in rows
    ]
    return Page(items=items, total=total, page=page, page_size=page_size)

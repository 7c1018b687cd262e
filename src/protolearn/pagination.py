"""The page envelope every list endpoint returns."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

import msgspec
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ("MAX_PAGE_SIZE", "Page", "PageNumber", "PageSize", "count_rows")

T = TypeVar("T")
MAX_PAGE_SIZE = 100
PageNumber = Annotated[int, msgspec.Meta(ge=1, le=1_000_000)]
PageSize = Annotated[int, msgspec.Meta(ge=1, le=MAX_PAGE_SIZE)]


class Page(msgspec.Struct, Generic[T], frozen=True, kw_only=True):
    items: list[T]
    total: int
    page: int
    page_size: int

    @staticmethod
    def offset(page: int, page_size: int) -> int:
        return (page - 1) * page_size


async def count_rows(session: AsyncSession, query: Select[Any]) -> int:
    """How many rows ``query`` yields in all, for a page's ``total``."""
    return await session.scalar(select(func.count()).select_from(query.subquery())) or 0

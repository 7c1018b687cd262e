"""The page envelope every list endpoint returns."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

import msgspec

__all__ = ("MAX_PAGE_SIZE", "Page", "PageNumber", "PageSize")

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

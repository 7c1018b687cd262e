"""Base classes and field types shared by every room's wire schemas."""

from __future__ import annotations

from typing import Annotated

import msgspec

__all__ = ("MAX_RECORD_ID", "Email", "Name", "Password", "RecordId", "Request", "Response", "Text")


class Request(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A request body: unknown fields are refused with a message naming them."""


class Response(msgspec.Struct, frozen=True, kw_only=True):
    """An answer body."""


Email = Annotated[
    str,
    msgspec.Meta(
        min_length=3, max_length=320, pattern=r"^\s*[^@\s]+@[^@\s]+\.[^@\s]+\s*$", examples=["ada@school.org"]
    ),
]
Password = Annotated[str, msgspec.Meta(min_length=8, max_length=256)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"\S")]
Text = Annotated[str, msgspec.Meta(max_length=20_000)]

# The largest id a row can have: the id columns are INTEGER, 32 bits on PostgreSQL (SQLite's
# allow 64): a larger one names nothing, and the drivers raise on it instead of finding nothing.
MAX_RECORD_ID = 2**31 - 1
RecordId = Annotated[int, msgspec.Meta(ge=1, le=MAX_RECORD_ID)]

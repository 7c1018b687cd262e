"""Path and query parameters the controllers share: record ids, bounded to what a database holds.

An id past ``MAX_RECORD_ID`` (2^31-1: the id columns are INTEGER, 32 bits on PostgreSQL) cannot name
a row, and handing it to the driver raises instead of finding nothing: such a request is refused as
invalid.
"""

from __future__ import annotations

from typing import Annotated

from litestar.params import PathParameter, QueryParameter

from protolearn.wire import MAX_RECORD_ID

__all__ = ("PathId", "QueryId")

PathId = Annotated[int, PathParameter(ge=1, le=MAX_RECORD_ID)]
QueryId = Annotated[int | None, QueryParameter(ge=1, le=MAX_RECORD_ID)]  # a filter: optional

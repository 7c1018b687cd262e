"""Path and query parameters the controllers share: record ids, bounded to what a database holds.

An id past 2^63-1 cannot name a row (SQLite's INTEGER and PostgreSQL's BIGINT stop there), and
handing it to the driver raises instead of finding nothing: such a request is refused as invalid.
"""

from __future__ import annotations

from typing import Annotated

from litestar.params import PathParameter, QueryParameter

from protolearn.wire import MAX_RECORD_ID

__all__ = ("PathId", "QueryId")

PathId = Annotated[int, PathParameter(ge=1, le=MAX_RECORD_ID)]
QueryId = Annotated[int | None, QueryParameter(ge=1, le=MAX_RECORD_ID)]  # a filter: optional

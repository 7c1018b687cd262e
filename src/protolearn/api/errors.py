"""Every error leaves as an RFC 9457 problem-details body; domain errors are mapped here, once,
and the OpenAPI document lists those answers on every operation (``ProblemResponses``). A
database that cannot be reached (a restart, a failover) answers 503 with ``Retry-After``: the
engine's pre-ping replaces dead pooled connections, so the next try succeeds once it is back."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import asyncpg.exceptions
import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi import ResponseSpec
from litestar.plugins import ReceiveRoutePlugin
from litestar.routes import BaseRoute, HTTPRoute
from litestar.types import ExceptionHandlersMap
from sqlalchemy import exc as sa

from protolearn.ai.errors import ProviderBadOutput, ProviderError, ProviderUnavailable
from protolearn.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    ProtoLearnError,
    RateLimited,
    Unauthenticated,
)
from protolearn.store.outage import database_unreachable
from protolearn.wire import Response as ResponseBody

__all__ = ("EXCEPTION_HANDLERS", "PROBLEM_JSON", "Problem", "ProblemResponses")

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"

_STATUS_BY_ERROR: tuple[tuple[type[ProtoLearnError], HTTPStatus], ...] = (
    (Unauthenticated, HTTPStatus.UNAUTHORIZED),
    (PermissionDenied, HTTPStatus.FORBIDDEN),
    (NotFound, HTTPStatus.NOT_FOUND),
    (Conflict, HTTPStatus.CONFLICT),
    (InvalidInput, HTTPStatus.UNPROCESSABLE_ENTITY),
    (RateLimited, HTTPStatus.TOO_MANY_REQUESTS),
    (ProviderUnavailable, HTTPStatus.SERVICE_UNAVAILABLE),
    (ProviderBadOutput, HTTPStatus.BAD_GATEWAY),
)


class Problem(ResponseBody, frozen=True):
    """An error answer. Domain errors add ``code`` (the error's name) and members of their own;
    an invalid request adds ``errors``, one entry per field or parameter."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    code: str | msgspec.UnsetType = msgspec.UNSET
    errors: list[dict[str, Any]] | msgspec.UnsetType = msgspec.UNSET


# What any operation may answer besides its own success: an invalid request (400), a body over
# the size limit (413), the database out of reach (503), and the statuses the domain errors map
# to. Not 500: that is a bug.
_DOCUMENTED_ERRORS = sorted(
    {HTTPStatus.BAD_REQUEST, HTTPStatus.REQUEST_ENTITY_TOO_LARGE, HTTPStatus.SERVICE_UNAVAILABLE}
    | {s for _, s in _STATUS_BY_ERROR}
)
_PROBLEM_RESPONSES = {
    status.value: ResponseSpec(
        data_container=Problem,
        media_type=PROBLEM_JSON,
        description=f"{status.phrase}: problem details",
        generate_examples=False,
    )
    for status in _DOCUMENTED_ERRORS
}


class ProblemResponses(ReceiveRoutePlugin):
    """Lists the problem-details answers on every operation, in place of Litestar's own 400
    (a ``{status_code, detail}`` JSON body this app never sends); an operation's own entries win."""

    def receive_route(self, route: BaseRoute) -> None:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                handler.responses = {**_PROBLEM_RESPONSES, **(handler.responses or {})}


def problem(
    request: Request[Any, Any, Any],
    status: HTTPStatus,
    detail: str,
    *,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        **(extensions or {}),  # standard members below always win
        "type": "about:blank",
        "title": title or status.phrase,
        "status": status.value,
        "detail": detail,
        "instance": request.url.path,
    }
    return Response(body, status_code=status.value, media_type=PROBLEM_JSON, headers=headers)


def status_of(exc: ProtoLearnError) -> HTTPStatus:
    """The HTTP status of a domain error (also used for errors on the live channel)."""
    return next((s for kind, s in _STATUS_BY_ERROR if isinstance(exc, kind)), HTTPStatus.BAD_REQUEST)


def _domain_error(request: Request[Any, Any, Any], exc: ProtoLearnError) -> Response[dict[str, Any]]:
    status = status_of(exc)
    headers = {}
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, ProviderError) and exc.retry_after is not None:
        headers["Retry-After"] = str(max(1, round(exc.retry_after)))
    if isinstance(exc, Unauthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    return problem(
        request,
        status,
        exc.detail,
        title=exc.title,
        headers=headers,
        extensions={"code": type(exc).__name__, **exc.extra},
    )


def _validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[dict[str, Any]]:
    errors = [
        {k: getattr(v, "value", v) for k, v in error.items()} if isinstance(error, dict) else error
        for error in (exc.extra if isinstance(exc.extra, list) else [])
    ]
    messages = [_describe(error) for error in errors]
    detail = "; ".join(messages) if messages else exc.detail
    return problem(
        request, HTTPStatus.BAD_REQUEST, detail, title="Invalid request", extensions={"errors": errors}
    )


def _describe(error: Any) -> str:
    """One validation error as a sentence naming the field or parameter."""
    if not isinstance(error, dict):
        return str(error)
    message = str(error.get("message", error))
    key, source = error.get("key"), getattr(error.get("source"), "value", error.get("source"))
    if not key or key == "data" or f"`{key}`" in message:
        return message
    where = "field" if source == "body" else f"{source} parameter"
    return f"{where} `{key}`: {message}"


def _http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    status = HTTPStatus(exc.status_code)
    detail = exc.detail if exc.detail and exc.detail != status.phrase else status.description
    extensions = exc.extra if isinstance(exc.extra, dict) else None
    return problem(request, status, detail, headers=exc.headers, extensions=extensions)


def _recursion_error(request: Request[Any, Any, Any], exc: RecursionError) -> Response[dict[str, Any]]:
    # msgspec refuses JSON nested deeper than the interpreter's stack: the body's fault.
    if "deserializing" in str(exc):
        return problem(
            request, HTTPStatus.BAD_REQUEST, "the JSON body is nested too deeply", title="Invalid request"
        )
    return _unexpected_error(request, exc)


# Seconds a client is asked to wait before trying again while the database is out of reach.
DATABASE_RETRY_AFTER_SECONDS = 2


def _database_error(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    if not database_unreachable(exc):
        return _unexpected_error(request, exc)
    root = exc
    while isinstance(root.__cause__, Exception):
        root = root.__cause__
    # One line, no traceback: an outage is not a bug, and every request during it gets here.
    log.warning(
        "database unavailable on %s %s: %s: %s",
        request.method,
        request.url.path,
        type(root).__name__,
        str(root).splitlines()[0] if str(root) else "",
    )
    return problem(
        request,
        HTTPStatus.SERVICE_UNAVAILABLE,
        "the database cannot be reached right now; try again shortly",
        title="Database unavailable",
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        extensions={"code": "DatabaseUnavailable"},
    )


def _unexpected_error(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(
        request, HTTPStatus.INTERNAL_SERVER_ERROR, "an internal error occurred; it has been logged"
    )


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    ProtoLearnError: _domain_error,
    ValidationException: _validation_error,
    HTTPException: _http_error,
    RecursionError: _recursion_error,
    # Each checks that the database is out of reach; anything else goes on to _unexpected_error.
    sa.SQLAlchemyError: _database_error,
    asyncpg.exceptions.PostgresError: _database_error,
    asyncpg.exceptions.InterfaceError: _database_error,
    OSError: _database_error,
    Exception: _unexpected_error,
}

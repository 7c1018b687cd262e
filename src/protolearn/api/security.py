"""Bearer-token authentication and role guards.

The middleware turns ``Authorization: Bearer <token>`` into a ``Principal`` on
``connection.user``, checking the account against the database on every request (a deactivated
user or a changed password ends access at once). Guards then check the role. A request for an
evidence clip may instead carry a signed link (``proctoring.links``): it acts as its signer.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from protolearn.accounts.principals import authenticate
from protolearn.accounts.schemas import Principal
from protolearn.errors import PermissionDenied, Unauthenticated
from protolearn.logs import USER_ID
from protolearn.proctoring.links import EvidenceLinks
from protolearn.store.users import Role

__all__ = ("BearerAuthMiddleware", "client_address", "limited", "principal_of", "requires")

AsyncGuard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]


class BearerAuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        state = connection.app.state
        signed = _signed_evidence_id(connection)
        if signed is not None:
            links: EvidenceLinks = state.evidence_links
            query = connection.query_params
            async with state.sessionmaker() as session:
                principal = await links.viewer(
                    session, signed, query.get("viewer", ""), query.get("expires", ""), query["signature"]
                )
            return AuthenticationResult(user=principal, auth=None)
        token = _bearer_token(connection)
        principal = await authenticate(state.sessionmaker, state.token_codec, state.accounts, token)
        USER_ID.set(principal.user_id)  # on every line logged for this request
        return AuthenticationResult(user=principal, auth=token)


_SIGNED_VIDEO = re.compile(r"^/api/evidence/(\d+)/video$")


def _signed_evidence_id(connection: ASGIConnection[Any, Any, Any, Any]) -> int | None:
    """The evidence id of a request for a clip through a signed link (see proctoring.links)."""
    if connection.scope["type"] != ScopeType.HTTP or "signature" not in connection.query_params:
        return None
    match = _SIGNED_VIDEO.match(connection.scope["path"])
    return int(match.group(1)) if match else None


def _bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    header = connection.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("the Authorization header must be 'Bearer <access token>'")
        return token.strip()
    if connection.scope["type"] == ScopeType.WEBSOCKET and connection.query_params.get("token"):
        return str(connection.query_params["token"])
    raise Unauthenticated("log in first: send 'Authorization: Bearer <access token>'")


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    principal = connection.scope.get("user")  # absent where the middleware did not run
    if not isinstance(principal, Principal):
        raise Unauthenticated("not authenticated")
    return principal


def requires(*roles: Role) -> AsyncGuard:
    """A guard letting through only the given roles. Async though it awaits nothing: Litestar
    runs a plain function guard on a worker thread, a hop that was a tenth of an autosave's CPU."""
    allowed = frozenset(roles)
    names = " or ".join(sorted(role.value for role in allowed))

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
        if connection.scope.get("method") == "OPTIONS":
            return  # a preflight carries no credentials and runs nothing: it only lists the methods
        if principal_of(connection).role not in allowed:
            raise PermissionDenied(f"this needs the {names} role")

    return guard


def limited(name: str) -> AsyncGuard:
    """A guard counting the caller's requests against the app's ``RequestLimits`` of that name
    (429 past it); put it after the role guard, so a refused caller spends nothing."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
        limit = getattr(connection.app.state.request_limits, name)
        await limit.spend(f"user:{principal_of(connection).user_id}")

    return guard


def client_address(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    return connection.client.host if connection.client else "unknown"

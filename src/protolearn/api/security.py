"""Bearer-token authentication and role guards.

The middleware turns ``Authorization: Bearer <token>`` into a ``Principal`` on
``connection.user``, checking the account against the database on every request (a deactivated
user or a changed password ends access at once). Guards then check the role.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from protolearn.accounts.schemas import Principal
from protolearn.accounts.service import resolve_principal
from protolearn.errors import PermissionDenied, Unauthenticated
from protolearn.store.users import Role

__all__ = ("BearerAuthMiddleware", "client_address", "principal_of", "requires")

Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], None]


class BearerAuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        token = _bearer_token(connection)
        state = connection.app.state
        async with state.sessionmaker() as session:
            principal = await resolve_principal(session, state.token_codec, token)
        return AuthenticationResult(user=principal, auth=token)


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
    principal = connection.user
    if not isinstance(principal, Principal):
        raise Unauthenticated("not authenticated")
    return principal


def requires(*roles: Role) -> Guard:
    """A guard letting through only the given roles."""
    allowed = frozenset(roles)
    names = " or ".join(sorted(role.value for role in allowed))

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
        if principal_of(connection).role not in allowed:
            raise PermissionDenied(f"this needs the {names} role")

    return guard


def client_address(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    return connection.client.host if connection.client else "unknown"

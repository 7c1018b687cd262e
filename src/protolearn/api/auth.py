"""``/api/auth``: register, login, token refresh, logout, the caller's own account.

Browsers get the refresh token as an ``HttpOnly``, ``SameSite=Strict`` cookie scoped to
``/api/auth`` as well, and ``/refresh`` and ``/logout`` read it when the body has none, so page
scripts never need to hold it. Scripts keep using the JSON body.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, patch, post
from litestar.datastructures import Cookie
from litestar.openapi import ResponseSpec
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from protolearn.accounts.schemas import (
    LoginRequest,
    MeUpdate,
    PasswordChange,
    RefreshRequest,
    RegisterRequest,
    TokenPair,
    UserOut,
)
from protolearn.api.dependencies import Accounts, Caller
from protolearn.api.security import client_address
from protolearn.config import Settings
from protolearn.errors import Unauthenticated

__all__ = ("REFRESH_COOKIE", "AuthController")

REFRESH_COOKIE = "protolearn_refresh"
_COOKIE_PATH = "/api/auth"

AnyRequest = Request[Any, Any, Any]


def _refresh_cookie(request: AnyRequest, value: str, max_age: int) -> Cookie:
    return Cookie(
        key=REFRESH_COOKIE,
        value=value,
        path=_COOKIE_PATH,
        max_age=max_age,
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="strict",
    )


def _with_cookie(request: AnyRequest, pair: TokenPair) -> Response[TokenPair]:
    settings: Settings = request.app.state.settings
    return Response(
        pair, cookies=[_refresh_cookie(request, pair.refresh_token, settings.refresh_token_ttl_seconds)]
    )


def _presented_refresh_token(request: AnyRequest, data: RefreshRequest | None) -> str:
    token = data.refresh_token if data is not None else request.cookies.get(REFRESH_COOKIE)
    if not token:
        raise Unauthenticated("no refresh token: sign in again")
    return token


class AuthController(Controller):
    path = "/api/auth"
    tags = ["auth"]

    @post("/register", status_code=HTTP_201_CREATED, exclude_from_auth=True)
    async def register(
        self, data: JSONBody[RegisterRequest], accounts: Accounts, request: AnyRequest
    ) -> UserOut:
        """Create a student account (or a teacher account, when teacher sign-up is open); at most
        PROTOLEARN_REGISTER_MAX_PER_ADDRESS from one address an hour (429 past it)."""
        await request.app.state.request_limits.registration.spend(f"address:{client_address(request)}")
        return await accounts.register(data)

    @post("/login", status_code=HTTP_200_OK, exclude_from_auth=True)
    async def login(
        self, data: JSONBody[LoginRequest], accounts: Accounts, request: AnyRequest
    ) -> Response[TokenPair]:
        """Exchange email and password for an access token and a refresh token (also set as a cookie)."""
        return _with_cookie(request, await accounts.login(data, client_address(request)))

    @post("/refresh", status_code=HTTP_200_OK, exclude_from_auth=True)
    async def refresh(
        self, accounts: Accounts, request: AnyRequest, data: JSONBody[RefreshRequest | None] = None
    ) -> Response[TokenPair]:
        """Rotate the refresh token (from the body, else the cookie); a used one revokes the login."""
        return _with_cookie(request, await accounts.refresh(_presented_refresh_token(request, data)))

    @post(
        "/logout",
        status_code=HTTP_204_NO_CONTENT,
        exclude_from_auth=True,
        # An empty answer: without this the document would promise a JSON null.
        responses={HTTP_204_NO_CONTENT: ResponseSpec(None, description="signed out; the cookie is cleared")},
    )
    async def logout(
        self, accounts: Accounts, request: AnyRequest, data: JSONBody[RefreshRequest | None] = None
    ) -> Response[None]:
        """Revoke the refresh token (and its rotation chain) and clear the cookie."""
        token = data.refresh_token if data is not None else request.cookies.get(REFRESH_COOKIE)
        if token:
            await accounts.logout(token)
        return Response(None, cookies=[_refresh_cookie(request, "", 0)])

    @get("/me")
    async def me(self, principal: Caller, accounts: Accounts) -> UserOut:
        return await accounts.me(principal)

    @patch("/me")
    async def update_me(self, data: JSONBody[MeUpdate], principal: Caller, accounts: Accounts) -> UserOut:
        return await accounts.rename(principal, data.name)

    @post("/password", status_code=HTTP_200_OK)
    async def change_password(
        self,
        data: JSONBody[PasswordChange],
        principal: Caller,
        accounts: Accounts,
        request: AnyRequest,
    ) -> Response[TokenPair]:
        """Change the password; every other session ends and a fresh token pair is returned."""
        return _with_cookie(request, await accounts.change_password(principal, data, client_address(request)))

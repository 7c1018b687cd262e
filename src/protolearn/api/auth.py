"""``/api/auth``: register, login, token refresh, logout, the caller's own account."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, patch, post
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

__all__ = ("AuthController",)


class AuthController(Controller):
    path = "/api/auth"
    tags = ["auth"]

    @post("/register", status_code=HTTP_201_CREATED, exclude_from_auth=True)
    async def register(self, data: JSONBody[RegisterRequest], accounts: Accounts) -> UserOut:
        """Create a student account (or a teacher account, when teacher sign-up is open)."""
        return await accounts.register(data)

    @post("/login", status_code=HTTP_200_OK, exclude_from_auth=True)
    async def login(
        self, data: JSONBody[LoginRequest], accounts: Accounts, request: Request[Any, Any, Any]
    ) -> TokenPair:
        """Exchange email and password for an access token and a refresh token."""
        return await accounts.login(data, client_address(request))

    @post("/refresh", status_code=HTTP_200_OK, exclude_from_auth=True)
    async def refresh(self, data: JSONBody[RefreshRequest], accounts: Accounts) -> TokenPair:
        """Rotate the refresh token; presenting a used one revokes the whole login."""
        return await accounts.refresh(data.refresh_token)

    @post("/logout", status_code=HTTP_204_NO_CONTENT, exclude_from_auth=True)
    async def logout(self, data: JSONBody[RefreshRequest], accounts: Accounts) -> None:
        """Revoke the refresh token (and the rotation chain it belongs to)."""
        await accounts.logout(data.refresh_token)

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
        request: Request[Any, Any, Any],
    ) -> TokenPair:
        """Change the password; every other session ends and a fresh token pair is returned."""
        return await accounts.change_password(principal, data, client_address(request))

"""``/api/users``: user administration, for admins."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import FromQuery, JSONBody, Parameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from protolearn.accounts.schemas import UserCreate, UserOut, UserUpdate
from protolearn.api.dependencies import Accounts, Caller, WithPaging
from protolearn.api.params import PathId
from protolearn.api.security import client_address, requires
from protolearn.pagination import Page
from protolearn.store.users import Role

__all__ = ("UsersController",)


class UsersController(Controller):
    path = "/api/users"
    tags = ["users"]
    guards = [requires(Role.ADMIN)]

    @get("/")
    async def list_users(
        self,
        accounts: Accounts,
        paging: WithPaging,
        role: FromQuery[Role | None] = None,
        search: str | None = Parameter(default=None, max_length=200),
    ) -> Page[UserOut]:
        return await accounts.list_users(
            page=paging.page, page_size=paging.page_size, role=role, search=search
        )

    @post("/", status_code=HTTP_201_CREATED)
    async def create_user(
        self,
        data: JSONBody[UserCreate],
        principal: Caller,
        accounts: Accounts,
        request: Request[Any, Any, Any],
    ) -> UserOut:
        return await accounts.create_user(principal, data, client_address(request))

    @patch("/{user_id:int}")
    async def update_user(
        self,
        user_id: PathId,
        data: JSONBody[UserUpdate],
        principal: Caller,
        accounts: Accounts,
        request: Request[Any, Any, Any],
    ) -> UserOut:
        return await accounts.update_user(principal, user_id, data, client_address(request))

    @post("/{user_id:int}/sessions/revoke", status_code=HTTP_204_NO_CONTENT)
    async def revoke_sessions(
        self, user_id: PathId, principal: Caller, accounts: Accounts, request: Request[Any, Any, Any]
    ) -> None:
        """Sign the user out on every device: refresh tokens revoked, access tokens refused."""
        await accounts.end_sessions(principal, user_id, client_address(request))

    @delete("/{user_id:int}")
    async def delete_user(
        self, user_id: PathId, principal: Caller, accounts: Accounts, request: Request[Any, Any, Any]
    ) -> None:
        await accounts.delete_user(principal, user_id, client_address(request))

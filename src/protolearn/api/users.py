"""``/api/users``: user administration, for admins."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery, JSONBody, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from protolearn.accounts.schemas import UserCreate, UserOut, UserUpdate
from protolearn.admin.personal_data import PersonalData
from protolearn.admin.schemas import ErasureReport
from protolearn.api.dependencies import Accounts, Caller, DbSession, WithPaging
from protolearn.api.params import PathId
from protolearn.api.security import client_address, requires
from protolearn.pagination import Page
from protolearn.store.users import Role

__all__ = ("UsersController",)

PersonalDataOf = NamedDependency[PersonalData]


def provide_personal_data(db_session: DbSession, state: State) -> PersonalData:
    return PersonalData(db_session, state.settings.data_dir, state.sealer, state.bus)


class UsersController(Controller):
    path = "/api/users"
    tags = ["users"]
    guards = [requires(Role.ADMIN)]
    dependencies = {"personal_data": Provide(provide_personal_data, sync_to_thread=False)}

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

    @get(
        "/{user_id:int}/export",
        media_type="application/zip",
        response_description="everything held about the user, as a zip (README.txt says what is where)",
    )
    async def export_user(
        self,
        user_id: PathId,
        principal: Caller,
        personal_data: PersonalDataOf,
        request: Request[Any, Any, Any],
    ) -> Response[bytes]:
        """The user's data for a data-protection request: account, attempts with answers and
        violations, evidence clips, uploads, audit entries. Audited."""
        body = await personal_data.export(principal, user_id, client_address(request))
        return Response(
            body,
            media_type="application/zip",
            headers={"Content-Disposition": f'attachment; filename="protolearn-user-{user_id}.zip"'},
        )

    @post("/{user_id:int}/erase", status_code=HTTP_200_OK)
    async def erase_user(
        self,
        user_id: PathId,
        principal: Caller,
        personal_data: PersonalDataOf,
        request: Request[Any, Any, Any],
    ) -> ErasureReport:
        """Delete the user's attempts, answers, violations and clips and sign them out; the account
        stays, anonymous and deactivated. 409 while they have an attempt in progress. Audited."""
        return await personal_data.erase(principal, user_id, client_address(request))

    @delete("/{user_id:int}")
    async def delete_user(
        self, user_id: PathId, principal: Caller, accounts: Accounts, request: Request[Any, Any, Any]
    ) -> None:
        await accounts.delete_user(principal, user_id, client_address(request))

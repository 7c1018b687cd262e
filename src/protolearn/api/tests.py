"""``/api/tests``: authoring, publishing, and a student's start and submit."""

from __future__ import annotations

from litestar import Controller, HttpMethod, delete, get, post, put, route
from litestar.params import JSONBody, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from protolearn.api.dependencies import Attempts, Authoring, Caller, WithPaging
from protolearn.api.params import PathId
from protolearn.api.security import requires
from protolearn.assessment.schemas import (
    StartedAttempt,
    StudentTestOut,
    SubmitRequest,
    SubmitResult,
    TestCreate,
    TestOut,
    TestUpdate,
)
from protolearn.pagination import Page
from protolearn.store.users import Role

__all__ = ("TestsController",)

_AUTHORS = requires(Role.TEACHER, Role.ADMIN)


class TestsController(Controller):
    path = "/api/tests"
    tags = ["tests"]

    @get("/")
    async def list_tests(
        self,
        principal: Caller,
        authoring: Authoring,
        paging: WithPaging,
        search: str | None = Parameter(default=None, max_length=200),
        subject: str | None = Parameter(default=None, max_length=100),
    ) -> Page[TestOut | StudentTestOut]:
        """Students: published tests. Teachers: their own. Admins and auditors: all."""
        return await authoring.list_tests(
            principal, page=paging.page, page_size=paging.page_size, search=search, subject=subject
        )

    @post("/", status_code=HTTP_201_CREATED, guards=[requires(Role.TEACHER)])
    async def create_test(
        self, data: JSONBody[TestCreate], principal: Caller, authoring: Authoring
    ) -> TestOut:
        """Create a test, optionally with its questions."""
        return await authoring.create_test(principal, data)

    @get("/{test_id:int}")
    async def get_test(
        self, test_id: PathId, principal: Caller, authoring: Authoring
    ) -> TestOut | StudentTestOut:
        """A test with its questions; students get no answer key and only published tests."""
        return await authoring.get_test(principal, test_id)

    @put("/{test_id:int}", guards=[_AUTHORS])
    async def update_test(
        self, test_id: PathId, data: JSONBody[TestUpdate], principal: Caller, authoring: Authoring
    ) -> TestOut:
        """Change some fields; ``is_published: true`` publishes (a test needs a question first)."""
        return await authoring.update_test(principal, test_id, data)

    @delete("/{test_id:int}", guards=[_AUTHORS])
    async def delete_test(self, test_id: PathId, principal: Caller, authoring: Authoring) -> None:
        """Delete a test nobody has taken yet."""
        await authoring.delete_test(principal, test_id)

    @route(
        "/{test_id:int}/start",
        http_method=[HttpMethod.POST, HttpMethod.GET],
        status_code=HTTP_200_OK,
        guards=[requires(Role.STUDENT)],
    )
    async def start(self, test_id: PathId, principal: Caller, attempts: Attempts) -> StartedAttempt:
        """Start an attempt, or resume the one in progress with its saved answers."""
        return await attempts.start(principal, test_id)

    @post("/{test_id:int}/submit", status_code=HTTP_200_OK, guards=[requires(Role.STUDENT)])
    async def submit(
        self, test_id: PathId, data: JSONBody[SubmitRequest], principal: Caller, attempts: Attempts
    ) -> SubmitResult:
        """Submit the attempt, with any last answers; refused after the deadline plus grace."""
        return await attempts.submit(principal, test_id, data)

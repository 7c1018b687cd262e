"""``/api/questions``: a teacher's question bank."""

from __future__ import annotations

from litestar import Controller, delete, get, post, put
from litestar.params import FromQuery, JSONBody, Parameter
from litestar.status_codes import HTTP_201_CREATED

from protolearn.api.dependencies import Authoring, Caller, WithPaging
from protolearn.api.params import PathId, QueryId
from protolearn.api.security import requires
from protolearn.assessment.schemas import QuestionCreate, QuestionOut, QuestionUpdate
from protolearn.pagination import Page
from protolearn.store.tests import QuestionType
from protolearn.store.users import Role

__all__ = ("QuestionsController",)


class QuestionsController(Controller):
    path = "/api/questions"
    tags = ["questions"]
    guards = [requires(Role.TEACHER, Role.ADMIN)]

    @get("/")
    async def list_questions(
        self,
        principal: Caller,
        authoring: Authoring,
        paging: WithPaging,
        test_id: QueryId = None,
        question_type: FromQuery[QuestionType | None] = None,
        search: str | None = Parameter(default=None, max_length=200),
    ) -> Page[QuestionOut]:
        """The caller's questions across their tests, filtered by test, type or text."""
        return await authoring.list_questions(
            principal,
            page=paging.page,
            page_size=paging.page_size,
            test_id=test_id,
            question_type=question_type,
            search=search,
        )

    @post("/", status_code=HTTP_201_CREATED)
    async def create_question(
        self, data: JSONBody[QuestionCreate], principal: Caller, authoring: Authoring
    ) -> QuestionOut:
        return await authoring.create_question(principal, data)

    @get("/{question_id:int}")
    async def get_question(self, question_id: PathId, principal: Caller, authoring: Authoring) -> QuestionOut:
        return await authoring.get_question(principal, question_id)

    @put("/{question_id:int}")
    async def update_question(
        self,
        question_id: PathId,
        data: JSONBody[QuestionUpdate],
        principal: Caller,
        authoring: Authoring,
    ) -> QuestionOut:
        return await authoring.update_question(principal, question_id, data)

    @delete("/{question_id:int}")
    async def delete_question(self, question_id: PathId, principal: Caller, authoring: Authoring) -> None:
        await authoring.delete_question(principal, question_id)

"""``/api/attempts`` and ``/api/results``: autosave, an attempt's detail, extra time, results and
export."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK

from protolearn.api.dependencies import Attempts, Caller, Proctoring, Results
from protolearn.api.params import PathId
from protolearn.api.security import client_address, requires
from protolearn.assessment.schemas import (
    AnswersIn,
    AutosaveResult,
    ExtraTimeIn,
    ResultRow,
    StudentHistoryRow,
)
from protolearn.proctoring.schemas import AttemptDetail
from protolearn.store.users import Role

__all__ = ("AttemptsController", "ResultsController")


class AttemptsController(Controller):
    path = "/api/attempts"
    tags = ["attempts"]

    @put("/{attempt_id:int}/answers", status_code=HTTP_200_OK, guards=[requires(Role.STUDENT)])
    async def autosave(
        self, attempt_id: PathId, data: JSONBody[AnswersIn], principal: Caller, attempts: Attempts
    ) -> AutosaveResult:
        """Save answers as the student goes; idempotent; ``null`` clears an answer."""
        return await attempts.autosave(principal, attempt_id, data.answers)

    @get("/{attempt_id:int}")
    async def get_attempt(
        self, attempt_id: PathId, principal: Caller, attempts: Attempts, proctoring_service: Proctoring
    ) -> AttemptDetail:
        """Status, score and answers (students per the test's review mode), and violations."""
        attempt = await attempts.get(principal, attempt_id)
        violations = await proctoring_service.list_for_attempt(principal, attempt_id)
        return AttemptDetail(**msgspec.structs.asdict(attempt), violations=violations)

    @post("/{attempt_id:int}/extend", status_code=HTTP_200_OK, guards=[requires(Role.TEACHER, Role.ADMIN)])
    async def extend(
        self,
        attempt_id: PathId,
        data: JSONBody[ExtraTimeIn],
        principal: Caller,
        attempts: Attempts,
        proctoring_service: Proctoring,
        request: Request[Any, Any, Any],
    ) -> AttemptDetail:
        """Extra time for one attempt in progress (accommodations, an outage): its deadline moves
        later by `minutes`; audited with the `reason`; the student's page hears `deadline-changed`.
        409 once the attempt has ended or its deadline (plus grace) has passed."""
        attempt = await attempts.extend(principal, attempt_id, data, client_address(request))
        violations = await proctoring_service.list_for_attempt(principal, attempt_id)
        return AttemptDetail(**msgspec.structs.asdict(attempt), violations=violations)


class ResultsController(Controller):
    path = "/api/results"
    tags = ["results"]

    @get("/{test_id:int}", guards=[requires(Role.TEACHER, Role.ADMIN)])
    async def for_test(self, test_id: PathId, principal: Caller, results: Results) -> list[ResultRow]:
        """Every attempt at a test."""
        return await results.for_test(principal, test_id)

    @get("/student/{student_id:int}", guards=[requires(Role.STUDENT, Role.TEACHER, Role.ADMIN)])
    async def for_student(
        self, student_id: PathId, principal: Caller, results: Results
    ) -> list[StudentHistoryRow]:
        """A student's attempts: all for themself and admins, a teacher's own tests for a teacher."""
        return await results.for_student(principal, student_id)

    @get(
        "/export/{test_id:int}",
        guards=[requires(Role.TEACHER, Role.ADMIN)],
        media_type="text/csv",
        response_description="the test's results as CSV with a header row",
    )
    async def export(self, test_id: PathId, principal: Caller, results: Results) -> Response[str]:
        body = await results.export_csv(principal, test_id)
        return Response(
            body,
            media_type="text/csv",  # Litestar adds the charset of text types itself
            headers={"Content-Disposition": f'attachment; filename="test-{test_id}-results.csv"'},
        )

"""``/api/violations``: browser events reported by a student's page, and listing an attempt's violations."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_201_CREATED

from protolearn.api.dependencies import Caller, Proctoring
from protolearn.api.params import PathId
from protolearn.api.security import requires
from protolearn.proctoring.schemas import BrowserEventIn, ViolationOut
from protolearn.store.users import Role

__all__ = ("ViolationsController",)


class ViolationsController(Controller):
    path = "/api/violations"
    tags = ["proctoring"]

    @post("/", status_code=HTTP_201_CREATED, guards=[requires(Role.STUDENT)])
    async def report(
        self, data: JSONBody[BrowserEventIn], principal: Caller, proctoring_service: Proctoring
    ) -> ViolationOut:
        """Record a browser event (tab switch, fullscreen exit, ...) against the caller's attempt."""
        return await proctoring_service.record_browser_event(principal, data)

    @get("/{attempt_id:int}")
    async def list_for_attempt(
        self, attempt_id: PathId, principal: Caller, proctoring_service: Proctoring
    ) -> list[ViolationOut]:
        return await proctoring_service.list_for_attempt(principal, attempt_id)

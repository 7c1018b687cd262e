"""Liveness, readiness and the admin's audit log."""

from __future__ import annotations

import asyncio

from litestar import Controller, get
from litestar.datastructures import State
from litestar.exceptions import HTTPException
from litestar.params import Parameter

from protolearn.accounts import audit
from protolearn.accounts.schemas import AuditEntryOut
from protolearn.api.dependencies import DbSession, WithPaging
from protolearn.api.params import QueryId
from protolearn.api.security import requires
from protolearn.pagination import Page
from protolearn.store.migrate import head_revision, revision_of
from protolearn.store.users import Role
from protolearn.vision.errors import ModelFilesMissing
from protolearn.vision.models import verify_models
from protolearn.wire import Response

__all__ = ("AuditLogController", "HealthController")


class Health(Response, frozen=True):
    status: str
    database: str | None = None
    models: str | None = None
    schema_revision: str | None = None
    redis: str | None = None  # only where several nodes share one (PROTOLEARN_REDIS_URL)


class HealthController(Controller):
    tags = ["operations"]

    @get("/healthz", exclude_from_auth=True)
    async def healthz(self) -> Health:
        """The process is up."""
        return Health(status="ok")

    @get("/readyz", exclude_from_auth=True)
    async def readyz(self, db_session: DbSession, state: State) -> Health:
        """Every dependency answers: the database (its schema current), the model files (the
        manifest's), and Redis where one is configured. A 503 names each that does not, with why
        (``checks``)."""
        checks: dict[str, str] = {}
        revision: str | None = None
        try:
            revision = await db_session.run_sync(lambda session: revision_of(session.connection()))
        except Exception as exc:  # any driver's failure: reported, not raised
            checks["database"] = f"unavailable: {type(exc).__name__}"
        else:
            head = head_revision()
            checks["database"] = "ok" if revision == head else f"schema at {revision}, expected {head}"
        try:
            # Hashed once per process (a few MB), off the event loop.
            await asyncio.to_thread(verify_models, state.settings.models_dir)
            checks["models"] = "ok"
        except ModelFilesMissing as exc:
            checks["models"] = f"unavailable: {exc}"
        cluster = state.cluster
        if cluster is not None:
            checks["redis"] = await cluster.check()
        down = {name: why for name, why in checks.items() if why != "ok"}
        if down:
            detail = "; ".join(f"{name} {why}" for name, why in down.items())
            raise HTTPException(status_code=503, detail=detail, extra={"checks": checks})
        return Health(status="ready", schema_revision=revision, **checks)


class AuditLogController(Controller):
    path = "/api/audit-log"
    tags = ["operations"]
    guards = [requires(Role.ADMIN)]

    @get("/")
    async def list_entries(
        self,
        db_session: DbSession,
        paging: WithPaging,
        action: str | None = Parameter(default=None, max_length=64),
        actor_id: QueryId = None,
        object_type: str | None = Parameter(default=None, max_length=32),
        object_id: QueryId = None,
    ) -> Page[AuditEntryOut]:
        """Who viewed or changed what, newest first."""
        return await audit.list_entries(
            db_session,
            page=paging.page,
            page_size=paging.page_size,
            action=action,
            actor_id=actor_id,
            object_type=object_type,
            object_id=object_id,
        )

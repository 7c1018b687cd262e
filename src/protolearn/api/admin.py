"""``/api/admin``: the platform at a glance, for admins."""

from __future__ import annotations

from litestar import Controller, get
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from protolearn.admin.schemas import AdminStats
from protolearn.admin.service import AdminStatsService
from protolearn.api.dependencies import DbSession
from protolearn.api.security import requires
from protolearn.store.users import Role

__all__ = ("AdminController",)

StatsService = NamedDependency[AdminStatsService]


def provide_admin_stats(db_session: DbSession, state: State) -> AdminStatsService:
    return AdminStatsService(
        db_session, media=state.media, proctoring=state.proctoring, ai_tools=state.ai_tools
    )


class AdminController(Controller):
    path = "/api/admin"
    tags = ["operations"]
    guards = [requires(Role.ADMIN)]
    dependencies = {"admin_stats": Provide(provide_admin_stats, sync_to_thread=False)}

    @get("/stats")
    async def stats(self, admin_stats: StatsService) -> AdminStats:
        """Users by role, tests, attempts in progress, live streams and analysis, violations in the
        last hour, and whether the database and the AI provider answer."""
        return await admin_stats.stats()

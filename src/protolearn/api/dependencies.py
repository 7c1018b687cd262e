"""What handlers receive by name: the database session, the caller, services, paging."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from protolearn.accounts.schemas import Principal
from protolearn.accounts.service import AccountService
from protolearn.ai.service import AiService
from protolearn.api.security import principal_of
from protolearn.assessment.attempts import AttemptService
from protolearn.assessment.authoring import AuthoringService
from protolearn.assessment.lifecycle import AttemptLifecycle
from protolearn.assessment.results import ResultsService
from protolearn.pagination import MAX_PAGE_SIZE
from protolearn.proctoring.review import ReviewService
from protolearn.proctoring.service import ProctoringService

__all__ = (
    "DEPENDENCIES",
    "Accounts",
    "Ai",
    "Attempts",
    "Authoring",
    "Caller",
    "DbSession",
    "Paging",
    "Proctoring",
    "Results",
    "Reviews",
    "WithPaging",
)


@dataclass(frozen=True, slots=True)
class Paging:
    page: int
    page_size: int


DbSession = NamedDependency[AsyncSession]
Caller = NamedDependency[Principal]
WithPaging = NamedDependency[Paging]
Accounts = NamedDependency[AccountService]
Ai = NamedDependency[AiService]
Authoring = NamedDependency[AuthoringService]
Attempts = NamedDependency[AttemptService]
Results = NamedDependency[ResultsService]
Proctoring = NamedDependency[ProctoringService]
Reviews = NamedDependency[ReviewService]


async def provide_db_session(state: State) -> AsyncIterator[AsyncSession]:
    async with state.sessionmaker() as session:
        yield session


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    return principal_of(request)


def provide_paging(
    page: int = Parameter(default=1, ge=1, le=1_000_000, description="page number, from 1"),
    page_size: int = Parameter(default=20, ge=1, le=MAX_PAGE_SIZE, description="items per page"),
) -> Paging:
    return Paging(page=page, page_size=page_size)


def provide_accounts(db_session: DbSession, state: State) -> AccountService:
    settings = state.settings
    return AccountService(
        db_session,
        hasher=state.password_hasher,
        codec=state.token_codec,
        throttle=state.login_throttle,
        refresh_ttl_seconds=settings.refresh_token_ttl_seconds,
        allow_teacher_signup=settings.allow_teacher_signup,
        bus=state.bus,
    )


def provide_authoring(db_session: DbSession) -> AuthoringService:
    return AuthoringService(db_session)


def provide_attempts(db_session: DbSession, state: State) -> AttemptService:
    lifecycle: AttemptLifecycle = state.lifecycle
    return lifecycle.service(db_session)


def provide_results(db_session: DbSession) -> ResultsService:
    return ResultsService(db_session)


def provide_proctoring(db_session: DbSession) -> ProctoringService:
    return ProctoringService(db_session)


def provide_ai(db_session: DbSession, state: State) -> AiService:
    return AiService(db_session, state.ai_tools)


def provide_reviews(db_session: DbSession, state: State) -> ReviewService:
    return ReviewService(db_session, state.settings.data_dir, state.sealer)


DEPENDENCIES = {
    "db_session": Provide(provide_db_session),
    "principal": Provide(provide_principal, sync_to_thread=False),
    "paging": Provide(provide_paging, sync_to_thread=False),
    "accounts": Provide(provide_accounts, sync_to_thread=False),
    "authoring": Provide(provide_authoring, sync_to_thread=False),
    "attempts": Provide(provide_attempts, sync_to_thread=False),
    "results": Provide(provide_results, sync_to_thread=False),
    # Not "proctoring": a test's body has a field of that name, and Litestar takes a validation
    # error in a field named like a dependency for a fault of the dependency (a 500).
    "proctoring_service": Provide(provide_proctoring, sync_to_thread=False),
    "reviews": Provide(provide_reviews, sync_to_thread=False),
    "ai": Provide(provide_ai, sync_to_thread=False),
}

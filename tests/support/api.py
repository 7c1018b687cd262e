"""Talking to a running server as the people who use it: actors, factories, a class of users."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from protolearn.accounts.passwords import PasswordHasher
from protolearn.accounts.service import AccountService
from protolearn.accounts.throttle import LoginLimits, LoginThrottle
from protolearn.accounts.tokens import AccessTokenCodec
from protolearn.config import Settings
from protolearn.store.database import create_engine, create_sessionmaker
from protolearn.store.users import Role
from protolearn.store.violations import EvidenceClip, Violation

PASSWORD = "correct horse battery"
_serial = itertools.count(1)


@dataclass
class Actor:
    """A logged-in user: every request carries their access token."""

    client: httpx.AsyncClient
    user: dict[str, Any]
    access_token: str
    refresh_token: str
    password: str = PASSWORD

    @property
    def id(self) -> int:
        return int(self.user["id"])

    @property
    def email(self) -> str:
        return str(self.user["email"])

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = self._headers() | kwargs.pop("headers", {})
        return await self.client.request(method, url, headers=headers, **kwargs)

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", url, **kwargs)

    async def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("PUT", url, **kwargs)

    async def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("PATCH", url, **kwargs)

    async def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("DELETE", url, **kwargs)


@dataclass
class Api:
    """Entry point for a test: make users of any role and log them in."""

    client: httpx.AsyncClient
    settings: Settings
    created: list[Actor] = field(default_factory=list)

    async def login(self, email: str, password: str = PASSWORD) -> Actor:
        response = await self.client.post("/api/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.text
        body = response.json()
        return Actor(self.client, body["user"], body["access_token"], body["refresh_token"], password)

    async def user(self, role: Role | str, name: str | None = None) -> Actor:
        """A new user of ``role``: students and teachers sign up; admins and auditors are made directly."""
        role = Role(role)
        serial = next(_serial)
        email = f"{role.value}{serial}@school.test"
        name = name or f"{role.value.title()} {serial}"
        if role in (Role.STUDENT, Role.TEACHER):
            response = await self.client.post(
                "/api/auth/register",
                json={"email": email, "password": PASSWORD, "name": name, "role": role.value},
            )
            assert response.status_code == 201, response.text
        else:
            await create_user_directly(self.settings, email, name, role)
        actor = await self.login(email)
        self.created.append(actor)
        return actor


async def create_user_directly(settings: Settings, email: str, name: str, role: Role) -> None:
    """What ``protolearn users create`` does: the only way to make the first admin."""
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            await _accounts(session, settings).create_or_get(email, PASSWORD, name, role)
    finally:
        await engine.dispose()


def accounts_service(session: AsyncSession, settings: Settings) -> AccountService:
    """The accounts service as the command line builds it: its changes send no live events."""
    return _accounts(session, settings)


def _accounts(session: AsyncSession, settings: Settings) -> AccountService:
    return AccountService(
        session,
        hasher=PasswordHasher.from_settings(settings),
        codec=AccessTokenCodec.from_settings(settings),
        throttle=LoginThrottle(LoginLimits()),
        refresh_ttl_seconds=settings.refresh_token_ttl_seconds,
        allow_teacher_signup=True,
    )


def mcq(text: str = "Capital of France?", answer: str = "Paris", **overrides: Any) -> dict[str, Any]:
    question = {
        "question_text": text,
        "question_type": "mcq",
        "options": ["Paris", "Lyon", "Nice", "Lille"],
        "correct_answer": answer,
        "points": 1,
    }
    return question | overrides


def true_false(
    text: str = "Water boils at 100 C at sea level.", answer: str = "true", **overrides: Any
) -> dict[str, Any]:
    return {
        "question_text": text,
        "question_type": "true_false",
        "correct_answer": answer,
        "points": 1,
    } | overrides


def short_answer(
    text: str = "Chemical symbol of gold?", answer: str = "Au", **overrides: Any
) -> dict[str, Any]:
    return {
        "question_text": text,
        "question_type": "short_answer",
        "correct_answer": answer,
        "points": 1,
    } | overrides


def new_test_payload(**overrides: Any) -> dict[str, Any]:
    """A publishable test with one question of each type."""
    payload: dict[str, Any] = {
        "title": "Chemistry quiz",
        "subject": "Chemistry",
        "time_limit": 30,
        "passing_score": 50,
        "questions": [mcq(), true_false(), short_answer()],
    }
    return payload | overrides


async def published_test(teacher: Actor, **overrides: Any) -> dict[str, Any]:
    response = await teacher.post("/api/tests", json=new_test_payload(is_published=True, **overrides))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def started_attempt(student: Actor, test_id: int) -> dict[str, Any]:
    response = await student.post(f"/api/tests/{test_id}/start")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def attach_evidence(settings: Settings, violation_id: int) -> int:
    """An evidence clip on the violation, as the proctoring pipeline would have written it."""
    clip = settings.data_dir / "clips" / f"violation-{violation_id}.webm"
    clip.parent.mkdir(parents=True, exist_ok=True)
    clip.write_bytes(b"\x1a\x45\xdf\xa3" + bytes(2000))
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            violation = await session.get(Violation, violation_id)
            assert violation is not None
            evidence = EvidenceClip(
                attempt_id=violation.attempt_id,
                path=str(clip.relative_to(settings.data_dir)),
                size_bytes=2004,
                duration_seconds=1.0,
                sha256="0" * 64,
                started_at=violation.occurred_at,
                ended_at=violation.occurred_at,
            )
            session.add(evidence)
            await session.flush()
            violation.evidence_id = evidence.id
            await session.commit()
            return evidence.id
    finally:
        await engine.dispose()

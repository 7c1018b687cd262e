"""The account check of every request: read once per user and time to live, forgotten at once
when a change is announced, and never trusted past its time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from protolearn.accounts.principals import AccountCache, announce_sessions_ended, authenticate
from protolearn.accounts.schemas import SessionEnd
from protolearn.accounts.tokens import AccessTokenCodec
from protolearn.config import Settings
from protolearn.errors import Unauthenticated
from protolearn.events.bus import EventBus, user_topic
from protolearn.events.messages import SessionsEnded
from protolearn.store.base import utcnow
from protolearn.store.database import create_engine, create_sessionmaker
from protolearn.store.users import User


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def sessionmaker(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(settings.database_url)
    yield create_sessionmaker(engine)
    await engine.dispose()


async def a_student(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as db:
        user = User(email="ada@school.test", password_hash="-", name="Ada", role="student")
        user.tokens_valid_after = utcnow() - timedelta(minutes=1)
        db.add(user)
        await db.commit()
        return user.id


async def deactivate(sessionmaker: async_sessionmaker[AsyncSession], user_id: int) -> None:
    async with sessionmaker() as db:
        user = await db.get(User, user_id)
        assert user is not None
        user.is_active = False
        await db.commit()


async def test_a_class_of_requests_reads_the_account_once_per_time_to_live(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    codec, clock, bus = AccessTokenCodec.from_settings(settings), Clock(), EventBus()
    cache = AccountCache(bus, ttl_seconds=2.0, clock=clock)
    user_id = await a_student(sessionmaker)
    token = codec.issue(user_id, "student")
    for _ in range(50):
        principal = await authenticate(sessionmaker, codec, cache, token)
    assert (principal.user_id, principal.role, principal.name) == (user_id, "student", "Ada")
    assert (cache.reads, cache.hits) == (1, 49)
    # Changed without an announcement (another node's lost message): believed for 2 s at most.
    await deactivate(sessionmaker, user_id)
    clock.now += 1.9
    await authenticate(sessionmaker, codec, cache, token)
    clock.now += 0.2
    with pytest.raises(Unauthenticated, match="no longer active"):
        await authenticate(sessionmaker, codec, cache, token)
    cache.close()


async def test_an_announced_change_is_seen_by_the_very_next_request(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    codec, bus = AccessTokenCodec.from_settings(settings), EventBus()
    cache = AccountCache(bus, ttl_seconds=3600.0)
    user_id = await a_student(sessionmaker)
    token = codec.issue(user_id, "student")
    await authenticate(sessionmaker, codec, cache, token)
    live = bus.subscribe([user_topic(user_id)])
    await deactivate(sessionmaker, user_id)
    announce_sessions_ended(bus, user_id, SessionEnd.DEACTIVATED)
    with pytest.raises(Unauthenticated, match="no longer active"):
        await authenticate(sessionmaker, codec, cache, token)
    assert [type(event) for event in live.drain()] == [SessionsEnded]  # the user's sockets hear it too
    cache.close()


async def test_lost_announcements_empty_the_cache(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    codec, bus = AccessTokenCodec.from_settings(settings), EventBus()
    cache = AccountCache(bus, ttl_seconds=3600.0)
    user_id = await a_student(sessionmaker)
    token = codec.issue(user_id, "student")
    await authenticate(sessionmaker, codec, cache, token)
    await deactivate(sessionmaker, user_id)
    for other in range(5000):  # more than the cache's queue holds: its own user's is among the lost
        announce_sessions_ended(bus, user_id if other == 0 else 10_000 + other, SessionEnd.SIGNED_OUT)
    with pytest.raises(Unauthenticated):
        await authenticate(sessionmaker, codec, cache, token)
    cache.close()


async def test_a_read_overtaken_by_an_announcement_is_read_again(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    codec, bus = AccessTokenCodec.from_settings(settings), EventBus()
    cache = AccountCache(bus, ttl_seconds=3600.0)
    user_id = await a_student(sessionmaker)
    token = codec.issue(user_id, "student")
    read = cache._read
    calls = 0

    async def slow_read(*args: Any) -> Any:  # the deactivation commits while the row is read
        nonlocal calls
        calls += 1
        account = await read(*args)
        if calls == 1:
            await deactivate(sessionmaker, user_id)
            announce_sessions_ended(bus, user_id, SessionEnd.DEACTIVATED)
        return account

    cache._read = slow_read  # type: ignore[method-assign]
    with pytest.raises(Unauthenticated, match="no longer active"):
        await authenticate(sessionmaker, codec, cache, token)
    assert calls == 2
    cache.close()

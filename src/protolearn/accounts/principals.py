"""The account check of every request: who the access token's user is now, read at most every
ACCOUNT_TTL_SECONDS per user and node.

Each request's token is verified (signature, expiry) every time; what the database says of its
user (active, sessions ended since the token was issued, role) is kept for a moment, so a class
autosaving does not read its users' rows hundreds of times a second. A change that matters
(sign-out everywhere, a new password, deactivation, a new role, erasure, deletion) is announced
on ACCOUNTS_CHANGED as it commits; every node's cache reads its announcements before each
lookup and forgets those users (announced on this node: before its next request; on another:
as Redis brings it); the time to live bounds what a lost announcement can leave, and an
overflowing queue of announcements empties the cache.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from protolearn.accounts.schemas import Principal
from protolearn.accounts.tokens import AccessTokenCodec
from protolearn.errors import Unauthenticated
from protolearn.events.bus import ACCOUNTS_CHANGED, EventBus, user_topic
from protolearn.events.messages import SessionsEnded
from protolearn.store.database import lone_statement_connection
from protolearn.store.users import Role, User

__all__ = ("ACCOUNT_TTL_SECONDS", "AccountCache", "announce_sessions_ended", "authenticate")

ACCOUNT_TTL_SECONDS = 2.0
MAX_ACCOUNTS = 100_000  # beyond this, expired entries are dropped before another is kept


# One statement on the table (Core, built once), outside a transaction block: the ORM's get in a
# transaction was three round trips (BEGIN, SELECT, ROLLBACK) on every request of a student
# who saves every 10 s, longer apart than ACCOUNT_TTL_SECONDS.
_USERS = cast("Table", User.__table__)
_READ_ACCOUNT = select(
    _USERS.c.role, _USERS.c.email, _USERS.c.name, _USERS.c.is_active, _USERS.c.tokens_valid_after
).where(_USERS.c.id == bindparam("user"))


@dataclass(frozen=True, slots=True)
class _Account:
    role: str
    email: str
    name: str
    active: bool
    tokens_valid_after: float  # POSIX seconds
    read_at: float  # the cache's clock


class AccountCache:
    def __init__(
        self,
        bus: EventBus,
        ttl_seconds: float = ACCOUNT_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self.clock = clock
        self.hits = 0
        self.reads = 0
        self._accounts: dict[int, _Account] = {}
        self._changes = bus.subscribe([ACCOUNTS_CHANGED], capacity=4096)
        self._dropped = 0
        self._generation = 0  # announcements read so far
        self._announced: dict[int, int] = {}  # user -> generation of their last announcement

    def forget(self, user_id: int) -> None:
        self._accounts.pop(user_id, None)

    def close(self) -> None:
        self._changes.close()

    def _forget_changed(self) -> None:
        if self._changes.dropped != self._dropped:  # announcements lost: any entry may be stale
            self._dropped = self._changes.dropped
            self._accounts.clear()
            self._announced.clear()
        for event in self._changes.drain():
            if isinstance(event, SessionsEnded):
                self._generation += 1
                self._announced[event.user_id] = self._generation
                if len(self._announced) > MAX_ACCOUNTS:
                    self._announced.clear()  # only reads that straddle an announcement use it
                self.forget(event.user_id)

    async def account(self, sessionmaker: async_sessionmaker[AsyncSession], user_id: int) -> _Account | None:
        self._forget_changed()
        now = self.clock()
        cached = self._accounts.get(user_id)
        if cached is not None and now - cached.read_at < self.ttl_seconds:
            self.hits += 1
            return cached
        for _ in range(2):  # a read that an announcement overtook is read again
            began = self._generation
            account = await self._read(sessionmaker, user_id, now)
            self._forget_changed()
            if self._announced.get(user_id, 0) <= began:
                break
        if account is None:
            self.forget(user_id)
            return None
        if len(self._accounts) >= MAX_ACCOUNTS:
            fresh = [(k, v) for k, v in self._accounts.items() if now - v.read_at < self.ttl_seconds]
            self._accounts = dict(fresh[-MAX_ACCOUNTS // 2 :])  # the newest half at most
        self._accounts[user_id] = account
        return account

    async def _read(
        self, sessionmaker: async_sessionmaker[AsyncSession], user_id: int, now: float
    ) -> _Account | None:
        self.reads += 1
        async with sessionmaker() as session:
            connection = await lone_statement_connection(session)
            user = (await connection.execute(_READ_ACCOUNT, {"user": user_id})).first()
        if user is None:
            return None
        role, email, name, active, tokens_valid_after = user
        return _Account(role, email, name, active, tokens_valid_after.timestamp(), now)


async def authenticate(
    sessionmaker: async_sessionmaker[AsyncSession],
    codec: AccessTokenCodec,
    accounts: AccountCache,
    access_token: str,
) -> Principal:
    """The caller behind an access token (Unauthenticated if none may act with it)."""
    claims = codec.decode(access_token)
    account = await accounts.account(sessionmaker, claims.user_id)
    if account is None or not account.active:
        raise Unauthenticated("account is no longer active")
    if claims.iat < account.tokens_valid_after:
        raise Unauthenticated("access token was revoked; log in again")
    return Principal(
        user_id=claims.user_id,
        role=Role(account.role),
        email=account.email,
        name=account.name,
        issued_at=claims.iat,
    )


def announce_sessions_ended(bus: EventBus | None, user_id: int, reason: str) -> None:
    """After the commit: the user's live connections end, and every node's AccountCache forgets
    the user (a listener that acts on it finds the database already changed)."""
    if bus is not None:
        event = SessionsEnded(user_id=user_id, reason=reason)
        bus.publish(user_topic(user_id), event)
        bus.publish(ACCOUNTS_CHANGED, event)

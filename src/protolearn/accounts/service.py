"""Registration, login, token rotation, password changes and user administration.

When a user's sessions end (signed out by an administrator, a new password, deactivation, a new
role), the service says so on the event bus after the commit (SessionsEnded on their user
topic), so their open live connections close at once; `session_end` is the same judgement read
from the database, for connections that ask again.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import msgspec
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from protolearn.accounts import audit
from protolearn.accounts.errors import (
    AccountDisabled,
    EmailTaken,
    InvalidCredentials,
    RefreshTokenInvalid,
    UserHasRecords,
    UserNotFound,
)
from protolearn.accounts.passwords import PasswordHasher
from protolearn.accounts.principals import announce_sessions_ended
from protolearn.accounts.schemas import (
    LoginRequest,
    PasswordChange,
    Principal,
    RegisterRequest,
    SessionEnd,
    TokenPair,
    UserCreate,
    UserOut,
    UserUpdate,
)
from protolearn.accounts.throttle import LoginThrottle
from protolearn.accounts.tokens import AccessTokenCodec, hash_refresh_token, new_refresh_token
from protolearn.errors import Conflict, PermissionDenied
from protolearn.events.bus import EventBus
from protolearn.pagination import Page, count_rows
from protolearn.store.base import utcnow
from protolearn.store.users import RefreshToken, Role, User

__all__ = ("AccountService", "normalize_email", "session_end", "user_out")

SELF_SERVICE_ROLES = frozenset({Role.STUDENT, Role.TEACHER})


def normalize_email(email: str) -> str:
    return email.strip().lower()


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,
        is_active=user.is_active,
        created_at=user.created_at,
    )


async def session_end(session: AsyncSession, principal: Principal) -> SessionEnd | None:
    """Why a connection that authenticated as `principal` may act no more, or None while it
    may: one row read, for a long-lived connection checking again before a new request."""
    user = await session.get(User, principal.user_id)
    if user is None or not user.is_active:
        return SessionEnd.DEACTIVATED
    if principal.issued_at is not None and principal.issued_at < user.tokens_valid_after.timestamp():
        return SessionEnd.SIGNED_OUT
    if user.role != principal.role:
        return SessionEnd.ROLE_CHANGED
    return None


class AccountService:
    def __init__(
        self,
        session: AsyncSession,
        *,
        hasher: PasswordHasher,
        codec: AccessTokenCodec,
        throttle: LoginThrottle,
        refresh_ttl_seconds: int,
        allow_teacher_signup: bool,
        bus: EventBus | None = None,
    ) -> None:
        """bus: where ended sessions are announced (None: nobody listens, as in the CLI)."""
        self._session = session
        self._bus = bus
        self._hasher = hasher
        self._codec = codec
        self._throttle = throttle
        self._refresh_ttl = timedelta(seconds=refresh_ttl_seconds)
        self._allow_teacher_signup = allow_teacher_signup

    # --- sign-up and sessions -------------------------------------------------------------

    async def register(self, request: RegisterRequest) -> UserOut:
        if request.role not in SELF_SERVICE_ROLES:
            raise PermissionDenied(f"the {request.role} role is given by an administrator only")
        if request.role is Role.TEACHER and not self._allow_teacher_signup:
            raise PermissionDenied("teacher sign-up is closed; ask an administrator for an account")
        user = await self._create(request.email, request.password, request.name, request.role)
        audit.record(
            self._session, actor_id=user.id, action="user.register", object_type="user", object_id=user.id
        )
        await self._session.commit()
        return user_out(user)

    async def login(self, request: LoginRequest, address: str) -> TokenPair:
        email = normalize_email(request.email)
        await self._throttle.check(email, address)
        user = await self._session.scalar(select(User).where(User.email == email))
        await self._release_connection()
        if not await self._hasher.verify(user.password_hash if user else None, request.password):
            await self._throttle.record_failure(email, address)
            raise InvalidCredentials("wrong email or password")
        assert user is not None  # verify() is False without a hash  # noqa: S101
        if not user.is_active:
            raise AccountDisabled("this account is deactivated")
        await self._throttle.record_success(email, address)
        if self._hasher.needs_rehash(user.password_hash):
            user.password_hash = await self._hasher.hash(request.password)
        return await self._issue(user, family_id=uuid.uuid4().hex)

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Rotate a refresh token; a token used twice revokes its whole family."""
        now = utcnow()
        token = await self._session.scalar(
            select(RefreshToken).where(RefreshToken.token_hash == hash_refresh_token(refresh_token))
        )
        if token is None or token.revoked_at is not None:
            raise RefreshTokenInvalid("refresh token is not valid; log in again")
        claimed = await self._session.execute(
            update(RefreshToken)
            .where(
                RefreshToken.id == token.id, RefreshToken.used_at.is_(None), RefreshToken.revoked_at.is_(None)
            )
            .values(used_at=now)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            await self._revoke_family(token.family_id)
            audit.record(
                self._session,
                actor_id=token.user_id,
                action="token.reuse_detected",
                object_type="user",
                object_id=token.user_id,
            )
            await self._session.commit()
            raise RefreshTokenInvalid(
                "refresh token was already used; every session of this login is revoked"
            )
        if token.expires_at <= now:
            await self._session.commit()
            raise RefreshTokenInvalid("refresh token expired; log in again")
        user = await self._session.get(User, token.user_id)
        if user is None or not user.is_active:
            await self._session.commit()
            raise AccountDisabled("this account is deactivated")
        return await self._issue(user, family_id=token.family_id)

    async def logout(self, refresh_token: str) -> None:
        token = await self._session.scalar(
            select(RefreshToken).where(RefreshToken.token_hash == hash_refresh_token(refresh_token))
        )
        if token is not None:
            await self._revoke_family(token.family_id)
            await self._session.commit()

    # --- the caller's own account ---------------------------------------------------------

    async def me(self, principal: Principal) -> UserOut:
        return user_out(await self._get(principal.user_id))

    async def rename(self, principal: Principal, name: str) -> UserOut:
        user = await self._get(principal.user_id)
        user.name = name.strip()
        await self._session.commit()
        return user_out(user)

    async def change_password(self, principal: Principal, request: PasswordChange, address: str) -> TokenPair:
        """Set a new password, end every other session, and hand back a fresh token pair."""
        user = await self._get(principal.user_id)
        await self._release_connection()
        if not await self._hasher.verify(user.password_hash, request.current_password):
            raise InvalidCredentials("current password is wrong")
        user.password_hash = await self._hasher.hash(request.new_password)
        await self._end_sessions(user)
        audit.record(
            self._session,
            actor_id=user.id,
            action="user.password_change",
            object_type="user",
            object_id=user.id,
            address=address,
        )
        pair = await self._issue(user, family_id=uuid.uuid4().hex)
        self._announce(user.id, SessionEnd.PASSWORD_CHANGED)
        return pair

    # --- administration -------------------------------------------------------------------

    async def list_users(
        self, *, page: int, page_size: int, role: Role | None = None, search: str | None = None
    ) -> Page[UserOut]:
        query = select(User)
        if role is not None:
            query = query.where(User.role == role)
        if search:
            pattern = f"%{search.strip().lower()}%"
            query = query.where(
                or_(func.lower(User.email).like(pattern), func.lower(User.name).like(pattern))
            )
        total = await count_rows(self._session, query)
        users = await self._session.scalars(
            query.order_by(User.id).offset(Page.offset(page, page_size)).limit(page_size)
        )
        return Page(items=[user_out(u) for u in users], total=total, page=page, page_size=page_size)

    async def create_user(self, actor: Principal, request: UserCreate, address: str) -> UserOut:
        user = await self._create(request.email, request.password, request.name, request.role)
        audit.record(
            self._session,
            actor_id=actor.user_id,
            action="user.create",
            object_type="user",
            object_id=user.id,
            address=address,
            role=request.role,
        )
        await self._session.commit()
        return user_out(user)

    async def update_user(self, actor: Principal, user_id: int, request: UserUpdate, address: str) -> UserOut:
        user = await self._get(user_id)
        changes = msgspec.structs.asdict(request)
        changes = {k: v for k, v in changes.items() if v is not msgspec.UNSET}
        if user.id == actor.user_id and (
            changes.get("role", Role.ADMIN) != Role.ADMIN or changes.get("is_active") is False
        ):
            raise Conflict("administrators cannot demote or deactivate themselves")
        ended: SessionEnd | None = None
        if "name" in changes:
            user.name = changes["name"].strip()
        if "role" in changes and changes["role"] != user.role:
            user.role = changes["role"].value
            ended = SessionEnd.ROLE_CHANGED  # what the user may do changed under their pages
        if "is_active" in changes and changes["is_active"] != user.is_active:
            user.is_active = changes["is_active"]
            if not user.is_active:
                await self._end_sessions(user)
                ended = SessionEnd.DEACTIVATED
        audit.record(
            self._session,
            actor_id=actor.user_id,
            action="user.update",
            object_type="user",
            object_id=user.id,
            address=address,
            changes={k: str(v) for k, v in changes.items()},
        )
        await self._session.commit()
        if ended is not None:
            self._announce(user.id, ended)
        return user_out(user)

    async def end_sessions(self, actor: Principal, user_id: int, address: str) -> None:
        """Sign the user out everywhere: their refresh tokens are revoked, their access tokens refused."""
        user = await self._get(user_id)
        await self._end_sessions(user)
        audit.record(
            self._session,
            actor_id=actor.user_id,
            action="user.sessions_revoke",
            object_type="user",
            object_id=user.id,
            address=address,
        )
        await self._session.commit()
        self._announce(user.id, SessionEnd.SIGNED_OUT)

    async def delete_user(self, actor: Principal, user_id: int, address: str) -> None:
        user = await self._get(user_id)
        if user.id == actor.user_id:
            raise Conflict("administrators cannot delete themselves")
        await self._session.delete(user)
        try:
            await self._session.flush()
        except IntegrityError as exc:
            await self._session.rollback()
            raise UserHasRecords(
                "this user owns tests, attempts or reviews; deactivate the account instead (is_active: false)"
            ) from exc
        audit.record(
            self._session,
            actor_id=actor.user_id,
            action="user.delete",
            object_type="user",
            object_id=user_id,
            address=address,
            email=user.email,
        )
        await self._session.commit()
        self._announce(user_id, SessionEnd.DEACTIVATED)

    async def create_or_get(self, email: str, password: str, name: str, role: Role) -> tuple[UserOut, bool]:
        """For seeding: the user with this email, created if missing; ``True`` when created."""
        existing = await self._session.scalar(select(User).where(User.email == normalize_email(email)))
        if existing is not None:
            return user_out(existing), False
        user = await self._create(email, password, name, role)
        await self._session.commit()
        return user_out(user), True

    # --- internals ------------------------------------------------------------------------

    async def _get(self, user_id: int) -> User:
        user = await self._session.get(User, user_id)
        if user is None:
            raise UserNotFound(f"user {user_id} not found")
        return user

    async def _create(self, email: str, password: str, name: str, role: Role) -> User:
        email = normalize_email(email)
        password_hash = await self._hasher.hash(password)  # before a transaction holds the connection
        if await self._session.scalar(select(User.id).where(User.email == email)) is not None:
            raise EmailTaken(f"an account with email {email} already exists")
        user = User(email=email, password_hash=password_hash, name=name.strip(), role=role)
        self._session.add(user)
        try:
            await self._session.flush()
        except IntegrityError as exc:  # a concurrent registration won the race
            await self._session.rollback()
            raise EmailTaken(f"an account with email {email} already exists") from exc
        return user

    async def _release_connection(self) -> None:
        """End the read transaction before hashing, which takes tens of milliseconds.

        Embedded SQLite runs on one pooled connection; holding it through a hash would stall
        every other request. Loaded rows stay usable (the session does not expire on commit).
        """
        await self._session.commit()

    async def _issue(self, user: User, *, family_id: str) -> TokenPair:
        refresh_token = new_refresh_token()
        self._session.add(
            RefreshToken(
                user_id=user.id,
                token_hash=hash_refresh_token(refresh_token),
                family_id=family_id,
                expires_at=utcnow() + self._refresh_ttl,
            )
        )
        await self._session.commit()
        return TokenPair(
            access_token=self._codec.issue(user.id, user.role),
            refresh_token=refresh_token,
            expires_in=self._codec.ttl_seconds,
            user=user_out(user),
        )

    async def _end_sessions(self, user: User) -> None:
        """Refuse every access token issued so far and revoke every refresh token."""
        now = utcnow()
        user.tokens_valid_after = now
        await self._session.execute(
            update(RefreshToken)
            .where(RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    def _announce(self, user_id: int, reason: SessionEnd) -> None:
        """After the commit: a listener that acts on it finds the database already changed."""
        announce_sessions_ended(self._bus, user_id, reason)

    async def _revoke_family(self, family_id: str) -> None:
        await self._session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )

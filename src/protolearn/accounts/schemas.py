"""Wire types of accounts: registration, login, tokens, users."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

import msgspec

from protolearn.store.users import Role
from protolearn.wire import Email, Name, Password, Request, Response

__all__ = (
    "AuditEntryOut",
    "LoginRequest",
    "MeUpdate",
    "PasswordChange",
    "Principal",
    "RefreshRequest",
    "RegisterRequest",
    "SessionEnd",
    "TokenPair",
    "UserCreate",
    "UserOut",
    "UserUpdate",
)

_Secret = Annotated[str, msgspec.Meta(min_length=1, max_length=512)]


class Principal(msgspec.Struct, frozen=True):
    """The authenticated caller of a request."""

    user_id: int
    role: Role
    email: str
    name: str
    issued_at: float | None = None  # the access token's iat (None: a signed link's signer)


class SessionEnd(StrEnum):
    """Why every session of a user ended: their open connections (the live channel) close."""

    SIGNED_OUT = "signed_out"  # an administrator signed them out everywhere
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 (a reason, not a password)
    DEACTIVATED = "deactivated"  # or deleted
    ROLE_CHANGED = "role_changed"


class RegisterRequest(Request, frozen=True):
    email: Email
    password: Password
    name: Name
    role: Role = Role.STUDENT


class LoginRequest(Request, frozen=True):
    email: Annotated[str, msgspec.Meta(min_length=1, max_length=320)]
    password: _Secret


class RefreshRequest(Request, frozen=True):
    refresh_token: _Secret


class PasswordChange(Request, frozen=True):
    current_password: _Secret
    new_password: Password


class MeUpdate(Request, frozen=True):
    name: Name


class UserCreate(Request, frozen=True):
    email: Email
    password: Password
    name: Name
    role: Role


class UserUpdate(Request, frozen=True):
    name: Name | msgspec.UnsetType = msgspec.UNSET
    role: Role | msgspec.UnsetType = msgspec.UNSET
    is_active: bool | msgspec.UnsetType = msgspec.UNSET


class UserOut(Response, frozen=True):
    id: int
    email: str
    name: str
    role: Role
    is_active: bool
    created_at: datetime


class TokenPair(Response, frozen=True):
    access_token: str
    refresh_token: str
    expires_in: int
    user: UserOut
    token_type: str = "bearer"  # noqa: S105 - a scheme name, not a secret


class AuditEntryOut(Response, frozen=True):
    id: int
    actor_id: int | None
    action: str
    object_type: str
    object_id: int | None
    details: dict[str, object]
    address: str | None
    created_at: datetime

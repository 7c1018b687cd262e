"""What can go wrong with accounts and tokens."""

from __future__ import annotations

from protolearn.errors import Conflict, NotFound, PermissionDenied, Unauthenticated

__all__ = (
    "AccountDisabled",
    "EmailTaken",
    "InvalidCredentials",
    "RefreshTokenInvalid",
    "UserHasRecords",
    "UserNotFound",
)


class InvalidCredentials(Unauthenticated):
    pass


class AccountDisabled(PermissionDenied):
    pass


class RefreshTokenInvalid(Unauthenticated):
    pass


class EmailTaken(Conflict):
    pass


class UserNotFound(NotFound):
    pass


class UserHasRecords(Conflict):
    pass

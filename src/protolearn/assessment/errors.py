"""What can go wrong with tests and attempts."""

from __future__ import annotations

from protolearn.errors import Conflict, InvalidInput, NotFound

__all__ = (
    "AttemptClosed",
    "AttemptNotFound",
    "AttemptsExhausted",
    "DeadlinePassed",
    "InvalidQuestion",
    "NotPublishable",
    "QuestionNotFound",
    "TestHasAttempts",
    "TestNotFound",
    "UnknownQuestion",
)


class TestNotFound(NotFound):
    pass


class QuestionNotFound(NotFound):
    pass


class AttemptNotFound(NotFound):
    pass


class InvalidQuestion(InvalidInput):
    pass


class UnknownQuestion(InvalidInput):
    pass


class NotPublishable(Conflict):
    pass


class TestHasAttempts(Conflict):
    pass


class AttemptsExhausted(Conflict):
    pass


class AttemptClosed(Conflict):
    pass


class DeadlinePassed(Conflict):
    pass

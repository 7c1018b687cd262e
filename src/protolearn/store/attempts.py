"""A student's attempts at a test and the answers saved for them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from protolearn.store.base import Base, EnumText, one_of, utcnow

__all__ = ("Answer", "AttemptStatus", "TestAttempt")


class AttemptStatus(StrEnum):
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    AUTO_SUBMITTED = "auto_submitted"
    TERMINATED = "terminated"


class TestAttempt(Base):
    __tablename__ = "test_attempts"
    __table_args__ = (
        CheckConstraint(one_of("status", AttemptStatus), name="status"),
        Index("ix_test_attempts_test_id_status", "test_id", "status"),
        Index("ix_test_attempts_student_id_started_at", "student_id", "started_at"),
        # The deadline sweeper scans in-progress attempts by deadline.
        Index("ix_test_attempts_status_deadline", "status", "deadline"),
        # At most one attempt in progress per student and test, even under concurrent starts.
        Index(
            "uq_test_attempts_one_in_progress",
            "test_id",
            "student_id",
            unique=True,
            sqlite_where=text("status = 'in_progress'"),
            postgresql_where=text("status = 'in_progress'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    test_id: Mapped[int] = mapped_column(ForeignKey("tests.id", ondelete="RESTRICT"))
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    status: Mapped[AttemptStatus] = mapped_column(
        EnumText(AttemptStatus, 16), default=AttemptStatus.IN_PROGRESS
    )
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    deadline: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    # The order the student sees; shuffled per attempt when the test asks for it.
    question_order: Mapped[list[int]] = mapped_column(JSON)
    score: Mapped[float | None]
    max_score: Mapped[float | None]
    percent: Mapped[float | None]
    passed: Mapped[bool | None]
    violation_count: Mapped[int] = mapped_column(default=0)
    suspicion_score: Mapped[float] = mapped_column(default=0.0)
    end_reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Answer(Base):
    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("attempt_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("test_attempts.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="RESTRICT"), index=True)
    answer: Mapped[str] = mapped_column(Text)
    is_correct: Mapped[bool | None]
    points_awarded: Mapped[float | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

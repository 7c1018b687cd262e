"""Tests (the exams teachers author) and their questions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from protolearn.store.base import Base, CreatedAt, EnumText, one_of, utcnow

__all__ = ("Question", "QuestionType", "ReviewMode", "Test")


class QuestionType(StrEnum):
    MCQ = "mcq"
    TRUE_FALSE = "true_false"
    SHORT_ANSWER = "short_answer"


class ReviewMode(StrEnum):
    """What a student sees of a closed attempt."""

    NONE = "none"
    SCORE = "score"
    ANSWERS = "answers"


class Test(CreatedAt, Base):
    __tablename__ = "tests"
    __table_args__ = (
        CheckConstraint("time_limit > 0", name="time_limit_positive"),
        CheckConstraint("passing_score >= 0 AND passing_score <= 100", name="passing_score_range"),
        CheckConstraint(one_of("review_mode", ReviewMode), name="review_mode"),
        Index("ix_tests_is_published_created_at", "is_published", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(100), default="", index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    time_limit: Mapped[float]  # minutes
    passing_score: Mapped[float] = mapped_column(default=50.0)  # percent
    is_published: Mapped[bool] = mapped_column(default=False)
    shuffle_questions: Mapped[bool] = mapped_column(default=False)
    max_attempts: Mapped[int] = mapped_column(default=1)
    review_mode: Mapped[ReviewMode] = mapped_column(EnumText(ReviewMode, 16), default=ReviewMode.SCORE)
    camera_required: Mapped[bool] = mapped_column(default=True)
    microphone_required: Mapped[bool] = mapped_column(default=True)
    analysis_fps: Mapped[float] = mapped_column(default=2.0)
    # RuleThresholds fields that differ from the defaults, as JSON.
    proctoring_rules: Mapped[dict[str, float]] = mapped_column(JSON, default=dict, server_default="{}")
    auto_terminate_after_critical: Mapped[int | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    questions: Mapped[list[Question]] = relationship(
        back_populates="test",
        order_by="Question.position, Question.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class Question(CreatedAt, Base):
    __tablename__ = "questions"
    __table_args__ = (
        CheckConstraint(one_of("question_type", QuestionType), name="question_type"),
        CheckConstraint("points >= 0", name="points_non_negative"),
        Index("ix_questions_test_id_position", "test_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    test_id: Mapped[int] = mapped_column(ForeignKey("tests.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
    question_text: Mapped[str] = mapped_column(Text)
    question_type: Mapped[QuestionType] = mapped_column(EnumText(QuestionType, 16), index=True)
    options: Mapped[list[str]] = mapped_column(JSON, default=list)
    correct_answer: Mapped[str] = mapped_column(Text)
    points: Mapped[float] = mapped_column(default=1.0)
    explanation: Mapped[str | None] = mapped_column(Text)
    ai_generated: Mapped[bool] = mapped_column(default=False)
    teacher_edited: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    test: Mapped[Test] = relationship(back_populates="questions")

"""Proctoring violations, their evidence clips and auditors' reviews."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from protolearn.store.base import Base, CreatedAt, EnumText, one_of

__all__ = ("EvidenceClip", "ReviewDecision", "Severity", "Violation", "ViolationReview", "ViolationSource")


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class ViolationSource(StrEnum):
    SERVER = "server"
    BROWSER = "browser"


class ReviewDecision(StrEnum):
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


class EvidenceClip(CreatedAt, Base):
    __tablename__ = "evidence_clips"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("test_attempts.id", ondelete="RESTRICT"), index=True)
    path: Mapped[str] = mapped_column(String(500))  # relative to the data dir
    media_type: Mapped[str] = mapped_column(String(64), default="video/webm")
    size_bytes: Mapped[int]
    duration_seconds: Mapped[float]
    sha256: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime]
    # Retention: the file is deleted once the clip is older than the setting (deleted_at set, the
    # row stays). A confirmed violation's clip is kept until an admin releases it.
    deleted_at: Mapped[datetime | None]
    released_at: Mapped[datetime | None]


class Violation(CreatedAt, Base):
    __tablename__ = "violations"
    __table_args__ = (
        CheckConstraint(one_of("severity", Severity), name="severity"),
        CheckConstraint(one_of("source", ViolationSource), name="source"),
        Index("ix_violations_attempt_id_occurred_at", "attempt_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("test_attempts.id", ondelete="RESTRICT"))
    type: Mapped[str] = mapped_column(String(32), index=True)
    severity: Mapped[Severity] = mapped_column(EnumText(Severity, 16))
    source: Mapped[ViolationSource] = mapped_column(EnumText(ViolationSource, 8))
    description: Mapped[str] = mapped_column(Text, default="")
    occurred_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    evidence_id: Mapped[int | None] = mapped_column(ForeignKey("evidence_clips.id", ondelete="SET NULL"))


class ViolationReview(CreatedAt, Base):
    __tablename__ = "violation_reviews"
    __table_args__ = (CheckConstraint(one_of("decision", ReviewDecision), name="decision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    violation_id: Mapped[int] = mapped_column(ForeignKey("violations.id", ondelete="CASCADE"), unique=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    decision: Mapped[ReviewDecision] = mapped_column(EnumText(ReviewDecision, 16))
    note: Mapped[str] = mapped_column(Text, default="")

"""Wire types of proctoring: violations and reports of browser events."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

import msgspec

from protolearn.assessment.schemas import AttemptOut
from protolearn.store.violations import ReviewDecision, Severity, ViolationSource
from protolearn.wire import RecordId, Request, Response

__all__ = ("AttemptDetail", "BrowserEvent", "BrowserEventIn", "EvidenceRelease", "ReviewOut", "ViolationOut")


class BrowserEvent(StrEnum):
    """What a student's page reports; the server decides the severity."""

    TAB_SWITCH = "tab_switch"
    WINDOW_BLUR = "window_blur"
    FULLSCREEN_EXIT = "fullscreen_exit"
    COPY_PASTE = "copy_paste"
    DEVTOOLS = "devtools"
    CONTEXT_MENU = "context_menu"
    PRINT_SCREEN = "print_screen"


class BrowserEventIn(Request, frozen=True):
    attempt_id: RecordId
    type: BrowserEvent
    description: Annotated[str, msgspec.Meta(max_length=2_000)] = ""
    occurred_at: datetime | None = None


class ReviewOut(Response, frozen=True):
    decision: ReviewDecision
    note: str
    reviewer_id: int
    reviewed_at: datetime


class ViolationOut(Response, frozen=True):
    id: int
    attempt_id: int
    type: str
    severity: Severity
    source: ViolationSource
    description: str
    timestamp: datetime
    ended_at: datetime | None = None
    evidence_id: int | None = None
    review: ReviewOut | None = None


class AttemptDetail(AttemptOut, frozen=True):
    """An attempt with its violations, as ``GET /api/attempts/{id}`` returns it."""

    violations: list[ViolationOut] = []


class ReviewIn(Request, frozen=True):
    decision: ReviewDecision
    note: Annotated[str, msgspec.Meta(max_length=5_000)] = ""


class FlaggedAttempt(Response, frozen=True):
    """An attempt with violations, for the review queue (most suspicious first)."""

    attempt_id: int
    test_id: int
    test_title: str
    student_id: int
    student_name: str
    status: str
    violation_count: int
    suspicion_score: float
    unreviewed: int


class EvidenceRelease(Response, frozen=True):
    """A clip an admin let go: retention applies to it from ``released_at``."""

    evidence_id: int
    released_at: datetime
    deleted_at: datetime | None

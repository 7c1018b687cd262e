"""One person's data, for an admin answering a request under data-protection law: all of it as a
zip (export), or gone (erase). Both are audited.

The export holds their account, every attempt with its answers and violations (with auditors'
verdicts), the evidence clips (opened: as played, not as sealed on disk), the audit entries
about them or made by them, and for a teacher the list of uploaded material.

Erasing deletes their attempts, answers, violations and clips (files too) and signs them out
everywhere; the account stays as an anonymous, deactivated row ("Erased user"), since tests,
reviews and the audit log refer to it, and the addresses it signed in from are removed from
the log. A user with an attempt in progress cannot be erased (end it first), nor the admin
doing it.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import secrets
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from protolearn.accounts import audit
from protolearn.accounts.errors import UserNotFound
from protolearn.accounts.principals import announce_sessions_ended
from protolearn.accounts.schemas import Principal, SessionEnd
from protolearn.admin.schemas import ErasureReport
from protolearn.data_files import data_file, delete_data_file
from protolearn.errors import Conflict
from protolearn.events.bus import EventBus
from protolearn.media.sealed import Sealer, SealError
from protolearn.store.attempts import Answer, AttemptStatus, TestAttempt
from protolearn.store.audit import AuditEntry
from protolearn.store.base import utcnow
from protolearn.store.materials import LearningMaterial
from protolearn.store.tests import Question, Test
from protolearn.store.users import RefreshToken, User
from protolearn.store.violations import EvidenceClip, Violation, ViolationReview

__all__ = ("PersonalData",)

log = logging.getLogger(__name__)

ERASED_NAME = "Erased user"
_README = """ProtoLearn: the data held about one person, exported by an administrator.

user.json        the account
attempts.json    every attempt: its test, times, score, answers, and violations with verdicts
clips/           the evidence clips of those violations (WebM video), named by evidence id
materials.json   material the person uploaded (teachers), without the files
audit.json       audit log entries about the person or made by them
"""


@dataclass(frozen=True, slots=True)
class _Export:
    files: dict[str, bytes]
    counts: dict[str, int]


class PersonalData:
    def __init__(self, session: AsyncSession, data_dir: Path, sealer: Sealer, bus: EventBus | None) -> None:
        self._session = session
        self._data_dir = data_dir
        self._sealer = sealer
        self._bus = bus

    async def export(self, actor: Principal, user_id: int, address: str) -> bytes:
        user = await self._user(user_id)
        export = await self._collect(user)
        audit.record(
            self._session,
            actor_id=actor.user_id,
            action="user.export",
            object_type="user",
            object_id=user.id,
            address=address,
            **export.counts,
        )
        await self._session.commit()
        return await asyncio.to_thread(_zip, export.files)

    async def erase(self, actor: Principal, user_id: int, address: str) -> ErasureReport:
        user = await self._user(user_id)
        if user.id == actor.user_id:
            raise Conflict("administrators cannot erase themselves")
        session = self._session
        attempts = list(await session.scalars(select(TestAttempt).where(TestAttempt.student_id == user.id)))
        if any(attempt.status == AttemptStatus.IN_PROGRESS for attempt in attempts):
            raise Conflict("this user has an attempt in progress; end it first (terminate it, or wait)")
        ids = [attempt.id for attempt in attempts]
        clips = list(await session.scalars(select(EvidenceClip).where(EvidenceClip.attempt_id.in_(ids))))
        violation_ids = list(await session.scalars(select(Violation.id).where(Violation.attempt_id.in_(ids))))
        answers = await session.execute(delete(Answer).where(Answer.attempt_id.in_(ids)))
        await session.execute(delete(ViolationReview).where(ViolationReview.violation_id.in_(violation_ids)))
        await session.execute(delete(Violation).where(Violation.id.in_(violation_ids)))
        await session.execute(delete(EvidenceClip).where(EvidenceClip.attempt_id.in_(ids)))
        await session.execute(delete(TestAttempt).where(TestAttempt.id.in_(ids)))
        now = utcnow()
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        await session.execute(update(AuditEntry).where(AuditEntry.actor_id == user.id).values(address=None))
        user.email = f"erased-{user.id}@erased.invalid"
        user.name = ERASED_NAME
        user.is_active = False
        user.password_hash = f"!erased:{secrets.token_hex(8)}"  # no password verifies against it
        user.tokens_valid_after = now
        report = ErasureReport(
            user_id=user.id,
            attempts=len(ids),
            answers=answers.rowcount,  # type: ignore[attr-defined]
            violations=len(violation_ids),
            clips=len(clips),
        )
        audit.record(
            self._session,
            actor_id=actor.user_id,
            action="user.erase",
            object_type="user",
            object_id=user.id,
            address=address,
            attempts=report.attempts,
            answers=report.answers,
            violations=report.violations,
            clips=report.clips,
        )
        await self._session.commit()
        announce_sessions_ended(self._bus, user.id, SessionEnd.DEACTIVATED)  # before any file work
        for clip in clips:  # after the commit: a failed erase leaves every clip playable
            await asyncio.to_thread(delete_data_file, self._data_dir, clip.path)
        log.info("user %d erased by %d", user.id, actor.user_id, extra={"event": "user_erased"})
        return report

    async def _user(self, user_id: int) -> User:
        user = await self._session.get(User, user_id)
        if user is None:
            raise UserNotFound(f"user {user_id} not found")
        return user

    async def _collect(self, user: User) -> _Export:
        session = self._session
        files: dict[str, bytes] = {"README.txt": _README.encode()}
        files["user.json"] = _json(
            {
                "id": user.id,
                "email": user.email,
                "name": user.name,
                "role": str(user.role),
                "is_active": user.is_active,
                "created_at": user.created_at,
            }
        )
        rows = await session.execute(
            select(TestAttempt, Test.title)
            .join(Test, Test.id == TestAttempt.test_id)
            .where(TestAttempt.student_id == user.id)
            .order_by(TestAttempt.id)
        )
        attempts: list[dict[str, Any]] = []
        clips = 0
        for attempt, title in rows:
            answers = await session.execute(
                select(Answer, Question.question_text)
                .join(Question, Question.id == Answer.question_id)
                .where(Answer.attempt_id == attempt.id)
                .order_by(Answer.question_id)
            )
            violations = await session.execute(
                select(Violation, ViolationReview, EvidenceClip)
                .outerjoin(ViolationReview, ViolationReview.violation_id == Violation.id)
                .outerjoin(EvidenceClip, EvidenceClip.id == Violation.evidence_id)
                .where(Violation.attempt_id == attempt.id)
                .order_by(Violation.occurred_at, Violation.id)
            )
            listed = []
            for violation, review, clip in violations:
                clip_file = await self._clip(clip) if clip is not None else None
                if clip_file is not None:
                    files[f"clips/evidence-{clip.id}.webm"] = clip_file
                    clips += 1
                listed.append(
                    {
                        "id": violation.id,
                        "type": violation.type,
                        "severity": str(violation.severity),
                        "source": str(violation.source),
                        "description": violation.description,
                        "occurred_at": violation.occurred_at,
                        "ended_at": violation.ended_at,
                        "evidence_id": violation.evidence_id,
                        "clip": f"clips/evidence-{clip.id}.webm" if clip_file is not None else None,
                        "review": None
                        if review is None
                        else {"decision": str(review.decision), "note": review.note, "at": review.created_at},
                    }
                )
            attempts.append(
                {
                    "id": attempt.id,
                    "test_id": attempt.test_id,
                    "test_title": title,
                    "status": str(attempt.status),
                    "started_at": attempt.started_at,
                    "deadline": attempt.deadline,
                    "submitted_at": attempt.submitted_at,
                    "score": attempt.score,
                    "max_score": attempt.max_score,
                    "percent": attempt.percent,
                    "passed": attempt.passed,
                    "end_reason": attempt.end_reason,
                    "answers": [
                        {
                            "question_id": answer.question_id,
                            "question": text,
                            "answer": answer.answer,
                            "is_correct": answer.is_correct,
                            "points_awarded": answer.points_awarded,
                        }
                        for answer, text in answers
                    ],
                    "violations": listed,
                }
            )
        files["attempts.json"] = _json(attempts)
        uploads = select(LearningMaterial).where(LearningMaterial.teacher_id == user.id)
        files["materials.json"] = _json(
            [
                {
                    "id": m.id,
                    "title": m.title,
                    "filename": m.filename,
                    "created_at": m.created_at,
                    "status": str(m.status),
                }
                for m in await session.scalars(uploads.order_by(LearningMaterial.id))
            ]
        )
        entries = await session.scalars(
            select(AuditEntry)
            .where(
                or_(
                    AuditEntry.actor_id == user.id,
                    (AuditEntry.object_type == "user") & (AuditEntry.object_id == user.id),
                )
            )
            .order_by(AuditEntry.id)
        )
        log_entries = [
            {
                "at": entry.created_at,
                "actor_id": entry.actor_id,
                "action": entry.action,
                "object_type": entry.object_type,
                "object_id": entry.object_id,
                "address": entry.address,
                "details": entry.details,
            }
            for entry in entries
        ]
        files["audit.json"] = _json(log_entries)
        counts = {"attempts": len(attempts), "clips": clips, "audit_entries": len(log_entries)}
        return _Export(files, counts)

    async def _clip(self, clip: EvidenceClip) -> bytes | None:
        """The clip as played; None when it expired or cannot be opened (said in the log)."""
        if clip.deleted_at is not None:
            return None
        path = data_file(self._data_dir, clip.path)
        if path is None:
            return None
        try:
            return await asyncio.to_thread(self._sealer.open, path)
        except FileNotFoundError:
            return None
        except SealError as error:
            log.error("export: evidence %d cannot be opened: %s", clip.id, error)
            return None


def _json(value: Any) -> bytes:
    return json.dumps(value, indent=2, default=str, ensure_ascii=False).encode()


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            # Video does not compress: stored as it is, the rest deflated.
            kind = zipfile.ZIP_STORED if name.endswith(".webm") else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, compress_type=kind)
    return buffer.getvalue()

"""Taking a test: start or resume, autosave, submit, extra time, and closing attempts at their deadline.

Every write to an attempt first runs a conditional UPDATE on its row (``status = 'in_progress'``
and deadline not passed). That row lock orders autosave, submit and auto-submit against each
other on PostgreSQL, and takes SQLite's write lock, so an answer can never land after the
attempt was scored.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from protolearn.accounts import audit
from protolearn.accounts.schemas import Principal
from protolearn.assessment.access import ensure_attempt_visible, ensure_test_visible, owns_test
from protolearn.assessment.authoring import student_question
from protolearn.assessment.errors import (
    AttemptClosed,
    AttemptNotFound,
    AttemptsExhausted,
    DeadlinePassed,
    UnknownQuestion,
)
from protolearn.assessment.schemas import (
    AnswerOut,
    AnswerValue,
    AttemptOut,
    AutosaveResult,
    ExtraTimeIn,
    StartedAttempt,
    SubmitRequest,
    SubmitResult,
)
from protolearn.assessment.scoring import ScoredQuestion, answer_text, score_attempt
from protolearn.assessment.visibility import results_visible, retaking
from protolearn.events.messages import AttemptEnded, DeadlineChanged
from protolearn.store.attempts import Answer, AttemptStatus, TestAttempt
from protolearn.store.base import utcnow
from protolearn.store.database import lone_statement_connection
from protolearn.store.tests import Question, Test
from protolearn.store.users import Role, User

__all__ = ("AttemptService", "score_fields")

_random = secrets.SystemRandom()


def score_fields(attempt: TestAttempt, visible: bool) -> dict[str, Any]:
    """The attempt's score, max score, percent and pass, or nulls when they are hidden."""
    if not visible:
        return {"score": None, "max_score": None, "percent": None, "passed": None}
    return {
        "score": attempt.score,
        "max_score": attempt.max_score,
        "percent": attempt.percent,
        "passed": attempt.passed,
    }


def _iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, as the REST answers write times."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# The autosave's statements, built once (Core, on the tables): building and compiling them per
# request, through the ORM's bulk paths, was a third of an autosave's CPU.
_ATTEMPTS = cast("Table", TestAttempt.__table__)
_LOCK_OWN_OPEN_ATTEMPT = (
    update(_ATTEMPTS)
    .where(
        _ATTEMPTS.c.id == bindparam("attempt"),  # not a column's name: the SET clause's are taken
        _ATTEMPTS.c.student_id == bindparam("student"),
        _ATTEMPTS.c.status == AttemptStatus.IN_PROGRESS,
        _ATTEMPTS.c.deadline >= bindparam("earliest"),
    )
    .values(updated_at=bindparam("now"))
    .returning(_ATTEMPTS.c.question_order, _ATTEMPTS.c.deadline)
)


def _upsert_answers(insert: Callable[[Table], Any]) -> Any:
    statement = insert(cast("Table", Answer.__table__))
    return statement.on_conflict_do_update(
        index_elements=["attempt_id", "question_id"],
        set_={"answer": statement.excluded.answer, "updated_at": statement.excluded.updated_at},
    )


_UPSERT_ANSWERS = {"postgresql": _upsert_answers(postgresql.insert), "sqlite": _upsert_answers(sqlite.insert)}

# On PostgreSQL the common autosave is one statement, run outside a transaction block (it is
# atomic on its own): the row lock of _LOCK_OWN_OPEN_ATTEMPT, refused unless every answered
# question is the attempt's, then the cleared answers deleted and the others upserted, only if
# the lock was taken. One round trip instead of four (BEGIN, UPDATE, upsert, COMMIT).
_SAVE_INTO_OWN_OPEN_ATTEMPT = (
    text(
        """
    WITH locked AS (
        UPDATE test_attempts SET updated_at = :now
        WHERE id = :attempt AND student_id = :student AND status = :open AND deadline >= :earliest
          AND CAST(question_order AS jsonb) @> to_jsonb(CAST(:questions AS integer[]))
        RETURNING deadline
    ), cleared AS (
        DELETE FROM answers
        WHERE attempt_id = :attempt AND question_id = ANY(CAST(:cleared AS integer[]))
          AND EXISTS (SELECT FROM locked)
    ), saved AS (
        INSERT INTO answers (attempt_id, question_id, answer, updated_at)
        SELECT :attempt, given.question_id, given.answer, :now
        FROM unnest(CAST(:saved AS integer[]), CAST(:texts AS text[])) AS given(question_id, answer)
        WHERE EXISTS (SELECT FROM locked)
        ON CONFLICT (attempt_id, question_id)
        DO UPDATE SET answer = excluded.answer, updated_at = excluded.updated_at
    )
    SELECT deadline FROM locked
    """
    )
    .bindparams(
        bindparam("now", type_=_ATTEMPTS.c.updated_at.type),
        bindparam("earliest", type_=_ATTEMPTS.c.deadline.type),
        bindparam("open", type_=_ATTEMPTS.c.status.type),
    )
    .columns(deadline=_ATTEMPTS.c.deadline.type)
)


class AttemptService:
    def __init__(
        self,
        session: AsyncSession,
        *,
        grace_seconds: float,
        on_new_deadline: Callable[[datetime], None] | None = None,
        on_closed: Callable[[AttemptEnded], None] | None = None,
        on_deadline_changed: Callable[[DeadlineChanged], None] | None = None,
    ) -> None:
        """Build it through AttemptLifecycle.service(), which publishes what on_closed and
        on_deadline_changed hear."""
        self._session = session
        self._grace = timedelta(seconds=grace_seconds)
        self._on_new_deadline = on_new_deadline
        self._on_closed = on_closed
        self._on_deadline_changed = on_deadline_changed

    # --- the student's side ---------------------------------------------------------------

    async def start(self, principal: Principal, test_id: int) -> StartedAttempt:
        """The attempt in progress, or a new one when none is and attempts remain."""
        test = ensure_test_visible(principal, await self._session.get(Test, test_id), test_id)
        attempt = await self._in_progress(test.id, principal.user_id)
        if attempt is not None and attempt.deadline < utcnow() - self._grace:
            await self.close(attempt.id, AttemptStatus.AUTO_SUBMITTED, reason="deadline")
            attempt = None
        made: dict[int, Question] | None = None
        if attempt is None:
            attempt, made = await self._create_attempt(test, principal.user_id)
        if made is not None:  # a new attempt: its questions are read, and nothing is saved in it yet
            questions, answers = made, {}
        else:
            questions = await self._questions(attempt.question_order)
            saved = await self._session.execute(
                select(Answer.question_id, Answer.answer).where(Answer.attempt_id == attempt.id)
            )
            answers = dict(saved.all())
        return StartedAttempt(
            attempt_id=attempt.id,
            test_id=test.id,
            status=attempt.status,
            started_at=attempt.started_at,
            deadline=attempt.deadline,
            server_time=utcnow(),
            time_limit=test.time_limit,
            questions=[
                student_question(questions[qid]) for qid in attempt.question_order if qid in questions
            ],
            answers=answers,
        )

    async def autosave(
        self, principal: Principal, attempt_id: int, answers: Mapping[int, AnswerValue]
    ) -> AutosaveResult:
        """Save some answers (``None`` clears one); refused once the attempt is closed.

        The common case in three statements: the student's own open attempt locked and read in
        one (an UPDATE ... RETURNING), the answers upserted, the commit; on PostgreSQL in one
        (_SAVE_INTO_OWN_OPEN_ATTEMPT). Any other case (not theirs, closed, past its deadline, a
        question not in it) takes the checked path, which says why."""
        now = utcnow()
        if self._session.get_bind().dialect.name == "postgresql" and not self._session.in_transaction():
            return await self._autosave_in_one_statement(principal, attempt_id, answers, now)
        locked = (
            await self._session.execute(
                _LOCK_OWN_OPEN_ATTEMPT,
                {
                    "attempt": attempt_id,
                    "student": principal.user_id,
                    "earliest": now - self._grace,
                    "now": now,
                },
            )
        ).first()
        if locked is None:
            await self._session.rollback()
            return await self._autosave_checked(principal, attempt_id, answers)
        question_order, deadline = locked
        try:
            self._check_questions(question_order, answers)
        except UnknownQuestion:
            await self._session.rollback()  # the row's lock goes now, not with the session
            raise
        await self._save_answers(attempt_id, answers, now)
        await self._session.commit()
        return AutosaveResult(attempt_id=attempt_id, saved=len(answers), saved_at=now, deadline=deadline)

    async def _autosave_in_one_statement(
        self, principal: Principal, attempt_id: int, answers: Mapping[int, AnswerValue], now: datetime
    ) -> AutosaveResult:
        connection = await lone_statement_connection(self._session)
        texts = {qid: answer_text(value) for qid, value in answers.items()}
        deadline = (
            await connection.execute(
                _SAVE_INTO_OWN_OPEN_ATTEMPT,
                {
                    "attempt": attempt_id,
                    "student": principal.user_id,
                    "open": AttemptStatus.IN_PROGRESS,
                    "earliest": now - self._grace,
                    "now": now,
                    "questions": list(texts),
                    "cleared": [qid for qid, value in texts.items() if value is None],
                    "saved": [qid for qid, value in texts.items() if value is not None],
                    "texts": [value for value in texts.values() if value is not None],
                },
            )
        ).scalar()
        await self._session.rollback()  # ends the session's use of the connection in autocommit
        if deadline is None:
            return await self._autosave_checked(principal, attempt_id, answers)
        return AutosaveResult(attempt_id=attempt_id, saved=len(answers), saved_at=now, deadline=deadline)

    async def _autosave_checked(
        self, principal: Principal, attempt_id: int, answers: Mapping[int, AnswerValue]
    ) -> AutosaveResult:
        attempt = await self._own_attempt(principal, attempt_id)
        self._check_questions(attempt.question_order, answers)
        now = utcnow()
        await self._lock_or_refuse(attempt.id, now)
        await self._save_answers(attempt.id, answers, now)
        await self._session.commit()
        return AutosaveResult(
            attempt_id=attempt.id, saved=len(answers), saved_at=now, deadline=attempt.deadline
        )

    async def submit(self, principal: Principal, test_id: int, request: SubmitRequest) -> SubmitResult:
        attempt = await self._own_attempt(principal, request.attempt_id)
        if attempt.test_id != test_id:
            raise AttemptNotFound(f"attempt {request.attempt_id} is not an attempt at test {test_id}")
        answers = request.answers or {}
        self._check_questions(attempt.question_order, answers)
        now = utcnow()
        await self._lock_or_refuse(attempt.id, now, closing_as=AttemptStatus.SUBMITTED)
        await self._save_answers(attempt.id, answers, now)
        test = await self._score(attempt.id)
        await self._session.commit()
        self._ended(attempt.id, AttemptStatus.SUBMITTED, None)
        show_score, _ = results_visible(test, attempt, to_student=True)
        return SubmitResult(
            attempt_id=attempt.id,
            status=AttemptStatus.SUBMITTED,
            **score_fields(attempt, show_score),
        )

    # --- the teacher's side ---------------------------------------------------------------

    async def extend(
        self, principal: Principal, attempt_id: int, request: ExtraTimeIn, address: str | None = None
    ) -> AttemptOut:
        """Move an attempt's deadline later by ``request.minutes``; audited, and the student hears
        it. Only while it still takes answers: under the same row lock as autosave and submit,
        so an extension and a close (submit, auto-submit) never both take effect."""
        attempt, test, _student = await self._load(attempt_id)
        if attempt is None or test is None or not owns_test(principal, test):
            raise AttemptNotFound(f"attempt {attempt_id} not found")
        try:
            await self._lock_or_refuse(attempt.id, utcnow())
        except (AttemptClosed, DeadlinePassed) as refusal:
            raise type(refusal)(f"no extra time: {refusal.detail}", **refusal.extra) from refusal
        locked = await self._fresh(attempt.id)
        assert locked is not None  # noqa: S101 -- its row is locked
        previous = locked.deadline
        locked.deadline = previous + timedelta(minutes=request.minutes)
        reason = request.reason.strip()
        audit.record(
            self._session,
            actor_id=principal.user_id,
            action="attempt.extend",
            object_type="attempt",
            object_id=attempt.id,
            address=address,
            minutes=request.minutes,
            reason=reason,
            student_id=attempt.student_id,
            test_id=test.id,
            previous_deadline=previous.isoformat(),
            deadline=locked.deadline.isoformat(),
        )
        await self._session.commit()
        if self._on_new_deadline is not None:
            self._on_new_deadline(locked.deadline)
        if self._on_deadline_changed is not None:
            self._on_deadline_changed(
                DeadlineChanged(
                    attempt_id=attempt.id,
                    deadline=_iso_utc(locked.deadline),
                    minutes=request.minutes,
                    reason=reason,
                )
            )
        return await self.get(principal, attempt.id)

    # --- reading --------------------------------------------------------------------------

    async def get(self, principal: Principal, attempt_id: int) -> AttemptOut:
        attempt, test, student = await self._load(attempt_id)
        attempt = ensure_attempt_visible(principal, attempt, test, attempt_id)
        if test is None or student is None:  # ensure_attempt_visible has raised already
            raise AttemptNotFound(f"attempt {attempt_id} not found")
        if attempt.status == AttemptStatus.IN_PROGRESS and attempt.deadline < utcnow() - self._grace:
            await self.close(attempt.id, AttemptStatus.AUTO_SUBMITTED, reason="deadline")
        to_student = principal.role is Role.STUDENT
        again = to_student and await retaking(self._session, attempt.student_id, test.id)
        show_score, show_marking = results_visible(test, attempt, to_student=to_student, retaking=again)
        saved = {
            a.question_id: a
            for a in await self._session.scalars(select(Answer).where(Answer.attempt_id == attempt.id))
        }
        questions = await self._questions(attempt.question_order) if show_marking else {}
        closed = attempt.status != AttemptStatus.IN_PROGRESS
        unmarked = False if closed else None  # a question left blank scores nothing once closed
        answers = []
        for question_id in attempt.question_order:
            answer = saved.get(question_id)
            if not show_marking:
                answers.append(AnswerOut(question_id=question_id, answer=answer.answer if answer else None))
                continue
            question = questions.get(question_id)
            answers.append(
                AnswerOut(
                    question_id=question_id,
                    answer=answer.answer if answer else None,
                    is_correct=answer.is_correct if answer else unmarked,
                    points_awarded=answer.points_awarded if answer else (0.0 if closed else None),
                    correct_answer=question.correct_answer if question else None,
                )
            )
        return AttemptOut(
            id=attempt.id,
            test_id=test.id,
            test_title=test.title,
            student_id=student.id,
            student_name=student.name,
            status=attempt.status,
            started_at=attempt.started_at,
            deadline=attempt.deadline,
            submitted_at=attempt.submitted_at,
            **score_fields(attempt, show_score),
            violation_count=attempt.violation_count,
            suspicion_score=None if to_student else attempt.suspicion_score,
            end_reason=attempt.end_reason,
            answers=answers,
        )

    # --- closing, for the deadline task and proctoring ------------------------------------

    async def close(
        self,
        attempt_id: int,
        status: AttemptStatus,
        *,
        reason: str | None = None,
        due_before: datetime | None = None,
    ) -> bool:
        """Close an attempt in progress and score its saved answers; ``False`` if already closed
        (or, with ``due_before``, if its deadline has since moved to that time or later)."""
        now = utcnow()
        conditions = [TestAttempt.id == attempt_id, TestAttempt.status == AttemptStatus.IN_PROGRESS]
        if due_before is not None:  # extra time given since the sweep looked must win
            conditions.append(TestAttempt.deadline < due_before)
        result = await self._session.execute(
            update(TestAttempt)
            .where(*conditions)
            .values(status=status, submitted_at=now, end_reason=reason, updated_at=now)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            await self._session.rollback()
            return False
        await self._score(attempt_id)
        await self._session.commit()
        self._ended(attempt_id, status, reason)
        return True

    async def close_expired(self, now: datetime | None = None) -> list[int]:
        """Auto-submit every attempt whose deadline (plus grace) has passed by ``now``."""
        cutoff = (now or utcnow()) - self._grace
        expired = list(
            await self._session.scalars(
                select(TestAttempt.id).where(
                    TestAttempt.status == AttemptStatus.IN_PROGRESS, TestAttempt.deadline < cutoff
                )
            )
        )
        return [
            aid
            for aid in expired
            if await self.close(aid, AttemptStatus.AUTO_SUBMITTED, reason="deadline", due_before=cutoff)
        ]

    async def next_deadline(self) -> datetime | None:
        """When the next attempt in progress must be closed (its deadline plus grace)."""
        deadline = await self._session.scalar(
            select(func.min(TestAttempt.deadline)).where(TestAttempt.status == AttemptStatus.IN_PROGRESS)
        )
        return None if deadline is None else deadline + self._grace

    # --- internals ------------------------------------------------------------------------

    def _ended(self, attempt_id: int, status: AttemptStatus, reason: str | None) -> None:
        if self._on_closed is not None:
            self._on_closed(AttemptEnded(attempt_id=attempt_id, status=status.value, reason=reason))

    async def _create_attempt(
        self, test: Test, student_id: int
    ) -> tuple[TestAttempt, dict[int, Question] | None]:
        """A new attempt and its questions, or the one a concurrent start made (no questions)."""
        used = await self._session.scalar(
            select(func.count(TestAttempt.id)).where(
                TestAttempt.test_id == test.id, TestAttempt.student_id == student_id
            )
        )
        if (used or 0) >= test.max_attempts:
            # A concurrent start (double click, two tabs) may have just made the attempt.
            existing = await self._in_progress(test.id, student_id)
            if existing is not None:
                return existing, None
            raise AttemptsExhausted(f"all {test.max_attempts} attempt(s) at this test are used")
        questions = list(
            await self._session.scalars(
                select(Question).where(Question.test_id == test.id).order_by(Question.position, Question.id)
            )
        )
        order = [question.id for question in questions]
        if test.shuffle_questions:
            _random.shuffle(order)
        now = utcnow()
        attempt = TestAttempt(
            test_id=test.id,
            student_id=student_id,
            started_at=now,
            deadline=now + timedelta(minutes=test.time_limit),
            question_order=order,
        )
        self._session.add(attempt)
        try:
            await self._session.commit()
        except IntegrityError:  # a concurrent start (double click, two tabs) created it first
            await self._session.rollback()
            await self._session.refresh(test)  # the rollback expired it
            existing = await self._in_progress(test.id, student_id)
            if existing is None:
                raise
            return existing, None
        if self._on_new_deadline is not None:
            self._on_new_deadline(attempt.deadline)
        return attempt, {question.id: question for question in questions}

    async def _in_progress(self, test_id: int, student_id: int) -> TestAttempt | None:
        return await self._session.scalar(
            select(TestAttempt).where(
                TestAttempt.test_id == test_id,
                TestAttempt.student_id == student_id,
                TestAttempt.status == AttemptStatus.IN_PROGRESS,
            )
        )

    async def _own_attempt(self, principal: Principal, attempt_id: int) -> TestAttempt:
        attempt = await self._session.get(TestAttempt, attempt_id)
        if attempt is None or attempt.student_id != principal.user_id:
            raise AttemptNotFound(f"attempt {attempt_id} not found")
        return attempt

    async def _load(self, attempt_id: int) -> tuple[TestAttempt | None, Test | None, User | None]:
        row = (
            await self._session.execute(
                select(TestAttempt, Test, User)
                .join(Test, Test.id == TestAttempt.test_id)
                .join(User, User.id == TestAttempt.student_id)
                .where(TestAttempt.id == attempt_id)
            )
        ).first()
        return (None, None, None) if row is None else (row[0], row[1], row[2])

    async def _questions(self, question_ids: list[int]) -> dict[int, Question]:
        if not question_ids:
            return {}
        questions = await self._session.scalars(select(Question).where(Question.id.in_(question_ids)))
        return {q.id: q for q in questions}

    @staticmethod
    def _check_questions(question_order: Sequence[int], answers: Mapping[int, object]) -> None:
        unknown = sorted(set(answers) - set(question_order))
        if unknown:
            raise UnknownQuestion(
                f"question(s) {', '.join(map(str, unknown))} are not part of this attempt",
                question_ids=unknown,
            )

    async def _lock_if_open(
        self, attempt_id: int, now: datetime, *, closing_as: AttemptStatus | None = None
    ) -> bool:
        """Lock the attempt's row if it still takes answers; optionally close it in the same step."""
        values: dict[str, object] = {"updated_at": now}
        if closing_as is not None:
            values |= {"status": closing_as, "submitted_at": now, "end_reason": None}
        result = await self._session.execute(
            update(TestAttempt)
            .where(
                TestAttempt.id == attempt_id,
                TestAttempt.status == AttemptStatus.IN_PROGRESS,
                TestAttempt.deadline >= now - self._grace,
            )
            .values(**values)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def _fresh(self, attempt_id: int) -> TestAttempt | None:
        """The attempt's row as the database has it now, not as this session last saw it."""
        return await self._session.scalar(
            select(TestAttempt).where(TestAttempt.id == attempt_id).execution_options(populate_existing=True)
        )

    async def _lock_or_refuse(
        self, attempt_id: int, now: datetime, *, closing_as: AttemptStatus | None = None
    ) -> None:
        """Lock the row of an attempt that still takes answers, or raise why it does not,
        auto-submitting it if its time is up."""
        if await self._lock_if_open(attempt_id, now, closing_as=closing_as):
            return
        await self._session.rollback()
        attempt = await self._fresh(attempt_id)
        if attempt is None:
            raise AttemptNotFound(f"attempt {attempt_id} not found")
        if attempt.status == AttemptStatus.IN_PROGRESS:
            due = utcnow() - self._grace
            if await self.close(attempt_id, AttemptStatus.AUTO_SUBMITTED, reason="deadline", due_before=due):
                raise DeadlinePassed(
                    f"the deadline passed at {attempt.deadline.isoformat()}; the attempt was auto-submitted "
                    "with the answers saved before it",
                    attempt_status=AttemptStatus.AUTO_SUBMITTED.value,
                    deadline=attempt.deadline.isoformat(),
                )
            # Extra time moved the deadline since the lock was refused: it takes answers again.
            if await self._lock_if_open(attempt_id, utcnow(), closing_as=closing_as):
                return
            await self._session.rollback()
            attempt = await self._fresh(attempt_id)
            assert attempt is not None  # noqa: S101 -- attempts are never deleted while in use
        raise AttemptClosed(f"the attempt is already {attempt.status}", attempt_status=attempt.status)

    async def _save_answers(self, attempt_id: int, answers: Mapping[int, AnswerValue], now: datetime) -> None:
        cleared = [qid for qid, value in answers.items() if value is None]
        rows = [
            {"attempt_id": attempt_id, "question_id": qid, "answer": answer_text(value), "updated_at": now}
            for qid, value in answers.items()
            if value is not None
        ]
        if cleared:
            await self._session.execute(
                delete(Answer).where(Answer.attempt_id == attempt_id, Answer.question_id.in_(cleared))
            )
        if not rows:
            return
        postgres = self._session.get_bind().dialect.name == "postgresql"
        await self._session.execute(_UPSERT_ANSWERS["postgresql" if postgres else "sqlite"], rows)

    async def _score(self, attempt_id: int) -> Test:
        """Mark every saved answer and store the attempt's score; the caller commits."""
        attempt = await self._fresh(attempt_id)
        assert attempt is not None  # noqa: S101
        test = await self._session.get(Test, attempt.test_id)
        assert test is not None  # noqa: S101
        questions = await self._questions(attempt.question_order)
        answers = {
            a.question_id: a
            for a in await self._session.scalars(select(Answer).where(Answer.attempt_id == attempt_id))
        }
        result = score_attempt(
            (
                ScoredQuestion(q.id, q.question_type, q.correct_answer, q.points)
                for qid in attempt.question_order
                if (q := questions.get(qid)) is not None
            ),
            {qid: a.answer for qid, a in answers.items()},
            test.passing_score,
        )
        for marked in result.marked:
            answers[marked.question_id].is_correct = marked.is_correct
            answers[marked.question_id].points_awarded = marked.points_awarded
        attempt.score, attempt.max_score = result.score, result.max_score
        attempt.percent, attempt.passed = result.percent, result.passed
        return test

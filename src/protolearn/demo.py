"""Demo accounts and a published demo test, so a fresh install can be tried at once."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from protolearn.accounts.schemas import Principal
from protolearn.accounts.service import AccountService
from protolearn.assessment.authoring import AuthoringService
from protolearn.assessment.schemas import QuestionIn, TestCreate
from protolearn.store.tests import QuestionType, ReviewMode, Test
from protolearn.store.users import Role

__all__ = ("DEMO_ACCOUNTS", "DEMO_TEST_TITLE", "DemoAccount", "seed_demo")


@dataclass(frozen=True, slots=True)
class DemoAccount:
    role: Role
    email: str
    password: str
    name: str


DEMO_ACCOUNTS = (
    DemoAccount(Role.TEACHER, "teacher@demo.protolearn.test", "demo-teacher-pass", "Dana Teacher"),
    DemoAccount(Role.STUDENT, "student@demo.protolearn.test", "demo-student-pass", "Sam Student"),
    DemoAccount(Role.AUDITOR, "auditor@demo.protolearn.test", "demo-auditor-pass", "Alex Auditor"),
    DemoAccount(Role.ADMIN, "admin@demo.protolearn.test", "demo-admin-pass", "Ari Admin"),
)
DEMO_TEST_TITLE = "Demo: world geography"

_DEMO_TEST = TestCreate(
    title=DEMO_TEST_TITLE,
    subject="Geography",
    description="Five short questions to try ProtoLearn end to end.",
    time_limit=15,
    passing_score=60,
    is_published=True,
    review_mode=ReviewMode.ANSWERS,
    questions=[
        QuestionIn(
            question_text="What is the capital of Australia?",
            question_type=QuestionType.MCQ,
            options=["Sydney", "Melbourne", "Canberra", "Perth"],
            correct_answer="Canberra",
            explanation="Canberra was built as the capital, a compromise between Sydney and Melbourne.",
        ),
        QuestionIn(
            question_text="The Nile flows into the Mediterranean Sea.",
            question_type=QuestionType.TRUE_FALSE,
            correct_answer="true",
        ),
        QuestionIn(
            question_text="Which ocean is the largest?",
            question_type=QuestionType.MCQ,
            options=["Atlantic", "Indian", "Pacific", "Arctic"],
            correct_answer="Pacific",
        ),
        QuestionIn(
            question_text="Name the longest mountain range on land.",
            question_type=QuestionType.SHORT_ANSWER,
            correct_answer="Andes",
            points=2,
        ),
        QuestionIn(
            question_text="How many continents are there (by the seven-continent model)?",
            question_type=QuestionType.SHORT_ANSWER,
            correct_answer="7",
        ),
    ],
)


async def seed_demo(session: AsyncSession, accounts: AccountService) -> bool:
    """Create the demo accounts and test where missing; ``True`` if anything was created."""
    created_any = False
    teacher_id = 0
    for account in DEMO_ACCOUNTS:
        user, created = await accounts.create_or_get(
            account.email, account.password, account.name, account.role
        )
        created_any |= created
        if account.role is Role.TEACHER:
            teacher_id = user.id
    exists = await session.scalar(
        select(Test.id).where(Test.teacher_id == teacher_id, Test.title == DEMO_TEST_TITLE)
    )
    if exists is None:
        teacher = Principal(user_id=teacher_id, role=Role.TEACHER, email=DEMO_ACCOUNTS[0].email, name="")
        await AuthoringService(session).create_test(teacher, _DEMO_TEST)
        created_any = True
    return created_any

"""Extra time for one attempt: the teacher moves its deadline later; answers are taken and the
auto-submit waits until the new deadline, the change is audited, and the student's page is told."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from protolearn.assessment.deadlines import DeadlineEnforcer
from protolearn.assessment.lifecycle import AttemptLifecycle
from protolearn.config import Settings
from protolearn.events.bus import EventBus
from protolearn.store.database import create_engine, create_sessionmaker
from tests.support.api import Actor, Api, new_test_payload, published_test, started_attempt
from tests.support.live import live, publish_over, receive_until

SHORT_LIMIT_MINUTES = 0.05  # three seconds


def _time(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


async def _extend(
    actor: Actor, attempt_id: int, minutes: Any = 10, reason: Any = "extra time accommodation"
) -> httpx.Response:
    return await actor.post(f"/api/attempts/{attempt_id}/extend", json={"minutes": minutes, "reason": reason})


async def _sleep_past(moment: datetime, extra: float) -> None:
    await asyncio.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds() + extra))


async def _short_test(teacher: Actor) -> dict[str, Any]:
    response = await teacher.post(
        "/api/tests", json=new_test_payload(is_published=True, time_limit=SHORT_LIMIT_MINUTES)
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def _assert_problem(response: httpx.Response, status: int, mentions: str = "") -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = dict(response.json())
    assert body["status"] == status
    assert mentions in body["detail"], body["detail"]
    return body


@pytest.fixture
async def enforcer(settings: Settings) -> AsyncIterator[DeadlineEnforcer]:
    """The deadline task's sweep over the server's database, to run at chosen times."""
    engine = create_engine(settings.database_url)
    lifecycle = AttemptLifecycle(
        create_sessionmaker(engine), EventBus(), grace_seconds=settings.deadline_grace_seconds
    )
    try:
        yield DeadlineEnforcer(lifecycle, max_sleep_seconds=settings.deadline_sweep_seconds)
    finally:
        await engine.dispose()


async def test_extra_time_moves_the_deadline_wherever_it_is_shown(api: Api) -> None:
    teacher, student, admin = await api.user("teacher"), await api.user("student"), await api.user("admin")
    test = await published_test(teacher)
    attempt = await started_attempt(student, test["id"])
    attempt_id, original = attempt["attempt_id"], _time(attempt["deadline"])

    response = await _extend(teacher, attempt_id, 15, "  dyslexia accommodation  ")
    assert response.status_code == 200, response.text
    extended = response.json()
    assert (extended["id"], extended["status"], extended["violations"]) == (attempt_id, "in_progress", [])
    assert _time(extended["deadline"]) == original + timedelta(minutes=15)

    # An admin may give more; extensions add up.
    again = await _extend(admin, attempt_id, 5, "fire alarm in the hall")
    assert again.status_code == 200, again.text
    deadline = _time(again.json()["deadline"])
    assert deadline == original + timedelta(minutes=20)

    seen_by_student = (await student.get(f"/api/attempts/{attempt_id}")).json()
    assert _time(seen_by_student["deadline"]) == deadline
    resumed = await started_attempt(student, test["id"])
    assert (resumed["attempt_id"], _time(resumed["deadline"])) == (attempt_id, deadline)
    saved = await student.put(
        f"/api/attempts/{attempt_id}/answers", json={"answers": {attempt["questions"][0]["id"]: "Paris"}}
    )
    assert saved.status_code == 200, saved.text
    assert _time(saved.json()["deadline"]) == deadline

    [row] = (await teacher.get(f"/api/results/{test['id']}")).json()
    assert (row["attempt_id"], row["status"]) == (attempt_id, "in_progress")
    assert _time(row["started_at"]) == _time(attempt["started_at"])
    assert _time(row["deadline"]) == deadline

    log = (await admin.get("/api/audit-log", params={"action": "attempt.extend"})).json()
    assert log["total"] == 2
    by_admin, by_teacher = log["items"]  # newest first
    assert (by_teacher["actor_id"], by_teacher["object_type"], by_teacher["object_id"]) == (
        teacher.id,
        "attempt",
        attempt_id,
    )
    assert by_teacher["details"]["minutes"] == 15
    assert by_teacher["details"]["reason"] == "dyslexia accommodation"
    assert by_teacher["details"]["student_id"] == student.id
    assert _time(by_teacher["details"]["previous_deadline"]) == original
    assert _time(by_teacher["details"]["deadline"]) == original + timedelta(minutes=15)
    assert (by_admin["actor_id"], by_admin["details"]["minutes"]) == (admin.id, 5)
    assert by_admin["details"]["reason"] == "fire alarm in the hall"


async def test_the_route_is_documented(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/schema/openapi.json")).json()
    operation = spec["paths"]["/api/attempts/{attempt_id}/extend"]["post"]
    assert operation["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ExtraTimeIn"
    }
    answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer == {"$ref": "#/components/schemas/AttemptDetail"}
    body = spec["components"]["schemas"]["ExtraTimeIn"]
    assert sorted(body["required"]) == ["minutes", "reason"]
    assert (body["properties"]["minutes"]["minimum"], body["properties"]["minutes"]["maximum"]) == (1, 600)
    assert "deadline" in spec["components"]["schemas"]["AttemptDetail"]["required"]
    assert {"attempt_id", "started_at", "deadline"} <= spec["components"]["schemas"]["ResultRow"][
        "properties"
    ].keys()


async def test_answers_are_taken_until_the_new_deadline_and_the_auto_submit_waits_for_it(
    api: Api, settings: Settings, enforcer: DeadlineEnforcer
) -> None:
    teacher, student = await api.user("teacher"), await api.user("student")
    test = await _short_test(teacher)
    attempt = await started_attempt(student, test["id"])
    attempt_id, original = attempt["attempt_id"], _time(attempt["deadline"])
    mcq_id, tf_id, _ = (q["id"] for q in attempt["questions"])
    await student.put(f"/api/attempts/{attempt_id}/answers", json={"answers": {mcq_id: "Paris"}})

    response = await _extend(teacher, attempt_id, 1, "the network went down for a minute")
    assert response.status_code == 200, response.text
    deadline = _time(response.json()["deadline"])
    assert deadline == original + timedelta(minutes=1)
    grace = timedelta(seconds=settings.deadline_grace_seconds)

    # Past the old deadline and its grace, and past a full sleep of the server's deadline task.
    await _sleep_past(original + grace, extra=settings.deadline_sweep_seconds + 0.5)
    late_for_the_old_deadline = await student.put(
        f"/api/attempts/{attempt_id}/answers", json={"answers": {tf_id: True}}
    )
    assert late_for_the_old_deadline.status_code == 200, late_for_the_old_deadline.text
    [row] = (await teacher.get(f"/api/results/{test['id']}")).json()
    assert row["status"] == "in_progress"

    # The sweep, run at chosen times: nothing is due until the new deadline plus grace.
    assert await enforcer.sweep(now=original + grace + timedelta(seconds=1)) == deadline + grace
    assert await enforcer.sweep(now=deadline + grace - timedelta(seconds=1)) == deadline + grace
    assert (await teacher.get(f"/api/attempts/{attempt_id}")).json()["status"] == "in_progress"

    assert await enforcer.sweep(now=deadline + grace + timedelta(seconds=1)) is None
    closed = (await teacher.get(f"/api/attempts/{attempt_id}")).json()
    assert (closed["status"], closed["end_reason"]) == ("auto_submitted", "deadline")
    assert closed["score"] == 2.0  # both answers, the one saved after the old deadline included
    refused = await _extend(teacher, attempt_id, 5)
    _assert_problem(refused, 409, "no extra time")


async def test_only_the_tests_teacher_or_an_admin_gives_extra_time(
    api: Api, client: httpx.AsyncClient
) -> None:
    teacher, student = await api.user("teacher"), await api.user("student")
    other_teacher, other_student = await api.user("teacher"), await api.user("student")
    auditor, admin = await api.user("auditor"), await api.user("admin")
    test = await published_test(teacher)
    attempt = await started_attempt(student, test["id"])
    attempt_id = attempt["attempt_id"]

    _assert_problem(await _extend(other_teacher, attempt_id), 404, "not found")
    for refused in (student, other_student, auditor):
        _assert_problem(await _extend(refused, attempt_id), 403)
    anonymous = await client.post(
        f"/api/attempts/{attempt_id}/extend", json={"minutes": 10, "reason": "please"}
    )
    _assert_problem(anonymous, 401)
    _assert_problem(await _extend(teacher, attempt_id + 1000), 404, "not found")

    detail = (await teacher.get(f"/api/attempts/{attempt_id}")).json()
    assert _time(detail["deadline"]) == _time(attempt["deadline"])
    log = (await admin.get("/api/audit-log", params={"action": "attempt.extend"})).json()
    assert log["total"] == 0


async def test_an_ended_attempt_gets_no_extra_time(api: Api, settings: Settings) -> None:
    teacher = await api.user("teacher")
    submitter, latecomer = await api.user("student"), await api.user("student")
    test = await published_test(teacher)
    submitted = await started_attempt(submitter, test["id"])
    response = await submitter.post(
        f"/api/tests/{test['id']}/submit", json={"attempt_id": submitted["attempt_id"]}
    )
    assert response.status_code == 200, response.text
    body = _assert_problem(await _extend(teacher, submitted["attempt_id"]), 409, "no extra time")
    assert (body["code"], body["attempt_status"]) == ("AttemptClosed", "submitted")

    # Its time (and grace) is up: it is being auto-submitted, whether or not the task got to it.
    short = await _short_test(teacher)
    expired = await started_attempt(latecomer, short["id"])
    await _sleep_past(_time(expired["deadline"]), extra=settings.deadline_grace_seconds + 0.3)
    body = _assert_problem(await _extend(teacher, expired["attempt_id"]), 409, "no extra time")
    assert body["attempt_status"] == "auto_submitted"
    detail = (await teacher.get(f"/api/attempts/{expired['attempt_id']}")).json()
    assert detail["status"] == "auto_submitted"
    assert _time(detail["deadline"]) == _time(expired["deadline"])


@pytest.mark.parametrize(
    ("extension", "field"),
    [
        ({"minutes": 0, "reason": "r"}, "minutes"),
        ({"minutes": -5, "reason": "r"}, "minutes"),
        ({"minutes": 601, "reason": "r"}, "minutes"),
        ({"minutes": 2.5, "reason": "r"}, "minutes"),
        ({"minutes": "ten", "reason": "r"}, "minutes"),
        ({"minutes": None, "reason": "r"}, "minutes"),
        ({"reason": "r"}, "minutes"),
        ({"minutes": 10}, "reason"),
        ({"minutes": 10, "reason": ""}, "reason"),
        ({"minutes": 10, "reason": "   "}, "reason"),
        ({"minutes": 10, "reason": "x" * 1001}, "reason"),
        ({"minutes": 10, "reason": "r", "seconds": 30}, "seconds"),
    ],
    ids=lambda value: str(value)[:40],
)
async def test_bad_extra_time_is_refused_naming_the_field(
    api: Api, extension: dict[str, Any], field: str
) -> None:
    teacher, student = await api.user("teacher"), await api.user("student")
    test = await published_test(teacher)
    attempt = await started_attempt(student, test["id"])
    response = await teacher.post(f"/api/attempts/{attempt['attempt_id']}/extend", json=extension)
    _assert_problem(response, 400, field)
    detail = (await teacher.get(f"/api/attempts/{attempt['attempt_id']}")).json()
    assert _time(detail["deadline"]) == _time(attempt["deadline"])


async def test_the_students_live_channel_hears_the_new_deadline(api: Api, base_url: str) -> None:
    teacher, student = await api.user("teacher"), await api.user("student")
    test = await published_test(teacher)
    attempt = await started_attempt(student, test["id"])
    attempt_id = attempt["attempt_id"]

    async with live(base_url, student) as socket:
        connection = await publish_over(socket, attempt_id)
        response = await _extend(teacher, attempt_id, 10, "power cut in room 4")
        assert response.status_code == 200, response.text
        heard = (await receive_until(socket, "deadline-changed"))[-1]
        await connection.close()

    assert heard["deadline"].endswith("Z")
    assert _time(heard["deadline"]) == _time(response.json()["deadline"])
    assert _time(heard["deadline"]) == _time(attempt["deadline"]) + timedelta(minutes=10)
    assert {k: v for k, v in heard.items() if k != "deadline"} == {
        "type": "deadline-changed",
        "attempt_id": attempt_id,
        "minutes": 10,
        "reason": "power cut in room 4",
    }

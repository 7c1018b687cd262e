"""The deadline is the server's: late answers are refused, and expired attempts are auto-submitted
with their saved answers even if the student never returns, even across a server restart."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from protolearn.assessment.lifecycle import AttemptLifecycle
from protolearn.config import Settings
from protolearn.events.bus import ATTEMPTS_ENDED, EventBus
from protolearn.store.base import utcnow
from protolearn.store.database import create_engine, create_sessionmaker
from tests.support.api import Actor, Api, new_test_payload, short_answer, started_attempt
from tests.support.server import running_server

SHORT_LIMIT_MINUTES = 0.05  # three seconds


async def _wait_for_status(teacher: Actor, test_id: int, status: str, within: float = 15.0) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        rows = (await teacher.get(f"/api/results/{test_id}")).json()
        if rows and rows[0]["status"] == status:
            return dict(rows[0])
        await asyncio.sleep(0.2)
    raise AssertionError(f"attempt not {status} within {within} s: {rows}")


async def _sleep_until(iso_deadline: str, extra: float) -> None:
    remaining = (datetime.fromisoformat(iso_deadline) - datetime.now(UTC)).total_seconds()
    await asyncio.sleep(max(0.0, remaining + extra))


async def test_unattended_attempt_is_auto_submitted_with_saved_answers(api: Api) -> None:
    teacher, student = await api.user("teacher"), await api.user("student")
    test = (
        await teacher.post(
            "/api/tests", json=new_test_payload(is_published=True, time_limit=SHORT_LIMIT_MINUTES)
        )
    ).json()
    attempt = await started_attempt(student, test["id"])
    mcq_id = attempt["questions"][0]["id"]
    await student.put(f"/api/attempts/{attempt['attempt_id']}/answers", json={"answers": {mcq_id: "Paris"}})

    # Nobody calls anything for this attempt again: only the background task can close it.
    row = await _wait_for_status(teacher, test["id"], "auto_submitted")
    assert (row["score"], row["max_score"], row["passed"]) == (1.0, 3.0, False)
    detail = (await teacher.get(f"/api/attempts/{attempt['attempt_id']}")).json()
    assert detail["end_reason"] == "deadline"
    assert detail["submitted_at"] >= attempt["deadline"]


async def test_late_answers_are_refused_and_the_attempt_closed(api: Api, settings: Settings) -> None:
    teacher, student = await api.user("teacher"), await api.user("student")
    test = (
        await teacher.post(
            "/api/tests", json=new_test_payload(is_published=True, time_limit=SHORT_LIMIT_MINUTES)
        )
    ).json()
    attempt = await started_attempt(student, test["id"])
    mcq_id, tf_id, _ = (q["id"] for q in attempt["questions"])
    await student.put(f"/api/attempts/{attempt['attempt_id']}/answers", json={"answers": {mcq_id: "Paris"}})

    # Within the grace period an answer is still taken (it was in flight at the deadline).
    await _sleep_until(attempt["deadline"], extra=0.2)
    in_grace = await student.put(
        f"/api/attempts/{attempt['attempt_id']}/answers", json={"answers": {tf_id: True}}
    )
    assert in_grace.status_code == 200, in_grace.text

    await _sleep_until(attempt["deadline"], extra=settings.deadline_grace_seconds + 0.3)
    late = await student.post(
        f"/api/tests/{test['id']}/submit",
        json={"attempt_id": attempt["attempt_id"], "answers": {mcq_id: "Lyon"}},
    )
    assert late.status_code == 409
    assert late.json()["attempt_status"] == "auto_submitted"
    detail = (await student.get(f"/api/attempts/{attempt['attempt_id']}")).json()
    assert detail["status"] == "auto_submitted"
    # The answers saved in time count; the late one was not stored.
    assert {a["question_id"]: a["answer"] for a in detail["answers"] if a["answer"]} == {
        mcq_id: "Paris",
        tf_id: "true",
    }
    assert detail["score"] == 2.0


async def test_auto_submit_survives_a_restart(settings: Settings) -> None:
    async with running_server(settings) as url, httpx.AsyncClient(base_url=url) as client:
        api = Api(client, settings)
        teacher, student = await api.user("teacher"), await api.user("student")
        test = (
            await teacher.post(
                "/api/tests", json=new_test_payload(is_published=True, time_limit=SHORT_LIMIT_MINUTES)
            )
        ).json()
        attempt = await started_attempt(student, test["id"])
        await student.put(
            f"/api/attempts/{attempt['attempt_id']}/answers",
            json={"answers": {attempt["questions"][2]["id"]: "Au"}},
        )
    # The server is down while the deadline passes.
    await _sleep_until(attempt["deadline"], extra=settings.deadline_grace_seconds + 0.5)
    async with running_server(settings) as url, httpx.AsyncClient(base_url=url) as client:
        teacher = await Api(client, settings).login(teacher.email)
        row = await _wait_for_status(teacher, test["id"], "auto_submitted", within=5)
        assert row["score"] == 1.0


async def test_concurrent_starts_make_one_attempt(api: Api) -> None:
    teacher, student = await api.user("teacher"), await api.user("student")
    test = (await teacher.post("/api/tests", json=new_test_payload(is_published=True))).json()
    responses = await asyncio.gather(*(student.post(f"/api/tests/{test['id']}/start") for _ in range(6)))
    assert {r.status_code for r in responses} == {200}
    assert len({r.json()["attempt_id"] for r in responses}) == 1


async def test_no_accepted_answer_is_lost_when_submit_races_autosave(api: Api) -> None:
    teacher, student = await api.user("teacher"), await api.user("student")
    questions = [short_answer(f"Q{i}", str(i)) for i in range(24)]
    test = (
        await teacher.post("/api/tests", json=new_test_payload(is_published=True, questions=questions))
    ).json()
    attempt = await started_attempt(student, test["id"])
    ids = [q["id"] for q in attempt["questions"]]
    answer_of = {q["id"]: q["question_text"][1:] for q in attempt["questions"]}

    async def save(question_id: int) -> tuple[int, int]:
        response = await student.put(
            f"/api/attempts/{attempt['attempt_id']}/answers",
            json={"answers": {question_id: answer_of[question_id]}},
        )
        return question_id, response.status_code

    submit = student.post(f"/api/tests/{test['id']}/submit", json={"attempt_id": attempt["attempt_id"]})
    first, rest = [save(qid) for qid in ids[:12]], [save(qid) for qid in ids[12:]]
    outcomes = list(await asyncio.gather(*first, submit, *rest))  # the submit lands mid-stream
    submit_response = outcomes.pop(len(first))
    assert submit_response.status_code == 200, submit_response.text
    accepted = {qid for qid, status in outcomes if status == 200}
    refused = {qid for qid, status in outcomes if status == 409}
    assert accepted | refused == set(ids)

    detail = (await teacher.get(f"/api/attempts/{attempt['attempt_id']}")).json()
    stored = {a["question_id"] for a in detail["answers"] if a["answer"] is not None}
    assert stored == accepted  # nothing accepted went missing, nothing refused slipped in
    assert all(a["is_correct"] is True for a in detail["answers"] if a["question_id"] in accepted)
    assert detail["score"] == float(len(accepted))


async def test_two_nodes_sweeping_at_once_auto_submit_each_attempt_once(api: Api, settings: Settings) -> None:
    teacher = await api.user("teacher")
    test = (await teacher.post("/api/tests", json=new_test_payload(is_published=True))).json()
    attempts = {
        (await started_attempt(await api.user("student"), test["id"]))["attempt_id"] for _ in range(6)
    }
    engines = [create_engine(settings.database_url) for _ in range(2)]
    try:
        nodes = [
            AttemptLifecycle(create_sessionmaker(engine), EventBus(), grace_seconds=0) for engine in engines
        ]
        heard = [node.bus.subscribe([ATTEMPTS_ENDED]) for node in nodes]
        later = utcnow() + timedelta(hours=3)  # past every deadline

        async def sweep(node: AttemptLifecycle) -> list[int]:
            async with node.sessionmaker() as session:
                return await node.service(session).close_expired(later)

        closed = await asyncio.gather(*(sweep(node) for node in nodes))
    finally:
        for engine in engines:
            await engine.dispose()
    assert sorted(closed[0] + closed[1]) == sorted(attempts)  # all of them, none twice
    ended = [event.attempt_id for subscription in heard for event in subscription.drain()]
    assert sorted(ended) == sorted(attempts)
    rows = (await teacher.get(f"/api/results/{test['id']}")).json()
    assert {row["status"] for row in rows} == {"auto_submitted"}

"""Review after the exam: the queue, the timeline, clips over HTTP Range, verdicts and the audit log."""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from protolearn.api.reviews import RangeNotSatisfiable, byte_range
from protolearn.config import Settings
from protolearn.media.recorder import Clip, ClipStore
from protolearn.proctoring.evidence import close_violation
from protolearn.proctoring.review import VIEW_ACTION, VIEWING_WINDOW
from protolearn.proctoring.rules import ViolationSpan
from protolearn.store.audit import AuditEntry
from protolearn.store.database import create_engine, create_sessionmaker
from protolearn.store.violations import Severity
from tests.support.api import Actor, Api, attach_evidence, published_test, started_attempt


async def flagged_world(api: Api) -> dict[str, Any]:
    teacher = await api.user("teacher")
    test = await published_test(teacher)
    calm, restless = await api.user("student"), await api.user("student")
    attempts = {}
    for student, events in ((calm, ["window_blur"]), (restless, ["tab_switch", "devtools", "copy_paste"])):
        attempt_id = (await started_attempt(student, test["id"]))["attempt_id"]
        attempts[student.id] = attempt_id
        for event in events:
            response = await student.post("/api/violations", json={"attempt_id": attempt_id, "type": event})
            assert response.status_code == 201, response.text
    return {"teacher": teacher, "test": test, "calm": calm, "restless": restless, "attempts": attempts}


async def test_the_queue_puts_the_most_suspicious_first_and_a_dismissal_counts_no_more(api: Api) -> None:
    world = await flagged_world(api)
    auditor = await api.user("auditor")
    queue = (await auditor.get("/api/reviews/flagged", params={"test_id": world["test"]["id"]})).json()
    assert [row["student_id"] for row in queue] == [world["restless"].id, world["calm"].id]
    restless = queue[0]
    assert (restless["violation_count"], restless["unreviewed"]) == (3, 3)
    assert restless["suspicion_score"] == 3 + 6 + 3  # medium + high + medium

    timeline = (await auditor.get(f"/api/attempts/{restless['attempt_id']}/timeline")).json()
    assert [v["type"] for v in timeline] == ["tab_switch", "devtools", "copy_paste"]
    devtools = timeline[1]
    verdict = {"decision": "dismissed", "note": "a browser extension, not the student"}
    reviewed = await auditor.post(f"/api/violations/{devtools['id']}/review", json=verdict)
    assert reviewed.status_code == 200, reviewed.text
    assert reviewed.json()["review"]["decision"] == "dismissed"

    queue = (await auditor.get("/api/reviews/flagged")).json()
    row = next(r for r in queue if r["attempt_id"] == restless["attempt_id"])
    assert (row["violation_count"], row["suspicion_score"], row["unreviewed"]) == (2, 6, 2)
    changed = await auditor.post(f"/api/violations/{devtools['id']}/review", json={"decision": "confirmed"})
    assert changed.json()["review"]["decision"] == "confirmed"  # a verdict can be revised
    assert (await auditor.post("/api/violations/999999/review", json=verdict)).status_code == 404
    bad = await auditor.post(f"/api/violations/{devtools['id']}/review", json={"decision": "maybe"})
    assert bad.status_code == 400  # a body that does not match its schema, as everywhere


async def test_clips_are_served_with_ranges_and_each_viewer_is_audited(api: Api) -> None:
    world = await flagged_world(api)
    auditor, admin = await api.user("auditor"), await api.user("admin")
    attempt_id = world["attempts"][world["restless"].id]
    violation_id = (await auditor.get(f"/api/attempts/{attempt_id}/timeline")).json()[0]["id"]
    evidence_id = await attach_evidence(api.settings, violation_id)

    whole = await auditor.get(f"/api/evidence/{evidence_id}/video")
    assert whole.status_code == 200
    assert (whole.headers["content-type"], whole.headers["accept-ranges"]) == ("video/webm", "bytes")
    assert len(whole.content) == 2004

    part = await auditor.get(f"/api/evidence/{evidence_id}/video", headers={"Range": "bytes=0-3"})
    assert part.status_code == 206
    assert part.headers["content-range"] == "bytes 0-3/2004"
    assert part.content == b"\x1a\x45\xdf\xa3"  # the WebM (EBML) signature
    tail = await world["teacher"].get(f"/api/evidence/{evidence_id}/video", headers={"Range": "bytes=-4"})
    assert (tail.status_code, tail.headers["content-range"], len(tail.content)) == (
        206,
        "bytes 2000-2003/2004",
        4,
    )
    outside = await auditor.get(f"/api/evidence/{evidence_id}/video", headers={"Range": "bytes=5000-"})
    assert outside.status_code == 416
    assert outside.headers["content-range"] == "bytes */2004"

    # The students, including the one in the clip, never get it.
    for student in (world["calm"], world["restless"]):
        assert (await student.get(f"/api/evidence/{evidence_id}/video")).status_code == 403

    # Four requests of the auditor's, one of the teacher's: one viewing each.
    assert sorted(await viewings(admin, evidence_id)) == sorted([auditor.id, world["teacher"].id])


async def viewings(admin: Actor, evidence_id: int) -> list[int]:
    """The viewers of an evidence clip in the audit log, one per recorded viewing."""
    log = (await admin.get("/api/audit-log", params={"action": "evidence.view", "page_size": 100})).json()
    return [entry["actor_id"] for entry in log["items"] if entry["object_id"] == evidence_id]


@asynccontextmanager
async def database(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(settings.database_url)
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()


async def test_a_player_reading_a_clip_in_many_ranges_is_one_viewing(api: Api) -> None:
    world = await flagged_world(api)
    auditor, admin = await api.user("auditor"), await api.user("admin")
    attempt_id = world["attempts"][world["restless"].id]
    violation_id = (await auditor.get(f"/api/attempts/{attempt_id}/timeline")).json()[0]["id"]
    evidence_id = await attach_evidence(api.settings, violation_id)
    clip = api.settings.data_dir / "clips" / f"violation-{violation_id}.webm"
    content = b"\x1a\x45\xdf\xa3" + bytes(n % 251 for n in range(2000))  # no two ranges alike
    clip.write_bytes(content)

    # As a browser plays, seeks and replays: the start, the cues at the end, the middle, again.
    for header in ("bytes=0-", "bytes=1900-", "bytes=700-1299", "bytes=0-", "bytes=-100"):
        response = await auditor.get(f"/api/evidence/{evidence_id}/video", headers={"Range": header})
        assert response.status_code == 206, response.text
    middle = await auditor.get(f"/api/evidence/{evidence_id}/video", headers={"Range": "bytes=1000-1009"})
    assert middle.headers["content-range"] == "bytes 1000-1009/2004"
    assert middle.headers["content-length"] == "10"
    assert middle.content == content[1000:1010]
    outside = await auditor.get(f"/api/evidence/{evidence_id}/video", headers={"Range": "bytes=2004-"})
    assert (outside.status_code, outside.headers["content-range"]) == (416, "bytes */2004")
    assert outside.headers["content-type"] == "application/problem+json"

    assert await viewings(admin, evidence_id) == [auditor.id]

    # Once the window has passed, the same viewer looking again is a new viewing.
    async with database(api.settings) as sessionmaker, sessionmaker() as session:
        entries = await session.scalars(
            select(AuditEntry).where(AuditEntry.action == VIEW_ACTION, AuditEntry.object_id == evidence_id)
        )
        for entry in entries:
            entry.created_at -= VIEWING_WINDOW + timedelta(seconds=1)
        await session.commit()
    again = await auditor.get(f"/api/evidence/{evidence_id}/video", headers={"Range": "bytes=0-"})
    assert again.content == content
    assert await viewings(admin, evidence_id) == [auditor.id, auditor.id]


def written_clip(directory: Path, name: str, size: int) -> Clip:
    """A clip file as the ring buffer would have written it."""
    path = directory / f"{name}.webm"
    path.parent.mkdir(parents=True, exist_ok=True)
    data = b"\x1a\x45\xdf\xa3" + bytes(size - 4)
    path.write_bytes(data)
    now = time.time()
    return Clip(path, size, 5.0, hashlib.sha256(data).hexdigest(), now - 5, now)


async def test_clips_past_the_stores_cap_are_deleted_and_answer_gone(api: Api) -> None:
    world = await flagged_world(api)
    auditor = await api.user("auditor")
    attempt_id = world["attempts"][world["restless"].id]
    violations = [v["id"] for v in (await auditor.get(f"/api/attempts/{attempt_id}/timeline")).json()]
    clips_dir = api.settings.data_dir / "clips"
    # Room for two clips of 1,000 bytes: the third deletes the first (the oldest; written in
    # order, so also first by name where modification times tie).
    store = ClipStore(clips_dir, max_bytes=2_500)
    evidence_ids = []
    async with database(api.settings) as sessionmaker:
        for n, violation_id in enumerate(violations):
            clip = written_clip(clips_dir / f"attempt-{attempt_id}", f"tab_switch-{n}", 1_000)
            span = ViolationSpan("tab_switch", 0.0, 5.0, Severity.MEDIUM, "")
            evidence_id = await close_violation(
                sessionmaker, violation_id, span, time.time(), clip, api.settings.data_dir, clip_store=store
            )
            assert evidence_id is not None
            evidence_ids.append(evidence_id)

    assert sorted(p.name for p in clips_dir.rglob("*.webm")) == ["tab_switch-1.webm", "tab_switch-2.webm"]
    gone = await auditor.get(f"/api/evidence/{evidence_ids[0]}/video")
    assert gone.status_code == 410, gone.text
    assert gone.headers["content-type"] == "application/problem+json"
    problem = gone.json()
    assert (problem["title"], problem["code"]) == ("Clip expired", "EvidenceExpired")
    assert "expired" in problem["detail"]
    assert (problem["size_bytes"], problem["evidence_id"]) == (1_000, evidence_ids[0])
    ranged = await auditor.get(f"/api/evidence/{evidence_ids[0]}/video", headers={"Range": "bytes=0-3"})
    assert ranged.status_code == 410
    kept = await auditor.get(f"/api/evidence/{evidence_ids[2]}/video")
    assert (kept.status_code, len(kept.content)) == (200, 1_000)
    # The expired clip's violation still points at its record.
    timeline = (await auditor.get(f"/api/attempts/{attempt_id}/timeline")).json()
    assert [v["evidence_id"] for v in timeline] == evidence_ids


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-9", (0, 9)),
        ("bytes=10-", (10, 99)),
        ("bytes=-10", (90, 99)),
        ("bytes=0-500", (0, 99)),
        ("bytes=1-2,5-6", None),
        ("items=0-1", None),
        # Positions of thousands of digits are past the end, never parsed.
        ("bytes=0-" + "9" * 5000, (0, 99)),
        ("bytes=-" + "9" * 5000, (0, 99)),
    ],
)
def test_byte_ranges(header: str | None, expected: tuple[int, int] | None) -> None:
    assert byte_range(header, 100) == expected


def test_a_range_starting_past_any_file_is_not_satisfiable() -> None:
    with pytest.raises(RangeNotSatisfiable):
        byte_range("bytes=" + "9" * 5000 + "-", 100)


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=50-10", "bytes=-0"])
def test_unsatisfiable_ranges(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable):
        byte_range(header, 100)

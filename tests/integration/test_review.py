"""Review after the exam: the queue, the timeline, clips over HTTP Range, verdicts and the audit log."""

from __future__ import annotations

from typing import Any

import pytest

from protolearn.api.reviews import RangeNotSatisfiable, byte_range
from tests.integration.api import Api, attach_evidence, published_test, started_attempt


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


async def test_clips_are_served_with_ranges_and_every_view_is_audited(api: Api) -> None:
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

    log = (await admin.get("/api/audit-log", params={"action": "evidence.view"})).json()
    viewers = [entry["actor_id"] for entry in log["items"] if entry["object_id"] == evidence_id]
    assert sorted(viewers) == sorted([auditor.id, auditor.id, world["teacher"].id, auditor.id])


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
    ],
)
def test_byte_ranges(header: str | None, expected: tuple[int, int] | None) -> None:
    assert byte_range(header, 100) == expected


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=50-10", "bytes=-0"])
def test_unsatisfiable_ranges(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable):
        byte_range(header, 100)

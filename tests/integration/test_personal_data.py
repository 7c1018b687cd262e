"""An admin answers a data-protection request: one person's data exported as a zip (clips opened,
as played), or erased (attempts, answers, violations and clip files gone, the account anonymous
and signed out). Both audited; nobody else may do either."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from protolearn.config import Settings
from protolearn.media.sealed import Sealer, load_or_create_key
from tests.support.api import Actor, Api, attach_evidence, published_test, started_attempt
from tests.support.live import live


@pytest.fixture
async def examined(api: Api, settings: Settings) -> dict[str, object]:
    """A student who took a test: answers saved and submitted, a violation with a sealed clip an
    auditor confirmed."""
    teacher, student, auditor = (
        await api.user("teacher"),
        await api.user("student"),
        await api.user("auditor"),
    )
    test = await published_test(teacher)
    attempt = await started_attempt(student, test["id"])
    attempt_id, first = attempt["attempt_id"], attempt["questions"][0]
    saved = await student.put(f"/api/attempts/{attempt_id}/answers", json={"answers": {first["id"]: "Paris"}})
    assert saved.status_code == 200, saved.text
    violation = (
        await student.post("/api/violations", json={"attempt_id": attempt_id, "type": "tab_switch"})
    ).json()
    evidence_id = await attach_evidence(settings, violation["id"])
    clip = settings.data_dir / "clips" / f"violation-{violation['id']}.webm"
    played = clip.read_bytes()
    Sealer(load_or_create_key("", settings.data_dir / "clip.key")).seal(
        played, clip
    )  # as the server writes it
    await auditor.post(
        f"/api/violations/{violation['id']}/review", json={"decision": "confirmed", "note": "phone"}
    )
    submitted = await student.post(f"/api/tests/{test['id']}/submit", json={"attempt_id": attempt_id})
    assert submitted.status_code == 200, submitted.text
    return {
        "teacher": teacher,
        "student": student,
        "test": test,
        "attempt_id": attempt_id,
        "evidence_id": evidence_id,
        "clip": clip,
        "played": played,
    }


async def test_an_admin_exports_everything_held_about_a_student(
    api: Api, examined: dict[str, object]
) -> None:
    student, teacher = examined["student"], examined["teacher"]
    assert isinstance(student, Actor) and isinstance(teacher, Actor)
    admin = await api.user("admin")
    for outsider in (student, teacher):
        assert (await outsider.get(f"/api/users/{student.id}/export")).status_code == 403
    response = await admin.get(f"/api/users/{student.id}/export")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert f"protolearn-user-{student.id}.zip" in response.headers["content-disposition"]

    archive = zipfile.ZipFile(io.BytesIO(response.content))
    evidence = examined["evidence_id"]
    assert set(archive.namelist()) == {
        "README.txt",
        "user.json",
        "attempts.json",
        "materials.json",
        "audit.json",
        f"clips/evidence-{evidence}.webm",
    }
    assert json.loads(archive.read("user.json"))["email"] == student.email
    [attempt] = json.loads(archive.read("attempts.json"))
    assert (attempt["id"], attempt["status"], attempt["test_title"]) == (
        examined["attempt_id"],
        "submitted",
        "Chemistry quiz",
    )
    assert [(a["answer"], a["is_correct"]) for a in attempt["answers"]] == [("Paris", True)]
    [violation] = attempt["violations"]
    assert (violation["type"], violation["review"]["decision"], violation["review"]["note"]) == (
        "tab_switch",
        "confirmed",
        "phone",
    )
    assert archive.read(violation["clip"]) == examined["played"]  # opened, not the sealed bytes
    actions = {entry["action"] for entry in json.loads(archive.read("audit.json"))}
    assert "user.register" in actions
    log = (await admin.get("/api/audit-log", params={"action": "user.export"})).json()
    assert [(e["actor_id"], e["object_id"]) for e in log["items"]] == [(admin.id, student.id)]


async def test_an_admin_erases_a_student_who_is_signed_out_everywhere(
    api: Api, base_url: str, examined: dict[str, object]
) -> None:
    student, teacher = examined["student"], examined["teacher"]
    assert isinstance(student, Actor) and isinstance(teacher, Actor)
    admin = await api.user("admin")
    assert (await teacher.post(f"/api/users/{student.id}/erase")).status_code == 403
    assert (await admin.post(f"/api/users/{admin.id}/erase")).status_code == 409

    async with live(base_url, student) as socket:
        erased = await admin.post(f"/api/users/{student.id}/erase")
        assert erased.status_code == 200, erased.text
        await socket.wait_closed()
        assert socket.close_code == 4403
    assert erased.json() == {
        "user_id": student.id,
        "attempts": 1,
        "answers": 1,
        "violations": 1,
        "clips": 1,
    }
    assert not examined["clip"].exists()  # type: ignore[attr-defined]
    assert (await student.get("/api/auth/me")).status_code == 401
    again = await api.client.post(
        "/api/auth/login", json={"email": student.email, "password": student.password}
    )
    assert again.status_code == 401
    assert (await teacher.get(f"/api/results/{examined['test']['id']}")).json() == []  # type: ignore[index]
    [row] = (await admin.get("/api/users", params={"search": "Erased"})).json()["items"]
    assert (row["id"], row["name"], row["is_active"]) == (student.id, "Erased user", False)
    assert student.email not in json.dumps(row)
    log = (await admin.get("/api/audit-log", params={"action": "user.erase"})).json()
    [entry] = log["items"]
    assert (entry["actor_id"], entry["object_id"], entry["details"]["clips"]) == (admin.id, student.id, 1)


async def test_a_student_in_the_middle_of_an_exam_is_not_erased(api: Api) -> None:
    teacher, student, admin = await api.user("teacher"), await api.user("student"), await api.user("admin")
    await started_attempt(student, (await published_test(teacher))["id"])
    refused = await admin.post(f"/api/users/{student.id}/erase")
    assert refused.status_code == 409 and "in progress" in refused.json()["detail"]
    assert (await student.get("/api/auth/me")).status_code == 200

"""Retention: clips and uploaded material go once older than their settings' days; a confirmed
violation's clip stays until an admin releases it; several nodes sweeping delete each once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from protolearn.admin.retention import RetentionSweeper
from protolearn.config import Settings
from protolearn.store.base import utcnow
from protolearn.store.database import create_engine, create_sessionmaker
from protolearn.store.materials import LearningMaterial
from tests.support.ai_flows import read_upload, ready_material, upload
from tests.support.ai_material import BIOLOGY, text_pdf
from tests.support.api import Api, attach_evidence, published_test, started_attempt


def sweeper(settings: Settings, sessionmaker: object, days_later: int) -> RetentionSweeper:
    return RetentionSweeper(
        sessionmaker,  # type: ignore[arg-type]
        settings.data_dir,
        evidence_days=90,
        material_days=365,
        clock=lambda: utcnow() + timedelta(days=days_later),
    )


async def test_old_clips_and_material_are_deleted_but_confirmed_evidence_waits_for_release(
    api: Api, settings: Settings
) -> None:
    teacher, student = await api.user("teacher"), await api.user("student")
    auditor, admin = await api.user("auditor"), await api.user("admin")
    test = await published_test(teacher)
    attempt_id = (await started_attempt(student, test["id"]))["attempt_id"]
    clips = {}
    for event in ("tab_switch", "copy_paste", "window_blur"):
        violation = (
            await student.post("/api/violations", json={"attempt_id": attempt_id, "type": event})
        ).json()
        clips[event] = (violation["id"], await attach_evidence(settings, violation["id"]))
    confirmed, dismissed, unreviewed = clips["tab_switch"], clips["copy_paste"], clips["window_blur"]
    for (violation_id, _), decision in ((confirmed, "confirmed"), (dismissed, "dismissed")):
        reviewed = await auditor.post(f"/api/violations/{violation_id}/review", json={"decision": decision})
        assert reviewed.status_code == 200, reviewed.text
    material = await ready_material(teacher)
    files = {
        event: settings.data_dir / "clips" / f"violation-{vid}.webm" for event, (vid, _) in clips.items()
    }

    engine = create_engine(settings.database_url)
    try:
        sessionmaker = create_sessionmaker(engine)
        early = await sweeper(settings, sessionmaker, days_later=30).sweep()
        assert (early.clips_deleted, early.materials_deleted) == (0, 0)
        assert all(path.exists() for path in files.values())

        late = await sweeper(settings, sessionmaker, days_later=400).sweep()
        assert (late.clips_deleted, late.materials_deleted) == (2, 1)
        assert [event for event, path in files.items() if path.exists()] == ["tab_switch"]
        for _, evidence_id in (dismissed, unreviewed):
            gone = await auditor.get(f"/api/evidence/{evidence_id}/video")
            assert gone.status_code == 410 and "retention period" in gone.json()["detail"]
        kept = await auditor.get(f"/api/evidence/{confirmed[1]}/video")
        assert kept.status_code == 200
        assert (await teacher.get(f"/api/ai/materials/{material['material_id']}")).status_code == 404
        timeline = (await auditor.get(f"/api/attempts/{attempt_id}/timeline")).json()
        assert len(timeline) == 3  # the violations stay, with their evidence's record

        assert (await auditor.post(f"/api/evidence/{confirmed[1]}/release")).status_code == 403
        released = await admin.post(f"/api/evidence/{confirmed[1]}/release")
        assert released.status_code == 200, released.text
        assert released.json()["deleted_at"] is None
        after = await sweeper(settings, sessionmaker, days_later=400).sweep()
        assert after.clips_deleted == 1 and not files["tab_switch"].exists()
        log = (await admin.get("/api/audit-log", params={"action": "evidence.release"})).json()
        assert [(e["actor_id"], e["object_id"]) for e in log["items"]] == [(admin.id, confirmed[1])]
    finally:
        await engine.dispose()


async def test_two_nodes_sweeping_at_once_delete_each_clip_once(api: Api, settings: Settings) -> None:
    teacher, student = await api.user("teacher"), await api.user("student")
    test = await published_test(teacher)
    attempt_id = (await started_attempt(student, test["id"]))["attempt_id"]
    for _ in range(30):
        violation = (
            await student.post("/api/violations", json={"attempt_id": attempt_id, "type": "tab_switch"})
        ).json()
        await attach_evidence(settings, violation["id"])
    engines = [create_engine(settings.database_url) for _ in range(2)]
    try:
        nodes = [
            RetentionSweeper(
                create_sessionmaker(engine),
                settings.data_dir,
                evidence_days=1,
                material_days=0,
                batch=4,
                clock=lambda: utcnow() + timedelta(days=2),
            )
            for engine in engines
        ]
        reports = await asyncio.gather(*(node.sweep() for node in nodes))
    finally:
        for engine in engines:
            await engine.dispose()
    assert sum(report.clips_deleted for report in reports) == 30
    assert not list((settings.data_dir / "clips").glob("violation-*.webm"))


async def test_a_file_shared_with_a_newer_upload_of_it_stays(api: Api, settings: Settings) -> None:
    teacher = await api.user("teacher")
    pdf = text_pdf(BIOLOGY)
    old, new = [await read_upload(teacher, await upload(teacher, pdf)) for _ in range(2)]  # one file
    engine = create_engine(settings.database_url)
    try:
        sessionmaker = create_sessionmaker(engine)
        async with sessionmaker() as session:
            first = await session.get(LearningMaterial, old["material_id"])
            assert first is not None
            first.created_at = utcnow() - timedelta(days=400)
            await session.commit()
            path = settings.data_dir / first.path
        report = await sweeper(settings, sessionmaker, days_later=0).sweep()
    finally:
        await engine.dispose()
    assert report.materials_deleted == 1
    assert path.exists()
    assert (await teacher.get(f"/api/ai/materials/{old['material_id']}")).status_code == 404
    assert (await teacher.get(f"/api/ai/materials/{new['material_id']}")).json()["status"] == "ready"

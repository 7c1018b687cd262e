"""What operations see of a proctored exam: every metric family on /metrics while a student
streams over the live channel, a teacher watches and a violation is raised, and /readyz."""

from __future__ import annotations

from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from tests.support.ai_flows import generate, ready_material
from tests.support.api import Api, published_test, started_attempt
from tests.support.live import live, publish_over, receive_until, until_face_seen, watch_over
from tests.support.peers import FaceCamera, SceneSwitch, Tone


async def scrape(base_url: str) -> dict[str, list[Sample]]:
    async with httpx.AsyncClient(base_url=base_url) as http:
        response = await http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {family.name: family.samples for family in text_string_to_metric_families(response.text)}


def value(samples: list[Sample], suffix: str = "", **labels: str) -> float:
    """The sum of the samples whose name ends with ``suffix`` and that carry ``labels``."""
    return sum(
        sample.value
        for sample in samples
        if sample.name.endswith(suffix) and all(sample.labels.get(k) == v for k, v in labels.items())
    )


async def test_every_family_is_on_metrics_during_a_proctored_exam(api: Api, base_url: str) -> None:
    teacher = await api.user("teacher")
    test = await published_test(teacher)
    student = await api.user("student")
    attempt_id = (await started_attempt(student, test["id"]))["attempt_id"]
    material = await ready_material(teacher)  # an extraction job, then an LLM call
    assert (await generate(teacher, material["material_id"], num_questions=2)).status_code == 201
    seat = SceneSwitch()

    async with live(base_url, student) as student_socket, live(base_url, teacher) as teacher_socket:
        camera = FaceCamera(scene=seat)
        connection = await publish_over(
            student_socket, attempt_id, camera=camera, microphone=Tone(0.0), analysis_copy=True
        )
        viewer, _frames = await watch_over(teacher_socket, {"type": "watch", "attempt_id": attempt_id})
        await until_face_seen(teacher_socket)
        seat.scene = "empty"
        await receive_until(teacher_socket, "violation", within=60)
        during = await scrape(base_url)
        await viewer.close()
        await connection.close()

    m: dict[str, Any] = during
    assert value(m["protolearn_live_publishers"]) == 1
    assert value(m["protolearn_live_viewers"]) == 1
    assert value(m["protolearn_proctored_attempts"]) == 1
    assert value(m["protolearn_webrtc_negotiations"], "_total", role="publisher", outcome="ok") >= 1
    assert value(m["protolearn_webrtc_negotiations"], "_total", role="viewer", outcome="ok") >= 1
    assert value(m["protolearn_frames_decoded"], "_total", track="copy") > 0
    assert value(m["protolearn_frames_decoded"], "_total", track="camera_keyframe") > 0
    tapped = value(m["protolearn_frames_tapped"], "_total")
    analysed = value(m["protolearn_frames_analysed"], "_total")
    assert tapped >= analysed > 0
    scanned = {
        s.labels["reason"]: s.value for s in m["protolearn_frames_room_scanned"] if s.name.endswith("_total")
    }
    assert scanned.keys() == {"camera", "interval", "doubt", "several"}
    assert 0 < sum(scanned.values()) <= analysed
    reasons = {s.labels["reason"] for s in m["protolearn_frames_dropped"]}
    assert reasons >= {
        "decoder_behind",
        "analysis_behind",
        "analysis_failed",
        "room_scan_not_due",
        "still_empty_room",
    }
    assert value(m["protolearn_media_frames_forwarded"], "_total") > 0
    assert value(m["protolearn_inference_seconds"], "_count") > 0
    batches = value(m["protolearn_inference_batch_size"], "_count")
    assert batches > 0 and value(m["protolearn_inference_batch_size"], "_sum") >= batches
    assert value(m["protolearn_violations"], "_total", type="no_face", source="server") >= 1
    assert value(m["protolearn_llm_request_seconds"], "_count", provider="offline", operation="generate") >= 1
    assert "protolearn_llm_errors" in m
    assert value(m["protolearn_background_jobs"], "_total", job="extraction", outcome="done") >= 1
    assert "protolearn_background_jobs_queued" in m and "protolearn_background_task_failures" in m
    assert value(m["protolearn_db_pool_connections"]) >= 1
    assert value(m["protolearn_events_delivered"], "_total") > 0
    # Requests by route template, never by the ids in their paths.
    routes = {s.labels["path"] for s in m["protolearn_request_duration_seconds"]}
    assert "/api/tests/{test_id}/start" in routes
    assert not any(str(attempt_id) in route.split("/") for route in routes)
    assert value(m["protolearn_request_duration_seconds"], "_count", method="POST") > 0


async def test_readiness_names_what_is_down(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url) as http:
        ready = await http.get("/readyz")
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["status"] == "ready"
    assert body["database"] == "ok" and body["models"] == "ok"

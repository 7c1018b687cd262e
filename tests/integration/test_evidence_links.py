"""Signed evidence links: a clip a <video> element can load without an Authorization header."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from protolearn.proctoring.links import EvidenceLinks
from tests.integration.test_review import flagged_world, viewings
from tests.support.api import Actor, Api, attach_evidence


async def clip_of_world(api: Api) -> tuple[dict[str, Any], int, int]:
    """The flagged world, with evidence clips on the restless student's first two violations."""
    world = await flagged_world(api)
    auditor: Actor = await api.user("auditor")
    attempt_id = world["attempts"][world["restless"].id]
    timeline = (await auditor.get(f"/api/attempts/{attempt_id}/timeline")).json()
    first = await attach_evidence(api.settings, timeline[0]["id"])
    second = await attach_evidence(api.settings, timeline[1]["id"])
    return world, first, second


async def test_a_signed_link_plays_the_clip_with_ranges_and_is_audited_as_its_signer(api: Api) -> None:
    world, evidence_id, _ = await clip_of_world(api)
    auditor, admin = await api.user("auditor"), await api.user("admin")

    signed = await auditor.post(f"/api/evidence/{evidence_id}/link")
    assert signed.status_code == 200, signed.text
    body = signed.json()
    url = urlsplit(body["url"])
    assert url.path == f"/api/evidence/{evidence_id}/video"
    assert parse_qs(url.query)["viewer"] == [str(auditor.id)]
    expires_in = datetime.fromisoformat(body["expires_at"]).timestamp() - time.time()
    assert 60 < expires_in <= 600  # a few minutes

    # No Authorization header: the link alone lets the player in, Range included.
    whole = await api.client.get(body["url"])
    assert whole.status_code == 200, whole.text
    assert (whole.headers["content-type"], len(whole.content)) == ("video/webm", 2004)
    part = await api.client.get(body["url"], headers={"Range": "bytes=0-3"})
    assert (part.status_code, part.headers["content-range"]) == (206, "bytes 0-3/2004")
    assert part.content == b"\x1a\x45\xdf\xa3"
    outside = await api.client.get(body["url"], headers={"Range": "bytes=9000-"})
    assert outside.status_code == 416

    # The teacher of the test may sign links too; each use is a viewing by the signer.
    teacher_link = (await world["teacher"].post(f"/api/evidence/{evidence_id}/link")).json()
    assert (await api.client.get(teacher_link["url"])).status_code == 200
    assert sorted(await viewings(admin, evidence_id)) == sorted([auditor.id, world["teacher"].id])


async def test_expired_tampered_or_borrowed_links_are_refused(api: Api) -> None:
    _, evidence_id, other_id = await clip_of_world(api)
    auditor = await api.user("auditor")
    link = (await auditor.post(f"/api/evidence/{evidence_id}/link")).json()["url"]
    query = parse_qs(urlsplit(link).query)

    # Another clip's path with this clip's signature.
    borrowed = await api.client.get(link.replace(f"/evidence/{evidence_id}/", f"/evidence/{other_id}/"))
    assert borrowed.status_code == 403
    assert borrowed.headers["content-type"].startswith("application/problem+json")
    # A later expiry, or another viewer, than the one signed.
    later = int(query["expires"][0]) + 3600
    assert (
        await api.client.get(link.replace(f"expires={query['expires'][0]}", f"expires={later}"))
    ).status_code == 403
    student = await api.user("student")
    assert (
        await api.client.get(link.replace(f"viewer={auditor.id}", f"viewer={student.id}"))
    ).status_code == 403
    assert (await api.client.get(link + "0")).status_code == 403
    assert (
        await api.client.get(f"/api/evidence/{evidence_id}/video?signature=x&viewer=a")
    ).status_code == 403

    # A genuine signature whose expiry has passed.
    links = EvidenceLinks.from_settings(api.settings)
    expired = await api.client.get(links.url(evidence_id, auditor.id, int(time.time()) - 1))
    assert expired.status_code == 403
    assert "expired" in expired.json()["detail"]
    # The same signer with a live expiry works: the key is the server's.
    assert (
        await api.client.get(links.url(evidence_id, auditor.id, int(time.time()) + 60))
    ).status_code == 200


async def test_a_link_works_only_for_signers_who_may_still_see_the_clip(api: Api) -> None:
    world, evidence_id, _ = await clip_of_world(api)
    admin, auditor = await api.user("admin"), await api.user("auditor")
    other_teacher, student = await api.user("teacher"), world["restless"]

    # Only reviewers of this attempt may sign.
    assert (await other_teacher.post(f"/api/evidence/{evidence_id}/link")).status_code == 404
    assert (await student.post(f"/api/evidence/{evidence_id}/link")).status_code == 403
    assert (await api.client.post(f"/api/evidence/{evidence_id}/link")).status_code == 401
    assert (await auditor.post("/api/evidence/999999/link")).status_code == 404

    # A link forged for someone the route would refuse is refused the same way.
    links = EvidenceLinks.from_settings(api.settings)
    soon = int(time.time()) + 60
    assert (await api.client.get(links.url(evidence_id, other_teacher.id, soon))).status_code == 404
    assert (await api.client.get(links.url(evidence_id, student.id, soon))).status_code == 403

    # A deactivated signer's link stops working at once.
    link = (await auditor.post(f"/api/evidence/{evidence_id}/link")).json()["url"]
    assert (await api.client.get(link)).status_code == 200
    assert (await admin.patch(f"/api/users/{auditor.id}", json={"is_active": False})).status_code == 200
    refused = await api.client.get(link)
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")

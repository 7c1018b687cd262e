"""The auditor's review in the browser: the queue, an attempt's timeline, a clip played through a
signed link, a dismissal that lowers the suspicion score."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from playwright.async_api import expect

from protolearn.config import Settings
from tests.support.api import PASSWORD, Api, attach_evidence, published_test, started_attempt
from tests.support.browser import LAPTOP, PageErrors, chromium, screenshots, skip_without_chromium

skip_without_chromium()

READY_AND_SEEK = """async (video) => {
    if (video.readyState < 2) {
        await new Promise((resolve, reject) => {
            video.addEventListener("loadeddata", resolve, { once: true });
            video.addEventListener("error", () => reject(new Error("the clip did not load")), { once: true });
        });
    }
    const ready = video.readyState;
    video.currentTime = 1.2;
    await new Promise((resolve) => video.addEventListener("seeked", resolve, { once: true }));
    return { ready, time: video.currentTime, duration: video.duration };
}"""


def write_webm(path: Path, seconds: float = 2.0, fps: int = 10) -> None:
    """A real VP8 clip, as the proctoring recorder writes them."""
    with av.open(str(path), mode="w", format="webm") as container:
        stream = container.add_stream("libvpx", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        stream.time_base = Fraction(1, fps)
        for index in range(int(seconds * fps)):
            image = np.full((240, 320, 3), (index * 10) % 255, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


async def real_evidence(settings: Settings, violation_id: int) -> int:
    evidence_id = await attach_evidence(settings, violation_id)
    write_webm(settings.data_dir / "clips" / f"violation-{violation_id}.webm")
    return evidence_id


async def test_an_auditor_watches_a_clip_and_dismisses_a_violation(api: Api, base_url: str) -> None:
    teacher = await api.user("teacher")
    test = await published_test(teacher)
    student = await api.user("student", "Rowan Hale")
    attempt_id = (await started_attempt(student, test["id"]))["attempt_id"]
    for event in ("tab_switch", "devtools"):
        reported = await student.post("/api/violations", json={"attempt_id": attempt_id, "type": event})
        assert reported.status_code == 201, reported.text
    auditor = await api.user("auditor")
    timeline = (await auditor.get(f"/api/attempts/{attempt_id}/timeline")).json()
    evidence = [await real_evidence(api.settings, violation["id"]) for violation in timeline]

    async with chromium() as browser:
        context = await browser.new_context(viewport=LAPTOP)
        page = await context.new_page()
        errors = PageErrors(page)
        await page.goto(base_url + "/login")
        await page.get_by_label("Email").fill(auditor.email)
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Sign in").click()

        # The auditor lands on the queue.
        await expect(page).to_have_url(base_url + "/review", timeout=15_000)
        await expect(page.get_by_role("heading", name="Review queue", level=1)).to_be_visible()
        row = page.get_by_role("row").filter(has_text="Rowan Hale")
        await expect(row.get_by_role("cell").nth(3)).to_have_text("9")  # medium 3 + high 6
        await screenshots(page, "review-queue")

        await row.get_by_role("link", name="Review the attempt of Rowan Hale").click()
        await expect(page).to_have_url(f"{base_url}/review/attempts/{attempt_id}")
        score = page.get_by_test_id("suspicion-score")
        await expect(score).to_have_text("9", timeout=15_000)

        # The first clip plays inline through a signed link, and can be seeked into.
        video = page.locator(".review-player video")
        await expect(video).to_be_visible(timeout=15_000)
        src = await video.get_attribute("src")
        assert src is not None and src.startswith(f"/api/evidence/{evidence[0]}/video?")
        played = await video.evaluate(READY_AND_SEEK)
        assert played["ready"] >= 2, played
        assert abs(played["time"] - 1.2) < 0.3, played

        # The signed link names one clip: used for the other clip it is refused.
        borrowed = await page.request.get(
            base_url + src.replace(f"/evidence/{evidence[0]}/", f"/evidence/{evidence[1]}/")
        )
        assert borrowed.status == 403

        # j moves to the next violation (the devtools one), whose clip loads in turn.
        await page.keyboard.press("j")
        await expect(
            page.get_by_role("heading", level=2, name="Opened developer tools", exact=False)
        ).to_be_visible()
        await page.wait_for_function(
            "(id) => (document.querySelector('.review-player video')?.getAttribute('src') || '')"
            ".startsWith(`/api/evidence/${id}/video?`)",
            arg=evidence[1],
            timeout=15_000,
        )

        # Typing a "d" in the note is text, not a shortcut; the button dismisses.
        await page.get_by_label("Note").fill("dev tools opened by a browser extension")
        await page.get_by_label("Note").press("d")
        await expect(score).to_have_text("9")
        await page.get_by_role("button", name="Dismiss").click()
        await expect(score).to_have_text("3", timeout=15_000)
        await expect(page.get_by_role("status").filter(has_text="Suspicion score now 3")).to_have_count(1)
        await screenshots(page, "review-attempt")
        assert errors.unexpected() == []

    reviewed = (await auditor.get(f"/api/attempts/{attempt_id}/timeline")).json()
    assert reviewed[1]["review"]["decision"] == "dismissed"
    assert reviewed[1]["review"]["note"].startswith("dev tools opened by a browser extension")

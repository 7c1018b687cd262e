"""The teacher's live monitor in real Chromium against the real server.

A student in Chromium, whose fake camera shows a face and then the empty room, takes a proctored
test while the teacher's monitor plays that student's video; the no_face badge lights the tile
when the face leaves; the teacher warns the student and ends the attempt from the large view, and
the student's page shows both. With aiortc peers standing in for a class: students who start
appear and those who submit leave without a reload, and a tile out of view gets no video (the
server counts the frames it held back) until it is back in view."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Page, expect

from tests.support.api import PASSWORD, Actor, Api, published_test, started_attempt
from tests.support.browser import (
    LAPTOP,
    PageErrors,
    chromium,
    screenshots,
    skip_without_chromium,
    write_y4m,
)
from tests.support.live import live, publish_over
from tests.support.peers import FaceCamera
from tests.support.web_flows import SLOW, through_consent_and_device_check

skip_without_chromium()

expect.set_options(timeout=20_000)

EXPECTED_CONSOLE = ("Failed to load resource",)

DECODED_FRAMES = """(name) => {
    const video = document.querySelector(`video[aria-label="Camera of ${name}"]`);
    return Boolean(video) && video.videoWidth > 0 && video.getVideoPlaybackQuality().totalVideoFrames >= 5;
}"""

FRAMES_OF = """(name) => document.querySelector(`video[aria-label="Camera of ${name}"]`)
    .getVideoPlaybackQuality().totalVideoFrames"""


async def sign_in(page: Page, base_url: str, user: Actor, next_path: str) -> None:
    await page.goto(f"{base_url}/login?next={next_path}")
    await page.get_by_label("Email", exact=True).fill(user.email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()


async def frames_of(page: Page, name: str) -> int:
    return int(await page.evaluate(FRAMES_OF, name))


async def test_a_teacher_sees_a_student_leave_the_frame_warns_and_ends_the_attempt(
    base_url: str, api: Api, tmp_path: Path
) -> None:
    teacher = await api.user("teacher")
    test = await published_test(
        teacher,
        title="Organic chemistry final",
        proctoring={"camera_required": True, "rules": {"no_face_seconds": 2.0}},
    )
    student = await api.user("student", name="Marie Curie")
    # Six seconds at the desk, then five of the empty room, over and over.
    camera = write_y4m(tmp_path / "leaves.y4m", seconds=6, fps=10, away_seconds=5)
    async with chromium(camera=camera) as browser:
        student_page = await (await browser.new_context(viewport=LAPTOP)).new_page()
        student_errors = PageErrors(student_page)
        await sign_in(student_page, base_url, student, f"/student/tests/{test['id']}")
        await through_consent_and_device_check(student_page)
        await expect(student_page.get_by_test_id("camera-status")).to_have_text("Camera live")

        page = await (await browser.new_context(viewport=LAPTOP)).new_page()
        errors = PageErrors(page)
        await sign_in(page, base_url, teacher, f"/teacher/tests/{test['id']}/results")
        await page.get_by_role("link", name="Watch live").click()
        await expect(page).to_have_url(f"{base_url}/teacher/tests/{test['id']}/live")
        await expect(page.get_by_role("heading", level=1)).to_have_text("Live: Organic chemistry final")
        tile = page.locator("article.monitor-tile").filter(has_text="Marie Curie")
        await expect(tile).to_be_visible()
        await expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible()
        # The student's camera, relayed by the server, decodes in the teacher's browser.
        await page.wait_for_function(DECODED_FRAMES, arg="Marie Curie", timeout=SLOW)
        await expect(tile.get_by_text("Connected")).to_be_visible()
        decoded = await frames_of(page, "Marie Curie")
        await page.wait_for_function(f"(name) => ({FRAMES_OF})(name) > {decoded}", arg="Marie Curie")

        # The face leaves the frame: the violation arrives live and lights the tile.
        badges = tile.get_by_role("list", name="Latest violations")
        await expect(badges.get_by_text("No face in view")).to_be_visible(timeout=60_000)
        await expect(tile).to_have_class("card monitor-tile monitor-tile--alert")
        await screenshots(page, "monitor-alert")

        await tile.get_by_role("button", name="Open the live view of Marie Curie").click()
        dialog = page.get_by_role("dialog", name="Marie Curie")
        await expect(dialog.get_by_role("heading", name="Violations so far")).to_be_visible()
        await expect(dialog).to_contain_text("No face in view")
        await screenshots(page, "monitor-detail")

        await dialog.get_by_label("Warning to show on their screen").fill("Please stay at your desk.")
        await dialog.get_by_role("button", name="Send warning").click()
        # Sent: the field empties (the toast saying so may have come and gone on a busy machine).
        await expect(dialog.get_by_label("Warning to show on their screen")).to_have_value("")
        warning = student_page.get_by_role("dialog", name="A message from your teacher")
        await expect(warning).to_contain_text("Please stay at your desk.")
        await warning.get_by_role("button", name="I understand").click()

        await dialog.get_by_role("button", name="End attempt…").click()
        confirm = page.get_by_role("dialog", name="End Marie Curie's attempt?")
        await confirm.get_by_label("Reason (kept with the attempt)").fill("Left the room twice.")
        await confirm.get_by_role("button", name="End attempt", exact=True).click()
        ended = student_page.get_by_test_id("end-screen")
        await expect(ended.get_by_role("heading")).to_have_text("Your teacher ended this test")
        await expect(ended).to_contain_text("Left the room twice.")
        await expect(tile).to_have_count(0)
        await expect(page.get_by_text("No one is taking this test right now.")).to_be_visible()
        await screenshots(page, "monitor-empty")
        assert errors.unexpected(*EXPECTED_CONSOLE) == []
        assert student_errors.unexpected(*EXPECTED_CONSOLE) == []

    [row] = (await teacher.get(f"/api/results/{test['id']}")).json()
    assert row["status"] == "terminated"
    violations = (await teacher.get(f"/api/violations/{row['attempt_id']}")).json()
    assert any(v["type"] == "no_face" and v["source"] == "server" for v in violations), violations


async def test_the_grid_follows_the_class_and_pauses_tiles_out_of_view(base_url: str, api: Api) -> None:
    teacher = await api.user("teacher")
    admin = await api.user("admin")
    test = await published_test(teacher, title="Thermodynamics quiz", proctoring={"camera_required": True})
    student = await api.user("student", name="Marie Curie")
    attempt_id = (await started_attempt(student, test["id"]))["attempt_id"]

    async def held_back() -> int:
        return int((await admin.get("/api/admin/stats")).json()["live"]["frames_held_back"])

    async with live(base_url, student) as student_socket:
        publisher = await publish_over(student_socket, attempt_id, camera=FaceCamera())
        async with chromium() as browser:
            page = await (await browser.new_context(viewport=LAPTOP)).new_page()
            errors = PageErrors(page)
            await sign_in(page, base_url, teacher, f"/teacher/tests/{test['id']}/live")
            tile = page.locator("article.monitor-tile").filter(has_text="Marie Curie")
            await expect(tile).to_be_visible()
            await page.wait_for_function(DECODED_FRAMES, arg="Marie Curie", timeout=SLOW)

            # A student who starts after the page opened appears without a reload, with video.
            latecomer = await api.user("student", name="Pierre Curie")
            late_attempt = (await started_attempt(latecomer, test["id"]))["attempt_id"]
            async with live(base_url, latecomer) as late_socket:
                late_publisher = await publish_over(late_socket, late_attempt)
                late_tile = page.locator("article.monitor-tile").filter(has_text="Pierre Curie")
                await expect(late_tile).to_be_visible()
                await page.wait_for_function(DECODED_FRAMES, arg="Pierre Curie", timeout=SLOW)
                await screenshots(page, "monitor-grid")

                # Out of view, a tile's video stops at the server: its frame count stands still
                # while the other tile's goes on, and the server counts what it held back.
                paused = "Paused while out of view"
                await page.set_viewport_size({"width": 480, "height": 560})
                await page.evaluate("() => window.scrollTo(0, 0)")
                await expect(late_tile.get_by_text(paused)).to_be_attached()
                await expect(tile.get_by_text(paused)).to_have_count(0)
                held_before = await held_back()
                marie = await frames_of(page, "Marie Curie")
                await page.wait_for_function(
                    f"(name) => ({FRAMES_OF})(name) > {marie + 10}", arg="Marie Curie"
                )  # frames in flight to the paused tile have landed
                still = await frames_of(page, "Pierre Curie")
                marie = await frames_of(page, "Marie Curie")
                await page.wait_for_function(
                    f"(name) => ({FRAMES_OF})(name) > {marie + 30}", arg="Marie Curie"
                )
                assert await frames_of(page, "Pierre Curie") == still
                assert await held_back() > held_before + 30

                await page.set_viewport_size(LAPTOP)
                await expect(late_tile.get_by_text(paused)).to_have_count(0)
                await page.wait_for_function(
                    f"(name) => ({FRAMES_OF})(name) > {still + 10}", arg="Pierre Curie"
                )  # from the next keyframe on

                # A student who submits leaves the grid.
                submitted = await student.post(
                    f"/api/tests/{test['id']}/submit", json={"attempt_id": attempt_id}
                )
                assert submitted.status_code == 200, submitted.text
                await expect(tile).to_have_count(0)
                await expect(page.locator("article.monitor-tile")).to_have_count(1)
                await expect(late_tile).to_be_visible()
                assert errors.unexpected(*EXPECTED_CONSOLE) == []
                await late_publisher.close()
        await publisher.close()

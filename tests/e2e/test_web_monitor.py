"""The teacher's live monitor in real Chromium against the real server: a student's camera,
published by an aiortc peer, plays in the student's tile; the teacher warns the student and ends
the attempt from the large view, and the student's live channel hears both."""

from __future__ import annotations

from playwright.async_api import expect

from tests.support.api import PASSWORD, Api, published_test, started_attempt
from tests.support.browser import LAPTOP, PageErrors, chromium, screenshots, skip_without_chromium
from tests.support.live import live, publish_over, receive_until
from tests.support.peers import FaceCamera

skip_without_chromium()

expect.set_options(timeout=20_000)

EXPECTED_CONSOLE = ("Failed to load resource",)

DECODED_FRAMES = """(name) => {
    const video = document.querySelector(`video[aria-label="Camera of ${name}"]`);
    return Boolean(video) && video.videoWidth > 0 && video.getVideoPlaybackQuality().totalVideoFrames >= 5;
}"""


async def test_a_teacher_watches_warns_and_ends_an_attempt_live(base_url: str, api: Api) -> None:
    teacher = await api.user("teacher")
    test = await published_test(
        teacher, title="Organic chemistry final", proctoring={"camera_required": True}
    )
    student = await api.user("student", name="Marie Curie")
    attempt_id = (await started_attempt(student, test["id"]))["attempt_id"]
    monitor_url = f"{base_url}/teacher/tests/{test['id']}/live"

    async with live(base_url, student) as student_socket:
        publisher = await publish_over(student_socket, attempt_id, camera=FaceCamera())
        async with chromium() as browser:
            context = await browser.new_context(viewport=LAPTOP)
            page = await context.new_page()
            page.set_default_timeout(20_000)
            errors = PageErrors(page)

            await page.goto(f"{base_url}/login?next=/teacher/tests/{test['id']}/results")
            await page.get_by_label("Email", exact=True).fill(teacher.email)
            await page.get_by_label("Password", exact=True).fill(PASSWORD)
            await page.get_by_role("button", name="Sign in").click()
            await page.get_by_role("link", name="Watch live").click()
            await expect(page).to_have_url(monitor_url)
            await expect(page.get_by_role("heading", level=1)).to_have_text("Live: Organic chemistry final")

            tile = page.locator("article.monitor-tile").filter(has_text="Marie Curie")
            await expect(tile).to_be_visible()
            await expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible()
            # The relayed camera decodes in the teacher's browser.
            await page.wait_for_function(DECODED_FRAMES, arg="Marie Curie", timeout=30_000)
            await expect(tile.get_by_text("Connected")).to_be_visible()

            # A student who starts after the page opened appears without a reload, with video.
            latecomer = await api.user("student", name="Pierre Curie")
            late_attempt = (await started_attempt(latecomer, test["id"]))["attempt_id"]
            async with live(base_url, latecomer) as late_socket:
                late_publisher = await publish_over(late_socket, late_attempt)
                late_tile = page.locator("article.monitor-tile").filter(has_text="Pierre Curie")
                await expect(late_tile).to_be_visible()
                await page.wait_for_function(DECODED_FRAMES, arg="Pierre Curie", timeout=30_000)
                await page.wait_for_function(DECODED_FRAMES, arg="Marie Curie", timeout=30_000)
                await screenshots(page, "monitor-grid")

                # A tile scrolled out of view has its video paused at the server, and back.
                paused = "Paused while out of view"
                await page.set_viewport_size({"width": 480, "height": 560})
                await page.evaluate("() => window.scrollTo(0, 0)")
                await expect(late_tile.get_by_text(paused)).to_be_attached()
                await expect(tile.get_by_text(paused)).to_have_count(0)
                await page.set_viewport_size(LAPTOP)
                await expect(late_tile.get_by_text(paused)).to_have_count(0)

                await tile.get_by_role("button", name="Open the live view of Marie Curie").click()
                dialog = page.get_by_role("dialog", name="Marie Curie")
                await expect(dialog).to_be_visible()
                await expect(dialog.get_by_role("heading", name="Violations so far")).to_be_visible()
                await screenshots(page, "monitor-detail")

                warning_field = dialog.get_by_label("Warning to show on their screen")
                await warning_field.fill("Eyes on your own screen, please.")
                await dialog.get_by_role("button", name="Send warning").click()
                warning = (await receive_until(student_socket, "warning"))[-1]
                assert warning == {
                    "type": "warning",
                    "attempt_id": attempt_id,
                    "message": "Eyes on your own screen, please.",
                }
                await expect(page.get_by_test_id("toast").filter(has_text="warning is on")).to_be_visible()

                await dialog.get_by_role("button", name="End attempt…").click()
                confirm = page.get_by_role("dialog", name="End Marie Curie's attempt?")
                await expect(confirm).to_be_visible()
                await confirm.get_by_label("Reason (kept with the attempt)").fill("Phone on the desk.")
                await confirm.get_by_role("button", name="End attempt", exact=True).click()
                ended = (await receive_until(student_socket, "test-ended"))[-1]
                assert ended["attempt_id"] == attempt_id
                assert ended["status"] == "terminated"

                await expect(tile).to_have_count(0)
                await expect(page.locator("article.monitor-tile")).to_have_count(1)
                await expect(late_tile).to_be_visible()
                assert errors.unexpected(*EXPECTED_CONSOLE) == []
                await late_publisher.close()
            await context.close()
        await publisher.close()

    results = (await teacher.get(f"/api/results/{test['id']}")).json()
    assert {row["attempt_id"]: row["status"] for row in results} == {
        attempt_id: "terminated",
        late_attempt: "in_progress",
    }

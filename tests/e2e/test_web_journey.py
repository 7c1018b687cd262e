"""A day in the browser, with no API documentation: a newcomer opens /, registers as a teacher,
writes a test with the three question types and publishes it; a student registers, consents,
passes the device check and takes it with the camera on (the server has the stream), answers
and submits; the teacher sees the result and downloads the CSV."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

from playwright.async_api import Page, expect

from tests.support.api import PASSWORD, Api
from tests.support.browser import LAPTOP, PageErrors, chromium, skip_without_chromium, write_y4m
from tests.support.live import live, until, watch_over
from tests.support.web_flows import SLOW, through_consent_and_device_check, write_question

skip_without_chromium()

# The browser reports refused requests itself (a first visit asks for no login; none here).
EXPECTED_CONSOLE = ("Failed to load resource",)


async def register(page: Page, base_url: str, name: str, email: str, role: str) -> None:
    await page.goto(base_url + "/")
    await page.get_by_role("link", name="Create an account").first.click()
    await page.get_by_label("Full name").fill(name)
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_label(role).check()
    await page.get_by_role("button", name="Create account").click()


async def test_a_teacher_and_a_student_go_through_their_day_in_the_browser(
    base_url: str, api: Api, tmp_path: Path
) -> None:
    camera = write_y4m(tmp_path / "face.y4m")
    async with chromium(camera=camera) as browser:
        teaching = await browser.new_context(viewport=LAPTOP, accept_downloads=True)
        teacher_page = await teaching.new_page()
        teacher_errors = PageErrors(teacher_page)
        await register(teacher_page, base_url, "Marie Curie", "marie@school.test", "Teacher")
        await expect(teacher_page).to_have_url(base_url + "/teacher")
        await teacher_page.get_by_role("link", name="Create your first test").click()
        await teacher_page.get_by_label("Title").fill("Radioactivity")
        await teacher_page.get_by_label("Subject").fill("Physics")
        await teacher_page.get_by_label("Time limit (minutes)").fill("20")
        first = await write_question(teacher_page, "Multiple choice", "Which ray has no charge?")
        for n, option in enumerate(["Alpha", "Beta", "Gamma"], start=1):
            await first.get_by_label(f"Option {n}", exact=True).fill(option)
        await first.get_by_role("button", name="Remove option 4").click()  # a new question has four
        await first.get_by_label("Option 3 is the correct answer").check()
        second = await write_question(teacher_page, "True or false", "Polonium was named after Poland.")
        await second.get_by_label("True").check()
        third = await write_question(teacher_page, "Short answer", "Symbol of radium?")
        await third.get_by_label("Accepted answer").fill("Ra")
        await teacher_page.get_by_role("button", name="Create test").click()
        await expect(teacher_page.get_by_role("status").filter(has_text="All changes saved")).to_be_visible()
        await teacher_page.get_by_role("button", name="Publish", exact=True).click()
        await expect(teacher_page.get_by_role("button", name="Unpublish", exact=True)).to_be_visible()
        test_id = int(teacher_page.url.rstrip("/").rsplit("/", 1)[-1])

        studying = await browser.new_context(viewport=LAPTOP)
        student_page = await studying.new_page()
        student_errors = PageErrors(student_page)
        await register(student_page, base_url, "Irène Joliot", "irene@school.test", "Student")
        await expect(student_page).to_have_url(base_url + "/student")
        await student_page.get_by_role("link", name="Start Radioactivity").click()
        await through_consent_and_device_check(student_page)
        await expect(student_page.get_by_test_id("camera-status")).to_have_text("Camera live")

        teacher = await api.login("marie@school.test")
        rows = (await teacher.get(f"/api/results/{test_id}")).json()
        attempt_id = rows[0]["attempt_id"]
        async with live(base_url, teacher) as socket:  # the server has the student's camera
            viewer, frames = await watch_over(socket, {"type": "watch", "attempt_id": attempt_id})
            await until(lambda: len(frames) >= 5, within=SLOW / 1000)
            await viewer.close()

        await student_page.get_by_role("button", name="All on one page").click()
        await student_page.get_by_label("Gamma").check()
        await student_page.get_by_label("True", exact=True).check()
        await student_page.get_by_label("Your answer to question 3").fill("Ra")
        await student_page.get_by_role("button", name="Submit test").click()
        confirm = student_page.get_by_role("dialog", name="Submit your test?")
        await expect(confirm).to_contain_text("You answered all 3 questions.")
        await confirm.get_by_role("button", name="Submit test").click()
        await expect(student_page).to_have_url(f"{base_url}/student/attempts/{attempt_id}")
        score = student_page.get_by_role("region", name="Score")
        await expect(score).to_contain_text("100%")  # the default review mode shows the score
        await expect(score).to_contain_text("Passed")

        await teacher_page.goto(f"{base_url}/teacher/tests/{test_id}/results")
        table = teacher_page.locator("table.teacher-results")
        await expect(table).to_contain_text("Irène Joliot")
        await expect(table).to_contain_text("Submitted")
        await expect(table).to_contain_text("100")
        async with teacher_page.expect_download() as download_info:
            await teacher_page.get_by_role("button", name="Download CSV").click()
        download = await download_info.value
        text = await asyncio.to_thread(Path(await download.path()).read_text, encoding="utf-8-sig")
        header, *lines = list(csv.reader(io.StringIO(text)))
        assert len(lines) == 1
        row = dict(zip(header, lines[0], strict=True))
        assert "Irène Joliot" in row.values()
        assert teacher_errors.unexpected(*EXPECTED_CONSOLE) == []
        assert student_errors.unexpected(*EXPECTED_CONSOLE) == []

    attempt = (await teacher.get(f"/api/attempts/{attempt_id}")).json()
    assert attempt["status"] == "submitted" and attempt["percent"] == 100
    assert sorted(a["answer"] for a in attempt["answers"]) == ["Gamma", "Ra", "true"]
